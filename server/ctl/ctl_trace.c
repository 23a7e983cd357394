/* trace: the protocol trace of a person's IMAP sessions, switched on and
 * off at run time (docs/kairanctl.md; docs/deployment.md, "Logs"). The
 * switch is a row of protocol_trace (migration 0014), which every kairand
 * reads at each login: a session that logs in after the change is traced,
 * or no longer, whichever kairand process serves it. */
#include "server/ctl/ctl.h"
#include "schema/db_trace.h"

#include <stdio.h>
#include <string.h>

int ctl_cmd_trace_list(struct ctl *ctl, int argc, char **argv)
{
	char err[CTL_ERR_MAX] = "";
	struct db_trace_row *rows = NULL;
	enum ctl_status st;
	size_t n = 0;
	db *d = NULL;

	(void)argv;
	if (argc != 0)
		return ctl_usage("trace list", "trace list takes no arguments");
	if ((st = ctl_db(ctl, &d, err, sizeof(err))) == CTL_OK &&
	    db_trace_list(d, &ctl->arena, &rows, &n, err, sizeof(err)) != DB_OK)
		st = CTL_FAILED;
	for (size_t i = 0; st == CTL_OK && i < n; i++)
		printf("%s\tsince %s\n", rows[i].login, rows[i].since);
	return ctl_report(st, err);
}

/* LOGIN as kairand will know it at login: the directory's canonical form,
 * so that "BOB" traces bob. For "off", a login the directory no longer
 * knows is taken as given, so that its row can still be removed. */
static enum ctl_status trace_login(struct ctl *ctl, const char *arg, bool on, char *out,
				   size_t size, char *err, size_t errlen)
{
	struct ctl_person p;
	enum ctl_status st;
	bool found;

	st = ctl_person_lookup(ctl, arg, strlen(arg), false, &p, &found, err, errlen);
	ctl_person_free(&p);
	if (st != CTL_OK)
		return st;
	if (!found && on)
		return ctl_err(CTL_FAILED, err, errlen, "the directory has no user %s", arg);
	snprintf(out, size, "%s", found ? p.login : arg);
	return CTL_OK;
}

int ctl_cmd_trace(struct ctl *ctl, int argc, char **argv)
{
	char err[CTL_ERR_MAX] = "", login[DIR_LOGIN_MAX + 1];
	enum ctl_status st;
	enum db_result r = DB_OK;
	bool on;
	db *d = NULL;

	if (argc != 2 || (strcmp(argv[1], "on") != 0 && strcmp(argv[1], "off") != 0))
		return ctl_usage("trace", "trace needs a login and on or off");
	on = strcmp(argv[1], "on") == 0;
	if ((st = trace_login(ctl, argv[0], on, login, sizeof(login), err, sizeof(err))) == CTL_OK &&
	    (st = ctl_db(ctl, &d, err, sizeof(err))) == CTL_OK) {
		r = db_trace_set(d, login, on, err, sizeof(err));
		if (r == DB_FAILED)
			st = CTL_FAILED;
	}
	if (st == CTL_OK)
		printf("%s\ttrace %s%s\n", login, on ? "on" : "off",
		       r == DB_NOT_FOUND ? " (already)" : "");
	return ctl_report(st, err);
}
