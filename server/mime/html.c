/* HTML to text for the search index: markup, comments, <script> and
 * <style> contents dropped, character references decoded (the common named
 * ones and all numeric ones), a line break for block-level tags. Not a
 * renderer: SEARCH only needs the words that a reader sees. Input and
 * output are UTF-8. */
#include "server/mime/mime_internal.h"

#include <string.h>

static void put_utf8(struct buf *out, uint32_t cp)
{
	uint8_t b[4];
	size_t n;

	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = 0xFFFD;
	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xC0 | cp >> 6);
		b[1] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xE0 | cp >> 12);
		b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
		b[2] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (uint8_t)(0xF0 | cp >> 18);
		b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
		b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
		b[3] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 4;
	}
	buf_append(out, b, n);
}

/* A character reference at s[0] == '&'; returns the bytes used, 0 if none. */
static size_t entity(const char *s, size_t len, struct buf *out)
{
	static const struct { const char *name; uint32_t cp; } named[] = {
		{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' },
		{ "nbsp", ' ' }, { "copy", 0xA9 }, { "reg", 0xAE }, { "euro", 0x20AC },
		{ "hellip", 0x2026 }, { "ndash", 0x2013 }, { "mdash", 0x2014 },
		{ "lsquo", 0x2018 }, { "rsquo", 0x2019 }, { "ldquo", 0x201C }, { "rdquo", 0x201D },
	};
	size_t i = 1;

	if (len > 2 && s[1] == '#') {
		uint32_t cp = 0;
		bool hex = s[2] == 'x' || s[2] == 'X';
		size_t start = i = hex ? 3 : 2;
		for (; i < len && i < start + 8; i++) {
			char c = mime_lower(s[i]);
			int d = c >= '0' && c <= '9' ? c - '0' : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
			if (d < 0)
				break;
			cp = cp * (hex ? 16 : 10) + (uint32_t)d;
		}
		if (i == start)
			return 0;
		put_utf8(out, cp);
		return i < len && s[i] == ';' ? i + 1 : i;
	}
	while (i < len && i < 10 && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
		i++;
	for (size_t k = 0; k < sizeof(named) / sizeof(named[0]); k++) {
		if (mime_mem_ieq(s + 1, i - 1, named[k].name, strlen(named[k].name))) {
			put_utf8(out, named[k].cp);
			return i < len && s[i] == ';' ? i + 1 : i;
		}
	}
	return 0;
}

static bool tag_is(const char *name, size_t n, const char *const *list)
{
	for (; *list != NULL; list++)
		if (mime_mem_ieq(name, n, *list, strlen(*list)))
			return true;
	return false;
}

void mime_html_to_text(const char *s, size_t len, struct buf *out)
{
	static const char *const blocks[] = { "br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4",
		"h5", "h6", "table", "blockquote", "pre", "hr", NULL };
	static const char *const hidden[] = { "script", "style", "head", "title", NULL };
	size_t i = 0;

	buf_reserve(out, len);
	while (i < len) {
		const char *lt = memchr(s + i, '<', len - i);
		size_t stop = lt != NULL ? (size_t)(lt - s) : len;

		while (i < stop) {
			const char *amp = memchr(s + i, '&', stop - i);
			size_t run = amp != NULL ? (size_t)(amp - s) : stop;
			buf_append(out, s + i, run - i);
			i = run;
			if (amp != NULL) {
				size_t used = entity(s + i, stop - i, out);
				if (used == 0) {
					buf_append(out, "&", 1);
					used = 1;
				}
				i += used;
			}
		}
		if (lt == NULL)
			break;
		if (len - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
			const char *end = memmem(s + i + 4, len - i - 4, "-->", 3);
			i = end != NULL ? (size_t)(end - s) + 3 : len;
			continue;
		}
		size_t n0 = i + 1 + (i + 1 < len && s[i + 1] == '/');
		size_t n1 = n0;
		while (n1 < len && ((s[n1] >= 'a' && s[n1] <= 'z') || (s[n1] >= 'A' && s[n1] <= 'Z') ||
				(s[n1] >= '0' && s[n1] <= '9')))
			n1++;
		const char *gt = memchr(s + n1, '>', len - n1);
		size_t after = gt != NULL ? (size_t)(gt - s) + 1 : len;
		bool closing = n0 > i + 1;
		if (tag_is(s + n0, n1 - n0, blocks))
			buf_append(out, "\n", 1);
		if (!closing && tag_is(s + n0, n1 - n0, hidden)) {
			/* Skip to the matching end tag (case-insensitive "</name"). */
			size_t j = after;
			for (;;) {
				const char *c = j < len ? memchr(s + j, '<', len - j) : NULL;
				if (c == NULL) {
					j = len;
					break;
				}
				j = (size_t)(c - s);
				if (j + 2 + (n1 - n0) <= len && s[j + 1] == '/' &&
						mime_mem_ieq(s + j + 2, n1 - n0, s + n0, n1 - n0))
					break;
				j++;
			}
			i = j;
			continue;
		}
		i = after;
	}
}
