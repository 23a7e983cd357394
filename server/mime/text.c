/* The decoded text of a message for SEARCH BODY and TEXT (RFC 3501
 * §6.4.4: BODY searches "the body of the message", everything after the
 * top-level header): in document order, the header of every part below
 * the top level (MIME part headers, and the header of an attached
 * message/rfc822 with the part header that announces it) as "Name: value"
 * lines, unfolded and RFC 2047-decoded, followed by the decoded values of
 * its Content-Type and Content-Disposition parameters (RFC 2231 file
 * names, so that "failure_650.zip" is found however it was encoded); and
 * the "text/..." leaves, also inside attached messages, each with its
 * content-transfer-encoding undone, converted from its charset to UTF-8,
 * and text/html reduced to text (html.c). Pieces are joined with "\n".
 * The content of attachments of other types is not searched (Dovecot
 * without fts plugins does the same); their names and descriptions are.
 *
 * The result is bounded by max_text_bytes, and so is the work: a part is
 * decoded from at most 16 times the remaining room plus 64 KiB of its raw
 * bytes (enough for base64 and for HTML markup around the text), so a huge
 * part costs no more than the text it can contribute; a header is read up
 * to max_header_bytes and max_fields. */
#include "server/mime/mime_internal.h"

#include <string.h>

struct tx {
	const char *raw;
	const struct mime_tree *t;
	const struct mime_limits *l;
	struct mime_cs *cs;
	struct buf *out;
	unsigned *degraded;
	struct buf a, b;
};

/* The room left in the output for one more piece after its "\n"; 0 (and
 * the text marked degraded) when it is full. */
static size_t room_left(struct tx *x)
{
	size_t max = x->l->max_text_bytes;

	if (x->out->len + 1 >= max) {
		*x->degraded |= MIME_DEGRADED_TEXT;
		return 0;
	}
	return max - x->out->len - (x->out->len > 0);
}

/* Appends one piece, after a "\n", cut on a character boundary to fit. */
static void add_piece(struct tx *x, const struct buf *text)
{
	size_t room = room_left(x), n = text->len;

	if (n == 0 || room == 0)
		return;
	if (x->out->len > 0)
		buf_append(x->out, "\n", 1);
	if (n > room) {
		n = mime_utf8_cut((const char *)text->data, room);
		*x->degraded |= MIME_DEGRADED_TEXT;
	}
	buf_append(x->out, text->data, n);
}

/* The decoded parameter values of a Content-Type or Content-Disposition
 * value, one per line, into out. */
static void add_param_values(struct tx *x, struct mime_str v, bool with_subtype, struct buf *out)
{
	struct mime_mtype mt;

	mime_mtype_init(&mt);
	if (mime_mtype_parse(&mt, v, with_subtype, x->cs))
		for (size_t i = 0; i < mt.nparams; i++) {
			buf_append(out, "\n", 1);
			buf_append(out, mt.pool.data + mt.params[i].off, mt.params[i].len);
		}
	mime_mtype_free(&mt);
}

/* A part's header: "Name: value" lines, then its parameters decoded. */
static void add_header(struct tx *x, const struct mime_part *p)
{
	struct mime_hiter it;
	struct mime_hfield f;
	struct mime_cfields cf;

	if (p->synthetic || p->hlen == 0 || room_left(x) == 0)
		return;
	buf_clear(&x->b);
	mime_hiter_init(&it, x->raw + p->hoff, p->hlen, x->l);
	while (mime_hiter_next(&it, &f)) {
		if (x->b.len > 0)
			buf_append(&x->b, "\n", 1);
		buf_append(&x->b, f.name.p, f.name.len);
		buf_append(&x->b, ": ", 2);
		buf_clear(&x->a);
		mime_unfold(f.raw, &x->a);
		mime_decode_words(x->cs, (const char *)x->a.data, x->a.len, &x->b);
	}
	mime_cfields_read(x->raw + p->hoff, p->hlen, x->l, &cf);
	if (cf.has_type)
		add_param_values(x, cf.type, true, &x->b);
	if (cf.has_disp)
		add_param_values(x, cf.disp, false, &x->b);
	add_piece(x, &x->b);
}

void mime_leaf_text(const char *raw, const struct mime_part *p, uint64_t take,
		const struct mime_limits *l, struct mime_cs *cs, struct buf *tmp, struct buf *out)
{
	struct mime_cfields cf;
	struct mime_ctype ct;
	struct mime_str charset = { "us-ascii", 8 }, tok;

	if (take > p->blen)
		take = p->blen;
	memset(&cf, 0, sizeof(cf));
	if (!p->synthetic)
		mime_cfields_read(raw + p->hoff, p->hlen, l, &cf);
	mime_ctype_read(&ct, &cf, false, cs);
	if (ct.valid)
		mime_mtype_param(&ct.mt, "charset", &charset);
	enum mime_encoding enc = mime_cte_parse(&cf, &tok);
	buf_clear(tmp);
	mime_decode_lenient(raw + p->boff, (size_t)take, enc, tmp);
	if (mime_str_ieq(ct.subtype, "html")) {
		struct buf utf8;
		buf_init(&utf8);
		mime_to_utf8(cs, charset, (const char *)tmp->data, tmp->len, &utf8);
		mime_html_to_text((const char *)utf8.data, utf8.len, out);
		buf_free(&utf8);
	} else
		mime_to_utf8(cs, charset, (const char *)tmp->data, tmp->len, out);
	mime_ctype_free(&ct);
}

static void add_leaf(struct tx *x, const struct mime_part *p)
{
	size_t room = room_left(x);

	if (room == 0)
		return;
	uint64_t take = p->blen;
	if (take > (uint64_t)room * 16 + 65536) {
		take = (uint64_t)room * 16 + 65536;
		*x->degraded |= MIME_DEGRADED_TEXT;
	}
	buf_clear(&x->b);
	mime_leaf_text(x->raw, p, take, x->l, x->cs, &x->a, &x->b);
	add_piece(x, &x->b);
}

static void walk(struct tx *x, uint32_t idx)
{
	const struct mime_part *p = &x->t->v[idx];

	if (idx != 0)
		add_header(x, p);
	if (p->kind == MIME_LEAF) {
		if (p->is_text && !p->opaque)
			add_leaf(x, p);
		return;
	}
	for (uint32_t c = p->first_child; c != MIME_NONE; c = x->t->v[c].next)
		walk(x, c);
}

void mime_extract_text(struct buf *out, const char *raw, const struct mime_tree *t,
		const struct mime_limits *l, struct mime_cs *cs, unsigned *degraded)
{
	struct tx x = { raw, t, l, cs, out, degraded, { 0 }, { 0 } };

	buf_init(&x.a);
	buf_init(&x.b);
	walk(&x, 0);
	buf_free(&x.a);
	buf_free(&x.b);
}
