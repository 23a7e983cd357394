/* The response writer: every value a user can influence goes out through
 * imap_write_astring/imap_write_string/imap_write_nstring, which choose an
 * atom, a quoted string or a literal so that no byte of the value can end the
 * line or the string early (RFC 3501 §4.3, §9). */
#ifndef KAIRAN_IMAP_WRITER_H
#define KAIRAN_IMAP_WRITER_H

#include <stddef.h>

#include "server/core/buf.h"

/* string: quoted when every byte may stand in a quoted string, else a literal. */
void imap_write_string(struct buf *out, const char *s, size_t len);
/* astring: an atom when it is one, else as imap_write_string. */
void imap_write_astring(struct buf *out, const char *s, size_t len);
/* astring for a client that enabled UTF-8 (RFC 9755 §3, uQUOTED-CHAR):
 * valid UTF-8 goes in a quoted string rather than a literal. */
void imap_write_utf8_astring(struct buf *out, const char *s, size_t len);
/* nstring: NIL for s == NULL, else a string. */
void imap_write_nstring(struct buf *out, const char *s, size_t len);
/* Free text after a response code (resp-text): bytes that would break the
 * line (CR, LF, NUL) are replaced with spaces. */
void imap_write_text(struct buf *out, const char *s, size_t len);

#endif
