#include "server/imap/rights.h"
#include "acl/evaluate.h"
#include "server/core/log.h"
#include "directory/dir.h"
#include "schema/db_acl.h"

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

bool imap_mailbox_acl(struct imap_session *s, struct imap_backend *be, int64_t owner_id,
		      const char *name, struct imap_mailbox_acl *acl)
{
	struct acl_name *groups;
	struct acl_entry *entries;
	struct acl_caller caller;
	enum db_result r;
	int noselect = 0;
	size_t bad;
	char err[256];

	memset(acl, 0, sizeof(*acl));
	if (!imap_rights_groups(s, be))
		return false;
	r = db_mailbox_acl(be->db, owner_id, name, &s->arena, &acl->mailbox_id, &noselect,
			   &acl->rows, &acl->nrows, err, sizeof(err));
	if (r == DB_FAILED) {
		log_warning("%s: cannot read an ACL: %s", s->peer, err);
		imap_reply(s, "NO", "UNAVAILABLE", "Mail store temporarily unavailable, try again later");
		return false;
	}
	if (r == DB_NOT_FOUND)
		return true;
	acl->exists = true;
	acl->noselect = noselect != 0;
	groups = arena_alloc(&s->arena, (s->ngroups + 1) * sizeof(*groups));
	for (size_t i = 0; i < s->ngroups; i++) {
		groups[i].s = s->groups[i];
		groups[i].len = strlen(s->groups[i]);
	}
	entries = arena_alloc(&s->arena, (acl->nrows + 1) * sizeof(*entries));
	for (size_t i = 0; i < acl->nrows; i++) {
		entries[i].identifier = acl->rows[i].identifier;
		entries[i].identifier_len = strlen(acl->rows[i].identifier);
		entries[i].rights = acl->rows[i].rights;
		entries[i].rights_len = strlen(acl->rows[i].rights);
	}
	caller.login = s->user;
	caller.login_len = strlen(s->user);
	caller.authenticated = true;
	caller.groups = groups;
	caller.ngroups = s->ngroups;
	caller.admin = s->admin;
	if (acl_evaluate(&caller, owner_id == s->account_id, entries, acl->nrows, &acl->rights,
			 &bad) < 0)
		log_error("%s: corrupt ACL entry '%s' on mailbox %lld", s->peer,
			  acl->rows[bad].identifier, (long long)acl->mailbox_id);
	return true;
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

bool imap_mailbox_require(struct imap_session *s, struct imap_backend *be, int64_t owner_id,
			  const char *name, enum acl_operation op, struct imap_mailbox_acl *acl)
{
	return imap_mailbox_acl(s, be, owner_id, name, acl) && imap_rights_allow(s, op, acl);
}
