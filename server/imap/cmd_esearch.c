/* ESEARCH (RFC 7377, MULTISEARCH): one search program over several
 * mailboxes, in the authenticated or the selected state.
 *
 * The mailboxes are the names LIST would show the caller (list_shared.h,
 * imap_list_collect: their own and other owners' with "l"), narrowed by
 * the source options (esearch_source.h) and kept only where the caller
 * has "r" too, so a mailbox they may not see or read is never searched
 * and never named: an unknown or invisible name in IN is simply not
 * there, as LIST would not show it (RFC 4314 §4). Then one query searches
 * them all (db_search_multi), with each mailbox's own \Seen for the
 * caller, and one ESEARCH response per mailbox with matches carries its
 * UIDs (RFC 7377 §2.1), INBOX first and then in the order of LIST. */
#include "server/imap/args.h"
#include "server/imap/commands.h"
#include "server/imap/esearch_source.h"
#include "server/imap/list_return.h"
#include "server/imap/list_shared.h"
#include "server/imap/list_tree.h"
#include "server/imap/mailbox_name.h"
#include "server/imap/search_args.h"
#include "server/imap/view.h"
#include "schema/db_search.h"

#include <stdlib.h>
#include <string.h>

struct esearch_request {
	struct imap_esearch_source src;
	struct imap_search_program prog;
	struct db_search_node root;
};

/* The decoded names of IN: each becomes the name LIST shows (INBOX
 * normalised). One that no mailbox can have names nothing (NULL), except
 * "" for subtree and subtree-one: the root of the hierarchy, whose
 * subtree is every mailbox and whose children are the top-level ones. */
static struct imap_result decode_names(struct imap_session *s, struct imap_esearch_source *src)
{
	for (size_t i = 0; i < src->nnames; i++) {
		struct imap_esearch_name *n = &src->names[i];
		const char *problem;

		if (n->len == 0 && n->kind != IMAP_ESEARCH_MAILBOXES) {
			n->name = "";
			continue;
		}
		switch (imap_mailbox_arg(s, n->arg, &n->name, &n->len, &problem)) {
		case IMAP_NAME_OK:
			break;
		case IMAP_NAME_SYNTAX:
			return imap_bad(s, NULL, "%s", problem);
		default:
			n->name = NULL;
			n->len = 0;
		}
	}
	return imap_ok(s, NULL, "checked");
}

/* esearch = "ESEARCH" [SP esearch-source-opts] [SP search-return-opts]
 *           SP search-program (RFC 7377 §4). Without IN, "selected". */
struct imap_result imap_check_esearch(struct imap_session *s, const struct imap_command *cmd)
{
	struct esearch_request *req = arena_alloc(&s->arena, sizeof(*req));
	const struct imap_arg *args = cmd->args;
	const char *problem;
	struct imap_result r;

	memset(req, 0, sizeof(*req));
	req->src.filters = IMAP_ESEARCH_SELECTED;
	if (imap_arg_atom_is(&args[0], "IN")) {
		if (imap_esearch_source_parse(&s->arena, &args[1], &req->src, &problem) < 0)
			return imap_bad(s, NULL, "%s", problem);
		args += 2;
		r = decode_names(s, &req->src);
		if (!imap_result_ok(&r))
			return r;
	}
	r = imap_search_program(s, args, true, &req->prog, &req->root);
	if (!imap_result_ok(&r))
		return r;
	/* RFC 7377 §2.2 allows SAVE only when the selected mailbox is the
	 * one searched; the saved result would then hold UIDs of mailboxes
	 * the session has not selected as soon as IN names another.
	 * Kairan keeps SAVE for SEARCH (docs/protocol.md, MULTISEARCH). */
	if (req->prog.return_opts & IMAP_SEARCH_RETURN_SAVE)
		return imap_bad(s, NULL, "SAVE is not allowed in ESEARCH; use UID SEARCH RETURN (SAVE)");
	/* RFC 7377 §2.1: without RETURN, ALL. */
	if (req->prog.return_opts == 0)
		req->prog.return_opts = IMAP_SEARCH_RETURN_ALL;
	s->parsed = req;
	return imap_ok(s, NULL, "checked");
}

/* Whether name (len bytes) is base, below it, or (one_level) just one
 * level below it; base "" is the root, above every name. */
static bool in_subtree(const char *name, size_t len, const char *base, size_t blen,
		       bool one_level)
{
	if (blen == 0)
		return !one_level || memchr(name, IMAP_MAILBOX_DELIM, len) == NULL;
	if (len < blen || memcmp(name, base, blen) != 0)
		return false;
	if (len == blen)
		return true;
	if (name[blen] != IMAP_MAILBOX_DELIM)
		return false;
	return !one_level || memchr(name + blen + 1, IMAP_MAILBOX_DELIM, len - blen - 1) == NULL;
}

static bool named(const struct imap_esearch_source *src, const struct imap_list_entry *e)
{
	for (size_t i = 0; i < src->nnames; i++) {
		const struct imap_esearch_name *n = &src->names[i];

		if (n->name == NULL)
			continue;
		if (n->kind == IMAP_ESEARCH_MAILBOXES ?
		    n->len == e->len && memcmp(n->name, e->name, e->len) == 0 :
		    in_subtree(e->name, e->len, n->name, n->len,
			       n->kind == IMAP_ESEARCH_SUBTREE_ONE))
			return true;
	}
	return false;
}

/* Whether the source options take mailbox e. Before the caller's own
 * rights are read, only other owners' entries have rights_known: the
 * others are the caller's personal mailboxes (RFC 5465 §6). */
static bool wanted(struct imap_session *s, const struct imap_esearch_source *src,
		   const struct imap_list_entry *e)
{
	unsigned f = src->filters;
	bool personal = !e->rights_known;

	return ((f & IMAP_ESEARCH_SELECTED) && s->view != NULL &&
		s->view->mailbox_id == e->mailbox_id) ||
	       ((f & IMAP_ESEARCH_INBOXES) && personal && imap_mailbox_is_inbox(e->name, e->len)) ||
	       ((f & IMAP_ESEARCH_PERSONAL) && personal) ||
	       ((f & IMAP_ESEARCH_SUBSCRIBED) && e->subscribed) ||
	       named(src, e);
}

/* The matches of one mailbox, in the order db_search_multi gives them. */
struct box_result {
	int64_t mailbox_id;
	const struct imap_list_entry *e;
	uint32_t uidvalidity;
	uint32_t *uids;
	size_t n, cap;
};

struct collect_ctx {
	struct imap_session *s;
	struct box_result *boxes;   /* sorted by mailbox id */
	size_t nboxes;
};

static int by_id(const void *x, const void *y)
{
	int64_t a = ((const struct box_result *)x)->mailbox_id;
	int64_t b = ((const struct box_result *)y)->mailbox_id;

	return (a > b) - (a < b);
}

static void collect(void *ctx, const struct db_search_match *m)
{
	struct collect_ctx *c = ctx;
	struct box_result key = { .mailbox_id = m->mailbox_id };
	struct box_result *b = bsearch(&key, c->boxes, c->nboxes, sizeof(*c->boxes), by_id);

	if (b == NULL)          /* never: the query searched these ids only */
		return;
	b->uidvalidity = m->uidvalidity;
	b->uids = arena_grow(&c->s->arena, b->uids, b->n, &b->cap, sizeof(*b->uids));
	b->uids[b->n++] = m->uid;
}

/* The mailboxes to search: wanted, existing, selectable, with "l" and "r".
 * Marks them listed and fills *c with one box_result each. */
static bool choose(struct imap_session *s, struct imap_backend *be,
		   const struct esearch_request *req, struct imap_list_entries *boxes,
		   struct collect_ctx *c, struct imap_result *res_r)
{
	size_t n = 0;

	for (size_t i = 0; i < boxes->n; i++) {
		struct imap_list_entry *e = &boxes->v[i];

		e->listed = e->exists && !e->noselect && wanted(s, &req->src, e);
	}
	if (!imap_list_own_rights(s, be, boxes, res_r))
		return false;
	c->boxes = arena_alloc(&s->arena, (boxes->n + 1) * sizeof(*c->boxes));
	for (size_t i = 0; i < boxes->n; i++) {
		struct imap_list_entry *e = &boxes->v[i];

		e->listed = e->listed && acl_check(ACL_OP_LIST, e->rights) == ACL_ALLOW &&
			    acl_check(ACL_OP_EXAMINE, e->rights) == ACL_ALLOW;
		if (!e->listed)
			continue;
		memset(&c->boxes[n], 0, sizeof(c->boxes[n]));
		c->boxes[n].mailbox_id = e->mailbox_id;
		c->boxes[n].e = e;
		n++;
	}
	c->nboxes = n;
	if (n > (size_t)s->cfg->search_max_mailboxes) {
		*res_r = imap_no(s, "LIMIT", "ESEARCH would search %zu mailboxes, more than %ld;"
				 " please name fewer in IN", n, s->cfg->search_max_mailboxes);
		return false;
	}
	qsort(c->boxes, n, sizeof(*c->boxes), by_id);
	return true;
}

/* RFC 7377 §2.1: * ESEARCH (TAG "t" MAILBOX name UIDVALIDITY n) UID ... */
static void write_box(struct imap_session *s, unsigned opts, const struct box_result *b)
{
	buf_appendf(&s->out, "* ESEARCH (TAG \"%s\" MAILBOX ", s->cmd->tag);
	imap_write_mailbox(s, &s->out, b->e->name, b->e->len);
	buf_appendf(&s->out, " UIDVALIDITY %u) UID", b->uidvalidity);
	imap_esearch_items(&s->out, opts, b->uids, b->n);
	buf_append(&s->out, "\r\n", 2);
}

struct imap_result cmd_esearch(struct imap_session *s, const struct imap_command *cmd,
			       struct imap_backend *be)
{
	const struct esearch_request *req = s->parsed;
	struct imap_list_entries boxes, subs;
	struct collect_ctx c = { .s = s };
	struct imap_result r;
	int64_t *ids;
	char err[256];

	(void)cmd;
	if (!imap_list_collect(s, be, (req->src.filters & IMAP_ESEARCH_SUBSCRIBED) != 0, &boxes,
			       &subs, &r))
		return r;
	imap_list_tree_subscribe(&s->arena, &boxes, &subs, false);
	if (!choose(s, be, req, &boxes, &c, &r))
		return r;
	if (c.nboxes == 0)
		return imap_done(s);
	ids = arena_alloc(&s->arena, c.nboxes * sizeof(*ids));
	for (size_t i = 0; i < c.nboxes; i++)
		ids[i] = c.boxes[i].mailbox_id;
	switch (db_search_multi(be->db, s->account_id, ids, c.nboxes, s->cfg->search_timeout_ms,
				&req->root, collect, &c, err, sizeof(err))) {
	case DB_OK:
	case DB_NOT_FOUND:
		break;
	case DB_TIMEOUT:
		return imap_no(s, "LIMIT", "Search took too long; please narrow it down");
	default:
		return imap_store_failed(s, "searching", err);
	}
	/* In LIST's order: the entries are sorted, the results by id. */
	for (size_t i = 0; i < boxes.n; i++) {
		struct box_result key = { .mailbox_id = boxes.v[i].mailbox_id };
		const struct box_result *b;

		if (!boxes.v[i].listed)
			continue;
		b = bsearch(&key, c.boxes, c.nboxes, sizeof(*c.boxes), by_id);
		if (b != NULL && b->n > 0)
			write_box(s, req->prog.return_opts, b);
	}
	return imap_done(s);
}
