#include "server/imap/rights.h"
#include "server/core/buf.h"
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

/* Whether the list read is the one the session has (the directory's
 * order is stable between reads of the cache). */
static bool same_groups(const struct imap_session *s, char *const *groups, size_t n)
{
	if (n != s->ngroups)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(groups[i], s->groups[i]) != 0)
			return false;
	return true;
}

bool imap_rights_refresh_groups(struct imap_session *s, struct imap_backend *be,
				struct imap_result *res_r)
{
	char err[256];
	char **groups = NULL;
	size_t n = 0;

	if (dir_user_groups_cached(be->dir_cache, be->dir, s->user_dn, s->user, &groups, &n,
				   err, sizeof(err)) != DIR_OK) {
		*res_r = imap_directory_failed(s, "reading the caller's groups", err);
		return false;
	}
	if (!same_groups(s, groups, n))
		s->groups_gen++;
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

bool imap_mailbox_resolve(struct imap_session *s, struct imap_backend *be, const char *name,
			  struct imap_mailbox_acl *acl, struct imap_result *res_r)
{
	struct acl_caller caller;
	int noselect = 0;
	char err[256] = "";
	enum db_result r;

	memset(acl, 0, sizeof(*acl));
	acl->name = name;
	if (!imap_rights_refresh_groups(s, be, res_r))
		return false;
	r = lookup(s, be, name, acl, &noselect, err, sizeof(err));
	if (r == DB_FAILED) {
		*res_r = imap_store_failed(s, "reading an ACL", err);
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


const char *imap_rights_needed_text(struct imap_session *s, acl_rights missing, bool any)
{
	char letters[16];
	size_t n = acl_rights_format(missing, letters);
	struct buf b;
	const char *out;

	buf_init(&b);
	buf_append_str(&b, any && n > 1 ? "one of the " : "the ");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_append_str(&b, i + 1 == n ? (any ? " or " : " and ") : ", ");
		buf_append(&b, &letters[i], 1);
	}
	buf_append_str(&b, n > 1 ? " rights" : " right");
	out = arena_strndup(&s->arena, b.data, b.len);
	buf_free(&b);
	return out;
}

/* The client's name for the text of a refusal: printable ASCII only (the
 * name as sent is modified UTF-7, RFC 3501 §5.1.3; anything else would be
 * a client's way to put bytes into our response text). */
static const char *shown_name(struct imap_session *s, const char *name)
{
	char *out = arena_strndup(&s->arena, name, strlen(name));

	for (char *p = out; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	return out;
}

bool imap_rights_check(struct imap_session *s, enum acl_operation op, acl_rights rights,
		       const char *shown, struct imap_result *res_r)
{
	switch (acl_check(op, rights)) {
	case ACL_ALLOW:
		return true;
	case ACL_DENY_NONEXISTENT:
		*res_r = imap_no(s, "NONEXISTENT", "No such mailbox");
		return false;
	case ACL_DENY_NOPERM:
		break;
	}
	*res_r = imap_no(s, "NOPERM", "%s %s %s needs %s", s->cmd->name,
			 shown != NULL ? "in" : "in the", shown != NULL ? shown_name(s, shown) :
			 "selected mailbox",
			 imap_rights_needed_text(s, acl_required_any(op) ? acl_required_for(op) :
						 acl_required_for(op) & ~rights, acl_required_any(op)));
	return false;
}

const char *imap_target_store_name(struct imap_session *s, const struct imap_mailbox_acl *acl,
				   struct imap_result *res_r)
{
	if (acl->exists)
		return acl->store_name;
	if (acl->where.ns == IMAP_NS_PERSONAL)
		return acl->where.name;
	*res_r = imap_no(s, "NONEXISTENT", "No such mailbox");
	return NULL;
}
