/* LIST and LSUB (RFC 3501 §6.3.8-9), with the RFC 3348 child attributes,
 * RFC 6154 special-use attributes, and the extended LIST of RFC 5258
 * (selection and return options, several patterns) with its STATUS
 * (RFC 5819) and MYRIGHTS (RFC 8440) return options.
 *
 * One query reads every name of the account (schema/db_mailbox_list.c
 * explains why matching happens here rather than in SQL), one more the
 * other owners' mailboxes the caller may see (list_shared.c); the names are
 * sorted, completed with any missing superior levels (list_tree.c), and
 * matched against the patterns compiled once (list_match.c). Responses
 * come INBOX and its inferiors first, then in byte order of the UTF-8
 * names. */
#include "server/imap/args.h"
#include "server/imap/commands.h"
#include "server/imap/list_args.h"
#include "server/imap/list_match.h"
#include "server/imap/list_return.h"
#include "server/imap/list_shared.h"
#include "server/imap/list_tree.h"
#include "server/imap/mailbox_name.h"
#include "schema/db_mailbox.h"

#include <string.h>

struct list_ctx {
	struct imap_session *s;
	struct imap_list_entries boxes, subs;
};

/* A row from the store or from list_shared.c: a mailbox the caller may
 * see (rights known for other owners' mailboxes), or a subscription. */
static void collect_row(struct list_ctx *c, const struct db_mailbox_row *row, bool rights_known,
			acl_rights rights)
{
	struct arena *a = &c->s->arena;
	struct imap_list_entry *e = imap_list_entries_add(a, row->subscription ? &c->subs : &c->boxes);

	e->name = arena_strndup(a, row->name, row->len);
	e->len = row->len;
	if (row->subscription)
		return;
	e->exists = true;
	e->noselect = row->noselect;
	e->mailbox_id = row->mailbox_id;
	e->rights_known = rights_known;
	e->rights = rights;
	if (row->special_use[0] != '\0')
		e->special_use = arena_strndup(a, row->special_use, strlen(row->special_use));
}

static void collect_own(void *ctx, const struct db_mailbox_row *row)
{
	collect_row(ctx, row, false, 0);
}

static void collect_shared(void *ctx, const struct db_mailbox_row *row, acl_rights rights)
{
	collect_row(ctx, row, !row->subscription, rights);
}

bool imap_list_collect(struct imap_session *s, struct imap_backend *be, bool subscriptions,
		       struct imap_list_entries *boxes, struct imap_list_entries *subs,
		       struct imap_result *res_r)
{
	struct list_ctx c = { .s = s };
	char err[256];

	if (db_mailbox_list(be->db, s->account_id, subscriptions, collect_own, &c, err,
			    sizeof(err)) != DB_MBOX_OK) {
		*res_r = imap_store_failed(s, "listing mailboxes", err);
		return false;
	}
	if (!imap_list_shared(s, be, collect_shared, &c, res_r))
		return false;
	imap_list_tree_build(&s->arena, &c.boxes);
	*boxes = c.boxes;
	*subs = c.subs;
	return true;
}

/* Appends one attribute to the parenthesised list being written. */
static void attr(struct buf *out, bool *first, const char *a)
{
	if (!*first)
		buf_append(out, " ", 1);
	buf_append_str(out, a);
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
		if (n > 1 && list[0] == '\\' && i == n) {
			if (!*first)
				buf_append(out, " ", 1);
			buf_append(out, list, n);
			*first = false;
		}
		list += n;
		list += *list == ' ';
	}
}

/* The attributes of one LIST response. A name without a mailbox is
 * \NonExistent to a client that used the extended syntax (RFC 5258 §3.4;
 * it implies \Noselect) and \Noselect to any other. \HasChildren and
 * \HasNoChildren are always given (RFC 5258 §4 allows it; RFC 3348
 * clients expect them), and special-use attributes too (RFC 6154 §2),
 * except \HasNoChildren on a name that does not exist, which has nothing
 * to say. */
static void write_list_attrs(struct buf *out, const struct imap_list_entry *e,
			     const struct imap_list_args *args)
{
	bool first = true;

	if (!e->exists)
		attr(out, &first, args->extended ? "\\NonExistent" : "\\Noselect");
	else if (e->noselect)
		attr(out, &first, "\\Noselect");
	if (e->children)
		attr(out, &first, "\\HasChildren");
	else if (e->exists)
		attr(out, &first, "\\HasNoChildren");
	if ((args->ret & IMAP_LIST_RET_SUBSCRIBED) && e->subscribed)
		attr(out, &first, "\\Subscribed");
	if (e->exists)
		write_special_use(out, &first, e->special_use);
}

/* RFC 5258 §3.5: CHILDINFO names the selection criteria that a
 * descendant meets. */
static void write_childinfo(struct buf *out, unsigned select)
{
	bool first = true;

	buf_append_str(out, " (\"CHILDINFO\" (");
	if (select & IMAP_LIST_SEL_SUBSCRIBED)
		attr(out, &first, "\"SUBSCRIBED\"");
	if (select & IMAP_LIST_SEL_SPECIAL_USE)
		attr(out, &first, "\"SPECIAL-USE\"");
	buf_append_str(out, "))");
}

static void write_list(struct imap_session *s, const struct imap_list_entry *e,
		       const struct imap_list_args *args)
{
	struct buf *out = &s->out;

	buf_append_str(out, "* LIST (");
	write_list_attrs(out, e, args);
	buf_append_str(out, ") \"/\" ");
	imap_write_mailbox(s, out, e->name, e->len);
	if (e->childinfo && (args->select & IMAP_LIST_SEL_RECURSIVEMATCH))
		write_childinfo(out, args->select);
	buf_append(out, "\r\n", 2);
	imap_list_return_write(s, e, args);
}

/* LSUB reports only \Noselect: RFC 3348 and RFC 6154 define their
 * attributes for LIST. */
static void write_lsub(struct imap_session *s, const struct imap_list_entry *e)
{
	buf_append_str(&s->out, e->noselect ? "* LSUB (\\Noselect) \"/\" " : "* LSUB () \"/\" ");
	imap_write_mailbox(s, &s->out, e->name, e->len);
	buf_append(&s->out, "\r\n", 2);
}

/* RFC 3501 §6.3.9: a subscribed name is listed if it matches; if it does
 * not, but one of its superior levels does (as "foo" does for "%" when
 * only "foo/bar" is subscribed), that level is listed with \Noselect
 * unless it is subscribed itself. Every name listed is \Noselect when no
 * selectable mailbox of that name exists. */
static void lsub_write(struct list_ctx *c, struct imap_list_pattern *pat)
{
	struct arena *a = &c->s->arena;
	struct imap_list_entries out = { 0 };

	imap_list_entries_sort(&c->subs);
	for (size_t i = 0; i < c->subs.n; i++) {
		const struct imap_list_entry *sub = &c->subs.v[i];

		if (imap_list_match(pat, sub->name, sub->len)) {
			const struct imap_list_entry *box = imap_list_find(&c->boxes, sub->name,
									   sub->len);
			struct imap_list_entry *e = imap_list_entries_add(a, &out);

			*e = *sub;
			e->noselect = box == NULL || !box->exists || box->noselect;
			continue;
		}
		for (size_t p = 1; p < sub->len; p++) {
			struct imap_list_entry *e;

			if (sub->name[p] != IMAP_MAILBOX_DELIM || !imap_list_match(pat, sub->name, p) ||
			    imap_list_find(&c->subs, sub->name, p) != NULL)
				continue;
			e = imap_list_entries_add(a, &out);
			e->name = sub->name;
			e->len = p;
			e->noselect = true;
		}
	}
	imap_list_entries_sort(&out);
	for (size_t i = 0; i < out.n; i++)
		if (i == 0 || out.v[i - 1].len != out.v[i].len ||
		    memcmp(out.v[i - 1].name, out.v[i].name, out.v[i].len) != 0)
			write_lsub(c->s, &out.v[i]);
}

/* What the check step parsed: the arguments, and each canonical pattern
 * compiled (NULL for one that matches no name: empty, or not modified
 * UTF-7). */
struct list_request {
	struct imap_list_args args;
	struct imap_list_pattern **patterns;
	/* §6.3.8: an empty pattern asks for the delimiter and the root of
	 * the reference. RFC 5258 keeps that meaning only for a LIST without
	 * selection options and with that one pattern; elsewhere "" matches
	 * no name. */
	bool delimiter_only;
};

/* The canonical pattern is the reference followed by the pattern
 * (§6.3.8; nothing is inserted between them, as in the RFC's own
 * examples), unless the pattern starts with the delimiter and so names
 * the root itself. Each part is decoded on its own: two valid mUTF-7
 * strings need not concatenate into one. */
static struct imap_result compile_pattern(struct imap_session *s, const struct imap_list_args *args,
					  const struct imap_list_pattern_arg *p,
					  struct imap_list_pattern **pattern_r)
{
	struct buf canon;

	*pattern_r = NULL;
	if (p->len == 0)
		return imap_ok(s, NULL, "checked");
	buf_init(&canon);
	if ((p->s[0] != IMAP_MAILBOX_DELIM &&
	     imap_name_from_client(s, args->ref, args->ref_len, &canon) < 0) ||
	    imap_name_from_client(s, p->s, p->len, &canon) < 0) {
		/* Not a syntax error: a pattern for names that cannot exist,
		 * which matches nothing (as in Dovecot). */
		buf_free(&canon);
		return imap_ok(s, NULL, "checked");
	}
	*pattern_r = imap_list_pattern_compile(&s->arena,
					       canon.len > 0 ? (const char *)canon.data : "",
					       canon.len, IMAP_MAILBOX_DELIM, IMAP_MAILBOX_MAX_BYTES);
	buf_free(&canon);
	return imap_ok(s, NULL, "checked");
}

struct imap_result imap_check_list(struct imap_session *s, const struct imap_command *cmd)
{
	struct list_request *req = arena_alloc(&s->arena, sizeof(*req));
	const char *problem;

	if (imap_list_args_parse(&s->arena, cmd->args, cmd->nargs, strcmp(cmd->name, "LSUB") == 0,
				 &req->args, &problem) < 0)
		return imap_bad(s, NULL, "%s", problem);
	req->patterns = arena_alloc(&s->arena, req->args.npatterns * sizeof(*req->patterns));
	for (size_t i = 0; i < req->args.npatterns; i++) {
		struct imap_result r = compile_pattern(s, &req->args, &req->args.patterns[i],
						       &req->patterns[i]);

		if (!imap_result_ok(&r))
			return r;
	}
	req->delimiter_only = req->args.npatterns == 1 && req->args.patterns[0].len == 0 &&
			      req->args.select == 0;
	s->parsed = req;
	return imap_ok(s, NULL, "checked");
}

static bool matches_any(const struct list_request *req, const struct imap_list_entry *e)
{
	for (size_t i = 0; i < req->args.npatterns; i++)
		if (req->patterns[i] != NULL && imap_list_match(req->patterns[i], e->name, e->len))
			return true;
	return false;
}

/* RFC 5258 §3: a name is listed when it matches a pattern and meets the
 * selection criteria, or, with RECURSIVEMATCH, has a descendant that
 * does (CHILDINFO). Without criteria every visible name is a candidate;
 * with SUBSCRIBED, the subscribed names are, existing or not. */
static struct imap_result list_write(struct imap_session *s, struct imap_backend *be,
				     struct list_ctx *c, const struct list_request *req)
{
	const struct imap_list_args *args = &req->args;
	struct imap_result r;

	if (args->ret & IMAP_LIST_RET_SUBSCRIBED)
		imap_list_tree_subscribe(&s->arena, &c->boxes, &c->subs,
					 (args->select & IMAP_LIST_SEL_SUBSCRIBED) != 0);
	imap_list_tree_select(&c->boxes, args->select);
	for (size_t i = 0; i < c->boxes.n; i++) {
		struct imap_list_entry *e = &c->boxes.v[i];

		e->listed = (e->selected || e->childinfo) && matches_any(req, e);
	}
	if (!imap_list_return_prepare(s, be, &c->boxes, args, &r))
		return r;
	for (size_t i = 0; i < c->boxes.n; i++)
		if (c->boxes.v[i].listed)
			write_list(s, &c->boxes.v[i], args);
	return imap_done(s);
}

/* LIST and LSUB alike: the same names, LSUB's read from subscriptions. */
struct imap_result cmd_list(struct imap_session *s, const struct imap_command *cmd,
			    struct imap_backend *be)
{
	bool lsub = strcmp(cmd->name, "LSUB") == 0;
	const struct list_request *req = s->parsed;
	const struct imap_list_args *args = &req->args;
	struct list_ctx c = { .s = s };
	struct imap_result r;

	/* The root of the reference in the personal namespace is "". */
	if (req->delimiter_only) {
		if (!lsub)
			imap_untagged(s, "LIST (\\Noselect) \"/\" \"\"");
		return imap_done(s);
	}
	if (!imap_list_collect(s, be, lsub || (args->ret & IMAP_LIST_RET_SUBSCRIBED), &c.boxes,
			       &c.subs, &r))
		return r;
	if (lsub) {
		if (req->patterns[0] != NULL)
			lsub_write(&c, req->patterns[0]);
		return imap_done(s);
	}
	return list_write(s, be, &c, req);
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
		attr(out, &first, "\\HasChildren");
	else if (children == 0)
		attr(out, &first, "\\HasNoChildren");
	write_special_use(out, &first, special_use);
	buf_append_str(out, ") \"/\" ");
	imap_write_mailbox(s, out, name, len);
	buf_append(out, "\r\n", 2);
}
