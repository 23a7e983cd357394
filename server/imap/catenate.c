/* CATENATE (RFC 4469 §3): see catenate.h. */
#include "server/imap/catenate.h"
#include "server/imap/args.h"
#include "server/imap/fetch_section.h"
#include "server/imap/mailbox_name.h"
#include "server/imap/rights.h"
#include "server/imap/view.h"
#include "schema/db_message.h"

#include <string.h>

/* RFC 4469 §5 / RFC 5092: "BADURL" SP url-resp-text, which cannot hold
 * "]", CR, LF, NUL or 8-bit bytes: those become "?" in the echo. */
static struct imap_result bad_url(struct imap_session *s, const struct imap_cat_part *p,
				  const char *why)
{
	size_t n = p->len < IMAP_URL_MAX ? p->len : IMAP_URL_MAX;
	char *echo = arena_alloc(&s->arena, n + 1);

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p->data[i];
		echo[i] = ch < 0x20 || ch > 0x7e || ch == ']' ? '?' : (char)ch;
	}
	echo[n] = '\0';
	return imap_no(s, arena_printf(&s->arena, "BADURL %s", echo), "%s", why);
}

/* The URL's section as a FETCH BODY.PEEK[section] item, through FETCH's
 * own grammar (fetch_args.c). */
static bool url_section(struct imap_session *s, struct imap_cat_part *p, const char **why_r)
{
	const char *sec = p->url.section != NULL ? p->url.section : "";
	struct imap_fetch_request req;
	struct imap_arg att;

	/* "]" or "<" would end the section or start a partial early. */
	if (strpbrk(sec, "]<>") != NULL) {
		*why_r = "Invalid SECTION in the URL";
		return false;
	}
	memset(&att, 0, sizeof(att));
	att.type = IMAP_ARG_ATOM;
	att.u.str.data = arena_printf(&s->arena, "BODY.PEEK[%s]", sec);
	att.u.str.len = strlen(att.u.str.data);
	if (imap_fetch_parse(&s->arena, &att, &req, why_r) < 0 || req.count != 1 ||
	    req.items[0].kind != IMAP_FETCH_BODY_SECTION) {
		*why_r = "Invalid SECTION in the URL";
		return false;
	}
	p->section = req.items[0];
	return true;
}

/* One cat-part: "TEXT" SP literal / "URL" SP astring. */
static bool parse_part(struct imap_session *s, const struct imap_arg *kw, const struct imap_arg *v,
		       struct imap_cat_part *p, struct imap_result *res_r)
{
	const char *why;

	memset(p, 0, sizeof(*p));
	if (v->type == IMAP_ARG_EOL || v->type == IMAP_ARG_LIST) {
		*res_r = imap_bad(s, NULL, "CATENATE expects TEXT literal or URL url");
		return false;
	}
	p->data = v->u.str.data;
	p->len = v->u.str.len;
	if (imap_arg_atom_is(kw, "TEXT")) {
		if (v->type != IMAP_ARG_LITERAL) {
			*res_r = imap_bad(s, NULL, "CATENATE TEXT expects a literal");
			return false;
		}
		return true;
	}
	if (!imap_arg_atom_is(kw, "URL")) {
		*res_r = imap_bad(s, NULL, "CATENATE expects TEXT literal or URL url");
		return false;
	}
	p->is_url = true;
	if (imap_url_parse(&s->arena, p->data, p->len, &p->url, &why) < 0 ||
	    !url_section(s, p, &why)) {
		*res_r = bad_url(s, p, why);
		return false;
	}
	return true;
}

bool imap_catenate_parse(struct imap_session *s, const struct imap_arg *list,
			 struct imap_catenate *c, struct imap_result *res_r)
{
	const struct imap_arg *it = list->u.list.items;
	size_t n = list->u.list.count;
	uint64_t text = 0;

	memset(c, 0, sizeof(*c));
	if (list->type != IMAP_ARG_LIST || n == 0 || n % 2 != 0) {
		*res_r = imap_bad(s, NULL, "CATENATE expects a list of TEXT and URL parts");
		return false;
	}
	if (n / 2 > IMAP_CATENATE_MAX_PARTS) {
		*res_r = imap_no(s, "TOOBIG", "At most %d CATENATE parts per message",
				 IMAP_CATENATE_MAX_PARTS);
		return false;
	}
	c->parts = arena_alloc(&s->arena, n / 2 * sizeof(*c->parts));
	for (size_t i = 0; i < n; i += 2) {
		struct imap_cat_part *p = &c->parts[c->nparts++];
		if (!parse_part(s, &it[i], &it[i + 1], p, res_r))
			return false;
		text += p->is_url ? 0 : p->len;
	}
	if (text > (uint64_t)s->cfg->max_literal_size) {
		*res_r = imap_no(s, "TOOBIG", "The message would exceed APPENDLIMIT");
		return false;
	}
	return true;
}

/* Where a URL's message is: the selected mailbox for a relative URL, else
 * the named one; the caller must be allowed to read it, by the rule
 * SELECT/EXAMINE and so FETCH follow (acl_check ACL_OP_EXAMINE: "r").
 * false with *res_r: BADURL, or UNAVAILABLE on a store failure. */
static bool url_mailbox(struct imap_session *s, struct imap_backend *be,
			const struct imap_cat_part *p, int64_t *mailbox_id_r,
			struct imap_result *res_r)
{
	struct imap_mailbox_acl acl;
	size_t len;
	char *name;
	const char *why;

	if (p->url.mailbox == NULL) {
		if (s->view == NULL || acl_check(ACL_OP_EXAMINE, s->view->rights) != ACL_ALLOW) {
			*res_r = bad_url(s, p, "A relative URL needs a selected mailbox it may read");
			return false;
		}
		*mailbox_id_r = s->view->mailbox_id;
		return true;
	}
	len = strlen(p->url.mailbox);
	name = arena_strndup(&s->arena, p->url.mailbox, len);
	if (imap_mailbox_name_check(name, &len, false, &why) < 0) {
		*res_r = bad_url(s, p, "No such message");
		return false;
	}
	if (!imap_mailbox_resolve(s, be, name, &acl, res_r))
		return false;
	if (!acl.exists || acl.noselect || acl_check(ACL_OP_EXAMINE, acl.rights) != ACL_ALLOW) {
		*res_r = bad_url(s, p, "No such message");
		return false;
	}
	*mailbox_id_r = acl.mailbox_id;
	return true;
}

struct url_cut {
	const struct imap_cat_part *p;
	struct buf *out, scratch;
	uint64_t room;              /* bytes the part may add */
	bool missing, too_big, wrong_uidvalidity;
};

/* The URL's section, cut to its PARTIAL, appended to the message. */
static void url_cut(void *ctx, const struct db_url_message *m)
{
	struct url_cut *u = ctx;
	const struct imap_url *url = &u->p->url;
	const char *data;
	size_t len, off;

	if (url->uidvalidity != 0 && url->uidvalidity != m->uidvalidity) {
		u->wrong_uidvalidity = true;
		return;
	}
	if (imap_fetch_section(&u->p->section, m->raw, m->raw_len, m->parts, m->parts_len,
			       &u->scratch, &data, &len) != IMAP_SECTION_OK) {
		u->missing = true;
		return;
	}
	if (url->partial) {
		off = url->offset < len ? url->offset : len;
		len -= off;
		data += off;
		if (url->has_length && url->length < len)
			len = url->length;
	}
	if (len > u->room) {
		u->too_big = true;
		return;
	}
	buf_append(u->out, data, len);
}

/* Appends one URL part to out; *url_budget and max bound it. */
static bool add_url(struct imap_session *s, struct imap_backend *be, const struct imap_cat_part *p,
		    struct buf *out, uint64_t max, uint64_t *url_budget, struct imap_result *res_r)
{
	struct url_cut u = { .p = p, .out = out };
	int64_t mailbox_id;
	size_t before = out->len;
	enum db_result r;
	char err[256];

	if (!url_mailbox(s, be, p, &mailbox_id, res_r))
		return false;
	u.room = max - out->len < *url_budget ? max - out->len : *url_budget;
	buf_init(&u.scratch);
	r = db_url_message(be->db, mailbox_id, p->url.uid, url_cut, &u, err, sizeof(err));
	buf_free(&u.scratch);
	if (r == DB_FAILED) {
		*res_r = imap_store_failed(s, "reading a URL's message", err);
		return false;
	}
	if (r == DB_NOT_FOUND || u.missing || u.wrong_uidvalidity) {
		*res_r = bad_url(s, p, u.wrong_uidvalidity ? "UIDVALIDITY has changed" :
				 "No such message");
		return false;
	}
	if (u.too_big) {
		*res_r = imap_no(s, "TOOBIG", "The message would exceed APPENDLIMIT");
		return false;
	}
	*url_budget -= out->len - before;
	return true;
}

bool imap_catenate_build(struct imap_session *s, struct imap_backend *be,
			 const struct imap_catenate *c, uint64_t *url_budget,
			 const char **raw_r, size_t *len_r, struct imap_result *res_r)
{
	uint64_t max = (uint64_t)s->cfg->max_literal_size;
	struct buf out;
	bool ok = true;
	char *raw;

	buf_init(&out);
	for (size_t i = 0; i < c->nparts && ok; i++) {
		const struct imap_cat_part *p = &c->parts[i];
		if (!p->is_url) {
			if (p->len > max - out.len) {
				*res_r = imap_no(s, "TOOBIG", "The message would exceed APPENDLIMIT");
				ok = false;
			} else
				buf_append(&out, p->data, p->len);
		} else
			ok = add_url(s, be, p, &out, max, url_budget, res_r);
	}
	if (ok) {
		raw = arena_alloc(&s->arena, out.len + 1);
		if (out.len > 0)
			memcpy(raw, out.data, out.len);
		*raw_r = raw;
		*len_r = out.len;
	}
	buf_free(&out);
	return ok;
}
