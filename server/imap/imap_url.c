/* RFC 5092 message-part URLs for CATENATE (imap_url.h). */
#include "server/imap/imap_url.h"
#include "server/imap/mutf7.h"

#include <string.h>
#include <strings.h>

struct cur {
	const char *p, *end;
};

static int fail(const char **error_r, const char *error)
{
	*error_r = error;
	return -1;
}

/* Consumes a case-insensitive keyword. */
static bool take(struct cur *c, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(c->end - c->p) < n || strncasecmp(c->p, word, n) != 0)
		return false;
	c->p += n;
	return true;
}

/* number (nz false) or nz-number; uint32 only. */
static bool number(struct cur *c, bool nz, uint32_t *v_r)
{
	uint32_t v = 0;

	if (c->p == c->end || *c->p < '0' || *c->p > '9' || (nz && *c->p == '0'))
		return false;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		uint32_t d = (uint32_t)(*c->p - '0');
		if (v > (UINT32_MAX - d) / 10)
			return false;
		v = v * 10 + d;
		c->p++;
	}
	*v_r = v;
	return true;
}

static int hex(char ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 :
	       ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/* RFC 5092 bchar: unreserved, sub-delims but ";", ":", "@", "/", "&",
 * "=", and "%" escapes. */
static bool is_bchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch != 0 && strchr("-._~!$'()*+,:@/&=%", ch) != NULL);
}

/* Percent-decodes s[0..len) into the arena: valid UTF-8 without NUL or
 * other control characters, or NULL. */
static const char *decode(struct arena *a, const char *s, size_t len)
{
	char *out = arena_alloc(a, len + 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int hi, lo;
		if (!is_bchar((unsigned char)s[i]))
			return NULL;
		if (s[i] != '%') {
			out[n++] = s[i];
			continue;
		}
		if (len - i < 3 || (hi = hex(s[i + 1])) < 0 || (lo = hex(s[i + 2])) < 0)
			return NULL;
		out[n++] = (char)(hi << 4 | lo);
		i += 2;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			return NULL;
	out[n] = '\0';
	return n > 0 && imap_utf8_valid(out, n) ? out : NULL;
}

/* The text up to the next "/" that starts the next part ("/;"), or the end. */
static const char *part_end(const struct cur *c)
{
	for (const char *p = c->p; p < c->end; p++)
		if (*p == '/' && p + 1 < c->end && p[1] == ';')
			return p;
	return c->end;
}

/* "/" enc-mailbox [";UIDVALIDITY=" nz-number] "/": up to ";UID=". */
static int mailbox_ref(struct arena *a, struct cur *c, struct imap_url *u, const char **error_r)
{
	const char *semi = memchr(c->p, ';', (size_t)(c->end - c->p));
	const char *name_end;

	c->p++;   /* the leading "/" */
	if (semi == NULL)
		return fail(error_r, "The URL names no message (;UID=)");
	name_end = semi;
	if (name_end > c->p && name_end[-1] == '/')
		name_end--;   /* "/;UID=": no UIDVALIDITY */
	if ((u->mailbox = decode(a, c->p, (size_t)(name_end - c->p))) == NULL)
		return fail(error_r, "Invalid mailbox name in the URL");
	c->p = semi;
	if (name_end == semi) {
		if (!take(c, ";UIDVALIDITY=") || !number(c, true, &u->uidvalidity))
			return fail(error_r, "Invalid UIDVALIDITY in the URL");
		if (!take(c, "/"))
			return fail(error_r, "The URL names no message (;UID=)");
	}
	return 0;
}

int imap_url_parse(struct arena *a, const char *s, size_t len, struct imap_url *u,
		   const char **error_r)
{
	struct cur c = { s, s + len };

	memset(u, 0, sizeof(*u));
	if (len == 0 || len > IMAP_URL_MAX)
		return fail(error_r, "Invalid URL length");
	if (len >= 5 && strncasecmp(s, "imap:", 5) == 0)
		return fail(error_r, "Only URLs without a server (\"/mailbox;...\") are taken");
	if (*s == '/' && mailbox_ref(a, &c, u, error_r) < 0)
		return -1;
	if (!take(&c, ";UID=") || !number(&c, true, &u->uid))
		return fail(error_r, "Invalid or missing UID in the URL");
	if (take(&c, "/;SECTION=")) {
		const char *e = part_end(&c);
		if ((u->section = decode(a, c.p, (size_t)(e - c.p))) == NULL)
			return fail(error_r, "Invalid SECTION in the URL");
		c.p = e;
	}
	if (take(&c, "/;PARTIAL=")) {
		u->partial = true;
		if (!number(&c, false, &u->offset))
			return fail(error_r, "Invalid PARTIAL in the URL");
		if (take(&c, ".")) {
			u->has_length = true;
			if (!number(&c, true, &u->length))
				return fail(error_r, "Invalid PARTIAL in the URL");
		}
	}
	if (c.p != c.end)
		return fail(error_r, "Unexpected text at the end of the URL");
	return 0;
}
