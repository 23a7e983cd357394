/* Header blocks (RFC 5322 §2.2, §3.6; RFC 2045 §3): splitting a block into
 * fields, unfolding values, picking out the Content-* fields of a part.
 *
 * A field line is a name of printable ASCII other than ':' (RFC 5322 §3.6.8
 * ftext), optional white space (obs-optional, §4.5.3), then ':'; a line
 * starting with SP or HTAB continues the previous field. Lines that are
 * neither are skipped here (tree.c decides whether they end the header). */
#include "server/mime/mime_internal.h"

#include <string.h>

char mime_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool mime_mem_ieq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (mime_lower(a[i]) != mime_lower(b[i]))
			return false;
	return true;
}

bool mime_str_ieq(struct mime_str s, const char *lit)
{
	return mime_mem_ieq(s.p, s.len, lit, strlen(lit));
}

static bool is_ftext(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

/* Length of the field name at p, or 0 when the line is no field line. */
static size_t field_name_len(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && is_ftext((unsigned char)*q))
		q++;
	size_t n = (size_t)(q - p);
	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	return n > 0 && q < end && *q == ':' ? n : 0;
}

bool mime_is_field_line(const char *p, const char *end)
{
	return field_name_len(p, end) > 0;
}

void mime_hiter_init(struct mime_hiter *it, const char *hdr, size_t len, const struct mime_limits *l)
{
	it->p = hdr;
	it->end = hdr + (len > l->max_header_bytes ? l->max_header_bytes : len);
	it->limited = len > l->max_header_bytes;
	it->nfields = 0;
	it->max_fields = l->max_fields;
}

static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	return nl != NULL ? nl + 1 : end;
}

bool mime_hiter_next(struct mime_hiter *it, struct mime_hfield *f)
{
	while (it->p < it->end) {
		const char *start = it->p, *next = line_end(start, it->end);
		size_t nlen;

		if (*start == '\n' || (*start == '\r' && start + 1 < it->end && start[1] == '\n')) {
			it->p = it->end;        /* the blank line: end of the block */
			return false;
		}
		if ((nlen = field_name_len(start, next)) == 0) {
			it->p = next;           /* continuation without a field, or junk */
			continue;
		}
		if (it->nfields == it->max_fields) {
			it->limited = true;
			it->p = it->end;
			return false;
		}
		/* The value runs over the continuation lines (those starting with
		 * white space), up to the line end of the last one. */
		while (next < it->end && (*next == ' ' || *next == '\t'))
			next = line_end(next, it->end);
		const char *vstart = memchr(start, ':', (size_t)(next - start)) + 1;
		const char *vend = next;
		if (vend > vstart && vend[-1] == '\n')
			vend--;
		if (vend > vstart && vend[-1] == '\r')
			vend--;
		f->name.p = start;
		f->name.len = nlen;
		f->raw.p = vstart;
		f->raw.len = (size_t)(vend - vstart);
		it->p = next;
		it->nfields++;
		return true;
	}
	return false;
}

void mime_unfold(struct mime_str raw, struct buf *out)
{
	const char *p = raw.p, *end = raw.p + raw.len;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	buf_reserve(out, (size_t)(end - p));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl != NULL ? nl : end;
		size_t n = (size_t)(stop - p);

		/* The CR of a CRLF line break goes too; a lone CR stays. */
		if (nl != NULL && n > 0 && stop[-1] == '\r')
			n--;
		buf_append(out, p, n);
		p = nl != NULL ? nl + 1 : end;
	}
}

void mime_cfields_read(const char *hdr, size_t len, const struct mime_limits *l, struct mime_cfields *cf)
{
	struct mime_hiter it;
	struct mime_hfield f;

	memset(cf, 0, sizeof(*cf));
	mime_hiter_init(&it, hdr, len, l);
	while (mime_hiter_next(&it, &f)) {
		struct mime_str n = f.name;
		struct mime_str *slot = NULL;
		bool *has = NULL;

		if (n.len < 9 || !mime_mem_ieq(n.p, 8, "content-", 8))
			continue;
		n.p += 8;
		n.len -= 8;
		if (mime_str_ieq(n, "type"))
			slot = &cf->type, has = &cf->has_type;
		else if (mime_str_ieq(n, "transfer-encoding"))
			slot = &cf->cte, has = &cf->has_cte;
		else if (mime_str_ieq(n, "id"))
			slot = &cf->id, has = &cf->has_id;
		else if (mime_str_ieq(n, "description"))
			slot = &cf->desc, has = &cf->has_desc;
		else if (mime_str_ieq(n, "md5"))
			slot = &cf->md5, has = &cf->has_md5;
		else if (mime_str_ieq(n, "disposition"))
			slot = &cf->disp, has = &cf->has_disp;
		else if (mime_str_ieq(n, "language"))
			slot = &cf->lang, has = &cf->has_lang;
		else if (mime_str_ieq(n, "location"))
			slot = &cf->loc, has = &cf->has_loc;
		/* The first occurrence counts, as in Python's email package and
		 * Dovecot; later duplicates are usually added by broken relays. */
		if (slot != NULL && !*has) {
			*slot = f.raw;
			*has = true;
		}
	}
	cf->limited = it.limited;
}
