/* People and identifiers, through the directory (server/ctl/ctl.h): the
 * same look-ups kairand makes, so kairanctl stores and evaluates exactly
 * what an IMAP session would. */
#include "server/ctl/ctl.h"

#include <stdio.h>
#include <string.h>

enum ctl_status ctl_person_lookup(struct ctl *ctl, const char *login, size_t len,
				  bool memberships, struct ctl_person *p, bool *found_r,
				  char *err, size_t errlen)
{
	const char *admin_group = ctl->cfg->auth_admin_group;
	char reason[CTL_ERR_MAX];
	enum ctl_status st;
	dir *d;

	memset(p, 0, sizeof(*p));
	*found_r = false;
	if ((st = ctl_dir(ctl, &d, err, errlen)) != CTL_OK)
		return st;
	switch (dir_lookup_user(d, login, len, p->dn, sizeof(p->dn), p->login, sizeof(p->login),
				reason, sizeof(reason))) {
	case DIR_OK:
		break;
	case DIR_FAIL:
		return CTL_OK;
	case DIR_UNAVAILABLE:
		return ctl_err(CTL_FAILED, err, errlen, "directory unavailable: %s", reason);
	}
	*found_r = true;
	if (!memberships)
		return CTL_OK;
	if (dir_user_groups(d, p->dn, p->login, &p->groups, &p->ngroups, reason,
			    sizeof(reason)) != DIR_OK)
		return ctl_err(CTL_FAILED, err, errlen, "cannot read the groups of %s: %s",
			       p->login, reason);
	if (reason[0] != '\0')
		ctl_warn("%s", reason);
	/* kairand's test at login (server/imap/cmd_auth.c); no group, no admins. */
	if (admin_group[0] != '\0' &&
	    dir_is_member(d, admin_group, p->dn, p->login, &p->admin, reason,
			  sizeof(reason)) != DIR_OK) {
		ctl_person_free(p);
		return ctl_err(CTL_FAILED, err, errlen, "cannot read the admin group: %s", reason);
	}
	return CTL_OK;
}

void ctl_person_free(struct ctl_person *p)
{
	dir_groups_free(&p->groups);
	p->ngroups = 0;
}

/* A group that does not exist (yet) is stored anyway: the directory may be
 * about to get it, and IMAP SETACL accepts it too. Saying so catches the
 * typo. */
static enum ctl_status check_group(struct ctl *ctl, const struct acl_identifier *id,
				   char *err, size_t errlen)
{
	char name[ACL_NAME_MAX + 1], reason[CTL_ERR_MAX], **members = NULL;
	size_t n = 0;
	enum ctl_status st;
	dir *d;

	if ((st = ctl_dir(ctl, &d, err, errlen)) != CTL_OK)
		return st;
	snprintf(name, sizeof(name), "%.*s", (int)id->name_len, id->name);
	switch (dir_group_members(d, name, &members, &n, reason, sizeof(reason))) {
	case DIR_OK:
		dir_groups_free(&members);
		return CTL_OK;
	case DIR_FAIL:
		ctl_warn("no LDAP group is named '%s'; the entry is stored and applies "
			 "once the group exists", name);
		return CTL_OK;
	case DIR_UNAVAILABLE:
		break;
	}
	return ctl_err(CTL_FAILED, err, errlen, "directory unavailable: %s", reason);
}

enum ctl_status ctl_identifier(struct ctl *ctl, const char *text, enum ctl_id_check check,
			       struct acl_identifier *id_r, char *out, size_t size,
			       char *err, size_t errlen)
{
	enum acl_id_error e = acl_identifier_parse(text, strlen(text), id_r);
	struct ctl_person p;
	enum ctl_status st;
	bool found;

	if (e != ACL_ID_OK)
		return ctl_err(CTL_USAGE, err, errlen, "invalid identifier '%s': %s", text,
			       acl_id_error_str(e));
	if (check == CTL_ID_GRANT && id_r->kind == ACL_ID_GROUP &&
	    (st = check_group(ctl, id_r, err, errlen)) != CTL_OK)
		return st;
	if (check == CTL_ID_ANY || id_r->kind != ACL_ID_USER) {
		if (acl_identifier_format(id_r, out, size) == 0)
			return ctl_err(CTL_USAGE, err, errlen, "identifier too long: %s", text);
	} else {
		st = ctl_person_lookup(ctl, id_r->name, id_r->name_len, false, &p, &found,
				       err, errlen);
		if (st != CTL_OK)
			return st;
		if (!found)
			return ctl_err(CTL_FAILED, err, errlen, "no user '%.*s' in the directory",
				       (int)id_r->name_len, id_r->name);
		snprintf(out, size, "%s%s", id_r->negative ? "-" : "", p.login);
	}
	/* *id_r pointed into text; the stored form may differ (the case of a
	 * login), and it is what callers compare. */
	if (acl_identifier_parse(out, strlen(out), id_r) != ACL_ID_OK)
		return ctl_err(CTL_FAILED, err, errlen,
			       "the directory's login '%s' cannot be named in an ACL", out);
	return CTL_OK;
}
