/* Team addresses and teams from the directory (docs/kairanctl.md, docs/acl.md
 * "A team run from LDAP"): shared address add|remove|list, the --address
 * of shared create, and shared sync. */
#include "server/ctl/ctl.h"
#include "schema/db_admin.h"
#include "schema/db_team.h"
#include "server/teams.h"

#include <stdio.h>
#include <string.h>

enum ctl_status ctl_team_address_arg(const char *command, const char *arg,
				     char norm_r[ADDRESS_MAX + 1], char *err, size_t errlen)
{
	if (address_normalise(arg, strlen(arg), norm_r))
		return CTL_OK;
	snprintf(err, errlen, "'%s' is not an address a team can have (local@domain, printable "
		 "ASCII, at most %d bytes)", arg, ADDRESS_MAX);
	return ctl_usage(command, err);
}

enum ctl_status ctl_team_address_check(struct ctl *ctl, const char *name, const char *address,
				       char *err, size_t errlen)
{
	char dn[1024], login[DIR_LOGIN_MAX + 1], group[DIR_LOGIN_MAX + 1], reason[256];
	enum ctl_status st;
	enum dir_result r;
	dir *d;

	if ((st = ctl_dir(ctl, &d, err, errlen)) != CTL_OK)
		return st;
	r = dir_lookup_by_mail(d, address, strlen(address), dn, sizeof(dn), login, sizeof(login),
			       reason, sizeof(reason));
	if (r == DIR_OK)
		return ctl_err(CTL_FAILED, err, errlen, "%s is the address of the person %s in the "
			       "directory: mail to it would not reach Shared/%s", address, login,
			       name);
	if (r == DIR_FAIL && teams_enabled(ctl->cfg)) {
		r = dir_team_by_mail(d, address, strlen(address), group, reason, sizeof(reason));
		if (r == DIR_OK && strcmp(group, name) != 0 &&
		    teams_group_allowed(ctl->cfg, group))
			return ctl_err(CTL_FAILED, err, errlen, "%s is the address of the LDAP group "
				       "%s, a team from the directory", address, group);
		if (r == DIR_FAIL)
			r = DIR_OK;
	}
	if (r == DIR_UNAVAILABLE)
		return ctl_err(CTL_FAILED, err, errlen, "cannot check the address in the "
			       "directory: %s", reason);
	return CTL_OK;
}

enum ctl_status ctl_team_address_add(struct ctl *ctl, db *d, int64_t account_id,
				     const char *address, bool *added_r, char *err, size_t errlen)
{
	const char *holder = NULL;
	enum db_result r = db_team_address_add(d, account_id, address, false, &ctl->arena, added_r,
					       &holder, err, errlen);

	if (r == DB_NOT_FOUND)
		return ctl_err(CTL_FAILED, err, errlen, "%s belongs to Shared/%s already; remove it "
			       "there first", address, holder);
	return r == DB_OK ? CTL_OK : CTL_FAILED;
}

/* NAME, which must be a shared account. */
static enum ctl_status shared_account(db *d, const char *name, int64_t *id_r, char *err,
				      size_t errlen)
{
	struct db_admin_account acc;
	enum db_result r = db_admin_account(d, name, &acc, err, errlen);

	if (r == DB_FAILED)
		return CTL_FAILED;
	if (r == DB_NOT_FOUND || !acc.shared)
		return ctl_err(CTL_FAILED, err, errlen, "no shared account '%s'", name);
	*id_r = acc.id;
	return CTL_OK;
}

/* NAME ADDRESS of shared address add|remove: the address normalised, the
 * database open and NAME a shared account. CTL_USAGE has been reported
 * already; any other failure is in err. */
static enum ctl_status address_args(struct ctl *ctl, const char *command, int argc, char **argv,
				    char norm_r[ADDRESS_MAX + 1], db **d_r, int64_t *id_r,
				    char *err, size_t errlen)
{
	enum ctl_status st;

	if (argc != 2) {
		snprintf(err, errlen, "%s takes NAME and ADDRESS", command);
		return ctl_usage(command, err);
	}
	if ((st = ctl_team_address_arg(command, argv[1], norm_r, err, errlen)) != CTL_OK)
		return st;
	if ((st = ctl_db(ctl, d_r, err, errlen)) != CTL_OK)
		return st;
	return shared_account(*d_r, argv[0], id_r, err, errlen);
}

int ctl_cmd_shared_address_add(struct ctl *ctl, int argc, char **argv)
{
	char err[CTL_ERR_MAX], norm[ADDRESS_MAX + 1];
	enum ctl_status st;
	int64_t id = 0;
	bool added = false;
	db *d = NULL;

	st = address_args(ctl, "shared address add", argc, argv, norm, &d, &id, err, sizeof(err));
	if (st == CTL_USAGE)
		return st;
	if (st != CTL_OK ||
	    (st = ctl_team_address_check(ctl, argv[0], norm, err, sizeof(err))) != CTL_OK ||
	    (st = ctl_team_address_add(ctl, d, id, norm, &added, err, sizeof(err))) != CTL_OK)
		return ctl_report(st, err);
	printf("Shared/%s\t%s\t%s\n", argv[0], norm, added ? "added" : "already there");
	return CTL_OK;
}

int ctl_cmd_shared_address_remove(struct ctl *ctl, int argc, char **argv)
{
	char err[CTL_ERR_MAX], norm[ADDRESS_MAX + 1];
	enum ctl_status st;
	enum db_result r;
	int64_t id = 0;
	db *d = NULL;

	st = address_args(ctl, "shared address remove", argc, argv, norm, &d, &id, err,
			  sizeof(err));
	if (st != CTL_OK)
		return st == CTL_USAGE ? (int)st : ctl_report(st, err);
	r = db_team_address_remove(d, id, norm, err, sizeof(err));
	if (r == DB_NOT_FOUND)
		return ctl_report(ctl_err(CTL_FAILED, err, sizeof(err), "Shared/%s has no address %s",
					  argv[0], norm), err);
	if (r != DB_OK)
		return ctl_report(CTL_FAILED, err);
	printf("Shared/%s\t%s\tremoved\n", argv[0], norm);
	return CTL_OK;
}

/* One line per address: the mailbox, the address, and "directory" for
 * those shared sync or a first delivery added. */
int ctl_cmd_shared_address_list(struct ctl *ctl, int argc, char **argv)
{
	char err[CTL_ERR_MAX];
	struct db_team_address *rows;
	enum ctl_status st;
	int64_t id = 0;
	size_t n = 0;
	db *d = NULL;

	if (argc > 1)
		return ctl_usage("shared address list", "shared address list takes at most a NAME");
	if ((st = ctl_db(ctl, &d, err, sizeof(err))) != CTL_OK ||
	    (argc == 1 && (st = shared_account(d, argv[0], &id, err, sizeof(err))) != CTL_OK))
		return ctl_report(st, err);
	if (db_team_addresses(d, id, &ctl->arena, &rows, &n, err, sizeof(err)) != DB_OK)
		return ctl_report(CTL_FAILED, err);
	for (size_t i = 0; i < n; i++)
		printf("Shared/%s\t%s\t%s\n", rows[i].login, rows[i].address,
		       rows[i].from_directory ? "directory" : "admin");
	return CTL_OK;
}

/* The report of one (team, address) of shared sync. */
static void sync_report(const struct dir_team *t, const struct db_team_provision *r,
			const char *rights)
{
	if (r->created)
		printf("Shared/%s\tcreated\n", t->name);
	if (r->granted)
		printf("Shared/%s\tgranted\tgroup:%s=%s\n", t->name, t->name, rights);
	if (r->address_added)
		printf("Shared/%s\taddress added\t%s\n", t->name, t->address);
	if (!r->created && !r->granted && !r->address_added)
		printf("Shared/%s\tup to date\t%s\n", t->name, t->address);
}

int ctl_cmd_shared_sync(struct ctl *ctl, int argc, char **argv)
{
	char err[CTL_ERR_MAX], why[CTL_ERR_MAX];
	struct dir_team *teams = NULL;
	enum ctl_status st = CTL_OK;
	size_t n = 0;
	dir *directory;
	db *d = NULL;

	(void)argv;
	if (argc != 0)
		return ctl_usage("shared sync", "shared sync takes no arguments");
	if (!teams_enabled(ctl->cfg))
		return ctl_report(CTL_FAILED, "teams_from_directory is no: there is nothing to sync "
				  "(docs/acl.md, \"A team run from LDAP\")");
	if (teams_check_config(ctl->cfg, err, sizeof(err)) < 0 ||
	    (st = ctl_db(ctl, &d, err, sizeof(err))) != CTL_OK ||
	    (st = ctl_dir(ctl, &directory, err, sizeof(err))) != CTL_OK)
		return ctl_report(st == CTL_OK ? CTL_FAILED : st, err);
	if (dir_teams(directory, &teams, &n, err, sizeof(err)) != DIR_OK)
		return ctl_report(CTL_FAILED, ctl_strf(&ctl->arena, "directory: %s", err));
	if (err[0] != '\0')
		ctl_warn("%s", err);
	for (size_t i = 0; i < n && st == CTL_OK; i++) {
		struct db_team_provision r;
		enum teams_outcome o;

		if (!teams_group_allowed(ctl->cfg, teams[i].name))
			continue;
		o = teams_provision(d, directory, ctl->cfg, teams[i].name, teams[i].address,
				    &ctl->arena, &r, why, sizeof(why));
		if (o == TEAMS_DONE)
			sync_report(&teams[i], &r, ctl->cfg->team_rights);
		else if (o == TEAMS_REFUSED)
			ctl_warn("LDAP group %s (%s) left alone: %s", teams[i].name, teams[i].address,
				 why);
		else
			st = ctl_err(CTL_FAILED, err, sizeof(err), "LDAP group %s: %s",
				     teams[i].name, why);
	}
	dir_teams_free(&teams, n);
	return ctl_report(st, err);
}
