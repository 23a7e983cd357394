/* Header data for a client that did not enable UTF-8 (RFC 9755; RFC 6855 §7,
 * RFC 6858): the stored ENVELOPE, BODYSTRUCTURE and BODY (IMAP syntax, as
 * server/mime wrote them at APPEND) keep a message's UTF-8 header fields
 * as they are, in literals. A client that has not said it takes UTF-8
 * must not see them raw, so FETCH rewrites them on the way out:
 *
 *   - a string holding 8-bit bytes becomes RFC 2047 encoded-words
 *     ("B" encoding, charset UTF-8, or ISO-8859-1 for a string that is not
 *     UTF-8, so that no byte is lost), covering the words from the first
 *     to the last that hold 8-bit bytes, so ASCII words around them stay
 *     as they were;
 *   - a BODYSTRUCTURE parameter value with 8-bit bytes takes RFC 2231's
 *     form instead (below);
 *   - in an ENVELOPE, an address whose mailbox or host holds 8-bit bytes
 *     cannot be written in ASCII at all: it becomes an empty group whose
 *     name is the encoded address ("Name <local@host>"), RFC 6858 §3's
 *     simplified downgrade, so the reader sees who it was and a reply
 *     cannot go to a mangled address. Inside a group (groups cannot
 *     nest) it becomes an address with that encoded name and the mailbox
 *     and host "invalid".
 *
 * Everything else (atoms, numbers, NIL, ASCII strings, the spacing) is
 * copied byte for byte, so a value without 8-bit bytes comes out
 * unchanged. Pure code, no I/O. */
#ifndef KAIRAN_IMAP_HEADER_DOWNGRADE_H
#define KAIRAN_IMAP_HEADER_DOWNGRADE_H

#include <stdbool.h>
#include <stddef.h>

#include "server/core/buf.h"

/* Whether any byte of s is 8-bit: the test that decides whether a value
 * needs downgrading at all. */
bool imap_has_8bit(const char *s, size_t len);

/* Appends the downgraded ENVELOPE value env to out. Returns 0, or -1
 * with out as it was when env is not an IMAP list of the expected
 * syntax (the caller then writes it unchanged). */
int imap_envelope_downgrade(const char *env, size_t len, struct buf *out);

/* The same for BODYSTRUCTURE and BODY: a parameter value with 8-bit
 * bytes takes RFC 2231's form, name*=utf-8''%XX (RFC 2047 §5 forbids
 * encoded-words there; server/mime stores RFC 2231 values decoded), and
 * every other 8-bit string (a description) becomes encoded-words. */
int imap_bodystructure_downgrade(const char *v, size_t len, struct buf *out);

/* Appends the encoded-word form of the text s (see above); exposed for
 * the unit tests. */
void imap_encode_words(const char *s, size_t len, struct buf *out);

#endif
