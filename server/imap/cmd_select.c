/* Opening and closing mailboxes: SELECT, EXAMINE (RFC 3501 §6.3.1-2),
 * CHECK, CLOSE (§6.4.1-2), UNSELECT (RFC 3691). */
#include "server/imap/commands.h"
#include "server/imap/mailbox_name.h"
#include "server/imap/rights.h"
#include "server/imap/view.h"
#include "server/core/log.h"
#include "schema/db_message.h"

#include <stdlib.h>

/* Checks the connection first, answering NO [UNAVAILABLE] itself. */
bool imap_db_ready(struct imap_session *s, struct imap_backend *be)
{
	if (db_ensure(be->db) == 0)
		return true;
	log_warning("%s: database unavailable: %s", s->peer, db_error(be->db));
	imap_reply(s, "NO", "UNAVAILABLE", "Mail store temporarily unavailable, try again later");
	return false;
}

static void select_mailbox(struct imap_session *s, const struct imap_command *cmd,
			   struct imap_backend *be, bool readonly)
{
	const char *name, *problem;
	size_t len;
	struct db_selected sel;
	struct imap_view *v;
	struct imap_mailbox_acl acl;
	enum db_result r;
	char err[256];
	uint32_t unseen_msn;

	if (cmd->nargs != 1) {
		imap_reply(s, "BAD", NULL, "%s expects one mailbox name", cmd->name);
		return;
	}
	if (imap_mailbox_arg(s, &cmd->args[0], &name, &len, &problem) < 0) {
		imap_reply(s, "BAD", NULL, "%s", problem);
		return;
	}
	/* RFC 3501 §6.3.1: a SELECT, even a failing one, first deselects. */
	imap_session_unselect(s);
	if (!imap_db_ready(s, be) ||
	    !imap_mailbox_require(s, be, name, readonly ? ACL_OP_EXAMINE : ACL_OP_SELECT, &acl))
		return;
	if (!acl.exists) {
		imap_reply(s, "NO", "NONEXISTENT", "No such mailbox");
		return;
	}
	/* RFC 4314 §4: with "r" but none of the rights to change anything,
	 * the mailbox opens read-only. */
	if (!(acl.rights & (ACL_SEEN | ACL_WRITE | ACL_INSERT | ACL_DELETE_MSG | ACL_EXPUNGE)))
		readonly = true;
	r = db_mailbox_open(be->db, s->account_id, acl.owner_id, acl.store_name, !readonly, &sel,
			    err, sizeof(err));
	if (r == DB_FAILED) {
		log_warning("%s: cannot open mailbox: %s", s->peer, err);
		imap_reply(s, "NO", "UNAVAILABLE", "Mail store temporarily unavailable, try again later");
		return;
	}
	if (r == DB_NOT_FOUND) {
		imap_reply(s, "NO", "NONEXISTENT", "No such mailbox");
		return;
	}
	v = xcalloc(1, sizeof(*v));
	imap_view_open(v, name, readonly, &sel);
	v->rights = acl.rights;
	db_selected_free(&sel);
	s->view = v;
	imap_session_set_state(s, IMAP_STATE_SELECTED);

	imap_view_write_flags(s, v);
	imap_untagged(s, "%zu EXISTS", v->count);
	imap_untagged(s, "%u RECENT", imap_view_recent_count(v));
	unseen_msn = sel.first_unseen != 0 ? imap_view_msn(v, sel.first_unseen) : 0;
	if (unseen_msn != 0)
		imap_untagged(s, "OK [UNSEEN %u] First unseen message", unseen_msn);
	imap_untagged(s, "OK [UIDVALIDITY %u] UIDs valid", v->uidvalidity);
	imap_untagged(s, "OK [UIDNEXT %u] Predicted next UID", v->uidnext);
	imap_reply(s, "OK", readonly ? "READ-ONLY" : "READ-WRITE", "%s completed", cmd->name);
}

void cmd_select(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	select_mailbox(s, cmd, be, false);
}

void cmd_examine(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	select_mailbox(s, cmd, be, true);
}

/* §6.4.1: nothing to flush (every change is committed before its OK);
 * like NOOP it reports what changed. */
void cmd_check(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	if (cmd->nargs != 0) {
		imap_reply(s, "BAD", NULL, "CHECK takes no arguments");
		return;
	}
	if (!imap_db_ready(s, be))
		return;
	imap_view_sync(s, be, true);
	imap_reply(s, "OK", NULL, "CHECK completed");
}

static void noop_expunge(void *ctx, uint32_t uid, uint64_t modseq)
{
	(void)ctx;
	(void)uid;
	(void)modseq;
}

/* §6.4.2: CLOSE expunges silently (read-write only); UNSELECT does not. */
static void close_mailbox(struct imap_session *s, const struct imap_command *cmd,
			  struct imap_backend *be, bool expunge)
{
	char err[256];

	if (cmd->nargs != 0) {
		imap_reply(s, "BAD", NULL, "%s takes no arguments", cmd->name);
		return;
	}
	/* RFC 4314 §4: CLOSE expunges only with "e", and never fails for it. */
	if (expunge && !s->view->readonly && (s->view->rights & ACL_EXPUNGE)) {
		if (!imap_db_ready(s, be))
			return;
		if (db_expunge(be->db, s->view->mailbox_id, NULL, noop_expunge, NULL, err,
			       sizeof(err)) == DB_FAILED) {
			log_warning("%s: CLOSE cannot expunge: %s", s->peer, err);
			imap_reply(s, "NO", "UNAVAILABLE", "Mail store temporarily unavailable, try again later");
			return;
		}
	}
	imap_session_unselect(s);
	imap_reply(s, "OK", NULL, "%s completed", cmd->name);
}

void cmd_close(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	close_mailbox(s, cmd, be, true);
}

void cmd_unselect(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	close_mailbox(s, cmd, be, false);
}
