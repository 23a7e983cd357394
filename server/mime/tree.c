/* The MIME structure (RFC 2046 §5) in one pass over the lines of the
 * message, like Dovecot's message-parser: no part is scanned twice, so
 * the cost is linear in the message size. Each line that starts with "--"
 * is compared with the boundaries of the open multiparts, innermost first
 * (at most max_depth of them, and only when the lengths match).
 *
 * A delimiter line closes every part nested inside its multipart, so a
 * missing close delimiter of an inner multipart costs only that inner part
 * (as in Python's email package and Dovecot). The line break before a
 * delimiter belongs to the delimiter (RFC 2046 §5.1.1), so it is not part
 * of the preceding part's body. Delimiter lines must be exactly "--"
 * boundary ["--"], optionally followed by white space (transport padding);
 * a boundary that is only a prefix of the line does not count.
 *
 * A header ends at its blank line, or just before the first line that is
 * neither a field nor a continuation (the part then has no blank line and
 * the line starts the body, as in Python's email package), or at a
 * delimiter of an enclosing multipart, or at the end of the message.
 *
 * Degradation (mime.h): a multipart or message/rfc822 at max_depth becomes
 * an opaque application/octet-stream leaf; a delimiter that would create
 * part max_parts+1 is treated as the close delimiter of its multipart (the
 * rest is epilogue); a multipart that ends without any part gets one
 * made-up text/plain part holding its whole body, so BODY[n] still reaches
 * the bytes (Dovecot shows an empty part there instead). */
#include "server/mime/mime_internal.h"

#include <stdlib.h>
#include <string.h>

struct bound {
	size_t off, len;        /* in tp.bpool */
	uint32_t part;
};

struct tp {
	const char *raw;
	size_t len;
	const struct mime_limits *l;
	struct mime_cs *cs;
	struct mime_tree *t;
	struct bound *bs;
	size_t nb;
	struct buf bpool;
	uint32_t cur;
	uint64_t lineno;        /* line feeds before the current line */
};

static uint32_t new_part(struct tp *tp, uint32_t parent, uint64_t hoff, uint64_t lineno, bool force)
{
	struct mime_tree *t = tp->t;

	if (!force && t->n >= tp->l->max_parts && parent != MIME_NONE) {
		t->degraded |= MIME_DEGRADED_PARTS;
		return MIME_NONE;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
	}
	uint32_t idx = (uint32_t)t->n++;
	struct mime_part *p = &t->v[idx];
	memset(p, 0, sizeof(*p));
	p->hoff = p->boff = hoff;
	p->body_lineno = lineno;
	p->parent = parent;
	p->first_child = p->last_child = p->next = MIME_NONE;
	p->in_header = true;
	if (parent != MIME_NONE) {
		struct mime_part *pp = &t->v[parent];
		p->depth = (uint16_t)(pp->depth + 1);
		if (pp->last_child == MIME_NONE)
			pp->first_child = idx;
		else
			t->v[pp->last_child].next = idx;
		pp->last_child = idx;
		pp->nchildren++;
	}
	return idx;
}

static void push_boundary(struct tp *tp, uint32_t part, struct mime_str b)
{
	tp->bs[tp->nb].off = tp->bpool.len;
	tp->bs[tp->nb].len = b.len;
	tp->bs[tp->nb].part = part;
	tp->nb++;
	buf_append(&tp->bpool, b.p, b.len);
}

/* The header of part idx ends at hend; its body starts at bstart, after
 * blineno line feeds. Decides what the part is; returns the encapsulated
 * message's part when it is message/rfc822, else MIME_NONE. */
static uint32_t end_header(struct tp *tp, uint32_t idx, uint64_t hend, uint64_t bstart, uint64_t blineno)
{
	struct mime_part *p = &tp->t->v[idx];
	struct mime_cfields cf;
	struct mime_ctype ct;
	struct mime_str tok, b;
	uint32_t child = MIME_NONE;

	p->hlen = hend - p->hoff;
	p->boff = bstart;
	p->body_lineno = blineno;
	p->in_header = false;
	mime_cfields_read(tp->raw + p->hoff, p->hlen, tp->l, &cf);
	if (cf.limited)
		tp->t->degraded |= MIME_DEGRADED_HEADER;
	mime_ctype_read(&ct, &cf, p->default_message, tp->cs);
	p->enc = (uint8_t)mime_cte_parse(&cf, &tok);
	bool deep = p->depth >= tp->l->max_depth;
	if (mime_str_ieq(ct.type, "multipart")) {
		if (deep) {
			p->opaque = true;
			tp->t->degraded |= MIME_DEGRADED_DEPTH;
		} else {
			p->kind = MIME_MULTIPART;
			p->digest = mime_str_ieq(ct.subtype, "digest");
			if (ct.valid && mime_mtype_param(&ct.mt, "boundary", &b) && b.len > 0)
				push_boundary(tp, idx, b);
			else
				tp->t->degraded |= MIME_DEGRADED_BOUNDARY;
		}
	} else if (mime_str_ieq(ct.type, "message") &&
			(mime_str_ieq(ct.subtype, "rfc822") || mime_str_ieq(ct.subtype, "global"))) {
		/* RFC 2046 §5.2.1 allows only 7bit/8bit/binary here; an encoded
		 * message cannot be addressed by byte ranges, so it stays opaque. */
		if (p->enc == MIME_ENC_BASE64 || p->enc == MIME_ENC_QP || p->enc == MIME_ENC_OTHER) {
			p->opaque = true;
			tp->t->degraded |= MIME_DEGRADED_ENCODING;
		} else if (deep) {
			p->opaque = true;
			tp->t->degraded |= MIME_DEGRADED_DEPTH;
		} else if ((child = new_part(tp, idx, bstart, blineno, false)) == MIME_NONE) {
			p = &tp->t->v[idx];
			p->opaque = true;
		} else {
			p = &tp->t->v[idx];
			p->kind = MIME_MESSAGE;
		}
	} else if (mime_str_ieq(ct.type, "text")) {
		p->is_text = true;
	}
	mime_ctype_free(&ct);
	return child;
}

/* Ends part idx (and, for a message part still in its header, its
 * encapsulated message) at e, which has elineno line feeds before it. */
static void finish(struct tp *tp, uint32_t idx, uint64_t e, uint64_t elineno)
{
	struct mime_part *p = &tp->t->v[idx];

	if (p->in_header) {
		if (e < p->hoff) {
			e = p->hoff;
			elineno = p->body_lineno;
		}
		uint32_t child = end_header(tp, idx, e, e, elineno);
		if (child != MIME_NONE)
			finish(tp, child, e, elineno);
		p = &tp->t->v[idx];
	}
	if (e < p->boff) {
		e = p->boff;
		elineno = p->body_lineno;
	}
	p->blen = e - p->boff;
	p->lines = elineno - p->body_lineno + (p->blen > 0 && tp->raw[e - 1] != '\n');
	if (p->kind == MIME_MULTIPART && p->nchildren == 0) {
		uint32_t c = new_part(tp, idx, p->boff, p->body_lineno, true);
		struct mime_part *s = &tp->t->v[c];
		p = &tp->t->v[idx];
		s->in_header = false;
		s->synthetic = s->is_text = true;
		s->blen = p->blen;
		s->lines = p->lines;
		tp->t->degraded |= MIME_DEGRADED_BOUNDARY;
	}
}

/* Which open boundary does the line [ls, le) delimit? -1 for none. */
static int match_boundary(const struct tp *tp, size_t ls, size_t le, bool *close_r)
{
	const char *s = tp->raw + ls + 2;
	size_t n = le - ls - 2;

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	for (size_t k = tp->nb; k-- > 0;) {
		const char *b = buf_at(&tp->bpool, tp->bs[k].off);
		size_t bl = tp->bs[k].len;

		if (n == bl && memcmp(s, b, bl) == 0) {
			*close_r = false;
			return (int)k;
		}
		if (n == bl + 2 && memcmp(s, b, bl) == 0 && s[bl] == '-' && s[bl + 1] == '-') {
			*close_r = true;
			return (int)k;
		}
	}
	return -1;
}

static void delimiter(struct tp *tp, size_t k, bool close, size_t ls, size_t le, bool has_nl)
{
	uint64_t e = ls, elineno = tp->lineno;
	uint32_t m = tp->bs[k].part;

	if (e > 0 && tp->raw[e - 1] == '\n') {
		e--;
		elineno--;
		if (e > 0 && tp->raw[e - 1] == '\r')
			e--;
	}
	while (tp->cur != m) {
		finish(tp, tp->cur, e, elineno);
		tp->cur = tp->t->v[tp->cur].parent;
	}
	if (tp->nb > k + 1)
		tp->t->degraded |= MIME_DEGRADED_BOUNDARY;  /* inner close delimiter missing */
	tp->nb = k + 1;
	if (close) {
		tp->nb = k;     /* the rest is the epilogue of m */
		return;
	}
	uint32_t c = new_part(tp, m, le, tp->lineno + has_nl, false);
	if (c == MIME_NONE) {
		tp->nb = k;
		return;
	}
	tp->t->v[c].default_message = tp->t->v[m].digest;
	tp->cur = c;
}

static bool blank_line(const char *p, size_t n)
{
	return (n >= 1 && p[0] == '\n') || (n >= 2 && p[0] == '\r' && p[1] == '\n');
}

void mime_tree_parse(const char *raw, size_t len, const struct mime_limits *l, struct mime_cs *cs,
		struct mime_tree *t)
{
	struct tp tp = { .raw = raw, .len = len, .l = l, .cs = cs, .t = t };
	size_t pos = 0;

	memset(t, 0, sizeof(*t));
	tp.bs = xcalloc(l->max_depth + 1, sizeof(*tp.bs));
	buf_init(&tp.bpool);
	tp.cur = new_part(&tp, MIME_NONE, 0, 0, true);
	while (pos < len) {
		const char *nl = memchr(raw + pos, '\n', len - pos);
		size_t ls = pos, le = nl != NULL ? (size_t)(nl - raw) + 1 : len;
		bool close;
		int k;

		if (tp.nb > 0 && le - ls >= 2 && raw[ls] == '-' && raw[ls + 1] == '-' &&
				(k = match_boundary(&tp, ls, le, &close)) >= 0) {
			delimiter(&tp, (size_t)k, close, ls, le, nl != NULL);
		} else if (t->v[tp.cur].in_header) {
			uint32_t c = MIME_NONE;

			if (blank_line(raw + ls, le - ls)) {
				c = end_header(&tp, tp.cur, le, le, tp.lineno + (nl != NULL));
			} else if (raw[ls] != ' ' && raw[ls] != '\t' && !mime_is_field_line(raw + ls, raw + le)) {
				/* Not a header line: the header ends without its blank
				 * line and this line belongs to what follows. */
				t->degraded |= MIME_DEGRADED_SYNTAX;
				c = end_header(&tp, tp.cur, ls, ls, tp.lineno);
				if (c != MIME_NONE)
					tp.cur = c;
				continue;
			}
			if (c != MIME_NONE)
				tp.cur = c;
		}
		pos = le;
		tp.lineno += nl != NULL;
	}
	if (tp.nb > 0)
		t->degraded |= MIME_DEGRADED_BOUNDARY;
	if (t->v[tp.cur].in_header && t->v[tp.cur].hoff < len)
		t->degraded |= MIME_DEGRADED_SYNTAX;     /* no blank line after the header */
	for (uint32_t c = tp.cur; c != MIME_NONE; c = t->v[c].parent)
		finish(&tp, c, len, tp.lineno);
	free(tp.bs);
	buf_free(&tp.bpool);
}

void mime_tree_free(struct mime_tree *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}
