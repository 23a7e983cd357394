/* Opening and closing mailboxes: SELECT, EXAMINE (RFC 3501 §6.3.1-2),
 * CHECK, CLOSE (§6.4.1-2), UNSELECT (RFC 3691). */
#include "server/imap/commands.h"
#include "server/imap/rights.h"
#include "server/imap/view.h"
#include "schema/db_message.h"

#include <stdlib.h>

struct imap_result imap_check_no_args(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs != 0)
		return imap_bad(s, NULL, "%s takes no arguments", cmd->name);
	return imap_ok(s, NULL, "checked");
}

/* The mailbox name itself is checked by dispatch (mailbox_arg). */
struct imap_result imap_check_select(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs != 1)
		return imap_bad(s, NULL, "%s expects one mailbox name", cmd->name);
	return imap_ok(s, NULL, "checked");
}

/* Dispatch has deselected (§6.3.1: even a failing SELECT does), resolved
 * the mailbox and checked "r". */
static struct imap_result select_mailbox(struct imap_session *s, struct imap_backend *be,
					 bool readonly)
{
	const struct imap_mailbox_acl *acl = s->mailbox;
	struct imap_result res;
	struct imap_view *v;
	uint32_t first_unseen, unseen_msn;

	/* RFC 4314 §4: with "r" but none of the rights to change anything,
	 * the mailbox opens read-only. */
	if (!(acl->rights & (ACL_SEEN | ACL_WRITE | ACL_INSERT | ACL_DELETE_MSG | ACL_EXPUNGE)))
		readonly = true;
	if (!imap_view_open(s, be, acl, readonly, &first_unseen, &res))
		return res;
	v = s->view;
	imap_session_set_state(s, IMAP_STATE_SELECTED);

	imap_view_write_flags(s, v);
	imap_untagged(s, "%u EXISTS", imap_view_count(v));
	imap_untagged(s, "%u RECENT", imap_view_recent_count(v));
	unseen_msn = first_unseen != 0 ? imap_view_msn(v, first_unseen) : 0;
	if (unseen_msn != 0)
		imap_untagged(s, "OK [UNSEEN %u] First unseen message", unseen_msn);
	imap_untagged(s, "OK [UIDVALIDITY %u] UIDs valid", v->uidvalidity);
	imap_untagged(s, "OK [UIDNEXT %u] Predicted next UID", v->uidnext);
	return imap_ok(s, readonly ? "READ-ONLY" : "READ-WRITE", "%s completed", s->cmd->name);
}

struct imap_result cmd_select(struct imap_session *s, const struct imap_command *cmd,
			      struct imap_backend *be)
{
	(void)cmd;
	return select_mailbox(s, be, false);
}

struct imap_result cmd_examine(struct imap_session *s, const struct imap_command *cmd,
			       struct imap_backend *be)
{
	(void)cmd;
	return select_mailbox(s, be, true);
}

/* §6.4.1: nothing to flush (every change is committed before its OK);
 * like NOOP it reports what changed, which dispatch did. */
struct imap_result cmd_check(struct imap_session *s, const struct imap_command *cmd,
			     struct imap_backend *be)
{
	(void)cmd;
	(void)be;
	return imap_done(s);
}

static void noop_expunge(void *ctx, uint32_t uid, uint64_t modseq)
{
	(void)ctx;
	(void)uid;
	(void)modseq;
}

/* §6.4.2: CLOSE expunges silently (read-write only, and RFC 4314 §4: only
 * with "e", never failing for its lack); UNSELECT does not. */
struct imap_result cmd_close(struct imap_session *s, const struct imap_command *cmd,
			     struct imap_backend *be)
{
	char err[256];

	(void)cmd;
	if (s->view != NULL && !s->view->readonly && (s->view->rights & ACL_EXPUNGE)) {
		if (db_expunge(be->db, s->view->mailbox_id, NULL, noop_expunge, NULL, err,
			       sizeof(err)) == DB_FAILED)
			return imap_store_failed(s, "expunging at CLOSE", err);
		imap_session_changed(s, s->view->mailbox_id);
	}
	imap_session_unselect(s);
	return imap_done(s);
}

struct imap_result cmd_unselect(struct imap_session *s, const struct imap_command *cmd,
				struct imap_backend *be)
{
	(void)cmd;
	(void)be;
	imap_session_unselect(s);
	return imap_done(s);
}
