/* Teams from the directory (docs/acl.md, "A team run from LDAP"): an LDAP
 * group with an address becomes the shared account Shared/<group>, with
 * that address and a group:<group> grant from team_rights. The same steps
 * for `kairanctl shared sync` and for kairand's first LMTP delivery to
 * such an address, so both make the same team. Linked into both programs
 * (like dir_settings.c); runs on a worker or in kairanctl, never in an
 * event loop: it speaks to the directory and the database. */
#ifndef KAIRAN_SERVER_TEAMS_H
#define KAIRAN_SERVER_TEAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "acl/identifier.h"
#include "directory/dir.h"
#include "schema/db_team.h"
#include "server/core/config.h"

/* Whether teams_from_directory is anything but "no". */
bool teams_enabled(const struct config *cfg);

/* Whether the group name may become a team: teams_from_directory is "yes",
 * or lists name (group names compare ignoring ASCII case, as LDAP's cn). */
bool teams_group_allowed(const struct config *cfg, const char *name);

/* The keys' values are usable: teams_from_directory is "no", "yes" or a
 * list of group names, team_rights parses as RFC 4314 rights. 0, or -1
 * with a one-line reason. */
int teams_check_config(const struct config *cfg, char *err, size_t errlen);

/* Whether name can be a shared account's login, and so the level below
 * "Shared/": what an ACL can name as a login (acl_identifier_parse), not
 * "anyone", "authenticated" or a "group:" name. */
enum acl_id_error teams_name_check(const char *name);

enum teams_outcome {
	TEAMS_DONE,      /* in place (r says what was added) */
	TEAMS_REFUSED,   /* not made: why says so (a clash, an unusable name) */
	TEAMS_FAILED,    /* the directory or the database failed: why says so */
};

/* Makes (or completes) the team for LDAP group `group` and one of its
 * addresses: checks the name (teams_name_check, and no person in the
 * directory logs in with it), then db_team_provision. Nothing is removed
 * or changed that is already there. r and why are always set; r's strings
 * come from a. */
enum teams_outcome teams_provision(db *d, dir *directory, const struct config *cfg,
				   const char *group, const char *address, struct arena *a,
				   struct db_team_provision *r, char *why, size_t whylen);

#endif
