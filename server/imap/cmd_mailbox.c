/* Mailbox names: CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE
 * (RFC 3501 §6.3.3-7). The check step parses the names and refuses what
 * can never succeed (INBOX rules, a mailbox into itself, a namespace's
 * name) without touching the store; dispatch resolves the mailbox DELETE
 * and RENAME name and checks "x" on it (RFC 4314 §4); the handler makes
 * one call to schema/ and returns its outcome (imap_mailbox_result). */
#include "server/imap/commands.h"
#include "server/imap/mailbox_name.h"
#include "server/imap/mailbox_place.h"
#include "server/imap/objectid.h"
#include "server/imap/rights.h"
#include "server/imap/special_use.h"
#include "server/imap/view.h"
#include "schema/db_mailbox.h"

#include <string.h>

/* What the check step parsed: the names in UTF-8, in the arena. */
struct mailbox_names {
	const char *name;
	size_t len;
	const char *to;         /* RENAME's new name */
	size_t tlen;
	const char **uses;      /* CREATE's special-use attributes (RFC 6154 §3) */
	size_t nuses;
};

/* n mailbox names (1, or RENAME's 2) into s->parsed; NULL with *res_r
 * otherwise: BAD for a syntax error, and for a name that cannot exist
 * (imap_mailbox_arg) NO with code[i], the code for the i-th name. CREATE's
 * may end in the delimiter (imap_mailbox_arg_create). */
static struct mailbox_names *parse_names(struct imap_session *s, const struct imap_command *cmd,
					 unsigned n, bool create, const char *const code[2],
					 struct imap_result *res_r)
{
	struct mailbox_names *names = arena_alloc(&s->arena, sizeof(*names));
	enum imap_name_status st;
	const char *problem;

	if (cmd->nargs != n && !(create && cmd->nargs == 2)) {
		*res_r = imap_bad(s, NULL, n == 1 ? "%s expects one mailbox name" :
				  "%s expects two mailbox names", cmd->name);
		return NULL;
	}
	st = create ? imap_mailbox_arg_create(s, &cmd->args[0], &names->name, &names->len, &problem) :
		      imap_mailbox_arg(s, &cmd->args[0], &names->name, &names->len, &problem);
	if (st == IMAP_NAME_OK && n == 2) {
		st = imap_mailbox_arg(s, &cmd->args[1], &names->to, &names->tlen, &problem);
		code++;
	}
	if (st != IMAP_NAME_OK) {
		*res_r = imap_mailbox_name_refused(s, st, code[0], problem);
		return NULL;
	}
	s->parsed = names;
	return names;
}

static const char *const NEW_NAME[2] = { "CANNOT", NULL };
static const char *const OLD_NAME[2] = { "NONEXISTENT", NULL };
static const char *const OLD_TO_NEW[2] = { "NONEXISTENT", "CANNOT" };

/* RFC 4466 §2.2 create-params after CREATE's name; only USE (RFC 6154
 * §3) is known. Its attributes are checked before anything is created:
 * one Kairan cannot give is NO [USEATTR] and nothing is created. */
static bool create_params(struct imap_session *s, const struct imap_command *cmd,
			  const char ***uses_r, size_t *nuses_r, struct imap_result *res_r)
{
	const char *problem;

	if (cmd->nargs != 2)
		return true;
	switch (imap_create_params_parse(&s->arena, &cmd->args[1], uses_r, nuses_r, &problem)) {
	case IMAP_CREATE_PARAMS_OK:
		return true;
	case IMAP_CREATE_PARAMS_USEATTR:
		*res_r = imap_no(s, "USEATTR", "%s", problem);
		return false;
	case IMAP_CREATE_PARAMS_BAD:
		break;
	}
	*res_r = imap_bad(s, NULL, "%s", problem);
	return false;
}

struct imap_result imap_check_create(struct imap_session *s, const struct imap_command *cmd)
{
	struct mailbox_names *n;
	struct imap_result r;
	const char **uses = NULL;
	size_t nuses = 0;

	if (!create_params(s, cmd, &uses, &nuses, &r))
		return r;
	if ((n = parse_names(s, cmd, 1, true, NEW_NAME, &r)) == NULL)
		return r;
	n->uses = uses;
	n->nuses = nuses;
	if (imap_mailbox_is_inbox(n->name, n->len))
		return imap_no(s, "ALREADYEXISTS", "INBOX always exists");
	if (!imap_new_name_check(s, n->name, n->len, &r))
		return r;
	return imap_ok(s, NULL, "checked");
}

/* The mailbox itself is resolved by dispatch (mailbox_arg). */
struct imap_result imap_check_delete(struct imap_session *s, const struct imap_command *cmd)
{
	const struct mailbox_names *n;
	struct imap_result r;

	if ((n = parse_names(s, cmd, 1, false, OLD_NAME, &r)) == NULL)
		return r;
	if (imap_mailbox_is_inbox(n->name, n->len))
		return imap_no(s, "CANNOT", "INBOX cannot be deleted");
	return imap_ok(s, NULL, "checked");
}

struct imap_result imap_check_rename(struct imap_session *s, const struct imap_command *cmd)
{
	const struct mailbox_names *n;
	struct imap_result r;

	if ((n = parse_names(s, cmd, 2, false, OLD_TO_NEW, &r)) == NULL)
		return r;
	if (imap_mailbox_is_inbox(n->to, n->tlen))
		return imap_no(s, "ALREADYEXISTS", "INBOX always exists");
	/* A hierarchy cannot move below itself. INBOX's inferiors do not
	 * move with it, so "RENAME INBOX INBOX/old" is fine. */
	if (!imap_mailbox_is_inbox(n->name, n->len) && n->tlen > n->len &&
	    memcmp(n->to, n->name, n->len) == 0 && n->to[n->len] == IMAP_MAILBOX_DELIM)
		return imap_no(s, "CANNOT", "Cannot rename a mailbox below itself");
	if (!imap_new_name_check(s, n->to, n->tlen, &r))
		return r;
	return imap_ok(s, NULL, "checked");
}

/* SUBSCRIBE and UNSUBSCRIBE: one name, which need not exist. SUBSCRIBE
 * takes only a name a mailbox could be created with (LSUB would show any
 * other to clients that cannot cope with it); UNSUBSCRIBE of a name that
 * cannot exist has nothing to remove and is OK (RFC 9051 §6.3.8), with
 * s->parsed NULL. */
struct imap_result imap_check_subscribe(struct imap_session *s, const struct imap_command *cmd)
{
	bool subscribe = strcmp(cmd->name, "SUBSCRIBE") == 0;
	const struct mailbox_names *n;
	const char *problem;
	struct imap_result r;

	if ((n = parse_names(s, cmd, 1, false, NEW_NAME, &r)) == NULL) {
		if (subscribe || r.status != IMAP_RESULT_NO)
			return r;
		s->parsed = NULL;
		return imap_ok(s, NULL, "checked");
	}
	if (subscribe && !imap_mailbox_name_creatable(n->name, n->len, &problem))
		return imap_no(s, "CANNOT", "%s", problem);
	return imap_ok(s, NULL, "checked");
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

/* §6.3.3. The new mailbox is placed by its parent's "k" (RFC 4314 §4),
 * which the client does not name, so the check is here, not in the table. */
struct imap_result cmd_create(struct imap_session *s, const struct imap_command *cmd,
			      struct imap_backend *be)
{
	const struct mailbox_names *n = s->parsed;
	struct imap_new_place to;
	struct imap_result r;
	enum db_mbox_result created;
	uint32_t uidvalidity = 0;
	int64_t mailbox_id = 0;
	char err[256], id[IMAP_OBJECTID_BUF];

	(void)cmd;
	if (!imap_new_name_place(s, be, n->name, n->len, ACL_OP_CREATE, &to, &r))
		return r;
	/* Special use says what a folder is for its owner (RFC 6154 §1);
	 * another owner's \Sent is not shown to others (list_shared.c), so
	 * it is not given there either. */
	if (n->nuses > 0 && to.owner != s->account_id)
		return imap_no(s, "USEATTR", "Special use is for one's own mailboxes");
	created = db_mailbox_create(be->db, to.owner, to.store_name, to.parent, n->uses, n->nuses,
				    IMAP_MAILBOXES_PER_ACCOUNT, &uidvalidity, &mailbox_id, err,
				    sizeof(err));
	if (created != DB_MBOX_OK)
		return imap_mailbox_result(s, created, "creating a mailbox", err);
	/* RFC 8474 §4.1: every successful CREATE names the new mailbox. */
	return imap_ok(s, arena_printf(&s->arena, "MAILBOXID (%s)",
					imap_mailboxid(id, mailbox_id, uidvalidity)),
		       "CREATE completed");
}

/* §6.3.4. Deleting INBOX is an error; a name with inferiors is kept as a
 * \Noselect placeholder (the RFC's example), and deleting such a
 * placeholder while it still has inferiors is an error. A placeholder
 * whose last inferior goes is kept too, as in the RFC's example, until
 * it is deleted itself. Dispatch has checked "x". */
struct imap_result cmd_delete(struct imap_session *s, const struct imap_command *cmd,
			      struct imap_backend *be)
{
	const struct imap_mailbox_acl *acl = s->mailbox;
	enum db_mbox_result r;
	char err[256];

	(void)cmd;
	if (imap_mailbox_is_inbox(acl->store_name, strlen(acl->store_name)))
		return imap_no(s, "CANNOT", "An owner's INBOX cannot be deleted");
	r = db_mailbox_delete(be->db, acl->owner_id, acl->store_name, err, sizeof(err));
	if (r == DB_MBOX_OK)
		deselect_if(s, acl->mailbox_id);
	return imap_mailbox_result(s, r, "deleting a mailbox", err);
}

/* §6.3.5. Dispatch has checked "x" on the old name; "k" on the new name's
 * parent is checked here, as for CREATE. */
struct imap_result cmd_rename(struct imap_session *s, const struct imap_command *cmd,
			      struct imap_backend *be)
{
	const struct imap_mailbox_acl *acl = s->mailbox;
	const struct mailbox_names *n = s->parsed;
	struct imap_new_place dest;
	struct imap_result r;
	char err[256];

	(void)cmd;
	/* Another owner's INBOX is the root of their namespace: it has no
	 * name of its own to change. */
	if (acl->owner_id != s->account_id &&
	    imap_mailbox_is_inbox(acl->store_name, strlen(acl->store_name)))
		return imap_no(s, "CANNOT", "An owner's INBOX cannot be renamed");
	if (!imap_new_name_place(s, be, n->to, n->tlen, ACL_OP_RENAME_TARGET, &dest, &r))
		return r;
	if (dest.owner != acl->owner_id)
		return imap_no(s, "CANNOT", "Cannot rename a mailbox to another owner");
	return imap_mailbox_result(s, db_mailbox_rename(be->db, acl->owner_id, acl->store_name,
							dest.store_name, err, sizeof(err)),
				   "renaming a mailbox", err);
}

/* §6.3.6. The name need not exist: the RFC lets the server check, but a
 * subscription to a mailbox that is not there yet (or any more) is how
 * clients remember folders, and Dovecot and Cyrus accept it too. */
struct imap_result cmd_subscribe(struct imap_session *s, const struct imap_command *cmd,
				 struct imap_backend *be)
{
	const struct mailbox_names *n = s->parsed;
	char err[256];

	(void)cmd;
	return imap_mailbox_result(s, db_subscribe(be->db, s->account_id, n->name,
						   IMAP_SUBSCRIPTIONS_PER_ACCOUNT, err, sizeof(err)),
				   "subscribing", err);
}

/* §6.3.7. A name that is not subscribed is not an error: RFC 9051 §6.3.8
 * says OK "if the mailbox is not subscribed", which makes the command
 * idempotent for clients that retry. */
struct imap_result cmd_unsubscribe(struct imap_session *s, const struct imap_command *cmd,
				   struct imap_backend *be)
{
	const struct mailbox_names *n = s->parsed;
	char err[256];

	(void)cmd;
	if (n == NULL)
		return imap_done(s);   /* a name that cannot exist is not subscribed */
	return imap_mailbox_result(s, db_unsubscribe(be->db, s->account_id, n->name, err, sizeof(err)),
				   "unsubscribing", err);
}
