/* kairanctl: the admin tool.
 *
 *   kairanctl -c FILE COMMAND [ARGS...]    database DSN from kairan.conf (db_dsn)
 *   kairanctl --dsn DSN COMMAND [ARGS...]  database DSN given directly
 *
 * Commands are a table: each entry parses its own arguments and returns an
 * exit status.  Exit 0 on success, 1 when the command failed (one line
 * "kairanctl: <reason>" on stderr), 2 for a usage error.
 *
 * The config file is read with the daemon's own reader (server/core/config.c)
 * so both programs accept and reject exactly the same files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/db.h"
#include "server/core/config.h"

#define EXIT_FAILED 1
#define EXIT_USAGE  2

struct ctl_command {
	const char *name;
	/* argc/argv are the command's own arguments (after its name). */
	int (*run)(const char *dsn, int argc, char **argv);
	const char *args;       /* for the usage text */
	const char *summary;
};

static int cmd_migrate(const char *dsn, int argc, char **argv);
static int cmd_gc(const char *dsn, int argc, char **argv);

static const struct ctl_command commands[] = {
	{ "migrate", cmd_migrate, "", "apply pending database migrations" },
	{ "gc", cmd_gc, "[--grace SECONDS]",
	  "delete message content no mailbox refers to (default grace 3600 s)" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: kairanctl -c FILE COMMAND [ARGS...]\n"
	           "       kairanctl --dsn DSN COMMAND [ARGS...]\n"
	           "\n"
	           "  -c, --config FILE   read db_dsn from this kairan.conf\n"
	           "  --dsn DSN           libpq connection string or URI (overrides -c)\n"
	           "\n"
	           "commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %s%s%s  %s\n", commands[i].name,
		        commands[i].args[0] != '\0' ? " " : "", commands[i].args,
		        commands[i].summary);
}

static int fail(const char *reason)
{
	fprintf(stderr, "kairanctl: %s\n", reason);
	return EXIT_FAILED;
}

static int cmd_migrate(const char *dsn, int argc, char **argv)
{
	char err[512];

	(void)argv;
	if (argc != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (db_migrate(dsn, stdout, err, sizeof(err)) < 0)
		return fail(err);
	return 0;
}

static int cmd_gc(const char *dsn, int argc, char **argv)
{
	char err[512], *end;
	long grace = 3600;

	if (argc == 2 && strcmp(argv[0], "--grace") == 0) {
		grace = strtol(argv[1], &end, 10);
		if (*end != '\0' || end == argv[1] || grace < 0) {
			usage(stderr);
			return EXIT_USAGE;
		}
	} else if (argc != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (db_gc(dsn, grace, stdout, err, sizeof(err)) < 0)
		return fail(err);
	return 0;
}

/* Matches "--name VALUE" and "--name=VALUE" (and "-c VALUE" for short
 * names).  Returns 1 and sets *value_r (advancing *ip past a separate
 * value), 0 if argv[*ip] is not this option, -1 if its value is missing. */
static int option_value(int argc, char **argv, int *ip, const char *name,
                        const char **value_r)
{
	const char *arg = argv[*ip];
	size_t len = strlen(name);

	if (strncmp(arg, name, len) != 0)
		return 0;
	if (arg[len] == '=' && name[1] == '-') {
		*value_r = arg + len + 1;
		return 1;
	}
	if (arg[len] != '\0')
		return 0;
	if (*ip + 1 >= argc)
		return -1;
	*value_r = argv[++*ip];
	return 1;
}

int main(int argc, char **argv)
{
	const char *config_path = NULL, *dsn = NULL;
	const struct ctl_command *cmd = NULL;
	struct config cfg;
	char err[512];
	int i, ret;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		int r;

		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if ((r = option_value(argc, argv, &i, "-c", &config_path)) == 0 &&
		    (r = option_value(argc, argv, &i, "--config", &config_path)) == 0 &&
		    (r = option_value(argc, argv, &i, "--dsn", &dsn)) == 0) {
			fprintf(stderr, "kairanctl: unknown option %s\n", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
		if (r < 0) {
			fprintf(stderr, "kairanctl: %s needs a value\n", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc || (config_path == NULL && dsn == NULL)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t c = 0; c < N_COMMANDS; c++)
		if (strcmp(argv[i], commands[c].name) == 0)
			cmd = &commands[c];
	if (cmd == NULL) {
		fprintf(stderr, "kairanctl: unknown command %s\n", argv[i]);
		usage(stderr);
		return EXIT_USAGE;
	}

	/* --dsn wins, but a -c file given with it is still read and must be
	 * valid: a broken config should not go unnoticed. */
	if (config_path == NULL)
		config_defaults(&cfg);
	else if (config_load(config_path, &cfg, err, sizeof(err)) < 0)
		return fail(err);
	ret = cmd->run(dsn != NULL ? dsn : cfg.db_dsn, argc - i - 1, argv + i + 1);
	config_free(&cfg);
	return ret;
}
