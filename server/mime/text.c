/* The decoded text of a message for SEARCH BODY and TEXT (RFC 3501
 * §6.4.4): the "text/..." leaves in document order, also inside attached
 * messages, each with its content-transfer-encoding undone, converted from
 * its charset to UTF-8, and text/html reduced to text (html.c). Parts are
 * joined with "\n". Attachments of other types are not searched (Dovecot
 * without fts plugins does the same).
 *
 * The result is bounded by max_text_bytes, and so is the work: a part is
 * decoded from at most 16 times the remaining room plus 64 KiB of its raw
 * bytes (enough for base64 and for HTML markup around the text), so a huge
 * part costs no more than the text it can contribute. */
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

static void add_leaf(struct tx *x, const struct mime_part *p)
{
	size_t max = x->l->max_text_bytes;
	struct mime_cfields cf;
	struct mime_ctype ct;
	struct mime_str charset = { "us-ascii", 8 }, tok;

	if (x->out->len + 1 >= max) {
		*x->degraded |= MIME_DEGRADED_TEXT;
		return;
	}
	size_t room = max - x->out->len - (x->out->len > 0);
	uint64_t take = p->blen;
	if (take > (uint64_t)room * 16 + 65536) {
		take = (uint64_t)room * 16 + 65536;
		*x->degraded |= MIME_DEGRADED_TEXT;
	}
	memset(&cf, 0, sizeof(cf));
	if (!p->synthetic)
		mime_cfields_read(x->raw + p->hoff, p->hlen, x->l, &cf);
	mime_ctype_read(&ct, &cf, false, x->cs);
	if (ct.valid)
		mime_mtype_param(&ct.mt, "charset", &charset);
	enum mime_encoding enc = mime_cte_parse(&cf, &tok);
	buf_clear(&x->a);
	buf_clear(&x->b);
	mime_decode_lenient(x->raw + p->boff, (size_t)take, enc, &x->a);
	mime_to_utf8(x->cs, charset, (const char *)x->a.data, x->a.len, &x->b);
	struct buf *text = &x->b;
	if (mime_str_ieq(ct.subtype, "html")) {
		buf_clear(&x->a);
		mime_html_to_text((const char *)x->b.data, x->b.len, &x->a);
		text = &x->a;
	}
	mime_ctype_free(&ct);
	if (text->len == 0)
		return;
	if (x->out->len > 0)
		buf_append(x->out, "\n", 1);
	size_t n = text->len;
	if (n > room) {
		n = mime_utf8_cut((const char *)text->data, room);
		*x->degraded |= MIME_DEGRADED_TEXT;
	}
	buf_append(x->out, text->data, n);
}

static void walk(struct tx *x, uint32_t idx)
{
	const struct mime_part *p = &x->t->v[idx];

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
