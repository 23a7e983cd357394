/* EXPUNGE (RFC 3501 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1). */
#include "server/imap/commands.h"
#include "server/imap/msgset.h"
#include "server/imap/view.h"
#include "schema/db_message.h"

static void expunged(void *ctx, uint32_t uid, uint64_t modseq)
{
	/* Ascending UIDs, each removed before the next is numbered: every
	 * EXPUNGE response carries the number as it is at that moment. */
	imap_view_expunged(ctx, uid);
	imap_view_own_expunge(ctx, uid, modseq);
}

struct imap_result imap_check_uid_expunge(struct imap_session *s, const struct imap_command *cmd)
{
	struct db_uid_ranges *set = arena_alloc(&s->arena, sizeof(*set));
	const char *problem;

	if (cmd->nargs != 1)
		return imap_bad(s, NULL, "UID EXPUNGE expects a UID set");
	if (imap_msgset(s, &cmd->args[0], true, set, &problem) < 0)
		return imap_bad(s, NULL, "%s", problem);
	s->parsed = set;
	return imap_ok(s, NULL, "checked");
}

/* Dispatch has checked "e" and that the mailbox is read-write. set is
 * NULL for EXPUNGE (every \Deleted message). */
static struct imap_result expunge(struct imap_session *s, struct imap_backend *be,
				  const struct db_uid_ranges *set)
{
	char err[256];

	/* Other sessions' expunges were reported first by dispatch, so the
	 * numbering agrees with the client. */
	if (set != NULL && set->count == 0)
		return imap_done(s);
	if (db_expunge(be->db, s->view->mailbox_id, set, expunged, s, err, sizeof(err)) == DB_FAILED)
		return imap_store_failed(s, "expunging", err);
	imap_session_changed(s, s->view->mailbox_id);
	return imap_done(s);
}

struct imap_result cmd_expunge(struct imap_session *s, const struct imap_command *cmd,
			       struct imap_backend *be)
{
	(void)cmd;
	return expunge(s, be, NULL);
}

struct imap_result cmd_uid_expunge(struct imap_session *s, const struct imap_command *cmd,
				   struct imap_backend *be)
{
	(void)cmd;
	return expunge(s, be, s->parsed);
}
