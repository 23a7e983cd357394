/* STORE and UID STORE (RFC 3501 §6.4.6, §6.4.8). */
#include "server/imap/commands.h"
#include "server/imap/msgset.h"
#include "server/imap/private_keywords.h"
#include "server/imap/rights.h"
#include "server/imap/store_args.h"
#include "acl/acl.h"
#include "acl/command_rights.h"
#include "server/imap/view.h"
#include "server/core/log.h"
#include "server/imap/seqset.h"
#include "schema/db_message.h"

#include <string.h>

struct store_ctx {
	struct imap_session *s;
	bool silent;
	bool uid;
	bool changed;               /* some message's flags changed */
	bool shared;                /* ... for every reader, not only this one */
	uint32_t *modified;         /* failed UNCHANGEDSINCE: UIDs or numbers, ascending */
	size_t nmodified, modified_cap;
	/* With private keywords to store after the shared part: the rows,
	 * reported once both ran (in the arena). */
	bool defer;
	struct db_stored_row *rows;
	size_t nrows, rows_cap;
	struct uid_ranges frozen;   /* the modified UIDs, which the private part leaves alone */
};

/* RFC 7162 §3.1.3: a message that failed UNCHANGEDSINCE is named in the
 * tagged MODIFIED response code, by UID for UID STORE, else by number. */
static void store_modified(struct store_ctx *st, uint32_t uid, uint32_t msn)
{
	struct imap_session *s = st->s;

	if (msn == 0)
		return;
	st->modified = arena_grow(&s->arena, st->modified, st->nmodified, &st->modified_cap,
				  sizeof(*st->modified));
	st->modified[st->nmodified++] = st->uid ? uid : msn;
}

/* Writes one message's FETCH response, if due. */
static void report_row(struct store_ctx *st, const struct db_stored_row *row)
{
	struct imap_session *s = st->s;
	uint32_t msn = imap_view_msn(s->view, row->uid);
	bool show_flags = !st->silent, show_modseq = s->condstore && (!st->silent || row->changed);

	/* Without .SILENT every message of the set is reported with its
	 * flags, changed or not; the client may not have known them. With
	 * CONDSTORE, .SILENT still reports each changed message's new
	 * MODSEQ (RFC 7162 §3.1.3). */
	if (msn == 0 || (!show_flags && !show_modseq))
		return;
	/* The row may carry a keyword another session created since this
	 * one last polled, or this STORE's own new one. */
	if (show_flags)
		imap_view_announce(s, row->keywords);
	buf_appendf(&s->out, "* %u FETCH (", msn);
	if (st->uid)
		buf_appendf(&s->out, "UID %u ", row->uid);
	if (show_flags) {
		buf_append_str(&s->out, "FLAGS ");
		imap_view_format_flags(&s->out, s->view, row->uid, row->flags, row->keywords);
	}
	if (show_modseq)
		buf_appendf(&s->out, "%sMODSEQ (%llu)", show_flags ? " " : "",
			    (unsigned long long)imap_view_modseq(s->view, row->uid, row->modseq));
	buf_append(&s->out, ")\r\n", 3);
}

static void store_row(void *ctx, const struct db_stored_row *row)
{
	struct store_ctx *st = ctx;
	struct imap_session *s = st->s;

	if (row->modified) {
		store_modified(st, row->uid, imap_view_msn(s->view, row->uid));
		if (st->defer)
			uid_ranges_add(&st->frozen, row->uid);
		return;
	}
	if (row->changed) {
		imap_view_own_change(s->view, row->modseq);
		imap_view_own_row(s, row);
		st->changed = true;
		st->shared |= row->shared;
	}
	imap_view_own_flags(s->view, row->uid, row->flags);
	if (!st->defer) {
		report_row(st, row);
		return;
	}
	st->rows = arena_grow(&s->arena, st->rows, st->nrows, &st->rows_cap, sizeof(*st->rows));
	st->rows[st->nrows] = *row;
	st->rows[st->nrows].keywords = arena_strndup(&s->arena, row->keywords, strlen(row->keywords));
	st->nrows++;
}

static void private_keyword(void *ctx, const char *keyword, const char *uids)
{
	struct store_ctx *st = ctx;

	imap_view_private_keyword_set(st->s->view, keyword, uids);
}

/* The private part changed these UIDs at modseq: they are reported as
 * changed, at that MODSEQ (a private change, migrations/0011). */
static void private_changed(void *ctx, uint64_t modseq, const char *uids)
{
	struct store_ctx *st = ctx;
	struct imap_view *v = st->s->view;
	struct uid_ranges set = { 0 };

	if (uid_ranges_parse_multirange(&set, uids) < 0)
		return;
	imap_view_own_change(v, modseq);
	imap_view_private_change(v, modseq, &set);
	for (size_t i = 0; i < st->nrows; i++)
		if (uid_ranges_has(&set, st->rows[i].uid)) {
			st->rows[i].changed = true;
			st->rows[i].modseq = modseq;
		}
	st->changed = true;
	uid_ranges_free(&set);
}

/* PostgreSQL multirange text of a UID set, in the arena. */
static const char *multirange_text(struct arena *a, const struct uid_ranges *u)
{
	struct buf b;
	const char *out;

	buf_init(&b);
	buf_append(&b, "{", 1);
	for (size_t i = 0; i < u->n; i++)
		buf_appendf(&b, "%s[%u,%u]", i ? "," : "", u->r[i].lo, u->r[i].hi);
	buf_append(&b, "}", 1);
	out = arena_strndup(a, (const char *)b.data, b.len);
	buf_free(&b);
	return out;
}

/* Private keywords (migrations/0013): in a per-user mailbox the STORE's
 * private keywords (and, replacing, every private keyword not named) are
 * the reader's own. The shared part has run, with the rows deferred: the
 * private part leaves the messages that failed UNCHANGEDSINCE alone, and
 * then every row is reported with both. Two statements, each atomic: a
 * STORE that changes a shared flag and a private keyword takes two
 * modseqs. */
static enum db_result store_private(struct imap_session *s, struct imap_backend *be,
				    const struct db_uid_ranges *ranges, int mode, const char *named,
				    struct store_ctx *ctx, char *err, size_t errlen)
{
	struct db_private_keywords_cb cb = { ctx, private_keyword, private_changed };
	struct imap_view *v = s->view;
	enum db_result r;

	r = db_store_private_keywords(be->db, s->account_id, v->mailbox_id, ranges, mode, named,
				      imap_private_keywords_array(&s->arena, v->private_names),
				      multirange_text(&s->arena, &ctx->frozen), &cb, err, errlen);
	for (size_t i = 0; r != DB_FAILED && i < ctx->nrows; i++)
		report_row(ctx, &ctx->rows[i]);
	return r;
}

/* .SILENT writes no FETCH that would announce the keywords it stored: they
 * are announced here, once, rather than at the next command. */
static void announce_stored_keywords(struct imap_session *s, const struct imap_flags *f)
{
	bool learned = false;

	for (size_t i = 0; i < f->nkeywords; i++)
		learned |= imap_view_learn_keywords(s->view, f->keywords[i]);
	if (learned)
		imap_view_write_flags(s, s->view);
}

/* What the check step parsed. */
struct store_request {
	struct db_uid_ranges ranges;
	struct imap_store st;
};

struct imap_result imap_check_store(struct imap_session *s, const struct imap_command *cmd)
{
	struct store_request *req = arena_alloc(&s->arena, sizeof(*req));
	const char *problem;

	if (cmd->nargs < 3)
		return imap_bad(s, NULL, "STORE expects a sequence set, an action and flags");
	if (imap_msgset(s, &cmd->args[0], cmd->name[0] == 'U', &req->ranges, &problem) < 0 ||
	    imap_store_parse(&s->arena, &cmd->args[1], &req->st, &problem) < 0)
		return imap_bad(s, NULL, "%s", problem);
	/* RFC 7162 §3.1: UNCHANGEDSINCE is a CONDSTORE enabling command. */
	if (req->st.unchangedsince_set)
		s->condstore = true;
	s->parsed = req;
	return imap_ok(s, NULL, "checked");
}

/* RFC 4314 §4: \Seen needs "s", \Deleted "t", the rest "w"; flags the
 * caller may not change are left out, and only a STORE that can change
 * none of its flags fails. */
bool imap_authorize_store(struct imap_session *s, acl_rights rights, struct imap_result *res_r)
{
	struct store_request *req = s->parsed;
	struct imap_flags *f = &req->st.flags;
	unsigned allowed_flags;
	bool allowed_keywords;

	if (!acl_store_permitted(rights, f->system, f->nkeywords > 0, &allowed_flags,
				 &allowed_keywords)) {
		acl_rights need = acl_store_rights(f->system, f->nkeywords > 0);
		*res_r = imap_no(s, "NOPERM", "%s of these flags needs %s", s->cmd->name,
				 imap_rights_needed_text(s, need & ~rights, true));
		return false;
	}
	f->system = allowed_flags;
	if (!allowed_keywords)
		f->nkeywords = 0;
	return true;
}

/* Dispatch has parsed the arguments and narrowed the flags to the
 * caller's rights. */
struct imap_result cmd_store(struct imap_session *s, const struct imap_command *cmd,
			     struct imap_backend *be)
{
	struct store_request *req = s->parsed;
	struct imap_store *st = &req->st;
	struct store_ctx ctx = { .s = s, .uid = cmd->name[0] == 'U', .silent = st->silent };
	struct imap_flags shared = st->flags;
	const char *named = "{}";
	char err[256];
	enum db_result r;
	int mode;

	/* A keyword new to the mailbox is announced before any FETCH uses it:
	 * by store_row, or (.SILENT) by the changes read before the next
	 * command. */
	mode = st->mode == IMAP_STORE_REPLACE ? 0 : st->mode == IMAP_STORE_ADD ? 1 : 2;
	if (s->view->private_names != NULL)
		ctx.defer = imap_private_keywords_split(&s->arena, s->view->private_names, &st->flags,
							&shared, &named) > 0 ||
			    st->mode == IMAP_STORE_REPLACE;
	r = req->ranges.count == 0 ? DB_OK :
	    db_store_flags(be->db, s->account_id, s->view->mailbox_id, &req->ranges, mode,
			   shared.system, imap_keywords_array(&s->arena, &shared),
			   s->cfg->max_keywords_per_mailbox,
			   st->unchangedsince_set ? st->unchangedsince : DB_NO_UNCHANGEDSINCE,
			   store_row, &ctx, err, sizeof(err));
	if (r == DB_OK && ctx.defer && req->ranges.count > 0)
		r = store_private(s, be, &req->ranges, mode, named, &ctx, err, sizeof(err));
	uid_ranges_free(&ctx.frozen);
	if (r == DB_FAILED)
		return imap_store_failed(s, "storing flags", err);
	if (r == DB_LIMIT)
		/* RFC 5530 §3 LIMIT: "the number of flags used in a mailbox". */
		return imap_no(s, "LIMIT", "Too many keywords in this mailbox (at most %ld); nothing stored",
			       s->cfg->max_keywords_per_mailbox);
	if (ctx.shared)
		imap_session_changed(s, s->view->mailbox_id);
	else if (ctx.changed)
		imap_session_changed_private(s, s->view->mailbox_id);
	if (st->silent && st->mode != IMAP_STORE_REMOVE)
		announce_stored_keywords(s, &st->flags);
	if (ctx.nmodified > 0) {
		struct buf set;
		const char *code;
		buf_init(&set);
		imap_numbers_format(ctx.modified, ctx.nmodified, &set);
		code = arena_printf(&s->arena, "MODIFIED %.*s", (int)set.len, (const char *)set.data);
		buf_free(&set);
		return imap_ok(s, code, "Conditional STORE failed for some messages");
	}
	return imap_done(s);
}
