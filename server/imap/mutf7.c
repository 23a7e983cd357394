#include "server/imap/mutf7.h"
#include "server/core/base64.h"

#include <stdint.h>

/* RFC 3501 §5.1.3: BASE64 with ',' instead of '/' (which is a common
 * hierarchy delimiter), and no '=' padding. */
static const char b64_chars[64] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64_value(unsigned char c)
{
	if (c == ',')
		return 63;
	return c == '/' ? -1 : base64_value(c);
}

static bool is_direct(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* One UTF-8 sequence at s (len > 0 bytes): its length, or 0 when the bytes
 * are not well-formed. This is the table of RFC 3629 §4, which rules out
 * overlong forms, surrogates and values above U+10FFFF by the range allowed
 * for the second byte. */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp_r)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80) {
		*cp_r = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;      /* overlong below U+0800 */
		else if (c == 0xed)
			hi = 0x9f;      /* surrogates U+D800..U+DFFF */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;      /* overlong below U+10000 */
		else if (c == 0xf4)
			hi = 0x8f;      /* above U+10FFFF */
	} else
		return 0;           /* continuation byte, C0, C1, F5..FF */
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	uint32_t cp = c & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if (i > 1 && (s[i] < 0x80 || s[i] > 0xbf))
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	*cp_r = cp;
	return n;
}

bool imap_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode(p + i, len - i, &cp);
		if (n == 0 || cp == 0)
			return false;
		i += n;
	}
	return true;
}

static void utf8_append(struct buf *out, uint32_t cp)
{
	uint8_t b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | (cp >> 6));
		b[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xe0 | (cp >> 12));
		b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (uint8_t)(0xf0 | (cp >> 18));
		b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_append(out, b, n);
}

/* One UTF-16 unit of a run. *high holds a high surrogate waiting for its
 * low half (0 when none: 0 is never a surrogate). */
static int put_unit(uint32_t unit, uint32_t *high, struct buf *out)
{
	bool is_high = unit >= 0xd800 && unit <= 0xdbff;
	bool is_low = unit >= 0xdc00 && unit <= 0xdfff;

	if (*high != 0) {
		if (!is_low)
			return -1;
		utf8_append(out, 0x10000 + ((*high - 0xd800) << 10) + (unit - 0xdc00));
		*high = 0;
		return 0;
	}
	if (is_high) {
		*high = unit;
		return 0;
	}
	/* Printable US-ASCII must be direct (RFC 3501 §5.1.3), and U+0000 is
	 * no name's character. */
	if (is_low || unit == 0 || (unit >= 0x20 && unit <= 0x7e))
		return -1;
	utf8_append(out, unit);
	return 0;
}

int imap_mutf7_to_utf8(const char *in, size_t len, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t start = out->len, i = 0;
	bool after_run = false;   /* the last thing read closed a BASE64 run */

	while (i < len) {
		if (!is_direct(p[i]))
			goto fail;
		if (p[i] != '&') {
			buf_append(out, &p[i++], 1);
			after_run = false;
			continue;
		}
		i++;
		if (i < len && p[i] == '-') {
			buf_append(out, "&", 1);
			i++;
			after_run = false;
			continue;
		}
		if (after_run)
			goto fail;        /* "-&": a null shift */

		uint32_t bits = 0, high = 0;
		unsigned nbits = 0;
		for (;;) {
			if (i >= len)
				goto fail;    /* no implicit shift back to US-ASCII */
			unsigned char c = p[i++];
			if (c == '-')
				break;
			int v = b64_value(c);
			if (v < 0)
				goto fail;
			bits = (bits << 6) | (uint32_t)v;
			nbits += 6;
			if (nbits >= 16) {
				nbits -= 16;
				if (put_unit((bits >> nbits) & 0xffff, &high, out) < 0)
					goto fail;
				bits &= (1u << nbits) - 1;
			}
		}
		/* A canonical run ends within the last BASE64 character, with
		 * zero bits: 6 or more bits left over is a character too many
		 * (8 or more, an odd byte). */
		if (nbits >= 6 || bits != 0 || high != 0)
			goto fail;
		after_run = true;
	}
	return 0;
fail:
	out->len = start;
	return -1;
}

static void b64_unit(uint32_t unit, uint32_t *bits, unsigned *nbits, struct buf *out)
{
	*bits = (*bits << 16) | unit;
	*nbits += 16;
	while (*nbits >= 6) {
		*nbits -= 6;
		buf_append(out, &b64_chars[(*bits >> *nbits) & 63], 1);
	}
	*bits &= (1u << *nbits) - 1;
}

void imap_utf8_to_mutf7(const char *in, size_t len, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0;

	while (i < len) {
		if (p[i] == '&') {
			buf_append(out, "&-", 2);
			i++;
			continue;
		}
		if (is_direct(p[i])) {
			buf_append(out, &p[i++], 1);
			continue;
		}
		/* One run for every consecutive character that cannot be direct:
		 * a second run right after this one would be a null shift. */
		uint32_t bits = 0;
		unsigned nbits = 0;
		buf_append(out, "&", 1);
		while (i < len && !is_direct(p[i])) {
			uint32_t cp;
			size_t n = utf8_decode(p + i, len - i, &cp);
			if (n == 0 || cp == 0) {
				cp = 0xfffd;
				n = 1;
			}
			i += n;
			if (cp >= 0x10000) {
				b64_unit(0xd800 + ((cp - 0x10000) >> 10), &bits, &nbits, out);
				b64_unit(0xdc00 + ((cp - 0x10000) & 0x3ff), &bits, &nbits, out);
			} else
				b64_unit(cp, &bits, &nbits, out);
		}
		if (nbits > 0)
			buf_append(out, &b64_chars[(bits << (6 - nbits)) & 63], 1);
		buf_append(out, "-", 1);
	}
}
