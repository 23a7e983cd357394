/* Mailbox names: CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE
 * (RFC 3501 §6.3.3-7). Each handler checks its arguments, refuses what can
 * never succeed (INBOX rules, a mailbox into itself) without touching the
 * store, then makes one call to schema/ and maps its outcome to one tagged
 * response with an RFC 5530 code. */
#include "server/imap/commands.h"
#include "server/imap/rights.h"
#include "server/imap/mailbox_name.h"
#include "server/imap/view.h"
#include "server/core/log.h"
#include "schema/db_mailbox.h"

#include <string.h>

struct new_place {
	int64_t owner;
	const char *store_name;
	int64_t parent;         /* the existing parent, whose ACL CREATE copies; 0 if none */
};

/* Where a new name (CREATE, RENAME's target) goes: its owner and its name
 * in the owner's namespace, after RFC 4314 §4's check of op ("k") on its
 * parent. Personal names: a top-level name is created in the caller's own
 * root, and a parent that does not exist is created with the name
 * (§6.3.3), so only an existing parent is checked. Elsewhere the parent
 * must exist and grant "k"; a child of an owner's root is a top-level name
 * of that owner. Every denial gets the same answer, so that it tells
 * nothing about the parent's existence. false when answered. */

static bool place_new_name(struct imap_session *s, struct imap_backend *be, const char *name,
			   size_t len, enum acl_operation op, struct new_place *to)
{
	struct imap_mailbox_acl acl;
	struct imap_ns_name where;
	const char *slash = memrchr(name, IMAP_MAILBOX_DELIM, len);
	char *parent;

	imap_ns_split(&s->arena, name, len, &where);
	if (where.ns == IMAP_NS_PERSONAL && imap_ns_reserved(name, len)) {
		imap_reply(s, "NO", "CANNOT", "The name of a namespace cannot be a mailbox");
		return false;
	}
	if (where.ns != IMAP_NS_PERSONAL && where.name[0] == '\0') {
		imap_reply(s, "NO", "CANNOT", "A namespace or an owner's root cannot be created");
		return false;
	}
	to->owner = s->account_id;
	to->store_name = name;
	to->parent = 0;
	if (slash == NULL)
		return true;
	parent = arena_strndup(&s->arena, name, (size_t)(slash - name));
	if (!imap_mailbox_acl(s, be, parent, &acl))
		return false;
	if (where.ns == IMAP_NS_PERSONAL && !acl.exists)
		return true;
	if (!acl.exists || acl_check(op, acl.rights) != ACL_ALLOW) {
		imap_reply(s, "NO", "NOPERM", "Permission denied");
		return false;
	}
	to->owner = acl.owner_id;
	to->parent = acl.mailbox_id;
	if (where.ns != IMAP_NS_PERSONAL)
		to->store_name = acl.where.name[0] == '\0' ? slash + 1 :
				 arena_printf(&s->arena, "%s/%s", acl.store_name, slash + 1);
	return true;
}

static void store_failed(struct imap_session *s, const char *what, const char *err)
{
	log_warning("%s: %s failed: %s", s->peer, what, err);
	imap_reply(s, "NO", "UNAVAILABLE", "Mail store temporarily unavailable, try again later");
}

/* One mailbox name argument, BAD otherwise. */
static bool one_name(struct imap_session *s, const struct imap_command *cmd, bool create,
		     const char **name_r, size_t *len_r)
{
	const char *problem;
	int r;

	if (cmd->nargs != 1) {
		imap_reply(s, "BAD", NULL, "%s expects one mailbox name", cmd->name);
		return false;
	}
	r = create ? imap_mailbox_arg_create(s, &cmd->args[0], name_r, len_r, &problem) :
		     imap_mailbox_arg(s, &cmd->args[0], name_r, len_r, &problem);
	if (r < 0) {
		imap_reply(s, "BAD", NULL, "%s", problem);
		return false;
	}
	return true;
}

/* The session's selected mailbox is gone or no longer selectable: it is
 * deselected and told so with the CLOSED response code (RFC 7162 §3.2.11,
 * RFC 9051 §7.1), rather than left pointing at nothing. */
static void deselect_if(struct imap_session *s, int64_t mailbox_id)
{
	if (s->view != NULL && s->view->mailbox_id == mailbox_id) {
		imap_session_unselect(s);
		imap_untagged(s, "OK [CLOSED] Mailbox no longer selected");
	}
}

/* §6.3.3 */
void cmd_create(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	const char *name;
	size_t len;
	uint32_t uidvalidity = 0;
	struct new_place to;
	char err[256];

	if (!one_name(s, cmd, true, &name, &len))
		return;
	if (imap_mailbox_is_inbox(name, len)) {
		imap_reply(s, "NO", "ALREADYEXISTS", "INBOX always exists");
		return;
	}
	if (!imap_db_ready(s, be) || !place_new_name(s, be, name, len, ACL_OP_CREATE, &to))
		return;
	switch (db_mailbox_create(be->db, to.owner, to.store_name, to.parent, IMAP_MAILBOXES_PER_ACCOUNT,
				  &uidvalidity, err, sizeof(err))) {
	case DB_MBOX_OK:
		imap_reply(s, "OK", NULL, "CREATE completed");
		break;
	case DB_MBOX_EXISTS:
		imap_reply(s, "NO", "ALREADYEXISTS", "Mailbox already exists");
		break;
	case DB_MBOX_LIMIT:
		imap_reply(s, "NO", "LIMIT", "Too many mailboxes (at most %d)",
			   IMAP_MAILBOXES_PER_ACCOUNT);
		break;
	default:
		store_failed(s, "CREATE", err);
		break;
	}
}

/* §6.3.4. Deleting INBOX is an error; a name with inferiors is kept as a
 * \Noselect placeholder (the RFC's example), and deleting such a
 * placeholder while it still has inferiors is an error. A placeholder
 * whose last inferior goes is kept too, as in the RFC's example, until
 * it is deleted itself. */
void cmd_delete(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	struct imap_mailbox_acl acl;
	const char *name;
	size_t len;
	char err[256];

	if (!one_name(s, cmd, false, &name, &len))
		return;
	if (imap_mailbox_is_inbox(name, len)) {
		imap_reply(s, "NO", "CANNOT", "INBOX cannot be deleted");
		return;
	}
	if (!imap_db_ready(s, be) ||
	    !imap_mailbox_require(s, be, name, ACL_OP_DELETE, &acl))
		return;
	if (!acl.exists) {
		imap_reply(s, "NO", "NONEXISTENT", "No such mailbox");
		return;
	}
	if (imap_mailbox_is_inbox(acl.store_name, strlen(acl.store_name))) {
		imap_reply(s, "NO", "CANNOT", "An owner's INBOX cannot be deleted");
		return;
	}
	switch (db_mailbox_delete(be->db, acl.owner_id, acl.store_name, err, sizeof(err))) {
	case DB_MBOX_OK:
		deselect_if(s, acl.mailbox_id);
		imap_reply(s, "OK", NULL, "DELETE completed");
		break;
	case DB_MBOX_NONEXISTENT:
		imap_reply(s, "NO", "NONEXISTENT", "No such mailbox");
		break;
	case DB_MBOX_HAS_CHILDREN:
		imap_reply(s, "NO", "CANNOT", "Name has inferior hierarchical names");
		break;
	default:
		store_failed(s, "DELETE", err);
		break;
	}
}

/* §6.3.5 */
void cmd_rename(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	struct imap_mailbox_acl acl;
	const char *from, *to, *problem;
	size_t flen, tlen;
	struct new_place dest;
	char err[256];

	if (cmd->nargs != 2) {
		imap_reply(s, "BAD", NULL, "RENAME expects two mailbox names");
		return;
	}
	if (imap_mailbox_arg(s, &cmd->args[0], &from, &flen, &problem) < 0 ||
	    imap_mailbox_arg(s, &cmd->args[1], &to, &tlen, &problem) < 0) {
		imap_reply(s, "BAD", NULL, "%s", problem);
		return;
	}
	if (imap_mailbox_is_inbox(to, tlen)) {
		imap_reply(s, "NO", "ALREADYEXISTS", "INBOX always exists");
		return;
	}
	/* A hierarchy cannot move below itself. INBOX's inferiors do not
	 * move with it, so "RENAME INBOX INBOX/old" is fine. */
	if (!imap_mailbox_is_inbox(from, flen) && tlen > flen && memcmp(to, from, flen) == 0 &&
	    to[flen] == IMAP_MAILBOX_DELIM) {
		imap_reply(s, "NO", "CANNOT", "Cannot rename a mailbox below itself");
		return;
	}
	if (!imap_db_ready(s, be) ||
	    !imap_mailbox_require(s, be, from, ACL_OP_RENAME_SOURCE, &acl))
		return;
	if (!acl.exists) {
		imap_reply(s, "NO", "NONEXISTENT", "No such mailbox");
		return;
	}
	/* Another owner's INBOX is the root of their namespace: it has no
	 * name of its own to change. */
	if (acl.owner_id != s->account_id && imap_mailbox_is_inbox(acl.store_name,
								    strlen(acl.store_name))) {
		imap_reply(s, "NO", "CANNOT", "An owner's INBOX cannot be renamed");
		return;
	}
	if (!place_new_name(s, be, to, tlen, ACL_OP_RENAME_TARGET, &dest))
		return;
	if (dest.owner != acl.owner_id) {
		imap_reply(s, "NO", "CANNOT", "Cannot rename a mailbox to another owner");
		return;
	}
	switch (db_mailbox_rename(be->db, acl.owner_id, acl.store_name, dest.store_name, err, sizeof(err))) {
	case DB_MBOX_OK:
		imap_reply(s, "OK", NULL, "RENAME completed");
		break;
	case DB_MBOX_NONEXISTENT:
		imap_reply(s, "NO", "NONEXISTENT", "No such mailbox");
		break;
	case DB_MBOX_EXISTS:
		imap_reply(s, "NO", "ALREADYEXISTS", "Target mailbox already exists");
		break;
	default:
		store_failed(s, "RENAME", err);
		break;
	}
}

/* §6.3.6. The name need not exist: the RFC lets the server check, but a
 * subscription to a mailbox that is not there yet (or any more) is how
 * clients remember folders, and Dovecot and Cyrus accept it too. */
void cmd_subscribe(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	const char *name;
	size_t len;
	char err[256];

	if (!one_name(s, cmd, false, &name, &len))
		return;
	if (!imap_db_ready(s, be))
		return;
	switch (db_subscribe(be->db, s->account_id, name, IMAP_SUBSCRIPTIONS_PER_ACCOUNT,
			     err, sizeof(err))) {
	case DB_MBOX_OK:
		imap_reply(s, "OK", NULL, "SUBSCRIBE completed");
		break;
	case DB_MBOX_LIMIT:
		imap_reply(s, "NO", "LIMIT", "Too many subscriptions (at most %d)",
			   IMAP_SUBSCRIPTIONS_PER_ACCOUNT);
		break;
	default:
		store_failed(s, "SUBSCRIBE", err);
		break;
	}
}

/* §6.3.7. A name that is not subscribed is not an error: RFC 9051 §6.3.8
 * says OK "if the mailbox is not subscribed", which makes the command
 * idempotent for clients that retry. */
void cmd_unsubscribe(struct imap_session *s, const struct imap_command *cmd,
		     struct imap_backend *be)
{
	const char *name;
	size_t len;
	char err[256];

	if (!one_name(s, cmd, false, &name, &len))
		return;
	if (!imap_db_ready(s, be))
		return;
	if (db_unsubscribe(be->db, s->account_id, name, err, sizeof(err)) != DB_MBOX_OK) {
		store_failed(s, "UNSUBSCRIBE", err);
		return;
	}
	imap_reply(s, "OK", NULL, "UNSUBSCRIBE completed");
}
