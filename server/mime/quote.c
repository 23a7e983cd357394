/* IMAP strings for ENVELOPE and BODYSTRUCTURE (RFC 3501 §4.3, §9 string).
 *
 * The same rules as server/imap/writer.c, which this module cannot use
 * (DESIGN.md: server/mime depends on server/core only): a quoted string
 * when the value has at most 1024 bytes and none of CR, LF, NUL or 8-bit,
 * else a literal. A literal may not carry NUL either (RFC 3501 CHAR8), so
 * a NUL becomes 0x80, as Dovecot does when it reads mail with NULs. The
 * values are computed once and stored, so they must be valid for any
 * client: no literal8, no UTF-8 quoted strings (RFC 9051 allows them only
 * after ENABLE UTF8=ACCEPT). */
#include "server/mime/mime_internal.h"
#include "server/core/quoting.h"

#include <string.h>

void mime_imap_string(struct buf *out, const char *s, size_t len)
{
	if (!quoting_fits_quoted(s, len)) {
		buf_appendf(out, "{%zu}\r\n", len);
		buf_reserve(out, len);
		for (size_t i = 0; i < len; i++) {
			const char *run = s + i;
			const char *nul = memchr(run, '\0', len - i);
			size_t n = nul != NULL ? (size_t)(nul - run) : len - i;
			buf_append(out, run, n);
			i += n;
			if (nul != NULL)
				buf_append(out, "\x80", 1);
		}
		return;
	}
	/* An empty value may come from an empty buf, whose data is NULL:
	 * even NULL + 0 is undefined behaviour (fuzz_mime found ":;"). */
	if (len == 0) {
		buf_append(out, "\"\"", 2);
		return;
	}
	buf_reserve(out, len + 2);
	buf_append(out, "\"", 1);
	size_t run = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\') {
			buf_append(out, s + run, i - run);
			buf_append(out, "\\", 1);
			run = i;
		}
	}
	buf_append(out, s + run, len - run);
	buf_append(out, "\"", 1);
}

void mime_imap_nstring(struct buf *out, const char *s, size_t len, bool nil)
{
	if (nil)
		buf_append(out, "NIL", 3);
	else
		mime_imap_string(out, s, len);
}
