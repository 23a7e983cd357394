/* The preview of a message (RFC 8970 §3, FETCH PREVIEW): the start of its
 * first text part as a reader would see it.
 *
 * Which part: in document order, the first text/plain or text/html leaf
 * that is not an attachment (Content-Disposition: attachment); in a
 * multipart/alternative, its text/plain alternative when it has one (the
 * HTML says the same with markup). Attached messages (message/rfc822 below
 * the top) are not looked into: their text is not this message's.
 *
 * The text: content-transfer-encoding undone, converted to UTF-8, HTML
 * reduced to its text (text.c, html.c); every run of white space and
 * control characters becomes one space, leading and trailing space go; at
 * most MIME_PREVIEW_CHARS characters (code points), cut between
 * characters, never inside a UTF-8 sequence. No text part, or one with
 * only white space, gives the empty string (RFC 8970 §3.1 returns "" when
 * no preview can be generated; NIL means "not available now", LAZY).
 *
 * Work is bounded: at most MIME_PREVIEW_RAW bytes of the part are decoded,
 * enough for base64 and for the markup (a <style> block) before the text
 * of an HTML part. */
#include "server/mime/mime_internal.h"

#include <string.h>

#define MIME_PREVIEW_RAW (256 * 1024)

/* A candidate part: its index and whether it is text/plain. */
struct pick {
	uint32_t idx;
	bool plain;
};

static const struct pick none = { MIME_NONE, false };

static struct pick pick_part(const char *raw, const struct mime_tree *t, uint32_t idx,
			     const struct mime_limits *l, struct mime_cs *cs);

/* A leaf worth previewing: text/plain or text/html, not an attachment. */
static struct pick pick_leaf(const char *raw, const struct mime_part *p, uint32_t idx,
			     const struct mime_limits *l, struct mime_cs *cs)
{
	struct mime_cfields cf;
	struct mime_ctype ct;
	struct pick r = none;

	if (!p->is_text || p->opaque)
		return none;
	memset(&cf, 0, sizeof(cf));
	if (!p->synthetic)
		mime_cfields_read(raw + p->hoff, p->hlen, l, &cf);
	if (cf.has_disp) {
		struct mime_lex lx;
		mime_lex_init(&lx, cf.disp, NULL);
		mime_lex_cfws(&lx);
		if (mime_str_ieq(mime_lex_token(&lx, true), "attachment"))
			return none;
	}
	mime_ctype_read(&ct, &cf, false, cs);
	if (mime_str_ieq(ct.subtype, "plain") || mime_str_ieq(ct.subtype, "html"))
		r = (struct pick){ idx, mime_str_ieq(ct.subtype, "plain") };
	mime_ctype_free(&ct);
	return r;
}

static bool is_alternative(const char *raw, const struct mime_part *p, const struct mime_limits *l,
			   struct mime_cs *cs)
{
	struct mime_cfields cf;
	struct mime_ctype ct;
	bool alt;

	mime_cfields_read(raw + p->hoff, p->hlen, l, &cf);
	mime_ctype_read(&ct, &cf, false, cs);
	alt = mime_str_ieq(ct.subtype, "alternative");
	mime_ctype_free(&ct);
	return alt;
}

static struct pick pick_children(const char *raw, const struct mime_tree *t, uint32_t idx,
				 const struct mime_limits *l, struct mime_cs *cs)
{
	const struct mime_part *p = &t->v[idx];
	bool alt = is_alternative(raw, p, l, cs);
	struct pick first = none;

	for (uint32_t c = p->first_child; c != MIME_NONE; c = t->v[c].next) {
		struct pick r = pick_part(raw, t, c, l, cs);
		if (r.idx == MIME_NONE)
			continue;
		if (!alt || r.plain)
			return r;
		if (first.idx == MIME_NONE)
			first = r;
	}
	return first;
}

static struct pick pick_part(const char *raw, const struct mime_tree *t, uint32_t idx,
			     const struct mime_limits *l, struct mime_cs *cs)
{
	const struct mime_part *p = &t->v[idx];

	switch (p->kind) {
	case MIME_LEAF:
		return pick_leaf(raw, p, idx, l, cs);
	case MIME_MULTIPART:
		return pick_children(raw, t, idx, l, cs);
	default:
		/* The top-level message's own body; an attached one is not ours. */
		return idx == 0 && p->first_child != MIME_NONE ?
		       pick_part(raw, t, p->first_child, l, cs) : none;
	}
}

/* Bytes of the UTF-8 sequence led by c (1 for a stray byte). */
static size_t seq_len(unsigned char c)
{
	return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

/* Appends text with white space runs collapsed, trimmed, cut after
 * MIME_PREVIEW_CHARS characters. text is valid UTF-8. */
static void normalise(const char *s, size_t len, struct buf *out)
{
	size_t chars = 0, i = 0;
	bool space = false, started = false;

	while (i < len && chars < MIME_PREVIEW_CHARS) {
		unsigned char c = (unsigned char)s[i];
		size_t n = seq_len(c);

		if (c <= 0x20 || c == 0x7f) {
			space = true;
			i++;
			continue;
		}
		if (n > len - i)
			break;   /* a truncated last sequence (decoding was cut) */
		if (space && started) {
			if (chars + 1 == MIME_PREVIEW_CHARS)
				break;   /* no trailing space */
			buf_append(out, " ", 1);
			chars++;
		}
		space = false;
		started = true;
		buf_append(out, s + i, n);
		chars++;
		i += n;
	}
}

void mime_extract_preview(struct buf *out, const char *raw, const struct mime_tree *t,
		const struct mime_limits *l, struct mime_cs *cs)
{
	struct pick r = pick_part(raw, t, 0, l, cs);
	struct buf tmp, text;

	if (r.idx == MIME_NONE)
		return;
	buf_init(&tmp);
	buf_init(&text);
	mime_leaf_text(raw, &t->v[r.idx], MIME_PREVIEW_RAW, l, cs, &tmp, &text);
	normalise((const char *)text.data, mime_utf8_cut((const char *)text.data, text.len), out);
	buf_free(&tmp);
	buf_free(&text);
}

void mime_preview(const char *raw, size_t len, struct buf *out)
{
	struct mime_limits l;
	struct mime_tree t;
	struct mime_cs cs;

	mime_limits_default(&l);
	mime_cs_init(&cs);
	mime_tree_parse(raw, len, &l, &cs, &t);
	mime_extract_preview(out, raw, &t, &l, &cs);
	mime_tree_free(&t);
	mime_cs_free(&cs);
}
