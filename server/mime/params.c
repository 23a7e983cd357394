/* Content-Type (RFC 2045 §5.1) and Content-Disposition (RFC 2183 §2)
 * values: a media type or disposition type, then "; attribute=value"
 * parameters, with RFC 2231 continuations and charset/language encoding.
 *
 * Parameter values in BODYSTRUCTURE are given decoded. Dovecot merges RFC
 * 2231 continuations but keeps an extended value encoded under a "name*"
 * attribute (("filename*" "utf-8''%E2%82%AC.pdf")), which leaves every
 * client to decode it; many do not, and show no file name. Cyrus since 3.x
 * and Gmail present the decoded value. We do that too: continuations are
 * joined in section order, %XX decoded, the declared charset converted to
 * UTF-8, and the result is reported under the plain attribute name
 * ("filename"), replacing a plain parameter of the same name (RFC 2231 §4:
 * the encoded form is the better one when both are present). A UTF-8 value
 * goes out as a literal (quote.c), like any 8-bit header data. RFC 2047
 * encoded words inside quoted values ("=?utf-8?b?...?=", Outlook's habit)
 * are left as they are: RFC 3501 passes header data through, and every
 * client decodes them itself.
 *
 * Lenient where mail is: unquoted values may hold tspecials ("boundary=
 * ----=_Part_1"); such a value runs to the next ';', minus white space and
 * a trailing comment. A header holds at most MAX_PARAMS parameters. */
#include "server/mime/mime_internal.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PARAMS 128

void mime_mtype_init(struct mime_mtype *mt)
{
	memset(mt, 0, sizeof(*mt));
	buf_init(&mt->pool);
}

void mime_mtype_free(struct mime_mtype *mt)
{
	free(mt->params);
	buf_free(&mt->pool);
	mime_mtype_init(mt);
}

/* A parameter as written, before RFC 2231 processing. */
struct raw_param {
	struct mime_str name, base;   /* base: name without "*", "*n" or "*n*" */
	int section;                  /* -1: not sectioned */
	bool extended;                /* trailing '*': charset'language'%XX form */
	size_t off, len;              /* value in the scratch buffer */
	bool used;
};

static void add_param(struct mime_mtype *mt, struct mime_str name, const void *v, size_t len)
{
	if (mt->nparams == mt->cap) {
		mt->cap = mt->cap ? mt->cap * 2 : 8;
		mt->params = xrealloc(mt->params, mt->cap * sizeof(*mt->params));
	}
	struct mime_param *p = &mt->params[mt->nparams++];
	p->name = name;
	p->off = mt->pool.len;
	p->len = len;
	buf_append(&mt->pool, v, len);
}

static void split_name(struct raw_param *rp)
{
	struct mime_str n = rp->name;

	rp->section = -1;
	rp->extended = n.len > 1 && n.p[n.len - 1] == '*';
	if (rp->extended)
		n.len--;
	const char *star = memchr(n.p, '*', n.len);
	if (star != NULL) {
		size_t digits = n.len - (size_t)(star - n.p) - 1;
		int sec = 0;
		bool ok = digits > 0 && digits <= 3;
		for (size_t i = 0; ok && i < digits; i++) {
			char c = star[1 + i];
			ok = c >= '0' && c <= '9';
			sec = sec * 10 + (c - '0');
		}
		if (ok) {
			rp->section = sec;
			n.len = (size_t)(star - n.p);
		}
	}
	rp->base = n;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = mime_lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void percent_decode(const char *s, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		int hi, lo;
		if (c == '%' && i + 2 < len &&
				(hi = hexval(s[i + 1])) >= 0 && (lo = hexval(s[i + 2])) >= 0) {
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		buf_append(out, &c, 1);
	}
}

/* Joins the sections of one RFC 2231 parameter (all raw params with this
 * base name), decodes them and adds the result. */
static bool merge_2231(struct mime_mtype *mt, struct raw_param *rp, size_t n, size_t first,
		const struct buf *scratch, struct mime_cs *cs)
{
	bool found = false;

	struct buf bytes;
	struct mime_str charset = { NULL, 0 };
	struct mime_str base = rp[first].base;

	buf_init(&bytes);
	/* Sections in order 0, 1, 2 ... (or the single unsectioned "name*");
	 * RFC 2231 §3: a missing section ends the value. */
	for (int sec = rp[first].section < 0 ? -1 : 0; sec < 1000; sec++) {
		size_t k = n;
		for (size_t i = 0; i < n; i++)
			if (!rp[i].used && rp[i].section == sec && (rp[i].extended || rp[i].section >= 0) &&
					mime_mem_ieq(rp[i].base.p, rp[i].base.len, base.p, base.len)) {
				k = i;
				break;
			}
		if (k == n)
			break;
		rp[k].used = true;
		found = true;
		const char *v = buf_at(scratch, rp[k].off);
		size_t len = rp[k].len;
		if (rp[k].extended && sec <= 0) {
			/* charset'language'value: both parts may be empty. */
			const char *q1 = memchr(v, '\'', len);
			const char *q2 = q1 != NULL ? memchr(q1 + 1, '\'', len - (size_t)(q1 + 1 - v)) : NULL;
			if (q2 != NULL) {
				charset.p = v;
				charset.len = (size_t)(q1 - v);
				len -= (size_t)(q2 + 1 - v);
				v = q2 + 1;
			}
		}
		if (rp[k].extended)
			percent_decode(v, len, &bytes);
		else
			buf_append(&bytes, v, len);
		if (sec < 0)
			break;
	}
	if (found) {
		struct buf utf8;
		buf_init(&utf8);
		mime_to_utf8(cs, charset, (const char *)bytes.data, bytes.len, &utf8);
		add_param(mt, base, utf8.data, utf8.len);
		buf_free(&utf8);
		/* Sections after a gap and duplicates are dropped. */
		for (size_t i = 0; i < n; i++)
			if ((rp[i].extended || rp[i].section >= 0) &&
					mime_mem_ieq(rp[i].base.p, rp[i].base.len, base.p, base.len))
				rp[i].used = true;
	}
	buf_free(&bytes);
	return found;
}

/* A value: quoted string, or everything up to ';' minus trailing white
 * space and comment. */
static void read_value(struct mime_lex *lx, struct buf *out)
{
	if (mime_lex_at(lx, '"')) {
		mime_lex_quoted(lx, out);
		return;
	}
	const char *start = lx->p, *stop = lx->p;
	while (lx->p < lx->end && *lx->p != ';') {
		if (*lx->p == '(') {
			mime_lex_cfws(lx);  /* a comment ends the value */
			continue;
		}
		if (*lx->p != ' ' && *lx->p != '\t' && *lx->p != '\r' && *lx->p != '\n')
			stop = lx->p + 1;
		else if (stop == start)
			start = stop = lx->p + 1;
		lx->p++;
	}
	/* Keep the bytes between start and stop, line breaks unfolded. */
	for (const char *p = start; p < stop; p++)
		if (*p != '\r' && *p != '\n')
			buf_append(out, p, 1);
}

/* Skips a malformed parameter up to the next ';' (quoted strings included). */
static void skip_param(struct mime_lex *lx, struct buf *scratch)
{
	size_t mark = scratch->len;

	while (lx->p < lx->end && *lx->p != ';') {
		if (*lx->p == '"')
			mime_lex_quoted(lx, scratch);
		else
			lx->p++;
	}
	scratch->len = mark;
}

static bool has_2231_form(const struct raw_param *rp, size_t n, struct mime_str base)
{
	for (size_t i = 0; i < n; i++)
		if ((rp[i].extended || rp[i].section >= 0) &&
				mime_mem_ieq(rp[i].base.p, rp[i].base.len, base.p, base.len))
			return true;
	return false;
}

bool mime_mtype_parse(struct mime_mtype *mt, struct mime_str v, bool with_subtype, struct mime_cs *cs)
{
	struct mime_lex lx;
	struct raw_param rp[MAX_PARAMS];
	struct buf scratch;
	size_t n = 0;

	mime_lex_init(&lx, v, NULL);
	mime_lex_cfws(&lx);
	mt->type = mime_lex_token(&lx, true);
	if (mt->type.len == 0)
		return false;
	if (with_subtype) {
		mime_lex_cfws(&lx);
		if (!mime_lex_at(&lx, '/'))
			return false;
		lx.p++;
		mime_lex_cfws(&lx);
		mt->subtype = mime_lex_token(&lx, true);
		if (mt->subtype.len == 0)
			return false;
	}
	buf_init(&scratch);
	buf_reserve(&scratch, 64);      /* never NULL, even when every value is empty */
	for (;;) {
		mime_lex_cfws(&lx);
		if (lx.p >= lx.end)
			break;
		if (*lx.p == ';') {
			lx.p++;
			continue;
		}
		/* A missing ';' before a parameter is tolerated. */
		struct mime_str name = mime_lex_token(&lx, true);
		mime_lex_cfws(&lx);
		if (name.len == 0 || !mime_lex_at(&lx, '=')) {
			if (name.len == 0 && lx.p < lx.end && *lx.p != ';')
				lx.p++;
			skip_param(&lx, &scratch);
			continue;
		}
		lx.p++;
		mime_lex_cfws(&lx);
		size_t off = scratch.len;
		read_value(&lx, &scratch);
		if (n == MAX_PARAMS) {
			mt->params_limited = true;
			continue;
		}
		memset(&rp[n], 0, sizeof(rp[n]));
		rp[n].name = name;
		rp[n].off = off;
		rp[n].len = scratch.len - off;
		split_name(&rp[n]);
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		if (rp[i].used)
			continue;
		if ((rp[i].extended || rp[i].section >= 0) && merge_2231(mt, rp, n, i, &scratch, cs))
			continue;
		if (rp[i].section < 0 && !rp[i].extended && has_2231_form(rp, n, rp[i].name))
			continue;       /* the RFC 2231 form of the same parameter wins */
		rp[i].used = true;
		add_param(mt, rp[i].name, buf_at(&scratch, rp[i].off), rp[i].len);
	}
	buf_free(&scratch);
	return true;
}

bool mime_mtype_param(const struct mime_mtype *mt, const char *name, struct mime_str *value)
{
	for (size_t i = 0; i < mt->nparams; i++) {
		if (mime_str_ieq(mt->params[i].name, name)) {
			value->p = buf_at(&mt->pool, mt->params[i].off);
			value->len = mt->params[i].len;
			return true;
		}
	}
	return false;
}
