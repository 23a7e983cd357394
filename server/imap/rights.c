#include "server/imap/rights.h"
#include "server/core/log.h"
#include "directory/dir.h"
#include "schema/db_acl.h"
#include "schema/db_shared.h"

#include <stdlib.h>
#include <string.h>

static void session_groups_free(struct imap_session *s)
{
	dir_groups_free(&s->groups);
	s->ngroups = 0;
}

bool imap_rights_groups(struct imap_session *s, struct imap_backend *be)
{
	char err[256];
	char **groups = NULL;
	size_t n = 0;

	if (dir_user_groups_cached(be->dir_cache, be->dir, s->user_dn, s->user, &groups, &n,
				   err, sizeof(err)) != DIR_OK) {
		log_warning("%s: cannot read the groups of %s: %s", s->peer, s->user, err);
		imap_reply(s, "NO", "UNAVAILABLE", "Directory temporarily unavailable, try again later");
		return false;
	}
	session_groups_free(s);
	s->groups = groups;
	s->ngroups = n;
	return true;
}

void imap_rights_caller(struct imap_session *s, struct acl_caller *caller)
{
	struct acl_name *groups = arena_alloc(&s->arena, (s->ngroups + 1) * sizeof(*groups));

	for (size_t i = 0; i < s->ngroups; i++)
		groups[i] = (struct acl_name){ s->groups[i], strlen(s->groups[i]) };
	*caller = (struct acl_caller){
		.login = s->user, .login_len = strlen(s->user), .authenticated = true,
		.groups = groups, .ngroups = s->ngroups, .admin = s->admin,
	};
}

acl_rights imap_rights_evaluate(struct imap_session *s, const struct acl_caller *caller, bool owner,
				const struct db_acl_row *rows, size_t nrows, int64_t mailbox_id)
{
	acl_rights rights = 0;
	size_t bad = 0;

	if (db_acl_evaluate(&s->arena, caller, owner, rows, nrows, &rights, &bad) < 0)
		log_error("%s: corrupt ACL entry '%s' on mailbox %lld", s->peer,
			  rows[bad].identifier, (long long)mailbox_id);
	return rights;
}

/* Looks the name up where its namespace says. */
static enum db_result lookup(struct imap_session *s, struct imap_backend *be, const char *name,
			     struct imap_mailbox_acl *acl, int *noselect, char *err, size_t errlen)
{
	enum db_result r;

	imap_ns_split(&s->arena, name, strlen(name), &acl->where);
	if (acl->where.ns == IMAP_NS_PERSONAL) {
		acl->owner_id = s->account_id;
		acl->owner_login = s->user;
		r = db_mailbox_acl(be->db, s->account_id, name, &s->arena, &acl->mailbox_id, noselect,
				   &acl->rows, &acl->nrows, err, errlen);
		if (r == DB_OK)
			acl->store_name = acl->where.name;
		return r;
	}
	if (acl->where.login == NULL)
		return DB_NOT_FOUND;
	if (acl->where.ns == IMAP_NS_OTHER)
		acl->owner_login = acl->where.login;
	r = db_shared_mailbox_acl(be->db, acl->where.ns == IMAP_NS_TEAM, acl->where.login,
				  acl->where.name, &s->arena, &acl->owner_id, &acl->mailbox_id,
				  &acl->store_name, noselect, &acl->rows, &acl->nrows, err, errlen);
	/* The caller's own mailboxes are in the personal namespace only. */
	if (acl->owner_id == s->account_id) {
		acl->owner_id = 0;
		acl->store_name = NULL;
		return DB_NOT_FOUND;
	}
	return r;
}

/* Loads by name (name != NULL) or by id, and evaluates. */
static bool load(struct imap_session *s, struct imap_backend *be, const char *name,
		 int64_t mailbox_id, struct imap_mailbox_acl *acl)
{
	struct acl_caller caller;
	int noselect = 0;
	char err[256] = "";
	enum db_result r;

	memset(acl, 0, sizeof(*acl));
	if (!imap_rights_groups(s, be))
		return false;
	if (name != NULL)
		r = lookup(s, be, name, acl, &noselect, err, sizeof(err));
	else {
		acl->mailbox_id = mailbox_id;
		r = db_mailbox_acl_by_id(be->db, mailbox_id, &s->arena, &acl->owner_id, &noselect,
					 &acl->rows, &acl->nrows, err, sizeof(err));
	}
	if (r == DB_FAILED) {
		log_warning("%s: cannot read an ACL: %s", s->peer, err);
		imap_reply(s, "NO", "UNAVAILABLE", "Mail store temporarily unavailable, try again later");
		return false;
	}
	if (r != DB_OK) {
		acl->store_name = NULL;
		return true;
	}
	acl->exists = true;
	acl->noselect = noselect != 0;
	imap_rights_caller(s, &caller);
	acl->rights = imap_rights_evaluate(s, &caller, acl->owner_id == s->account_id, acl->rows,
					   acl->nrows, acl->mailbox_id);
	return true;
}

bool imap_mailbox_acl(struct imap_session *s, struct imap_backend *be, const char *name,
		      struct imap_mailbox_acl *acl)
{
	return load(s, be, name, 0, acl);
}

bool imap_mailbox_acl_by_id(struct imap_session *s, struct imap_backend *be, int64_t mailbox_id,
			    struct imap_mailbox_acl *acl)
{
	return load(s, be, NULL, mailbox_id, acl);
}

bool imap_rights_allow(struct imap_session *s, enum acl_operation op,
		       const struct imap_mailbox_acl *acl)
{
	if (!acl->exists)
		return true;
	switch (acl_check(op, acl->rights)) {
	case ACL_ALLOW:
		return true;
	case ACL_DENY_NONEXISTENT:
		imap_reply(s, "NO", "NONEXISTENT", "No such mailbox");
		return false;
	case ACL_DENY_NOPERM:
		imap_reply(s, "NO", "NOPERM", "Permission denied");
		return false;
	}
	return false;
}

const char *imap_target_name(struct imap_session *s, const struct imap_mailbox_acl *acl)
{
	if (acl->exists)
		return acl->store_name;
	if (acl->where.ns == IMAP_NS_PERSONAL)
		return acl->where.name;
	imap_reply(s, "NO", "NONEXISTENT", "No such mailbox");
	return NULL;
}

bool imap_mailbox_require(struct imap_session *s, struct imap_backend *be, const char *name,
			  enum acl_operation op, struct imap_mailbox_acl *acl)
{
	return imap_mailbox_acl(s, be, name, acl) && imap_rights_allow(s, op, acl);
}
