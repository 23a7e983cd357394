#include "server/teams.h"
#include "acl/acl.h"
#include "server/core/address.h"

#include <stdio.h>
#include <string.h>

bool teams_enabled(const struct config *cfg)
{
	return strcmp(cfg->teams_from_directory, "no") != 0;
}

bool teams_group_allowed(const struct config *cfg, const char *name)
{
	const char *p = cfg->teams_from_directory;

	if (strcmp(p, "yes") == 0)
		return true;
	if (strcmp(p, "no") == 0)
		return false;
	while (*p != '\0') {
		size_t n;

		p += strspn(p, " ,");
		n = strcspn(p, " ,");
		if (n > 0 && acl_group_name_equal(p, n, name, strlen(name)))
			return true;
		p += n;
	}
	return false;
}

int teams_check_config(const struct config *cfg, char *err, size_t errlen)
{
	acl_rights rights;

	if (acl_rights_parse(cfg->team_rights, strlen(cfg->team_rights), &rights) < 0 ||
	    rights == 0) {
		snprintf(err, errlen, "team_rights must be RFC 4314 rights letters, e.g. lrswipte");
		return -1;
	}
	if (cfg->teams_from_directory[strspn(cfg->teams_from_directory, " ,")] == '\0') {
		snprintf(err, errlen, "teams_from_directory must be no, yes or group names");
		return -1;
	}
	return 0;
}

enum acl_id_error teams_name_check(const char *name)
{
	struct acl_identifier id;
	enum acl_id_error e = acl_identifier_parse(name, strlen(name), &id);

	if (e == ACL_ID_OK && (id.kind != ACL_ID_USER || id.negative))
		e = ACL_ID_RESERVED;
	return e;
}

/* Whether a person logs in as name (the team would take their login) or
 * has address (their mail would go to the team). */
static enum teams_outcome person_clash(dir *directory, const char *name, const char *address,
				       char *why, size_t whylen)
{
	char dn[1024], login[DIR_LOGIN_MAX + 1], err[256];
	enum dir_result r = dir_lookup_user(directory, name, strlen(name), dn, sizeof(dn), login,
					    sizeof(login), err, sizeof(err));

	if (r == DIR_OK) {
		snprintf(why, whylen, "a person logs in as '%s'", name);
		return TEAMS_REFUSED;
	}
	if (r == DIR_FAIL)
		r = dir_lookup_by_mail(directory, address, strlen(address), dn, sizeof(dn), login,
				       sizeof(login), err, sizeof(err));
	if (r == DIR_OK) {
		snprintf(why, whylen, "%s is the address of the person %s", address, login);
		return TEAMS_REFUSED;
	}
	if (r == DIR_UNAVAILABLE) {
		snprintf(why, whylen, "directory: %s", err);
		return TEAMS_FAILED;
	}
	return TEAMS_DONE;
}

enum teams_outcome teams_provision(db *d, dir *directory, const struct config *cfg,
				   const char *group, const char *address, struct arena *a,
				   struct db_team_provision *r, char *why, size_t whylen)
{
	char norm[ADDRESS_MAX + 1], rights_text[ACL_RIGHTS_TEXT_MAX], err[512];
	enum teams_outcome o;
	enum acl_id_error e;
	acl_rights rights;
	enum db_result res;

	*r = (struct db_team_provision){ 0 };
	why[0] = '\0';
	if ((e = teams_name_check(group)) != ACL_ID_OK) {
		snprintf(why, whylen, "the group name cannot be a shared account: %s",
			 acl_id_error_str(e));
		return TEAMS_REFUSED;
	}
	if (!address_normalise(address, strlen(address), norm)) {
		snprintf(why, whylen, "'%s' is not an address a team can have", address);
		return TEAMS_REFUSED;
	}
	if (acl_rights_parse(cfg->team_rights, strlen(cfg->team_rights), &rights) < 0) {
		snprintf(why, whylen, "team_rights is not a set of rights");
		return TEAMS_FAILED;
	}
	acl_rights_format(rights, rights_text);
	if ((o = person_clash(directory, group, norm, why, whylen)) != TEAMS_DONE)
		return o;
	res = db_team_provision(d, group, arena_printf(a, "group:%s", group), rights_text, norm, a,
				r, err, sizeof(err));
	if (res == DB_OK)
		return TEAMS_DONE;
	if (res == DB_NOT_FOUND) {
		if (r->holder != NULL)
			snprintf(why, whylen, "%s belongs to Shared/%s", norm, r->holder);
		else
			snprintf(why, whylen, "'%s' is a person's account", group);
		return TEAMS_REFUSED;
	}
	snprintf(why, whylen, "database: %s", err);
	return TEAMS_FAILED;
}
