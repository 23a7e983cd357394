/* The rights helpers that answer the client themselves, for the handlers
 * not yet converted to returning their result. Removed once every handler
 * returns its result (server/imap/result.h). */
#include "server/imap/rights.h"

/* Writes a failure the new helpers returned, as the boundary would. */
static void legacy_reply(struct imap_session *s, const struct imap_result *r)
{
	imap_reply(s, r->status == IMAP_RESULT_BAD ? "BAD" : "NO", r->code, "%s", r->text);
}

bool imap_rights_groups(struct imap_session *s, struct imap_backend *be)
{
	struct imap_result r;

	if (imap_rights_refresh_groups(s, be, &r))
		return true;
	legacy_reply(s, &r);
	return false;
}

bool imap_mailbox_acl(struct imap_session *s, struct imap_backend *be, const char *name,
		      struct imap_mailbox_acl *acl)
{
	struct imap_result r;

	if (imap_mailbox_resolve(s, be, name, acl, &r))
		return true;
	legacy_reply(s, &r);
	return false;
}

bool imap_rights_allow(struct imap_session *s, enum acl_operation op,
		       const struct imap_mailbox_acl *acl)
{
	struct imap_result r;

	if (!acl->exists || imap_rights_check(s, op, acl->rights, NULL, &r))
		return true;
	legacy_reply(s, &r);
	return false;
}

bool imap_mailbox_require(struct imap_session *s, struct imap_backend *be, const char *name,
			  enum acl_operation op, struct imap_mailbox_acl *acl)
{
	return imap_mailbox_acl(s, be, name, acl) && imap_rights_allow(s, op, acl);
}

const char *imap_target_name(struct imap_session *s, const struct imap_mailbox_acl *acl)
{
	struct imap_result r;
	const char *name = imap_target_store_name(s, acl, &r);

	if (name == NULL)
		legacy_reply(s, &r);
	return name;
}
