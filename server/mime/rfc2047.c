/* RFC 2047 encoded words in header values, for the decoded fields that
 * SEARCH uses (ENVELOPE and BODYSTRUCTURE keep them raw, RFC 3501 §7.4.2).
 *
 *   encoded-word = "=?" charset ["*" language] "?" ("B" / "Q") "?" encoded-text "?="
 *
 * Like Dovecot, Thunderbird and Python's decode_header, words are found
 * anywhere in the value, not only where RFC 2047 §5 allows them, and the
 * encoded text may contain spaces (broken encoders emit both). A '?' ends
 * the encoded text, which keeps the search linear: every candidate stops at
 * the next '?'. White space between two encoded words is dropped (§6.2);
 * the decoded bytes of neighbouring words in the same charset are joined
 * before conversion, so a character split across two words (common with
 * UTF-8 encoders that cut at a fixed byte count) survives. A malformed word
 * is left as it is. */
#include "server/mime/mime_internal.h"
#include "server/core/base64.h"

#include <string.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = mime_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int b64val(char c)
{
	return base64_value((unsigned char)c);
}

/* "B": padding may be missing; anything else outside the alphabet makes
 * the word malformed. */
static bool decode_b(const char *s, size_t len, struct buf *out)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t i = 0;

	for (; i < len && s[i] != '='; i++) {
		int v = b64val(s[i]);
		if (v < 0)
			return false;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			uint8_t byte = (uint8_t)(acc >> bits);
			buf_append(out, &byte, 1);
		}
	}
	for (; i < len; i++)
		if (s[i] != '=')
			return false;
	return true;
}

/* "Q" (RFC 2047 §4.2): '_' is a space, "=XX" a byte; a stray '=' stays. */
static void decode_q(const char *s, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		int hi, lo;

		if (c == '_') {
			c = ' ';
		} else if (c == '=' && i + 2 < len && (hi = hexval(s[i + 1])) >= 0 &&
				(lo = hexval(s[i + 2])) >= 0) {
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		buf_append(out, &c, 1);
	}
}

struct word {
	struct mime_str charset;
	const char *end;           /* just after "?=" */
};

/* Parses an encoded word at p ("=?" already seen); false when malformed. */
static bool parse_word(const char *p, const char *end, struct word *w, struct buf *bytes)
{
	const char *cs = p + 2, *q = cs;

	while (q < end && *q != '?' && *q != ' ' && *q != '\t' && q - cs < 64)
		q++;
	if (q == cs || q + 3 >= end || *q != '?' || q[2] != '?')
		return false;
	char enc = mime_lower(q[1]);
	if (enc != 'b' && enc != 'q')
		return false;
	const char *text = q + 3, *t = text;
	while (t < end && *t != '?')
		t++;
	if (t + 1 >= end || t[1] != '=')
		return false;
	w->charset.p = cs;
	w->charset.len = (size_t)(q - cs);
	const char *star = memchr(cs, '*', w->charset.len);   /* RFC 2231 §5 language */
	if (star != NULL)
		w->charset.len = (size_t)(star - cs);
	w->end = t + 2;
	size_t mark = bytes->len;
	if (enc == 'q') {
		decode_q(text, (size_t)(t - text), bytes);
	} else if (!decode_b(text, (size_t)(t - text), bytes)) {
		bytes->len = mark;
		return false;
	}
	return true;
}

static bool all_wsp(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p != ' ' && *p != '\t')
			return false;
	return true;
}

void mime_decode_words(struct mime_cs *cs, const char *v, size_t len, struct buf *out)
{
	const char *p, *end, *lit;                     /* lit: start of text not yet copied */
	struct buf bytes;                              /* decoded bytes of pending words */
	struct mime_str pending = { NULL, 0 };
	bool after_word = false;

	/* An empty value ("From:" first in a header) comes as the NULL data
	 * of an empty buf, and NULL + 0 is undefined behaviour (fuzz_mime). */
	if (len == 0)
		return;
	p = lit = v;
	end = v + len;
	buf_init(&bytes);
	while (p + 1 < end) {
		const char *hit = memchr(p, '=', (size_t)(end - p - 1));
		struct word w;

		if (hit == NULL)
			break;
		if (hit[1] != '?') {
			p = hit + 1;
			continue;
		}
		size_t mark = bytes.len;
		if (pending.p != NULL && !(after_word && all_wsp(lit, hit))) {
			/* Text between words: flush, then copy it. */
			mime_to_utf8(cs, pending, (const char *)bytes.data, bytes.len, out);
			buf_clear(&bytes);
			pending.p = NULL;
			mark = 0;
		}
		if (!parse_word(hit, end, &w, &bytes)) {
			p = hit + 1;
			continue;
		}
		if (pending.p != NULL && !mime_mem_ieq(pending.p, pending.len, w.charset.p, w.charset.len)) {
			/* A new charset: convert what the earlier words held. */
			mime_to_utf8(cs, pending, (const char *)bytes.data, mark, out);
			if (mark > 0) {
				memmove(bytes.data, bytes.data + mark, bytes.len - mark);
				bytes.len -= mark;
			}
		}
		if (pending.p == NULL)
			mime_utf8_sanitize(lit, (size_t)(hit - lit), out);
		pending = w.charset;
		p = lit = w.end;
		after_word = true;
	}
	if (pending.p != NULL)
		mime_to_utf8(cs, pending, (const char *)bytes.data, bytes.len, out);
	mime_utf8_sanitize(lit, (size_t)(end - lit), out);
	buf_free(&bytes);
}
