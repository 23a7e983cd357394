/* Mailbox names on the wire: modified UTF-7 (RFC 3501 §5.1.3) and UTF-8
 * (RFC 3629; RFC 6855/9051 UTF8=ACCEPT clients send it directly).
 *
 * The store keeps names in UTF-8 (DESIGN.md, data model). A client that has
 * not enabled UTF-8 sends and receives modified UTF-7, so each name is
 * decoded once at the command boundary and encoded once in LIST/STATUS
 * replies. Decoding is strict: RFC 3501 §5.1.3 exists so that a name has
 * exactly one spelling, and accepting a non-canonical one would let a client
 * create a name that LIST then shows under a different spelling (or two
 * spellings that collide on one stored name). Pure code, no I/O. */
#ifndef KAIRAN_IMAP_MUTF7_H
#define KAIRAN_IMAP_MUTF7_H

#include <stdbool.h>
#include <stddef.h>

#include "server/core/buf.h"

/* True when the len bytes of s are well-formed UTF-8 (RFC 3629 §4): no
 * overlong forms, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no
 * truncated sequence, and no NUL (which no mailbox name or IMAP string may
 * hold). Other control characters are accepted: whether a name may contain
 * them is mailbox-name policy, not encoding. */
bool imap_utf8_valid(const char *s, size_t len);

/* Decodes the modified UTF-7 name in (len bytes) and appends its UTF-8 form
 * to out. Returns 0, or -1 with out->len as it was before the call when the
 * input is not canonical modified UTF-7 (RFC 3501 §5.1.3):
 *   - a byte outside printable US-ASCII 0x20-0x7e (8-bit, control, NUL);
 *   - '&' without a closing '-', or a character outside the modified BASE64
 *     alphabet A-Z a-z 0-9 + , inside a run ('/' and '=' included);
 *   - a run that encodes printable US-ASCII, '&' included ("MUST NOT be used
 *     to represent any printing US-ASCII character which can represent
 *     itself"), or U+0000;
 *   - a run whose bits do not end on a UTF-16 unit: an odd number of bytes,
 *     a BASE64 character too many, or non-zero padding bits;
 *   - a surrogate that is unpaired or misordered;
 *   - two encoded runs back to back, "&AOk-&AOk-": the RFC forbids null
 *     shifts ('"-&" while in BASE64 ... not permitted'); "&AOk-&-" is fine,
 *     since "&-" there is a literal '&'.
 * "&-" is '&'. The output is always valid per imap_utf8_valid. */
int imap_mutf7_to_utf8(const char *in, size_t len, struct buf *out);

/* Appends the canonical modified UTF-7 form of the UTF-8 name in: printable
 * US-ASCII but '&' as itself, '&' as "&-", and each maximal run of other
 * characters as one BASE64 run of UTF-16BE, closed by '-'. The input must be
 * valid (imap_utf8_valid); to keep the output well-formed whatever it gets,
 * each invalid byte or NUL is written as U+FFFD. */
void imap_utf8_to_mutf7(const char *in, size_t len, struct buf *out);

#endif
