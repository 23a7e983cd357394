/* quota show|set|recalc: RFC 9208 quota roots from the command line
 * (docs/kairanctl.md, "Quotas"). A ROOT is a person's login ("alice") or a
 * shared account's subtree ("Shared/sales"); limits set here are the ones
 * SETQUOTA sets, and override kairan.conf's defaults. */
#include "server/ctl/ctl.h"
#include "server/imap/quota.h"
#include "schema/db_admin.h"
#include "schema/db_quota.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The account a ROOT names, which must exist. */
static enum ctl_status root_account(db *d, const char *arg, int64_t *id_r, char *err, size_t errlen)
{
	const char *login = strncmp(arg, "Shared/", 7) == 0 ? arg + 7 : arg;
	struct db_admin_account acc;
	enum db_result r;

	if (login[0] == '\0' || strchr(login, '/') != NULL)
		return ctl_err(CTL_USAGE, err, errlen, "'%s' is not a quota root (LOGIN or Shared/NAME)",
			       arg);
	r = db_admin_account(d, login, &acc, err, errlen);
	if (r == DB_FAILED)
		return CTL_FAILED;
	if (r == DB_NOT_FOUND || acc.shared != (login != arg))
		return ctl_err(CTL_FAILED, err, errlen, "no quota root '%s' (a person's account is "
			       "created at their first login or delivery)", arg);
	*id_r = acc.id;
	return CTL_OK;
}

static void show(const char *root, const struct db_quota *q, const struct config *cfg)
{
	for (int r = 0; r < DB_QUOTA_NRESOURCES; r++) {
		int64_t limit = quota_limit(q, cfg, r);
		const char *from = q->from_directory[r] ? "directory" : q->limit[r] >= 0 ? "set" :
				   q->limit[r] == DB_QUOTA_NONE ? "set: none" :
				   q->shared ? "no default for shared" : "default";
		if (limit < 0)
			printf("%s\t%s\t%" PRIu64 "\tnone\t(%s)\n", root, db_quota_resource_name(r),
			       quota_usage(q, r), from);
		else
			printf("%s\t%s\t%" PRIu64 "\t%" PRId64 "\t(%s)\n", root,
			       db_quota_resource_name(r), quota_usage(q, r), limit, from);
	}
}

int ctl_cmd_quota_show(struct ctl *ctl, int argc, char **argv)
{
	char err[CTL_ERR_MAX] = "";
	enum ctl_status st;
	struct db_quota q;
	int64_t id = 0;
	db *d = NULL;

	if (argc != 1)
		return ctl_usage("quota show", "quota show needs one quota root");
	if ((st = ctl_db(ctl, &d, err, sizeof(err))) == CTL_OK &&
	    (st = root_account(d, argv[0], &id, err, sizeof(err))) == CTL_OK &&
	    db_quota_get(d, id, &q, err, sizeof(err)) != DB_OK)
		st = CTL_FAILED;
	if (st == CTL_OK)
		show(argv[0], &q, ctl->cfg);
	return ctl_report(st, err);
}

/* "storage=N", "messages=N" (N: a number, "none" or "default"). */
static bool limit_arg(const char *arg, int64_t *limits, bool *given)
{
	static const struct { const char *name; enum db_quota_resource r; } names[] = {
		{ "storage=", DB_QUOTA_STORAGE }, { "messages=", DB_QUOTA_MESSAGE },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i].name);
		const char *v = arg + n;
		char *end;
		long long x;

		if (strncmp(arg, names[i].name, n) != 0)
			continue;
		if (given[names[i].r])
			return false;
		given[names[i].r] = true;
		if (strcmp(v, "none") == 0) {
			limits[names[i].r] = DB_QUOTA_NONE;
			return true;
		}
		if (strcmp(v, "default") == 0) {
			limits[names[i].r] = DB_QUOTA_DEFAULT;
			return true;
		}
		errno = 0;
		x = strtoll(v, &end, 10);
		if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0)
			return false;
		limits[names[i].r] = x;
		return true;
	}
	return false;
}

int ctl_cmd_quota_set(struct ctl *ctl, int argc, char **argv)
{
	char err[CTL_ERR_MAX] = "";
	int64_t limits[DB_QUOTA_NRESOURCES];
	const int64_t *change[DB_QUOTA_NRESOURCES] = { NULL };
	bool given[DB_QUOTA_NRESOURCES] = { false };
	enum ctl_status st;
	struct db_quota q;
	int64_t id = 0;
	db *d = NULL;

	if (argc < 2)
		return ctl_usage("quota set", "quota set needs a quota root and at least one limit");
	for (int i = 1; i < argc; i++)
		if (!limit_arg(argv[i], limits, given))
			return ctl_usage("quota set", ctl_strf(&ctl->arena, "'%s' is not storage=KIB or "
						       "messages=N (a number, none or default), "
						       "each once", argv[i]));
	for (int r = 0; r < DB_QUOTA_NRESOURCES; r++)
		if (given[r])
			change[r] = &limits[r];
	if ((st = ctl_db(ctl, &d, err, sizeof(err))) == CTL_OK &&
	    (st = root_account(d, argv[0], &id, err, sizeof(err))) == CTL_OK &&
	    (db_quota_set(d, id, change, err, sizeof(err)) != DB_OK ||
	     db_quota_get(d, id, &q, err, sizeof(err)) != DB_OK))
		st = CTL_FAILED;
	if (st == CTL_OK)
		show(argv[0], &q, ctl->cfg);
	return ctl_report(st, err);
}

int ctl_cmd_quota_recalc(struct ctl *ctl, int argc, char **argv)
{
	char err[CTL_ERR_MAX] = "";
	enum ctl_status st;
	uint64_t fixed = 0;
	int64_t id = 0;
	db *d = NULL;

	if (argc > 1)
		return ctl_usage("quota recalc", "quota recalc takes at most one quota root");
	if ((st = ctl_db(ctl, &d, err, sizeof(err))) == CTL_OK && argc == 1)
		st = root_account(d, argv[0], &id, err, sizeof(err));
	if (st == CTL_OK && db_quota_recalc(d, id, &fixed, err, sizeof(err)) != DB_OK)
		st = CTL_FAILED;
	if (st == CTL_OK)
		printf("recounted: %" PRIu64 " mailbox%s had wrong counters\n", fixed,
		       fixed == 1 ? "" : "es");
	return ctl_report(st, err);
}
