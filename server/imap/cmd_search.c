/* SEARCH and UID SEARCH (RFC 3501 §6.4.4) with ESEARCH's RETURN
 * (RFC 4731) and WITHIN (RFC 5032): the parsed program becomes one query
 * in the store (schema/db_search.c), unless it asks only for flags, which
 * the process's shared state of the mailbox answers (search_state.c). */
#include "server/imap/commands.h"
#include "server/imap/private_keywords.h"
#include "server/imap/datetime.h"
#include "server/imap/msgset.h"
#include "server/imap/mutf7.h"
#include "server/imap/objectid.h"
#include "server/imap/search_args.h"
#include "server/imap/search_state.h"
#include "server/imap/seqset.h"
#include "server/imap/view.h"
#include "schema/db_search.h"

#include <string.h>

struct search_ctx {
	struct imap_session *s;
	const char *error;
	bool badcharset;
	bool multi;         /* ESEARCH over mailboxes that need not be selected */
};

static const char not_multi[] =
	"Message numbers, $, RECENT, NEW, OLD and MODSEQ need the selected mailbox: use UID SEARCH";

/* Search strings are UTF-8 (RFC 9051 §6.4.4; US-ASCII is a subset); a
 * string that is not is in no charset the server accepts. NUL is let
 * through: it simply matches nothing (db_search). */
static bool search_string_ok(struct search_ctx *c, const char *v, size_t len)
{
	for (size_t i = 0; i < len;) {
		const char *nul = memchr(v + i, '\0', len - i);
		size_t n = nul != NULL ? (size_t)(nul - (v + i)) : len - i;
		if (!imap_utf8_valid(v + i, n)) {
			c->error = "Search string is not valid UTF-8";
			c->badcharset = true;
			return false;
		}
		i += n + 1;
	}
	return true;
}

/* The session's \Recent messages as UID ranges. */
static void recent_ranges(struct imap_session *s, struct db_uid_ranges *out)
{
	const struct imap_view *v = s->view;
	uint32_t *lo = arena_alloc(&s->arena, (v->nrecent + 1) * sizeof(*lo));
	uint32_t *hi = arena_alloc(&s->arena, (v->nrecent + 1) * sizeof(*hi));

	for (size_t i = 0; i < v->nrecent; i++) {
		lo[i] = v->recent[i].lo;
		hi[i] = v->recent[i].hi;
	}
	out->lo = lo;
	out->hi = hi;
	out->count = v->nrecent;
}

static bool convert(struct search_ctx *c, const struct imap_search_key *k, struct db_search_node *n);

static bool convert_children(struct search_ctx *c, const struct imap_search_key *k,
			     struct db_search_node *n, enum db_search_op op)
{
	n->op = op;
	n->nchildren = k->nchildren;
	n->children = arena_alloc(&c->s->arena, (k->nchildren + 1) * sizeof(*n->children));
	for (size_t i = 0; i < k->nchildren; i++)
		if (!convert(c, &k->children[i], &n->children[i]))
			return false;
	return true;
}

/* NEW is RECENT and UNSEEN: two children under an AND. */
static void convert_new(struct search_ctx *c, struct db_search_node *n)
{
	n->op = DB_SEARCH_AND;
	n->nchildren = 2;
	n->children = arena_alloc(&c->s->arena, 2 * sizeof(*n->children));
	memset(n->children, 0, 2 * sizeof(*n->children));
	n->children[0].op = DB_SEARCH_UIDS;
	recent_ranges(c->s, &n->children[0].ranges);
	n->children[1].op = DB_SEARCH_FLAGS_CLEAR;
	n->children[1].number = 1;
}

/* A UID set of a search over mailboxes no view knows: "*" is each
 * mailbox's last UID, which no one number can be; as the highest UID
 * there is, "n:*" still holds every message from n up. (It differs from
 * RFC 9051 §9 only where n is above a mailbox's last UID, where the set
 * would name that last message: docs/protocol.md, MULTISEARCH.) */
static void uid_ranges_any(struct imap_session *s, const struct imap_seqset *set,
			   struct db_uid_ranges *out)
{
	struct imap_seqset r;
	uint32_t *lo, *hi;

	imap_seqset_resolve(&s->arena, set, UINT32_MAX, false, &r);
	lo = arena_alloc(&s->arena, (r.count + 1) * sizeof(*lo));
	hi = arena_alloc(&s->arena, (r.count + 1) * sizeof(*hi));
	for (size_t i = 0; i < r.count; i++) {
		lo[i] = r.ranges[i].lo;
		hi[i] = r.ranges[i].hi;
	}
	out->lo = lo;
	out->hi = hi;
	out->count = r.count;
}

static bool convert(struct search_ctx *c, const struct imap_search_key *k, struct db_search_node *n)
{
	const char *names;

	memset(n, 0, sizeof(*n));
	switch (k->op) {
	case IMAP_SK_AND: return convert_children(c, k, n, DB_SEARCH_AND);
	case IMAP_SK_OR: return convert_children(c, k, n, DB_SEARCH_OR);
	case IMAP_SK_NOT: return convert_children(c, k, n, DB_SEARCH_NOT);
	case IMAP_SK_ALL: n->op = DB_SEARCH_TRUE; return true;
	case IMAP_SK_SEQSET:
	case IMAP_SK_UIDSET:
		n->op = DB_SEARCH_UIDS;
		if (c->multi) {
			if (k->op == IMAP_SK_SEQSET || k->u.set.saved) {
				c->error = not_multi;
				return false;
			}
			uid_ranges_any(c->s, &k->u.set, &n->ranges);
			return true;
		}
		if (k->u.set.saved) {
			imap_msgset_saved(c->s, &n->ranges);
			return true;
		}
		imap_msgset_resolve(c->s, &k->u.set, k->op == IMAP_SK_UIDSET, &n->ranges);
		return true;
	case IMAP_SK_FLAG:
		n->op = k->negate ? DB_SEARCH_FLAGS_CLEAR : DB_SEARCH_FLAGS_SET;
		n->number = k->flag;
		return true;
	case IMAP_SK_KEYWORD:
	case IMAP_SK_UNKEYWORD:
		if (k->op == IMAP_SK_UNKEYWORD) {
			n->op = DB_SEARCH_NOT;
			n->nchildren = 1;
			n->children = arena_alloc(&c->s->arena, sizeof(*n->children));
			n = &n->children[0];
			memset(n, 0, sizeof(*n));
		}
		if (!search_string_ok(c, k->u.str.value, k->u.str.value_len))
			return false;
		n->op = DB_SEARCH_KEYWORD;
		n->value = k->u.str.value;
		n->value_len = k->u.str.value_len;
		/* In a per-user mailbox a private keyword is the reader's own;
		 * across several mailboxes, in those that are per user
		 * (db_search_multi). */
		names = c->multi ? c->s->cfg->private_keywords : c->s->view->private_names;
		if (names != NULL && names[0] != '\0' &&
		    (n->value = imap_private_keyword(names, k->u.str.value,
						     k->u.str.value_len, &n->value_len)) != NULL)
			n->op = DB_SEARCH_PRIVATE_KEYWORD;
		else
			n->value = k->u.str.value;
		return true;
	case IMAP_SK_RECENT:
	case IMAP_SK_OLD:
	case IMAP_SK_NEW:
		if (c->multi) {
			c->error = not_multi;
			return false;
		}
		/* RFC 9051 Appendix E: no \Recent, so no keys built on it. */
		if (c->s->imap4rev2) {
			c->error = "RECENT, NEW and OLD are not IMAP4rev2 search keys";
			return false;
		}
		if (k->op == IMAP_SK_NEW) {
			convert_new(c, n);
			return true;
		}
		if (k->op == IMAP_SK_OLD) {
			n->op = DB_SEARCH_NOT;
			n->nchildren = 1;
			n->children = arena_alloc(&c->s->arena, sizeof(*n->children));
			n = &n->children[0];
			memset(n, 0, sizeof(*n));
		}
		n->op = DB_SEARCH_UIDS;
		recent_ranges(c->s, &n->ranges);
		return true;
	case IMAP_SK_BEFORE: case IMAP_SK_ON: case IMAP_SK_SINCE:
	case IMAP_SK_SENTBEFORE: case IMAP_SK_SENTON: case IMAP_SK_SENTSINCE: {
		static const enum db_search_op ops[] = {
			DB_SEARCH_BEFORE, DB_SEARCH_ON, DB_SEARCH_SINCE,
			DB_SEARCH_SENTBEFORE, DB_SEARCH_SENTON, DB_SEARCH_SENTSINCE,
		};
		n->op = ops[k->op - IMAP_SK_BEFORE];
		n->number = imap_date_days(&k->u.date);
		return true;
	}
	case IMAP_SK_LARGER: n->op = DB_SEARCH_LARGER; n->number = k->u.number; return true;
	case IMAP_SK_SMALLER: n->op = DB_SEARCH_SMALLER; n->number = k->u.number; return true;
	case IMAP_SK_OLDER: n->op = DB_SEARCH_OLDER; n->number = k->u.number; return true;
	case IMAP_SK_YOUNGER: n->op = DB_SEARCH_YOUNGER; n->number = k->u.number; return true;
	case IMAP_SK_MODSEQ:
		if (c->multi) {
			c->error = not_multi;
			return false;
		}
		n->op = DB_SEARCH_MODSEQ; n->number = (int64_t)k->u.modseq.value; return true;
	case IMAP_SK_EMAILID:
	case IMAP_SK_THREADID:
		/* objectid.h: an EMAILID names a messages row; no THREADID
		 * names anything (RFC 8474 §5.2: it matches no message). */
		n->op = k->op == IMAP_SK_EMAILID &&
			imap_emailid_parse(k->u.str.value, k->u.str.value_len, &n->number) ?
			DB_SEARCH_MESSAGE_ID : DB_SEARCH_FALSE;
		return true;
	case IMAP_SK_SAVEDBEFORE: case IMAP_SK_SAVEDON: case IMAP_SK_SAVEDSINCE: {
		static const enum db_search_op ops[] = {
			DB_SEARCH_SAVEDBEFORE, DB_SEARCH_SAVEDON, DB_SEARCH_SAVEDSINCE,
		};
		n->op = ops[k->op - IMAP_SK_SAVEDBEFORE];
		n->number = imap_date_days(&k->u.date);
		return true;
	}
	case IMAP_SK_SAVEDATESUPPORTED: n->op = DB_SEARCH_SAVED_KNOWN; return true;
	case IMAP_SK_HEADER: {
		if (!search_string_ok(c, k->u.str.value, k->u.str.value_len))
			return false;
		char *field = arena_strndup(&c->s->arena, k->u.str.field, k->u.str.field_len);
		for (char *p = field; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p + 32);
		n->op = DB_SEARCH_HEADER;
		n->field = field;
		n->field_len = k->u.str.field_len;
		n->value = k->u.str.value;
		n->value_len = k->u.str.value_len;
		return true;
	}
	case IMAP_SK_BODY:
	case IMAP_SK_TEXT:
		if (!search_string_ok(c, k->u.str.value, k->u.str.value_len))
			return false;
		n->op = k->op == IMAP_SK_BODY ? DB_SEARCH_BODY : DB_SEARCH_TEXT;
		n->value = k->u.str.value;
		n->value_len = k->u.str.value_len;
		return true;
	}
	c->error = "Unsupported search key";
	return false;
}

struct result {
	uint32_t *items;   /* message numbers or UIDs, ascending; in the arena */
	size_t n, cap;
	bool uid;
	struct imap_session *s;
	uint64_t modseq;   /* the highest MODSEQ (for the reader) of the matches */
};

static void collect(void *ctx, uint32_t uid, uint64_t modseq)
{
	struct result *r = ctx;
	uint32_t value = r->uid ? uid : imap_view_msn(r->s->view, uid);

	if (value == 0)
		return;
	modseq = imap_view_modseq(r->s->view, uid, modseq);
	if (modseq > r->modseq)
		r->modseq = modseq;
	r->items = arena_grow(&r->s->arena, r->items, r->n, &r->cap, sizeof(*r->items));
	r->items[r->n++] = value;
}

void imap_esearch_items(struct buf *out, unsigned opts, const uint32_t *items, size_t n)
{
	if (n > 0 && (opts & IMAP_SEARCH_RETURN_MIN))
		buf_appendf(out, " MIN %u", items[0]);
	if (n > 0 && (opts & IMAP_SEARCH_RETURN_MAX))
		buf_appendf(out, " MAX %u", items[n - 1]);
	if (opts & IMAP_SEARCH_RETURN_COUNT)
		buf_appendf(out, " COUNT %zu", n);
	if (n > 0 && (opts & IMAP_SEARCH_RETURN_ALL)) {
		buf_append_str(out, " ALL ");
		imap_numbers_format(items, n, out);
	}
}

/* RFC 4731 §3.1: ESEARCH (TAG "x") [UID] MIN n MAX n COUNT n ALL set. */
static void write_esearch(struct imap_session *s, const struct imap_search_program *p,
			  const struct result *r, bool uid)
{
	buf_appendf(&s->out, "* ESEARCH (TAG \"%s\")%s", s->cmd->tag, uid ? " UID" : "");
	imap_esearch_items(&s->out, p->return_opts, r->items, r->n);
	/* RFC 7162 §3.1.5: with a MODSEQ key, the highest MODSEQ found. */
	if (r->n > 0 && p->modseq)
		buf_appendf(&s->out, " MODSEQ %llu", (unsigned long long)r->modseq);
	buf_append(&s->out, "\r\n", 2);
}

/* RFC 5182 §2.1: with MIN and/or MAX but neither ALL nor COUNT, only those
 * are saved; otherwise every match. Saved as UIDs, whatever was asked; the
 * view owns the saved result, so it is not in the arena. */
static void save_result(struct imap_session *s, const struct imap_search_program *p,
			const struct result *r)
{
	unsigned o = p->return_opts;
	uint32_t *uids = NULL;
	size_t n = 0;

	if (r->n > 0) {
		uids = xmalloc(r->n * sizeof(*uids));
		if ((o & (IMAP_SEARCH_RETURN_MIN | IMAP_SEARCH_RETURN_MAX)) &&
		    !(o & (IMAP_SEARCH_RETURN_ALL | IMAP_SEARCH_RETURN_COUNT))) {
			if (o & IMAP_SEARCH_RETURN_MIN)
				uids[n++] = r->items[0];
			if ((o & IMAP_SEARCH_RETURN_MAX) && (n == 0 || r->items[r->n - 1] != uids[0]))
				uids[n++] = r->items[r->n - 1];
		} else {
			memcpy(uids, r->items, r->n * sizeof(*uids));
			n = r->n;
		}
		if (!r->uid)          /* message numbers → UIDs */
			for (size_t i = 0; i < n; i++)
				uids[i] = imap_view_uid(s->view, uids[i]);
	}
	imap_view_save_result(s->view, uids, n);
}

/* What the check step parsed: the program, and the query it becomes. */
struct search_request {
	struct imap_search_program prog;
	struct db_search_node root;
};

struct imap_result imap_search_program(struct imap_session *s, const struct imap_arg *args,
				      bool multi, struct imap_search_program *prog,
				      struct db_search_node *root)
{
	struct search_ctx c = { .s = s, .multi = multi };
	const char *problem;
	int rc;

	rc = imap_search_parse(&s->arena, args, true, prog, &problem);
	/* RFC 5182 §2.1: a NO empties a SAVEd result, which only SEARCH
	 * makes (an ESEARCH with SAVE is BAD, and may have no view). */
	if (rc == -2) {
		if (!multi)
			imap_search_forget(s, prog);
		return imap_no(s, "BADCHARSET (UTF-8 US-ASCII)", "Unsupported charset");
	}
	if (rc < 0)
		return imap_bad(s, NULL, "%s", problem);
	if (!convert(&c, prog->root, root)) {
		if (!multi)
			imap_search_forget(s, prog);
		if (c.badcharset)
			return imap_no(s, "BADCHARSET (UTF-8 US-ASCII)", "%s", c.error);
		return imap_bad(s, NULL, "%s", c.error);
	}
	return imap_ok(s, NULL, "checked");
}

/* The whole program is parsed and turned into the store's query here,
 * before any SQL: a bad key is BAD, a charset or string that is not UTF-8
 * NO [BADCHARSET]. The view is read (message numbers, \Recent, "$") but
 * not the store. */
struct imap_result imap_check_search(struct imap_session *s, const struct imap_command *cmd)
{
	struct search_request *req = arena_alloc(&s->arena, sizeof(*req));
	struct imap_result r;

	memset(req, 0, sizeof(*req));
	r = imap_search_program(s, cmd->args, false, &req->prog, &req->root);
	if (!imap_result_ok(&r))
		return r;
	/* RFC 9051 §6.4.4, §7.3.4: an IMAP4rev2 session gets ESEARCH, never
	 * SEARCH; without RETURN, as if it had asked RETURN (ALL). */
	if (s->imap4rev2 && !req->prog.esearch) {
		req->prog.esearch = true;
		req->prog.return_opts = IMAP_SEARCH_RETURN_ALL;
	}
	/* RFC 7162 §3.1: SEARCH MODSEQ enables CONDSTORE. */
	if (req->prog.modseq)
		s->condstore = true;
	s->parsed = req;
	return imap_ok(s, NULL, "checked");
}

static void write_search(struct imap_session *s, const struct imap_search_program *p,
			 const struct result *r, bool uid)
{
	/* RFC 5182 §2.1: SAVE alone asks for no ESEARCH response. */
	if (p->esearch) {
		if ((p->return_opts & ~IMAP_SEARCH_RETURN_SAVE) != 0)
			write_esearch(s, p, r, uid);
		return;
	}
	buf_append_str(&s->out, "* SEARCH");
	for (size_t i = 0; i < r->n; i++)
		buf_appendf(&s->out, " %u", r->items[i]);
	if (r->n > 0 && p->modseq)
		buf_appendf(&s->out, " (MODSEQ %llu)", (unsigned long long)r->modseq);
	buf_append(&s->out, "\r\n", 2);
}

/* A program of flags alone is answered from the shared state, without
 * SQL; any other, or when the state cannot answer, by the store. */
static enum db_result run_search(struct imap_session *s, struct imap_backend *be,
				 const struct db_search_node *root, struct result *r,
				 char *err, size_t errlen)
{
	uint32_t last = imap_view_last_uid(s->view);

	if (imap_search_state(s->view, last, root, collect, r))
		return DB_OK;
	return db_search(be->db, s->account_id, s->view->mailbox_id, last,
			 s->cfg->search_timeout_ms, root, collect, r, err, errlen);
}

struct imap_result cmd_search(struct imap_session *s, const struct imap_command *cmd,
			      struct imap_backend *be)
{
	struct search_request *req = s->parsed;
	bool uid = cmd->name[0] == 'U';
	struct result r = { .uid = uid, .s = s };
	char err[256];

	switch (run_search(s, be, &req->root, &r, err, sizeof(err))) {
	case DB_OK:
	case DB_NOT_FOUND:
		break;
	case DB_TIMEOUT:
		imap_search_forget(s, &req->prog);
		return imap_no(s, "LIMIT", "Search took too long; please narrow it down");
	case DB_LIMIT:      /* only writes of keywords return it */
	case DB_FAILED:
		imap_search_forget(s, &req->prog);
		return imap_store_failed(s, "searching", err);
	}
	if (req->prog.return_opts & IMAP_SEARCH_RETURN_SAVE)
		save_result(s, &req->prog, &r);
	write_search(s, &req->prog, &r, uid);
	return imap_done(s);
}
