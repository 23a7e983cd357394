/* EXPUNGE (RFC 3501 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1). */
#include "server/imap/commands.h"
#include "server/imap/msgset.h"
#include "server/imap/view.h"
#include "schema/db_message.h"

struct expunge_ctx {
	struct imap_session *s;
	uint32_t *uids;             /* removed, ascending, in the arena */
	size_t n, cap;
	uint64_t modseq;            /* the expunge's */
};

static void expunged(void *ctx, uint32_t uid, uint64_t modseq)
{
	struct expunge_ctx *e = ctx;

	e->uids = arena_grow(&e->s->arena, e->uids, e->n, &e->cap, sizeof(*e->uids));
	e->uids[e->n++] = uid;
	e->modseq = modseq;
	imap_view_own_expunge(e->s, uid, modseq);
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
	struct expunge_ctx e = { .s = s };
	char err[256];

	/* Other sessions' expunges were reported first by dispatch, so the
	 * numbering agrees with the client. */
	if (set != NULL && set->count == 0)
		return imap_done(s);
	if (db_expunge(be->db, s->view->mailbox_id, set, expunged, &e, err, sizeof(err)) == DB_FAILED)
		return imap_store_failed(s, "expunging", err);
	imap_view_report_expunges(s, e.uids, e.n);
	/* With CONDSTORE the new HIGHESTMODSEQ comes in the tagged OK (as in
	 * RFC 7162's QRESYNC examples), so the client knows where it stands
	 * after the VANISHED without asking. */
	if (s->condstore && e.n > 0)
		return imap_ok(s, arena_printf(&s->arena, "HIGHESTMODSEQ %llu",
					       (unsigned long long)(e.modseq > s->view->private_modseq ?
								    e.modseq : s->view->private_modseq)),
			       "%s completed", s->cmd->name);
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
