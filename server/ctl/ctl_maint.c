/* Database maintenance: migrate and gc. Both connect with the DSN alone,
 * without db_open's schema check: migrate is what makes the schema current,
 * and gc must work on a database one migration behind. */
#include "server/ctl/ctl.h"

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

int ctl_cmd_gc(struct ctl *ctl, int argc, char **argv)
{
	char err[CTL_ERR_MAX], *end;
	long grace = 3600;

	if (argc == 2 && strcmp(argv[0], "--grace") == 0) {
		grace = strtol(argv[1], &end, 10);
		if (*end != '\0' || end == argv[1] || grace < 0)
			return ctl_usage("gc", "--grace needs a number of seconds");
	} else if (argc != 0) {
		return ctl_usage("gc", "gc takes only --grace SECONDS");
	}
	if (db_gc(ctl->dsn, grace, stdout, err, sizeof(err)) < 0)
		return ctl_report(CTL_FAILED, err);
	return CTL_OK;
}
