/* STORE and UID STORE (RFC 3501 §6.4.6, §6.4.8). */
#include "server/imap/commands.h"
#include "server/imap/msgset.h"
#include "server/imap/store_args.h"
#include "acl/command_rights.h"
#include "server/imap/view.h"
#include "server/core/log.h"
#include "schema/db_message.h"

#include <string.h>

struct store_ctx {
	struct imap_session *s;
	bool silent;
	bool uid;
};

static void store_row(void *ctx, uint32_t uid, unsigned flags, const char *keywords, bool changed,
		      uint64_t modseq)
{
	struct store_ctx *st = ctx;
	struct imap_session *s = st->s;
	uint32_t msn = imap_view_msn(s->view, uid);

	if (changed)
		imap_view_own_change(s->view, modseq);
	/* Without .SILENT every message of the set is reported with its
	 * flags, changed or not; the client may not have known them. */
	if (st->silent || msn == 0)
		return;
	/* The row may carry a keyword another session created since this
	 * one last polled, or this STORE's own new one. */
	imap_view_announce(s, keywords);
	buf_appendf(&s->out, "* %u FETCH (", msn);
	if (st->uid)
		buf_appendf(&s->out, "UID %u ", uid);
	buf_append_str(&s->out, "FLAGS ");
	imap_view_format_flags(&s->out, s->view, uid, flags, keywords);
	buf_append(&s->out, ")\r\n", 3);
}

/* The keywords as a text[] literal: {"a","b"}; each was validated as an
 * atom, so it holds no quote or backslash, but it is quoted anyway. */
const char *imap_keywords_array(struct imap_session *s, const struct imap_flags *f)
{
	struct buf b;
	char *out;

	buf_init(&b);
	buf_append(&b, "{", 1);
	for (size_t i = 0; i < f->nkeywords; i++) {
		buf_append_str(&b, i ? ",\"" : "\"");
		buf_append(&b, f->keywords[i], f->keyword_lens[i]);
		buf_append(&b, "\"", 1);
	}
	buf_append(&b, "}", 1);
	out = arena_strndup(&s->arena, b.data, b.len);
	buf_free(&b);
	return out;
}

/* An untagged NO is a warning, and the command still succeeds (RFC 3501
 * §7.1.2): the messages are stored, only some labels are not. */
void imap_keywords_dropped(struct imap_session *s)
{
	imap_untagged(s, "NO [LIMIT] Keywords new to the mailbox were not stored:"
		      " it has reached its limit of %ld keywords", s->cfg->max_keywords_per_mailbox);
}

static void store(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be,
		  bool uid)
{
	struct db_uid_ranges ranges;
	struct imap_store st;
	struct store_ctx ctx = { .s = s, .uid = uid };
	const char *problem;
	char err[256];
	enum db_result r;
	int mode;

	if (cmd->nargs < 3) {
		imap_reply(s, "BAD", NULL, "STORE expects a sequence set, an action and flags");
		return;
	}
	if (imap_msgset(s, &cmd->args[0], uid, &ranges, &problem) < 0 ||
	    imap_store_parse(&s->arena, &cmd->args[1], &st, &problem) < 0) {
		imap_reply(s, "BAD", NULL, "%s", problem);
		return;
	}
	if (s->view->readonly) {
		imap_reply(s, "NO", "READ-ONLY", "Mailbox is read-only");
		return;
	}
	/* RFC 4314 §4: \Seen needs "s", \Deleted "t", the rest "w"; flags
	 * the caller may not change are left out, and only a STORE that can
	 * change none of its flags fails. */
	{
		unsigned allowed_flags;
		bool allowed_keywords;
		if (!acl_store_permitted(s->view->rights, st.flags.system, st.flags.nkeywords > 0,
					 &allowed_flags, &allowed_keywords)) {
			imap_reply(s, "NO", "NOPERM", "Permission denied");
			return;
		}
		st.flags.system = allowed_flags;
		if (!allowed_keywords)
			st.flags.nkeywords = 0;
	}
	if (!imap_db_ready(s, be))
		return;
	ctx.silent = st.silent;
	/* A keyword new to the mailbox is announced before any FETCH uses it:
	 * by store_row, or by the sync below when .SILENT. */
	mode = st.mode == IMAP_STORE_REPLACE ? 0 : st.mode == IMAP_STORE_ADD ? 1 : 2;
	r = ranges.count == 0 ? DB_OK :
	    db_store_flags(be->db, s->account_id, s->view->mailbox_id, &ranges, mode, st.flags.system,
			   imap_keywords_array(s, &st.flags), s->cfg->max_keywords_per_mailbox,
			   store_row, &ctx, err, sizeof(err));
	if (r == DB_FAILED) {
		log_warning("%s: STORE failed: %s", s->peer, err);
		imap_reply(s, "NO", "UNAVAILABLE", "Mail store temporarily unavailable, try again later");
		return;
	}
	if (r == DB_LIMIT) {
		/* RFC 5530 §3 LIMIT: "the number of flags used in a mailbox". */
		imap_reply(s, "NO", "LIMIT", "Too many keywords in this mailbox (at most %ld); nothing stored",
			   s->cfg->max_keywords_per_mailbox);
		return;
	}
	imap_view_sync(s, be, false);
	imap_reply(s, "OK", NULL, "%s completed", uid ? "UID STORE" : "STORE");
}

void cmd_store(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	store(s, cmd, be, false);
}

void cmd_uid_store(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	store(s, cmd, be, true);
}
