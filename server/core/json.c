#include "server/core/json.h"
#include "server/core/utf8.h"

void json_append_string(struct buf *out, const void *s, size_t len)
{
	const unsigned char *p = s;
	size_t i = 0, run = 0;

	buf_reserve(out, len + 2);
	buf_append(out, "\"", 1);
	while (i < len) {
		unsigned char c = p[i];
		size_t n = c >= 0x20 && c != '"' && c != '\\' && c != 0x7f ?
			   utf8_seq_len(p + i, len - i) : 0;

		if (n > 0) {
			i += n;
			continue;
		}
		buf_append(out, p + run, i - run);
		if (c == '"' || c == '\\') {
			buf_append(out, "\\", 1);
			buf_append(out, &c, 1);
		} else if (c < 0x20 || c == 0x7f)
			buf_appendf(out, "\\u%04x", c);
		else
			buf_append(out, "\\ufffd", 6);
		run = ++i;
	}
	buf_append(out, p + run, len - run);
	buf_append(out, "\"", 1);
}
