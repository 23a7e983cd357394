/* RCPT on a worker: which account receives mail for an address
 * (docs/delivery.md, "Recipients" and "Team addresses"). In this order:
 *
 *   1. a team address (shared_addresses, migrations/0016): the admin's
 *      explicit mapping, found without the directory, so a team receives
 *      mail through a directory outage;
 *   2. a person's address in the directory (ldap_mail_attributes);
 *   3. with teams_from_directory, an LDAP group's address: the team is
 *      made there and then (server/teams.c), as `kairanctl shared sync`
 *      would make it.
 *
 * "user+detail@domain" is tried as "user@domain" with the folder "detail"
 * first, then as given, at each step. */
#include "server/lmtp/delivery.h"
#include "server/core/address.h"
#include "server/core/arena.h"
#include "server/core/config.h"
#include "server/core/log.h"
#include "server/imap/session.h"
#include "server/teams.h"
#include "directory/dir.h"
#include "schema/db.h"
#include "schema/db_team.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum found {
	FOUND = LMTP_FOUND,
	NOT_FOUND = LMTP_NOT_FOUND,
	DIRECTORY_DOWN = LMTP_DIRECTORY_DOWN,
	DATABASE_DOWN = LMTP_DATABASE_DOWN,
};

/* Step 1. */
static enum found team_address(struct imap_backend *be, const char *address,
			       struct lmtp_rcpt *r)
{
	char norm[ADDRESS_MAX + 1], login[DIR_LOGIN_MAX + 1], err[256];
	enum db_result res;

	if (!address_normalise(address, strlen(address), norm))
		return NOT_FOUND;
	if (db_ensure(be->db) < 0) {
		log_warning("lmtp: looking up <%s>: %s", address, db_error(be->db));
		return DATABASE_DOWN;
	}
	res = db_team_address_find(be->db, norm, &r->account_id, login, sizeof(login), err,
				   sizeof(err));
	if (res == DB_FAILED) {
		log_warning("lmtp: looking up <%s>: %s", address, err);
		return DATABASE_DOWN;
	}
	if (res != DB_OK)
		return NOT_FOUND;
	r->team = xstrdup(login);
	return FOUND;
}

/* Step 2: the person, provisioned as at a first login, so that mail can
 * arrive before they ever log in. */
static enum found person(struct imap_backend *be, const char *address, struct lmtp_rcpt *r)
{
	char dn[1024], login[DIR_LOGIN_MAX + 1], err[256];
	enum dir_result found = dir_lookup_by_mail_cached(be->dir_cache, be->dir, address,
							  strlen(address), dn, sizeof(dn), login,
							  sizeof(login), err, sizeof(err));

	if (found == DIR_UNAVAILABLE)
		log_warning("lmtp: looking up <%s>: %s", address, err);
	if (found != DIR_OK)
		return found == DIR_FAIL ? NOT_FOUND : DIRECTORY_DOWN;
	if (db_ensure(be->db) < 0 ||
	    db_account_provision(be->db, login, dn, &r->account_id, NULL, err, sizeof(err)) < 0) {
		log_warning("lmtp: provisioning %s: %s", login,
			    db_error(be->db)[0] ? db_error(be->db) : err);
		r->account_id = 0;
		return DATABASE_DOWN;
	}
	return FOUND;
}

/* Step 3. A group the configuration does not allow, or whose team cannot
 * be made (a clash: logged), is no recipient. */
static enum found directory_team(const struct config *cfg, struct imap_backend *be,
				 const char *address, struct lmtp_rcpt *r)
{
	char name[DIR_LOGIN_MAX + 1], why[512];
	struct db_team_provision made;
	enum teams_outcome o;
	enum dir_result found;
	struct arena arena;

	if (!teams_enabled(cfg))
		return NOT_FOUND;
	found = dir_team_by_mail(be->dir, address, strlen(address), name, why, sizeof(why));
	if (found == DIR_UNAVAILABLE || (found == DIR_FAIL && why[0] != '\0'))
		log_warning("lmtp: looking up the team of <%s>: %s", address, why);
	if (found != DIR_OK)
		return found == DIR_FAIL ? NOT_FOUND : DIRECTORY_DOWN;
	if (!teams_group_allowed(cfg, name))
		return NOT_FOUND;
	if (db_ensure(be->db) < 0) {
		log_warning("lmtp: making the team %s: %s", name, db_error(be->db));
		return DATABASE_DOWN;
	}
	arena_init(&arena);
	o = teams_provision(be->db, be->dir, cfg, name, address, &arena, &made, why, sizeof(why));
	arena_free(&arena);
	if (o == TEAMS_REFUSED) {
		log_warning("lmtp: <%s> is the address of the LDAP group %s, which cannot be a "
			    "team: %s", address, name, why);
		return NOT_FOUND;
	}
	if (o == TEAMS_FAILED) {
		log_warning("lmtp: making the team %s: %s", name, why);
		return strncmp(why, "directory:", 10) == 0 ? DIRECTORY_DOWN : DATABASE_DOWN;
	}
	if (made.created)
		log_info("lmtp: made Shared/%s for the LDAP group %s (<%s>)", name, name, address);
	r->account_id = made.account_id;
	r->team = xstrdup(name);
	return FOUND;
}

typedef enum found step_fn(const struct config *cfg, struct imap_backend *be,
			   const char *address, struct lmtp_rcpt *r);

static enum found step_team(const struct config *cfg, struct imap_backend *be,
			    const char *address, struct lmtp_rcpt *r)
{
	(void)cfg;
	return team_address(be, address, r);
}

static enum found step_person(const struct config *cfg, struct imap_backend *be,
			      const char *address, struct lmtp_rcpt *r)
{
	(void)cfg;
	return person(be, address, r);
}

/* The address without its "+detail" (malloc'ed), or NULL when it has
 * none; *detail_r is the detail (malloc'ed) or NULL for none or "INBOX". */
static char *without_detail(const struct config *cfg, const char *address, char **detail_r)
{
	const char *delim = cfg->lmtp_detail_delimiter;
	const char *at = strrchr(address, '@');
	const char *cut = delim[0] != '\0' ? memchr(address, delim[0], (size_t)(at - address)) : NULL;
	size_t local, domain;
	char *base;

	*detail_r = NULL;
	if (cut == NULL)
		return NULL;
	local = (size_t)(cut - address);
	domain = strlen(at);
	base = xmalloc(local + domain + 1);
	memcpy(base, address, local);
	memcpy(base + local, at, domain + 1);   /* with its NUL */
	if (cut + 1 < at && !((size_t)(at - cut - 1) == 5 && strncasecmp(cut + 1, "INBOX", 5) == 0))
		*detail_r = strndup(cut + 1, (size_t)(at - cut - 1));
	return base;
}

enum lmtp_found lmtp_recipient_find(const struct config *cfg, struct imap_backend *be,
				    struct lmtp_rcpt *r)
{
	static step_fn *const steps[] = { step_team, step_person, directory_team };
	char *detail = NULL, *base = without_detail(cfg, r->address, &detail);
	enum found found = NOT_FOUND;

	for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]) && found == NOT_FOUND; s++) {
		if (base != NULL && (found = steps[s](cfg, be, base, r)) == FOUND) {
			r->folder = detail;
			detail = NULL;
		}
		if (found == NOT_FOUND)
			found = steps[s](cfg, be, r->address, r);
	}
	free(base);
	free(detail);
	if (found != FOUND) {
		r->account_id = 0;
		free(r->team);
		r->team = NULL;
	}
	return (enum lmtp_found)found;
}
