/* The one pipeline every command runs through (docs/architecture.md, "How
 * a command flows"): after the session found the command in the table and
 * checked the state, dispatch
 *
 *   1. checks the database connection (unless the command needs none),
 *   2. runs the command's check step: every argument parsed and validated
 *      before any SQL (OpenSMTPD's check, then proceed),
 *   3. on the selected mailbox, reads what changed and the ACL in one
 *      round trip (none when the change bus says nothing changed),
 *      reports the changes and re-evaluates the caller's rights (a right
 *      revoked by SETACL or in LDAP takes effect at the next command),
 *      refuses a change to a read-only mailbox, and checks the operation
 *      the table names (EXPUNGE's "e", MOVE's "t" and "e", STORE's
 *      rights by flag),
 *   4. resolves the mailbox the table's mailbox_arg names, in whichever
 *      namespace, with its ACL, and checks the table's operation on it,
 *   5. runs the handler,
 *   6. puts what the command changed on the change bus (mailboxes, and
 *      names and subscriptions for NOTIFY) and settles the
 *      session's own STORE or EXPUNGE into its view (view_own.c), and
 *   7. writes the result, whatever it is, as the one tagged response, and
 *      logs it (imap_session_reply).
 *
 * A handler therefore starts with its arguments valid, its mailbox
 * resolved in s->mailbox and its rights granted, and returns its result. */
#include "server/imap/commands.h"
#include "server/imap/mailbox_name.h"
#include "server/imap/quota.h"
#include "server/imap/rights.h"
#include "server/imap/view.h"
#include "server/bus/bus.h"
#include "server/core/log.h"
#include "server/core/metrics.h"
#include "schema/db.h"
#include "schema/db_message.h"

#include <string.h>

bool imap_store_ready(struct imap_session *s, struct imap_backend *be, struct imap_result *res_r)
{
	if (db_ensure(be->db) == 0)
		return true;
	*res_r = imap_store_failed(s, "connecting", db_error(be->db));
	return false;
}

/* Nothing the session would read can have changed: the change bus says
 * the mailbox (its messages and its ACL) is as the session last read it,
 * the caller's groups are the same, and no expunge waits to be reported.
 * Then the command runs without reading the changes: no SQL at all for a
 * FETCH of flags (docs/architecture.md, "Design decisions", 3). */
static bool unchanged(const struct imap_session *s, const struct imap_view *v, bool allow_expunge)
{
	return v->groups_gen == s->groups_gen && !imap_view_wants_private_log(s) &&
	       (!allow_expunge || v->expunge_modseq == v->modseq) &&
	       bus_current(v->bus, v->mailbox_id, v->reader, v->modseq, v->private_modseq, v->bus_gen);
}

/* Step 3: RFC 4314 §4 with rights that change under an open session
 * (SETACL, a group membership revoked in LDAP): the mailbox's changes and
 * its ACL come in one round trip, the changes are reported, and the rights
 * are evaluated afresh. Losing "r" closes the mailbox. */
static bool sync_selected(struct imap_session *s, struct imap_backend *be, bool allow_expunge,
			  acl_rights *rights_r, struct imap_result *res_r)
{
	struct imap_view *v = s->view;
	acl_rights rights;

	if (!imap_rights_refresh_groups(s, be, res_r))
		return false;
	if (unchanged(s, v, allow_expunge))
		rights = v->rights;
	else {
		struct db_sync_acl acl;
		struct acl_caller caller;
		if (!imap_view_sync(s, be, allow_expunge, &acl, res_r))
			return false;
		imap_rights_caller(s, &caller);
		rights = imap_rights_evaluate(s, &caller, acl.owner_id == s->account_id, acl.rows,
					      acl.nrows, v->mailbox_id);
		v->rights = rights;
		v->groups_gen = s->groups_gen;
	}
	if (!(rights & ACL_READ)) {
		imap_session_unselect(s);
		imap_untagged(s, "OK [CLOSED] Access to the mailbox was withdrawn");
		*res_r = imap_no(s, "NOPERM", "Access to the mailbox was withdrawn");
		return false;
	}
	*rights_r = rights;
	return true;
}

bool imap_sync_selected(struct imap_session *s, struct imap_backend *be, bool allow_expunge,
			struct imap_result *res_r)
{
	acl_rights rights;

	return imap_store_ready(s, be, res_r) && sync_selected(s, be, allow_expunge, &rights, res_r);
}

static bool check_selected(struct imap_session *s, struct imap_backend *be,
			   struct imap_result *res_r)
{
	const struct imap_command_def *def = s->def;
	acl_rights rights;

	if (!sync_selected(s, be, !(def->flags & IMAP_CMD_HOLD_EXPUNGE), &rights, res_r))
		return false;
	if ((def->flags & IMAP_CMD_WRITES) && s->view->readonly) {
		*res_r = imap_no(s, "READ-ONLY", "Mailbox is read-only");
		return false;
	}
	if (!imap_rights_check(s, def->selected_op, rights, NULL, res_r))
		return false;
	return def->authorize == NULL || def->authorize(s, rights, res_r);
}

/* Step 4: the mailbox the table names. */
static bool check_mailbox(struct imap_session *s, struct imap_backend *be,
			  struct imap_result *res_r)
{
	const struct imap_command_def *def = s->def;
	const struct imap_arg *arg;
	struct imap_mailbox_acl *acl;
	const char *name, *problem, *shown;
	enum imap_name_status st;
	size_t len;

	if (s->cmd->nargs < def->mailbox_arg) {
		*res_r = imap_bad(s, NULL, "%s expects a mailbox name", def->name);
		return false;
	}
	arg = &s->cmd->args[def->mailbox_arg - 1];
	if ((st = imap_mailbox_arg(s, arg, &name, &len, &problem)) != IMAP_NAME_OK) {
		/* A name that cannot exist: even a target gets no TRYCREATE,
		 * which would invite a CREATE that must fail. */
		*res_r = imap_mailbox_name_refused(s, st, "NONEXISTENT", problem);
		return false;
	}
	acl = arena_alloc(&s->arena, sizeof(*acl));
	if (!imap_mailbox_resolve(s, be, name, acl, res_r))
		return false;
	s->mailbox = acl;
	if (!acl->exists) {
		if (def->flags & IMAP_CMD_TARGET)
			return true; /* the handler says TRYCREATE or NONEXISTENT */
		*res_r = imap_no(s, "NONEXISTENT", "No such mailbox");
		return false;
	}
	shown = arena_strndup(&s->arena, arg->u.str.data, arg->u.str.len);
	return imap_rights_check(s, def->op, acl->rights, shown, res_r);
}

static struct imap_result check(struct imap_session *s, struct imap_backend *be)
{
	const struct imap_command_def *def = s->def;
	struct imap_result r = { .status = IMAP_RESULT_OK };
	bool selected = (def->flags & IMAP_CMD_MESSAGES) && s->view != NULL;

	if ((def->flags & IMAP_CMD_DESELECT) && s->view != NULL) {
		imap_session_unselect(s);
		/* RFC 9051 §7.1, RFC 7162 §3.2.11: the boundary between the
		 * responses of the mailbox closed and those of the new one,
		 * for clients that know the code. */
		if (s->imap4rev2 || s->qresync)
			imap_untagged(s, "OK [CLOSED] Previous mailbox closed");
	}
	if (be != NULL && (!(def->flags & IMAP_CMD_NO_STORE) || selected)) {
		metrics_add(METRICS_STORE_COMMANDS, 1);
		if (!imap_store_ready(s, be, &r))
			return r;
	}
	if (def->check != NULL && (r = def->check(s, s->cmd), !imap_result_ok(&r)))
		return r;
	if (selected && !check_selected(s, be, &r))
		return r;
	if (def->mailbox_arg > 0 && !check_mailbox(s, be, &r))
		return r;
	return r;
}

/* The mailboxes a command changed go on the change bus before its OK goes
 * out, so that every session's next command, here or in another process,
 * sees them: the named mailbox of a successful command that writes to it
 * (APPEND, COPY, MOVE, DELETE, SETACL, DELETEACL), and what a handler
 * reported itself when its change committed (STORE only when a flag
 * changed, EXPUNGE, MOVE's source, FETCH's implicit \Seen, CLOSE's
 * expunge: announced even when the command then fails). */
static void announce_changes(struct imap_session *s, struct imap_backend *be, bool ok)
{
	const struct imap_command_def *def = s->def;

	if (ok && (def->flags & IMAP_CMD_CHANGES_MAILBOX) && s->mailbox != NULL &&
	    s->mailbox->exists)
		imap_session_changed(s, s->mailbox->mailbox_id);
	if (ok && (def->flags & IMAP_CMD_CHANGES_NAMES))
		bus_changed_names(be->bus, s->account_id);
	for (size_t i = 0; i < s->nchanged; i++)
		if (s->changed_private[i])
			bus_changed_private(be->bus, s->changed[i], s->account_id);
		else
			bus_changed(be->bus, s->changed[i]);
}

/* RFC 7162 (erratum 1810 on RFC 5162): while FETCH, STORE or SEARCH hold
 * back expunges (RFC 3501 §7.4.1), the MODSEQs they report may be above
 * an expunge the client has not been told of; a client that reconnected
 * from the highest of them would miss it. So the session says how far it
 * really is complete: a HIGHESTMODSEQ below the held expunges. */
static void held_expunges_modseq(struct imap_session *s)
{
	const struct imap_view *v = s->view;

	if (v != NULL && s->condstore && (s->def->flags & IMAP_CMD_HOLD_EXPUNGE) &&
	    v->expunges_held)
		imap_untagged(s, "OK [HIGHESTMODSEQ %llu] Expunges pending",
			      (unsigned long long)v->expunge_modseq);
}

/* Steps 1 and 4 for APPEND's first message literal, before its "+"
 * (session.c); a personal mailbox that does not exist is TRYCREATE now
 * rather than after the upload, and a message the quota cannot take is
 * OVERQUOTA now (RFC 9208 §4.3), before the client sends its bytes. */
static bool literal_check(struct imap_session *s, struct imap_backend *be,
			  struct imap_result *res_r)
{
	uint64_t len = imap_parser_pending_literal(s->parser);

	if (!imap_store_ready(s, be, res_r) || !check_mailbox(s, be, res_r))
		return false;
	if (s->mailbox->exists) {
		if (!imap_quota_check(s, be, s->mailbox->owner_id, len, 1, res_r))
			return false;
		s->literal_quota_checked = len;
		return true;
	}
	if (imap_target_store_name(s, s->mailbox, res_r) != NULL)
		*res_r = imap_no(s, "TRYCREATE", "No such mailbox");
	return false;
}

void imap_session_literal_check(struct imap_session *s, struct imap_backend *be)
{
	struct imap_result r;

	s->literal_refused = NULL;
	if (literal_check(s, be, &r))
		return;
	s->literal_refused = arena_alloc(&s->arena, sizeof(r));
	*s->literal_refused = r;
}

void imap_session_execute(struct imap_session *s, struct imap_backend *be)
{
	struct imap_result r;

	r = check(s, be);
	if (imap_result_ok(&r))
		r = s->def->fn(s, s->cmd, be);
	if (be != NULL) {
		announce_changes(s, be, imap_result_ok(&r));
		imap_view_settle(s);
	}
	held_expunges_modseq(s);
	/* An idling session whose store went away (a restart, a failover)
	 * keeps idling: the change bus's reconnect, or the idle poll while
	 * it is down, wakes it again. Ending the IDLE would only make the
	 * client issue it again into the same outage. */
	if (imap_session_idling(s) && r.status == IMAP_RESULT_NO && r.code != NULL &&
	    strcmp(r.code, "UNAVAILABLE") == 0) {
		log_warning("%s: IDLE goes on without the store: %s", s->peer,
			    r.detail != NULL ? r.detail : r.text);
		r = imap_continues();
	}
	imap_session_reply(s, &r);
}
