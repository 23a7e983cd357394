/* Database maintenance: migrate and gc. Both connect with the DSN alone,
 * without db_open's schema check: migrate is what makes the schema current,
 * and gc must work on a database one migration behind. */
#include "server/ctl/ctl.h"
#include "schema/db_deliver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ctl_cmd_migrate(struct ctl *ctl, int argc, char **argv)
{
	char err[CTL_ERR_MAX];

	(void)argv;
	if (argc != 0)
		return ctl_usage("migrate", "migrate takes no arguments");
	if (db_migrate(ctl->dsn, stdout, err, sizeof(err)) < 0)
		return ctl_report(CTL_FAILED, err);
	return CTL_OK;
}

/* A non-negative number option's value, -1 when it is not one. */
static long option_number(const char *arg)
{
	char *end;
	long v = strtol(arg, &end, 10);

	return *end != '\0' || end == arg || v < 0 ? -1 : v;
}

int ctl_cmd_gc(struct ctl *ctl, int argc, char **argv)
{
	char err[CTL_ERR_MAX];
	long grace = 3600, days = ctl->cfg->expunge_history_days;

	for (int i = 0; i < argc; i += 2) {
		if (i + 1 >= argc)
			return ctl_usage("gc", "gc takes --grace SECONDS and --history-days DAYS");
		if (strcmp(argv[i], "--grace") == 0) {
			if ((grace = option_number(argv[i + 1])) < 0)
				return ctl_usage("gc", "--grace needs a number of seconds");
		} else if (strcmp(argv[i], "--history-days") == 0) {
			if ((days = option_number(argv[i + 1])) < 1)
				return ctl_usage("gc", "--history-days needs a number of days, at least 1");
		} else
			return ctl_usage("gc", "gc takes --grace SECONDS and --history-days DAYS");
	}
	/* The duplicate records of deliveries (docs/delivery.md) last as
	 * long as they count: one lmtp_duplicate_window. */
	if (db_gc(ctl->dsn, grace, stdout, err, sizeof(err)) < 0 ||
	    db_prune_history(ctl->dsn, days, stdout, err, sizeof(err)) < 0 ||
	    db_prune_delivery_duplicates(ctl->dsn, ctl->cfg->lmtp_duplicate_window, stdout, err,
					 sizeof(err)) < 0)
		return ctl_report(CTL_FAILED, err);
	return CTL_OK;
}
