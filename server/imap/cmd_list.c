/* LIST and LSUB (RFC 3501 §6.3.8-9), with the RFC 3348 child attributes
 * and RFC 6154 special-use attributes.
 *
 * One query reads every name of the account (schema/db_mailbox_list.c
 * explains why matching happens here rather than in SQL), one more the
 * other owners' mailboxes the caller may see (list_shared.c); the names are
 * sorted, completed with any missing superior levels, and matched against
 * the pattern compiled once (list_match.c). Responses come INBOX and its
 * inferiors first, then in byte order of the UTF-8 names. */
#include "server/imap/args.h"
#include "server/imap/commands.h"
#include "server/imap/list_match.h"
#include "server/imap/list_shared.h"
#include "server/imap/mailbox_name.h"
#include "server/imap/mutf7.h"
#include "schema/db_mailbox.h"

#include <stdlib.h>
#include <string.h>

struct entry {
	const char *name;
	size_t len;
	bool noselect;         /* a placeholder, or a level that has no row */
	bool children;
	const char *special_use;
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

struct list_ctx {
	struct imap_session *s;
	struct entries boxes, subs;
};

static struct entry *entries_add(struct arena *a, struct entries *e)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 64;
		struct entry *v = arena_alloc(a, cap * sizeof(*v));

		if (e->n > 0)
			memcpy(v, e->v, e->n * sizeof(*v));
		e->v = v;
		e->cap = cap;
	}
	memset(&e->v[e->n], 0, sizeof(e->v[0]));
	return &e->v[e->n++];
}

static void collect(void *ctx, const struct db_mailbox_row *row)
{
	struct list_ctx *c = ctx;
	struct arena *a = &c->s->arena;
	struct entry *e = entries_add(a, row->subscription ? &c->subs : &c->boxes);

	e->name = arena_strndup(a, row->name, row->len);
	e->len = row->len;
	e->noselect = row->noselect;
	e->special_use = row->special_use[0] != '\0' ? arena_strndup(a, row->special_use,
								    strlen(row->special_use)) : "";
}

/* INBOX and its inferiors first, then byte order (which is COLLATE "C"
 * order), so that a client building a folder tree from the responses
 * meets INBOX's subtree whole and on top. */
static int name_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	bool ai = imap_mailbox_is_inbox(a, al) || imap_mailbox_in_inbox(a, al);
	bool bi = imap_mailbox_is_inbox(b, bl) || imap_mailbox_in_inbox(b, bl);
	int c;

	if (ai != bi)
		return ai ? -1 : 1;
	c = memcmp(a, b, al < bl ? al : bl);
	if (c != 0)
		return c;
	return al < bl ? -1 : al > bl;
}

static int entry_cmp(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;

	return name_cmp(a->name, a->len, b->name, b->len);
}

static struct entry *find(const struct entries *e, const char *name, size_t len)
{
	size_t lo = 0, hi = e->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = name_cmp(e->v[mid].name, e->v[mid].len, name, len);

		if (c == 0)
			return &e->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Sorts the mailboxes, adds every superior level that has no row (the
 * store keeps superiors, but a DELETE racing a CREATE of a child can leave
 * one out) as \Noselect, and marks the names that have inferiors. */
static void build_tree(struct arena *a, struct entries *boxes)
{
	struct entries missing = { 0 };
	size_t n = boxes->n;

	if (n > 0)
		qsort(boxes->v, n, sizeof(boxes->v[0]), entry_cmp);
	for (size_t i = 0; i < n; i++) {
		const struct entry *b = &boxes->v[i];

		for (size_t p = 1; p < b->len; p++) {
			struct entry *m;

			if (b->name[p] != IMAP_MAILBOX_DELIM || find(boxes, b->name, p) != NULL)
				continue;
			m = entries_add(a, &missing);
			m->name = b->name;
			m->len = p;
			m->noselect = true;
			m->special_use = "";
		}
	}
	if (missing.n > 0) {
		qsort(missing.v, missing.n, sizeof(missing.v[0]), entry_cmp);
		for (size_t i = 0; i < missing.n; i++)
			if (i == 0 || entry_cmp(&missing.v[i - 1], &missing.v[i]) != 0)
				*entries_add(a, boxes) = missing.v[i];
		qsort(boxes->v, boxes->n, sizeof(boxes->v[0]), entry_cmp);
	}
	for (size_t i = 0; i < boxes->n; i++) {
		const struct entry *b = &boxes->v[i];
		const char *slash = memrchr(b->name, IMAP_MAILBOX_DELIM, b->len);
		struct entry *parent;

		if (slash != NULL && (parent = find(boxes, b->name, (size_t)(slash - b->name))) != NULL)
			parent->children = true;
	}
}

/* Appends one attribute to the parenthesised list being written. */
static void attr(struct buf *out, bool *first, const char *a, size_t len)
{
	if (!*first)
		buf_append(out, " ", 1);
	buf_append(out, a, len);
	*first = false;
}

/* Special-use attributes come from the store; only well-formed flag
 * names ("\" and letters) are written, so an odd value set by an admin
 * tool can never break the response. */
static void write_special_use(struct buf *out, bool *first, const char *list)
{
	while (*list != '\0') {
		size_t n = strcspn(list, " "), i = 1;

		while (i < n && ((list[i] | 0x20) >= 'a' && (list[i] | 0x20) <= 'z'))
			i++;
		if (n > 1 && list[0] == '\\' && i == n)
			attr(out, first, list, n);
		list += n;
		list += *list == ' ';
	}
}

/* LSUB reports only \Noselect: RFC 3348 and RFC 6154 define their
 * attributes for LIST. */
static void write_entry(struct imap_session *s, const char *kind, const struct entry *e,
			bool lsub)
{
	struct buf *out = &s->out;
	bool first = true;

	buf_appendf(out, "* %s (", kind);
	if (e->noselect)
		attr(out, &first, "\\Noselect", sizeof("\\Noselect") - 1);
	if (!lsub) {
		if (e->children)
			attr(out, &first, "\\HasChildren", sizeof("\\HasChildren") - 1);
		else
			attr(out, &first, "\\HasNoChildren", sizeof("\\HasNoChildren") - 1);
		write_special_use(out, &first, e->special_use);
	}
	buf_append_str(out, ") \"/\" ");
	imap_write_mailbox(s, out, e->name, e->len);
	buf_append(out, "\r\n", 2);
}

/* RFC 3501 §6.3.9: a subscribed name is listed if it matches; if it does
 * not, but one of its superior levels does (as "foo" does for "%" when
 * only "foo/bar" is subscribed), that level is listed with \Noselect
 * unless it is subscribed itself. Every name listed is \Noselect when no
 * selectable mailbox of that name exists. */
static void lsub_write(struct list_ctx *c, struct imap_list_pattern *pat)
{
	struct arena *a = &c->s->arena;
	struct entries out = { 0 };

	if (c->subs.n > 0)
		qsort(c->subs.v, c->subs.n, sizeof(c->subs.v[0]), entry_cmp);
	for (size_t i = 0; i < c->subs.n; i++) {
		const struct entry *sub = &c->subs.v[i];

		if (imap_list_match(pat, sub->name, sub->len)) {
			const struct entry *box = find(&c->boxes, sub->name, sub->len);
			struct entry *e = entries_add(a, &out);

			*e = *sub;
			e->noselect = box == NULL || box->noselect;
			continue;
		}
		for (size_t p = 1; p < sub->len; p++) {
			struct entry *e;

			if (sub->name[p] != IMAP_MAILBOX_DELIM || !imap_list_match(pat, sub->name, p) ||
			    find(&c->subs, sub->name, p) != NULL)
				continue;
			e = entries_add(a, &out);
			e->name = sub->name;
			e->len = p;
			e->noselect = true;
		}
	}
	if (out.n > 0)
		qsort(out.v, out.n, sizeof(out.v[0]), entry_cmp);
	for (size_t i = 0; i < out.n; i++)
		if (i == 0 || entry_cmp(&out.v[i - 1], &out.v[i]) != 0)
			write_entry(c->s, "LSUB", &out.v[i], true);
}

/* list-mailbox = 1*list-char / string: an atom may also hold the
 * wildcards and ']' (RFC 3501 §9). */
static bool list_mailbox_arg(const struct imap_arg *a, const char **s_r, size_t *len_r)
{
	if (a->type == IMAP_ARG_ATOM) {
		for (size_t i = 0; i < a->u.str.len; i++) {
			unsigned char c = (unsigned char)a->u.str.data[i];

			if (c < 0x21 || c > 0x7e || strchr("(){\"\\", c) != NULL)
				return false;
		}
		*s_r = a->u.str.data;
		*len_r = a->u.str.len;
		return a->u.str.len > 0;
	}
	return imap_arg_string(a, s_r, len_r);
}

/* What the check step parsed: the canonical pattern, compiled; NULL for
 * the empty pattern. none: a pattern no name can match. */
struct list_request {
	struct imap_list_pattern *pattern;
	bool none;
};

struct imap_result imap_check_list(struct imap_session *s, const struct imap_command *cmd)
{
	struct list_request *req = arena_alloc(&s->arena, sizeof(*req));
	const char *ref, *pat;
	size_t rlen, plen;
	struct buf canon;

	if (cmd->nargs != 2 || !imap_arg_astring(&cmd->args[0], &ref, &rlen) ||
	    !list_mailbox_arg(&cmd->args[1], &pat, &plen))
		return imap_bad(s, NULL, "%s expects a reference and a mailbox pattern", cmd->name);
	s->parsed = req;
	req->pattern = NULL;
	req->none = false;
	if (plen == 0)
		return imap_ok(s, NULL, "checked");
	/* The canonical pattern is the reference followed by the pattern
	 * (§6.3.8; nothing is inserted between them, as in the RFC's own
	 * examples), unless the pattern starts with the delimiter and so
	 * names the root itself. Each part is decoded on its own: two valid
	 * mUTF-7 strings need not concatenate into one. */
	buf_init(&canon);
	if ((pat[0] != IMAP_MAILBOX_DELIM && imap_mutf7_to_utf8(ref, rlen, &canon) < 0) ||
	    imap_mutf7_to_utf8(pat, plen, &canon) < 0) {
		/* Not a syntax error: a pattern for names that cannot exist,
		 * which matches nothing (as in Dovecot). */
		buf_free(&canon);
		req->none = true;
		return imap_ok(s, NULL, "checked");
	}
	req->pattern = imap_list_pattern_compile(&s->arena,
						 canon.len > 0 ? (const char *)canon.data : "",
						 canon.len, IMAP_MAILBOX_DELIM, IMAP_MAILBOX_MAX_BYTES);
	buf_free(&canon);
	return imap_ok(s, NULL, "checked");
}

/* LIST and LSUB alike: the same names, LSUB's read from subscriptions. */
struct imap_result cmd_list(struct imap_session *s, const struct imap_command *cmd,
			    struct imap_backend *be)
{
	bool lsub = strcmp(cmd->name, "LSUB") == 0;
	const struct list_request *req = s->parsed;
	struct list_ctx c = { .s = s };
	struct imap_result r;
	char err[256];

	if (req->none)
		return imap_done(s);
	/* §6.3.8: an empty pattern asks for the delimiter and the root of
	 * the reference, which in the personal namespace is "". */
	if (req->pattern == NULL) {
		if (!lsub)
			imap_untagged(s, "LIST (\\Noselect) \"/\" \"\"");
		return imap_done(s);
	}
	if (db_mailbox_list(be->db, s->account_id, lsub, collect, &c, err, sizeof(err)) != DB_MBOX_OK)
		return imap_store_failed(s, "listing mailboxes", err);
	if (!imap_list_shared(s, be, collect, &c, &r))
		return r;
	build_tree(&s->arena, &c.boxes);
	if (lsub)
		lsub_write(&c, req->pattern);
	else
		for (size_t i = 0; i < c.boxes.n; i++)
			if (imap_list_match(req->pattern, c.boxes.v[i].name, c.boxes.v[i].len))
				write_entry(s, "LIST", &c.boxes.v[i], false);
	return imap_done(s);
}

/* RFC 9051 §6.3.2: SELECT and EXAMINE of an IMAP4rev2 session answer a
 * LIST response for the mailbox, with accurate attributes. children: 1
 * \HasChildren, 0 \HasNoChildren, -1 not said (another owner's mailbox,
 * whose inferiors the caller may not be allowed to learn of). */
void imap_list_write_selected(struct imap_session *s, const char *name, size_t len,
			      int children, const char *special_use)
{
	struct buf *out = &s->out;
	bool first = true;

	buf_append_str(out, "* LIST (");
	if (children == 1)
		attr(out, &first, "\\HasChildren", sizeof("\\HasChildren") - 1);
	else if (children == 0)
		attr(out, &first, "\\HasNoChildren", sizeof("\\HasNoChildren") - 1);
	write_special_use(out, &first, special_use);
	buf_append_str(out, ") \"/\" ");
	imap_write_mailbox(s, out, name, len);
	buf_append(out, "\r\n", 2);
}
