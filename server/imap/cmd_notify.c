/* NOTIFY (RFC 5465): NOTIFY SET [STATUS] event-groups, NOTIFY NONE, and
 * the unsolicited responses between commands (notify.h has the pieces).
 *
 * A NOTIFY SET replaces the previous one only once its first scan worked:
 * a failure (NO [UNAVAILABLE], NO [NOTIFICATIONOVERFLOW]) leaves the
 * session as it was. */
#include "server/imap/args.h"
#include "server/imap/commands.h"
#include "server/imap/notify.h"
#include "server/imap/view.h"
#include "server/core/log.h"

#include <stdio.h>
#include <string.h>

struct notify_request {
	struct imap_notify *n;     /* NULL: NOTIFY NONE */
	bool status;
};

/* The whole command is parsed here (notify_args.c), before any SQL. The
 * table runs it without a store check first, so that nothing fails
 * between this step and the handler, which takes the parsed state over. */
struct imap_result imap_check_notify(struct imap_session *s, const struct imap_command *cmd)
{
	struct notify_request *req = arena_alloc(&s->arena, sizeof(*req));
	struct imap_result r;

	memset(req, 0, sizeof(*req));
	if (cmd->nargs == 1 && imap_arg_atom_is(&cmd->args[0], "NONE")) {
		s->parsed = req;
		return imap_ok(s, NULL, "checked");
	}
	if (cmd->nargs == 0 || !imap_arg_atom_is(&cmd->args[0], "SET"))
		return imap_bad(s, NULL, "NOTIFY expects SET or NONE");
	r = imap_notify_parse(s, &cmd->args[1], &req->n, &req->status);
	if (imap_result_ok(&r))
		s->parsed = req;
	return r;
}

struct imap_result cmd_notify(struct imap_session *s, const struct imap_command *cmd,
			      struct imap_backend *be)
{
	struct notify_request *req = s->parsed;
	struct imap_notify *old = s->notify;
	struct imap_result r;
	bool overflow;

	(void)cmd;
	if (req->n == NULL) {
		imap_notify_free(&s->notify);
		return imap_ok(s, NULL, "NOTIFY NONE completed");
	}
	req->n->bus = be->bus;
	s->notify = req->n;
	req->n = NULL;
	/* RFC 5465 §3.1: with STATUS, the STATUS of every mailbox named
	 * (but the selected one) before the tagged OK. */
	if (!imap_notify_scan(s, be, true, req->status, &overflow, &r) || overflow) {
		imap_notify_free(&s->notify);
		s->notify = old;
		if (overflow)
			return imap_no(s, "NOTIFICATIONOVERFLOW", "NOTIFY names more than %d mailboxes",
				       IMAP_NOTIFY_MAX_MAILBOXES);
		return r;
	}
	imap_notify_free(&old);
	imap_notify_fetch_new(s, be);   /* where the selected mailbox stands */
	return imap_ok(s, NULL, "NOTIFY completed");
}

/* MessageNew's fetch attributes (RFC 5465 §5.2) for the messages the sync
 * just reported: as a UID FETCH of them, whose untagged responses are
 * sent, not its tagged one. */
static void fetch_range(struct imap_session *s, struct imap_backend *be, uint32_t from, uint32_t to)
{
	struct imap_command cmd;
	struct imap_arg *args = arena_alloc(&s->arena, 3 * sizeof(*args));
	char set[32];
	struct imap_result r;

	memset(&cmd, 0, sizeof(cmd));
	memset(args, 0, 3 * sizeof(*args));
	snprintf(set, sizeof(set), "%u:%u", from, to);
	args[0].type = IMAP_ARG_ATOM;
	args[0].u.str.data = arena_strndup(&s->arena, set, strlen(set));
	args[0].u.str.len = strlen(set);
	args[1] = *s->notify->fetch_atts;
	args[2].type = IMAP_ARG_EOL;
	cmd.tag = "*";
	memcpy(cmd.name, "UID FETCH", sizeof("UID FETCH"));
	cmd.args = args;
	cmd.nargs = 2;
	/* The handler names its command in its result (imap_done). */
	s->cmd = &cmd;
	r = imap_check_fetch(s, &cmd);
	if (imap_result_ok(&r))
		r = cmd_fetch(s, &cmd, be);
	s->cmd = NULL;
	s->parsed = NULL;
	if (r.status != IMAP_RESULT_OK && r.detail != NULL)
		log_warning("%s: NOTIFY MessageNew fetch: %s", s->peer, r.detail);
}

/* The selected mailbox between commands (RFC 5465 §6.1, §6.2): what NOOP
 * would report, expunges held back for selected-delayed. */
void imap_notify_fetch_new(struct imap_session *s, struct imap_backend *be)
{
	struct imap_notify *n = s->notify;
	uint32_t from;

	if (n == NULL || n->fetch_atts == NULL || s->view == NULL || !n->selected_set)
		return;
	if (n->fetched_mailbox != s->view->mailbox_id) {
		n->fetched_mailbox = s->view->mailbox_id;
		n->fetched_uidnext = s->view->uidnext;
		return;
	}
	if (s->view->uidnext <= n->fetched_uidnext)
		return;
	from = n->fetched_uidnext;
	n->fetched_uidnext = s->view->uidnext;
	fetch_range(s, be, from, s->view->uidnext - 1);
}

static void sync_selected(struct imap_session *s, struct imap_backend *be)
{
	const struct imap_notify *n = s->notify;
	struct imap_result r;

	if (s->view == NULL || !n->selected_set || !(n->selected_events & IMAP_NOTIFY_MESSAGE_EVENTS) ||
	    imap_session_idling(s))
		return;   /* during IDLE, IDLE's own sync reports it */
	imap_notify_fetch_new(s, be);   /* where it stands before */
	if (!imap_sync_selected(s, be, !n->selected_delayed, &r)) {
		if (r.detail != NULL)
			log_warning("%s: NOTIFY: %s", s->peer, r.detail);
		return;
	}
	imap_notify_fetch_new(s, be);
}

void imap_notify_unsolicited(struct imap_session *s, struct imap_backend *be)
{
	struct imap_result r;
	bool overflow;

	if (s->notify == NULL)
		return;
	if (!imap_notify_scan(s, be, false, false, &overflow, &r)) {
		log_warning("%s: NOTIFY scan: %s", s->peer, r.detail != NULL ? r.detail : r.text);
		return;
	}
	if (overflow) {
		/* RFC 5465 §5.8: "behave as if a NOTIFY NONE command had
		 * just been received". */
		imap_untagged(s, "OK [NOTIFICATIONOVERFLOW] More than %d mailboxes to watch; NOTIFY is off",
			      IMAP_NOTIFY_MAX_MAILBOXES);
		imap_notify_free(&s->notify);
		return;
	}
	sync_selected(s, be);
}
