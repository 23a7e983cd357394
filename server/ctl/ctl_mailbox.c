/* The MAILBOX argument (server/ctl/ctl.h). Two forms, so that an admin can
 * name any mailbox without being its owner:
 *
 *   Shared/NAME[/SUB...]  a shared account's mailbox, as its members'
 *                         clients name it: Shared/sales is the account's
 *                         INBOX, Shared/sales/X its mailbox whose
 *                         shared_name is X (migration 0006);
 *   LOGIN:NAME            any account's mailbox by the name its owner
 *                         uses (alice:INBOX/Projects); INBOX in any case.
 *
 * "Other Users/..." is not accepted: it names a mailbox as a third person
 * sees it, and LOGIN:NAME says the same without that detour. */
#include "server/ctl/ctl.h"
#include "schema/db_admin.h"
#include "schema/db_shared.h"
#include "server/imap/mailbox_name.h"
#include "server/imap/namespace.h"
#include "server/imap/mutf7.h"

#include <string.h>

#define SHARED_PREFIX IMAP_NS_SHARED "/"

/* Checks a name typed on the command line as IMAP checks a client's
 * (server/imap/mailbox_name.c), INBOX normalised in place. */
static enum ctl_status check_name(char *name, const char *arg, char *err, size_t errlen)
{
	size_t len = strlen(name);
	const char *problem;

	if (!imap_utf8_valid(name, len))
		return ctl_err(CTL_USAGE, err, errlen, "invalid mailbox '%s': not UTF-8", arg);
	if (imap_mailbox_name_check(name, &len, false, &problem) < 0)
		return ctl_err(CTL_USAGE, err, errlen, "invalid mailbox '%s': %s", arg, problem);
	return CTL_OK;
}

static enum ctl_status resolve_shared(struct ctl *ctl, db *d, struct ctl_mailbox *mb,
				      const char *login, const char *sub, char *err, size_t errlen)
{
	enum db_result r;
	int noselect;

	mb->owner_login = login;
	mb->owner_shared = true;
	mb->arg = imap_ns_join(&ctl->arena, true, login, sub);
	r = db_shared_mailbox_acl(d, true, login, sub, &ctl->arena, &mb->owner_id, &mb->mailbox_id,
				  &mb->name, &noselect, &mb->acl, &mb->nacl, err, errlen);
	if (r == DB_FAILED)
		return CTL_FAILED;
	if (r == DB_NOT_FOUND && mb->owner_id == 0)
		return ctl_err(CTL_FAILED, err, errlen, "no shared account '%s'", login);
	if (r == DB_NOT_FOUND)
		return ctl_err(CTL_FAILED, err, errlen, "no mailbox '%s' in shared account '%s'",
			       sub, login);
	return CTL_OK;
}

static enum ctl_status resolve_owned(struct ctl *ctl, db *d, struct ctl_mailbox *mb,
				     const char *login, const char *name, char *err, size_t errlen)
{
	struct db_admin_account acc;
	enum db_result r;
	int noselect;

	r = db_admin_account(d, login, &acc, err, errlen);
	if (r == DB_FAILED)
		return CTL_FAILED;
	if (r == DB_NOT_FOUND)
		return ctl_err(CTL_FAILED, err, errlen, "no account '%s' (a person's account is "
			       "created at their first login)", login);
	mb->owner_login = login;
	mb->owner_shared = acc.shared;
	mb->owner_id = acc.id;
	mb->name = name;
	mb->arg = ctl_strf(&ctl->arena, "%s:%s", login, name);
	r = db_mailbox_acl(d, acc.id, name, &ctl->arena, &mb->mailbox_id, &noselect, &mb->acl,
			   &mb->nacl, err, errlen);
	if (r == DB_FAILED)
		return CTL_FAILED;
	if (r == DB_NOT_FOUND)
		return ctl_err(CTL_FAILED, err, errlen, "no mailbox '%s' of account '%s'", name,
			       login);
	return CTL_OK;
}

enum ctl_status ctl_mailbox_resolve(struct ctl *ctl, db *d, const char *arg,
				    struct ctl_mailbox *mb, char *err, size_t errlen)
{
	bool shared = strncmp(arg, SHARED_PREFIX, strlen(SHARED_PREFIX)) == 0;
	const char *owner = shared ? arg + strlen(SHARED_PREFIX) : arg;
	const char *sep = strchr(owner, shared ? '/' : ':');
	char *login, *name = NULL;
	enum ctl_status st;

	memset(mb, 0, sizeof(*mb));
	mb->arg = arg;
	if (!shared && sep == NULL)
		return ctl_err(CTL_USAGE, err, errlen, "invalid mailbox '%s': expected "
			       "Shared/NAME[/SUB...] or LOGIN:NAME", arg);
	login = arena_strndup(&ctl->arena, owner, sep != NULL ? (size_t)(sep - owner) :
			      strlen(owner));
	if (login[0] == '\0')
		return ctl_err(CTL_USAGE, err, errlen, "invalid mailbox '%s': no %s", arg,
			       shared ? "shared account after Shared/" : "login before ':'");
	/* What follows the owner is checked as a whole name; Shared/NAME
	 * alone is the account's INBOX (shared_name ""). */
	if (sep != NULL) {
		name = arena_strndup(&ctl->arena, sep + 1, strlen(sep + 1));
		if ((st = check_name(name, arg, err, errlen)) != CTL_OK)
			return st;
	}
	return shared ? resolve_shared(ctl, d, mb, login, name != NULL ? name : "", err, errlen) :
		resolve_owned(ctl, d, mb, login, name, err, errlen);
}

bool ctl_mailbox_names_owner(const struct ctl_mailbox *mb, const char *ident)
{
	/* A shared account never logs in, so no session is ever its owner
	 * (acl/evaluate.h's owner default is for people). */
	return !mb->owner_shared && strcmp(ident, mb->owner_login) == 0;
}
