#include "server/imap/writer.h"
#include "server/core/quoting.h"
#include "server/imap/mutf7.h"

#include <stdbool.h>
#include <string.h>

static bool is_atom(const char *s, size_t len)
{
	if (len == 0 || (len == 3 && strncasecmp(s, "NIL", 3) == 0))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		/* '[' is quoted too: after BODY or BINARY it would open a
		 * section in the reader's tokeniser. */
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\[]", c) != NULL)
			return false;
	}
	return true;
}

static void write_quoted(struct buf *out, const char *s, size_t len)
{
	buf_reserve(out, len + 2);
	buf_append(out, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			buf_append(out, "\\", 1);
		buf_append(out, &s[i], 1);
	}
	buf_append(out, "\"", 1);
}

void imap_write_string(struct buf *out, const char *s, size_t len)
{
	if (!quoting_fits_quoted(s, len)) {
		buf_appendf(out, "{%zu}\r\n", len);
		buf_append(out, s, len);
		return;
	}
	write_quoted(out, s, len);
}

void imap_write_utf8_astring(struct buf *out, const char *s, size_t len)
{
	bool quotable = len <= 1024 && imap_utf8_valid(s, len) && memchr(s, '\r', len) == NULL &&
			memchr(s, '\n', len) == NULL;

	if (is_atom(s, len))
		buf_append(out, s, len);
	else if (quotable)
		write_quoted(out, s, len);
	else
		imap_write_string(out, s, len);
}

void imap_write_astring(struct buf *out, const char *s, size_t len)
{
	if (is_atom(s, len))
		buf_append(out, s, len);
	else
		imap_write_string(out, s, len);
}

void imap_write_nstring(struct buf *out, const char *s, size_t len)
{
	if (s == NULL)
		buf_append(out, "NIL", 3);
	else
		imap_write_string(out, s, len);
}

void imap_write_text(struct buf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '\r' || c == '\n' || c == '\0')
			c = ' ';
		buf_append(out, &c, 1);
	}
}
