#include "server/imap/mailbox_place.h"
#include "server/imap/mailbox_name.h"
#include "server/imap/namespace.h"
#include "server/imap/rights.h"

#include <string.h>

bool imap_new_name_check(struct imap_session *s, const char *name, size_t len,
			 struct imap_result *res_r)
{
	struct imap_ns_name where;
	const char *problem;

	if (!imap_mailbox_name_creatable(name, len, &problem)) {
		*res_r = imap_no(s, "CANNOT", "%s", problem);
		return false;
	}
	imap_ns_split(&s->arena, name, len, &where);
	if (where.ns == IMAP_NS_PERSONAL && imap_ns_reserved(name, len)) {
		*res_r = imap_no(s, "CANNOT", "The name of a namespace cannot be a mailbox");
		return false;
	}
	if (where.ns != IMAP_NS_PERSONAL && where.name[0] == '\0') {
		*res_r = imap_no(s, "CANNOT", "A namespace or an owner's root cannot be created");
		return false;
	}
	return true;
}

/* RFC 4314 §4: "k" on the parent. The parent is a mailbox the client did
 * not name, so a refusal must not tell whether it exists: where the caller
 * may know it does (acl_check's ACL_DENY_NOPERM) the answer names the
 * missing right, and every other case, a parent that is missing or one
 * the caller may not see, gets the same NO [NOPERM]. */
static bool parent_allows(struct imap_session *s, enum acl_operation op,
			  const struct imap_mailbox_acl *parent, struct imap_result *res_r)
{
	enum acl_decision d = parent->exists ? acl_check(op, parent->rights) : ACL_DENY_NONEXISTENT;
	struct buf shown;
	const char *text;

	if (d == ACL_ALLOW)
		return true;
	if (d == ACL_DENY_NONEXISTENT) {
		*res_r = imap_no(s, "NOPERM", "Permission denied");
		return false;
	}
	/* The text shows names as the client spells them. */
	buf_init(&shown);
	imap_name_to_client(s, parent->name, strlen(parent->name), &shown);
	text = arena_strndup(&s->arena, shown.data, shown.len);
	buf_free(&shown);
	return imap_rights_check(s, op, parent->rights, text, res_r);
}

/* Personal names: a top-level name is created in the caller's own root,
 * and a parent that does not exist is created with the name (RFC 3501
 * §6.3.3), so only an existing parent is checked. Elsewhere the parent
 * must exist and grant "k"; a child of an owner's root is a top-level
 * name of that owner. The name has passed imap_new_name_check. */
bool imap_new_name_place(struct imap_session *s, struct imap_backend *be, const char *name,
			 size_t len, enum acl_operation op, struct imap_new_place *to,
			 struct imap_result *res_r)
{
	struct imap_mailbox_acl acl;
	struct imap_ns_name where;
	const char *slash = memrchr(name, IMAP_MAILBOX_DELIM, len);

	imap_ns_split(&s->arena, name, len, &where);
	to->owner = s->account_id;
	to->store_name = name;
	to->parent = 0;
	if (slash == NULL)
		return true;
	if (!imap_mailbox_resolve(s, be, arena_strndup(&s->arena, name, (size_t)(slash - name)),
				  &acl, res_r))
		return false;
	if (where.ns == IMAP_NS_PERSONAL && !acl.exists)
		return true;
	if (!parent_allows(s, op, &acl, res_r))
		return false;
	to->owner = acl.owner_id;
	to->parent = acl.mailbox_id;
	if (where.ns != IMAP_NS_PERSONAL)
		to->store_name = acl.where.name[0] == '\0' ? slash + 1 :
				 arena_printf(&s->arena, "%s/%s", acl.store_name, slash + 1);
	return true;
}

struct imap_result imap_mailbox_result(struct imap_session *s, enum db_mbox_result r,
				       const char *what, const char *err)
{
	switch (r) {
	case DB_MBOX_OK:
		return imap_done(s);
	case DB_MBOX_NONEXISTENT:
		return imap_no(s, "NONEXISTENT", "No such mailbox");
	case DB_MBOX_EXISTS:
		return imap_no(s, "ALREADYEXISTS", "Mailbox already exists");
	case DB_MBOX_NOSELECT:
		/* A placeholder left by DELETE (§6.3.4) holds no messages: as
		 * for SELECT, there is no mailbox here. */
		return imap_no(s, "NONEXISTENT", "Mailbox is not selectable (\\Noselect)");
	case DB_MBOX_HAS_CHILDREN:
		/* RFC 9051 §7.1 has a code for it; RFC 5530 only CANNOT. */
		return imap_no(s, s->imap4rev2 ? "HASCHILDREN" : "CANNOT",
			       "Name has inferior hierarchical names");
	case DB_MBOX_LIMIT:
		if (strcmp(s->cmd->name, "SUBSCRIBE") == 0)
			return imap_no(s, "LIMIT", "Too many subscriptions (at most %d)",
				       IMAP_SUBSCRIPTIONS_PER_ACCOUNT);
		return imap_no(s, "LIMIT", "Too many mailboxes (at most %d)",
			       IMAP_MAILBOXES_PER_ACCOUNT);
	case DB_MBOX_FAILED:
		break;
	}
	return imap_store_failed(s, what, err);
}
