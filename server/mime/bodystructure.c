/* BODY and BODYSTRUCTURE (RFC 3501 §7.4.2, §9 body; RFC 9051 the same):
 *
 *   body-type-1part = (body-type-basic / body-type-msg / body-type-text)
 *                     [SP body-ext-1part]
 *   body-fields     = body-fld-param SP body-fld-id SP body-fld-desc SP
 *                     body-fld-enc SP body-fld-octets
 *   body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
 *   body-ext-1part  = body-fld-md5 [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc]]]
 *   body-ext-mpart  = body-fld-param [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc]]]
 *
 * The output matches Dovecot's: types, subtypes, parameter names and the
 * encoding keep the case the message used; defaults are lower case
 * ("text" "plain", "7bit"); a text part without a charset parameter gets
 * ("charset" "us-ascii") appended (RFC 2045 §5.2); the extension data is
 * always written in full; languages are always a list. Sizes are octets of
 * the body as stored, line counts count line feeds plus a last line
 * without one (tree.c). Opaque parts (mime.h limits) are written as
 * "application" "octet-stream" without parameters. */
#include "server/mime/mime_internal.h"

#include <string.h>

static void write_str(struct buf *out, struct mime_str s)
{
	mime_imap_string(out, s.p, s.len);
}

static void write_params(struct buf *out, const struct mime_mtype *mt, bool valid, bool text)
{
	size_t n = valid ? mt->nparams : 0;
	struct mime_str cs;
	bool add_charset = text && !(valid && mime_mtype_param(mt, "charset", &cs));

	if (n == 0 && !add_charset) {
		buf_append(out, "NIL", 3);
		return;
	}
	buf_append(out, "(", 1);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_append(out, " ", 1);
		write_str(out, mt->params[i].name);
		buf_append(out, " ", 1);
		mime_imap_string(out, buf_at(&mt->pool, mt->params[i].off), mt->params[i].len);
	}
	if (add_charset)
		buf_append_str(out, n > 0 ? " \"charset\" \"us-ascii\"" : "\"charset\" \"us-ascii\"");
	buf_append(out, ")", 1);
}

/* An unstructured field as nstring: unfolded, NIL when absent. */
static void write_field(struct buf *out, struct mime_str v, bool has, struct buf *tmp)
{
	if (!has) {
		buf_append(out, "NIL", 3);
		return;
	}
	buf_clear(tmp);
	mime_unfold(v, tmp);
	mime_imap_string(out, (const char *)tmp->data, tmp->len);
}

static void write_disposition(struct buf *out, const struct mime_cfields *cf, struct mime_cs *cs)
{
	struct mime_mtype mt;

	mime_mtype_init(&mt);
	if (cf->has_disp && mime_mtype_parse(&mt, cf->disp, false, cs)) {
		buf_append(out, "(", 1);
		write_str(out, mt.type);
		buf_append(out, " ", 1);
		write_params(out, &mt, true, false);
		buf_append(out, ")", 1);
	} else {
		buf_append(out, "NIL", 3);
	}
	mime_mtype_free(&mt);
}

/* Content-Language (RFC 3282): a comma-separated list of language tags. */
static void write_language(struct buf *out, const struct mime_cfields *cf)
{
	struct mime_lex lx;
	size_t n = 0;

	if (cf->has_lang) {
		mime_lex_init(&lx, cf->lang, NULL);
		while (lx.p < lx.end) {
			mime_lex_cfws(&lx);
			struct mime_str tag = mime_lex_token(&lx, true);
			if (tag.len == 0) {
				if (lx.p < lx.end)
					lx.p++;         /* ',' or junk */
				continue;
			}
			buf_append(out, n++ == 0 ? "(" : " ", 1);
			write_str(out, tag);
		}
	}
	buf_append_str(out, n > 0 ? ")" : "NIL");
}

static void write_ext_tail(struct buf *out, const struct mime_cfields *cf, struct mime_cs *cs,
		struct buf *tmp)
{
	buf_append(out, " ", 1);
	write_disposition(out, cf, cs);
	buf_append(out, " ", 1);
	write_language(out, cf);
	buf_append(out, " ", 1);
	write_field(out, cf->loc, cf->has_loc, tmp);
}

void mime_write_bodystructure(struct buf *out, const char *raw, const struct mime_tree *t,
		uint32_t idx, bool ext, const struct mime_limits *l, struct mime_cs *cs)
{
	const struct mime_part *p = &t->v[idx];
	struct mime_cfields cf;
	struct mime_ctype ct;
	struct mime_str tok;
	struct buf tmp;

	memset(&cf, 0, sizeof(cf));
	if (!p->synthetic)
		mime_cfields_read(raw + p->hoff, p->hlen, l, &cf);
	mime_ctype_read(&ct, &cf, p->default_message, cs);
	buf_init(&tmp);
	buf_append(out, "(", 1);
	if (p->kind == MIME_MULTIPART) {
		for (uint32_t c = p->first_child; c != MIME_NONE; c = t->v[c].next)
			mime_write_bodystructure(out, raw, t, c, ext, l, cs);
		buf_append(out, " ", 1);
		write_str(out, ct.subtype);
		if (ext) {
			buf_append(out, " ", 1);
			write_params(out, &ct.mt, ct.valid, false);
			write_ext_tail(out, &cf, cs, &tmp);
		}
	} else {
		bool text = p->is_text && !p->opaque;
		if (p->opaque) {
			buf_append_str(out, "\"application\" \"octet-stream\" NIL");
		} else {
			write_str(out, ct.type);
			buf_append(out, " ", 1);
			write_str(out, ct.subtype);
			buf_append(out, " ", 1);
			write_params(out, &ct.mt, ct.valid, mime_str_ieq(ct.type, "text"));
		}
		buf_append(out, " ", 1);
		write_field(out, cf.id, cf.has_id, &tmp);
		buf_append(out, " ", 1);
		write_field(out, cf.desc, cf.has_desc, &tmp);
		buf_append(out, " ", 1);
		mime_cte_parse(&cf, &tok);
		if (tok.len > 0)
			write_str(out, tok);
		else
			buf_append_str(out, "\"7bit\"");
		buf_appendf(out, " %llu", (unsigned long long)p->blen);
		if (p->kind == MIME_MESSAGE) {
			const struct mime_part *c = &t->v[p->first_child];
			buf_append(out, " ", 1);
			mime_write_envelope(out, raw + c->hoff, c->hlen, l);
			buf_append(out, " ", 1);
			mime_write_bodystructure(out, raw, t, p->first_child, ext, l, cs);
		}
		if (text || p->kind == MIME_MESSAGE)
			buf_appendf(out, " %llu", (unsigned long long)p->lines);
		if (ext) {
			buf_append(out, " ", 1);
			write_field(out, cf.md5, cf.has_md5, &tmp);
			write_ext_tail(out, &cf, cs, &tmp);
		}
	}
	buf_append(out, ")", 1);
	buf_free(&tmp);
	mime_ctype_free(&ct);
}
