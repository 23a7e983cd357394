/* The DATA decoder of LMTP (RFC 2033 §4.2, RFC 5321 §4.1.1.4, §4.5.2):
 * finds the end of the message, removes dot-stuffing and normalises line
 * ends, a byte at a time, so it needs no line buffer and works on any
 * split of the input. Pure: no I/O, no allocation but the output buffer.
 *
 * The rules (docs/delivery.md, "Smuggling", says why):
 * - A line ends at LF. CR LF is a CRLF line end; an LF without a CR before
 *   it (bare LF) is normalised to CRLF. A CR not followed by LF is data.
 * - The message ends only at a line that is exactly "." ended by CRLF,
 *   right after a CRLF line end (or as the first line): CRLF "." CRLF.
 *   Every look-alike ("\n.\n", "\r.\n", ".\n", "\n.\r\n", "\r\n.\n") is
 *   data: its "." line is kept as "." and its line ends become CRLF.
 * - A line that starts with "." and has more characters loses that first
 *   "." (dot-unstuffing, RFC 5321 §4.5.2); a lone "." that does not end
 *   the message is kept.
 * - NUL bytes and lines longer than line_max are noted (the caller
 *   refuses the message); output stops, but decoding goes on, once
 *   max_size bytes are written, so an oversized message is read to its
 *   end without being held. */
#ifndef KAIRAN_LMTP_DATA_H
#define KAIRAN_LMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>

#include "server/core/buf.h"

struct lmtp_data {
	struct buf *out;        /* decoded bytes are appended here */
	size_t max_size;        /* decoded bytes kept, at most */
	size_t line_max;        /* bytes of one line, its line end excluded */
	size_t written;         /* decoded bytes so far (kept or not) */
	size_t line_len;        /* bytes of the current line so far */
	bool chunked;           /* BDAT (RFC 3030): no end marker, no dots */
	bool prev_crlf;         /* the previous line ended with CRLF */
	bool held_dot;          /* the line began with '.', not yet written */
	bool held_cr;           /* the last byte was CR, not yet written */
	bool too_big, has_nul, line_too_long;
};

/* Starts a message; out is appended to (not cleared). */
void lmtp_data_init(struct lmtp_data *d, struct buf *out, size_t max_size, size_t line_max);
/* Starts a message sent with BDAT (RFC 3030 §2): the chunks' sizes
 * delimit it, so "." means nothing and nothing ends it; line ends, NUL,
 * long lines and the size are handled as for DATA. */
void lmtp_data_init_chunked(struct lmtp_data *d, struct buf *out, size_t max_size,
			    size_t line_max);
/* The end of a BDAT message: a CR held back to see whether LF follows is
 * data after all. */
void lmtp_data_finish(struct lmtp_data *d);
/* Decodes up to len bytes. Returns how many were used; *done_r is set
 * when they end with the final CRLF "." CRLF (the bytes after it are not
 * used: they are the next command); never in chunked mode. */
size_t lmtp_data_input(struct lmtp_data *d, const char *p, size_t len, bool *done_r);

#endif
