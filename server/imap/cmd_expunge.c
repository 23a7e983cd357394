/* EXPUNGE (RFC 3501 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1). */
#include "server/imap/commands.h"
#include "server/imap/msgset.h"
#include "acl/acl.h"
#include "server/imap/view.h"
#include "server/core/log.h"
#include "schema/db_message.h"

static void expunged(void *ctx, uint32_t uid, uint64_t modseq)
{
	struct imap_session *s = ctx;
	uint32_t msn;

	(void)modseq;
	/* Ascending UIDs, each removed before the next is numbered: every
	 * EXPUNGE response carries the number as it is at that moment. */
	msn = imap_view_remove(s->view, uid);
	if (msn != 0)
		imap_untagged(s, "%u EXPUNGE", msn);
}

static void expunge(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be,
		    bool uid)
{
	struct db_uid_ranges ranges, *set = NULL;
	const char *problem;
	char err[256];

	if (cmd->nargs != (uid ? 1u : 0u)) {
		imap_reply(s, "BAD", NULL, uid ? "UID EXPUNGE expects a UID set" : "EXPUNGE takes no arguments");
		return;
	}
	if (uid) {
		if (imap_msgset(s, &cmd->args[0], true, &ranges, &problem) < 0) {
			imap_reply(s, "BAD", NULL, "%s", problem);
			return;
		}
		set = &ranges;
	}
	if (s->view->readonly) {
		imap_reply(s, "NO", "READ-ONLY", "Mailbox is read-only");
		return;
	}
	if (!(s->view->rights & ACL_EXPUNGE)) {        /* RFC 4314 §4 */
		imap_reply(s, "NO", "NOPERM", "Permission denied");
		return;
	}
	if (!imap_db_ready(s, be))
		return;
	/* Other sessions' expunges first, so numbering agrees with the client. */
	imap_view_sync(s, be, true);
	if ((set == NULL || set->count > 0) &&
	    db_expunge(be->db, s->view->mailbox_id, set, expunged, s, err, sizeof(err)) == DB_FAILED) {
		log_warning("%s: EXPUNGE failed: %s", s->peer, err);
		imap_reply(s, "NO", "UNAVAILABLE", "Mail store temporarily unavailable, try again later");
		return;
	}
	imap_reply(s, "OK", NULL, "%s completed", uid ? "UID EXPUNGE" : "EXPUNGE");
}

void cmd_expunge(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	expunge(s, cmd, be, false);
}

void cmd_uid_expunge(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	expunge(s, cmd, be, true);
}
