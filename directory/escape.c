/* Escaping of values placed into LDAP filters (RFC 4515) and DNs (RFC 4514).
 *
 * Pure functions, no libldap: every byte a user controls goes through here
 * before it reaches the directory, so the exact output is ours and covered by
 * tests/unit/test_directory.c. */
#include "directory/dir.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

/* An output buffer that remembers whether anything failed to fit, so the
 * escapers can write unconditionally and check once at the end. One byte is
 * always kept for the terminating NUL. */
struct esc_buf {
	char *p;
	size_t size, len;
	bool overflow;
};

static void esc_put(struct esc_buf *b, const char *s, size_t n)
{
	if (b->overflow || b->size == 0 || n > b->size - 1 - b->len) {
		b->overflow = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void esc_put_hex(struct esc_buf *b, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char e[3] = { '\\', hex[c >> 4], hex[c & 0xf] };

	esc_put(b, e, sizeof(e));
}

static int esc_finish(struct esc_buf *b)
{
	if (b->overflow || b->size == 0 || b->len > INT_MAX) {
		if (b->size > 0)
			b->p[0] = '\0';
		return -1;
	}
	b->p[b->len] = '\0';
	return (int)b->len;
}

static void esc_filter_value(struct esc_buf *b, const char *in, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '*' || c == '(' || c == ')' || c == '\\' || c == '\0')
			esc_put_hex(b, c);
		else
			esc_put(b, &in[i], 1);
	}
}

int dir_escape_filter_value(const char *in, size_t len, char *out, size_t outsize)
{
	struct esc_buf b = { out, outsize, 0, false };

	esc_filter_value(&b, in, len);
	return esc_finish(&b);
}

int dir_build_filter(const char *tmpl, const char *value, size_t len, char *out, size_t outsize)
{
	struct esc_buf b = { out, outsize, 0, false };

	for (const char *p = tmpl; *p != '\0'; p++) {
		if (*p != '%') {
			esc_put(&b, p, 1);
			continue;
		}
		p++;
		if (*p == 'u') {
			esc_filter_value(&b, value, len);
		} else if (*p == '%') {
			esc_put(&b, "%", 1);
		} else {
			b.overflow = true; /* malformed: reported like overflow */
			break;
		}
	}
	return esc_finish(&b);
}

int dir_escape_dn_value(const char *in, size_t len, char *out, size_t outsize)
{
	struct esc_buf b = { out, outsize, 0, false };

	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		/* c != '\0' first: strchr() would find the terminator. */
		bool escape = c != '\0' && (strchr(",+\"\\<>;=", c) != NULL ||
			(i == 0 && (c == '#' || c == ' ')) ||
			(i == len - 1 && c == ' '));

		if (c == '\0')
			esc_put_hex(&b, 0);
		else if (escape)
			esc_put(&b, (const char[]){ '\\', c }, 2);
		else
			esc_put(&b, &c, 1);
	}
	return esc_finish(&b);
}
