/* kairanctl: the admin tool.
 *
 *   kairanctl -c FILE COMMAND [ARGS...]    settings from kairan.conf
 *   kairanctl --dsn DSN COMMAND [ARGS...]  database DSN given directly
 *
 * Commands are a table: each entry parses its own arguments and returns an
 * exit status.  Exit 0 on success, 1 when the command failed (one line
 * "kairanctl: <reason>" on stderr), 2 for a usage error.  A command is one
 * word ("migrate") or two ("acl set"); the families live one per file in
 * server/ctl/, and docs/kairanctl.md describes every command.
 *
 * The config file is read with the daemon's own reader (server/core/config.c)
 * so both programs accept and reject exactly the same files, and the
 * directory is used with kairand's own settings (server/dir_settings.c). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/ctl/ctl.h"

struct ctl_command {
	const char *name;       /* one word, or two separated by a space */
	int (*run)(struct ctl *ctl, int argc, char **argv);
	const char *args;       /* for the usage text */
	const char *summary;
};

static const struct ctl_command commands[] = {
	{ "migrate", ctl_cmd_migrate, "", "apply pending database migrations" },
	{ "gc", ctl_cmd_gc, "[--grace SECONDS]",
	  "delete message content no mailbox refers to (default grace 3600 s)" },
	{ "deliver", ctl_cmd_deliver, "[-f SENDER] RECIPIENT...",
	  "deliver the message on stdin, as LMTP does (exit status: sysexits.h)" },
	{ "shared create", ctl_cmd_shared_create,
	  "NAME [--grant IDENTIFIER=RIGHTS]... [--seen per-user|shared] [--address ADDRESS]...",
	  "create the shared account NAME and its INBOX (Shared/NAME), or add grants to it" },
	{ "shared list", ctl_cmd_shared_list, "", "shared accounts, their mailboxes and ACLs" },
	{ "shared address add", ctl_cmd_shared_address_add, "NAME ADDRESS",
	  "mail to ADDRESS is delivered into Shared/NAME" },
	{ "shared address remove", ctl_cmd_shared_address_remove, "NAME ADDRESS",
	  "take ADDRESS from Shared/NAME" },
	{ "shared address list", ctl_cmd_shared_address_list, "[NAME]",
	  "the team addresses (of Shared/NAME)" },
	{ "shared sync", ctl_cmd_shared_sync, "",
	  "make a team of every LDAP group with an address (teams_from_directory)" },
	{ "acl set", ctl_cmd_acl_set, "MAILBOX IDENTIFIER [+|-]RIGHTS",
	  "replace, add to (+) or take from (-) one ACL entry, as SETACL does" },
	{ "acl remove", ctl_cmd_acl_remove, "MAILBOX IDENTIFIER", "remove one ACL entry" },
	{ "acl show", ctl_cmd_acl_show, "MAILBOX", "the ACL of a mailbox" },
	{ "mailbox seen", ctl_cmd_mailbox_seen, "MAILBOX per-user|shared",
	  "keep \\Seen per reader, or common to all readers, in MAILBOX (remembered)" },
	{ "who-can-access", ctl_cmd_who_can_access, "MAILBOX",
	  "every person with a right on MAILBOX (groups expanded), and their rights" },
	{ "what-user-can-see", ctl_cmd_what_user_can_see, "LOGIN",
	  "every mailbox LOGIN can see, as LOGIN's client names it, and LOGIN's rights" },
	{ "quota show", ctl_cmd_quota_show, "ROOT",
	  "usage and limits of ROOT (LOGIN or Shared/NAME), RFC 9208 units" },
	{ "quota set", ctl_cmd_quota_set, "ROOT [storage=KIB|none|default] [messages=N|none|default]",
	  "set ROOT's limits (none: unlimited; default: kairan.conf's)" },
	{ "quota recalc", ctl_cmd_quota_recalc, "[ROOT]",
	  "recount the usage counters of ROOT's mailboxes (of all mailboxes)" },
	/* "trace list" before "trace": the one-word entry matches any login. */
	{ "trace list", ctl_cmd_trace_list, "", "the logins whose IMAP sessions are traced" },
	{ "trace", ctl_cmd_trace, "LOGIN on|off",
	  "trace (or stop tracing) LOGIN's IMAP sessions from their next login (trace_dir)" },
	{ "import", ctl_cmd_import,
	  "LOGIN SOURCE [--into FOLDER] [--batch N] [--password-file FILE] [--ca-file FILE]"
	  " [--insecure]",
	  "bring a Maildir or Maildir++ root, an mbox file or imap[s]://USER@HOST[:PORT] into"
	  " LOGIN's mailboxes, keeping flags, keywords, dates and UIDs; a second run copies"
	  " nothing" },
	{ "export", ctl_cmd_export, "LOGIN DIR",
	  "write LOGIN's mailboxes to DIR (new or empty) as a Maildir++ tree" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: kairanctl -c FILE COMMAND [ARGS...]\n"
	           "       kairanctl --dsn DSN COMMAND [ARGS...]\n"
	           "\n"
	           "  -c, --config FILE   read db_dsn and the ldap_* keys from this kairan.conf\n"
	           "  --dsn DSN           libpq connection string or URI (overrides -c)\n"
	           "\n"
	           "commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %s%s%s\n      %s\n", commands[i].name,
		        commands[i].args[0] != '\0' ? " " : "", commands[i].args,
		        commands[i].summary);
	fprintf(f, "\n"
	           "MAILBOX is Shared/NAME[/SUB...] (a shared account's mailbox) or LOGIN:NAME\n"
	           "(any account's mailbox by its own name, e.g. alice:INBOX/Projects).\n"
	           "IDENTIFIER is a login, group:NAME, anyone or authenticated, '-' first for\n"
	           "negative rights. RIGHTS are RFC 4314 letters (lrswipkxtea; c and d as SETACL).\n");
}

int ctl_usage(const char *command, const char *why)
{
	fprintf(stderr, "kairanctl: %s\n", why);
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, command) == 0)
			fprintf(stderr, "usage: kairanctl -c FILE %s %s\n", commands[i].name,
			        commands[i].args);
	return CTL_USAGE;
}

/* How many of argv's words name spells out ("shared address add" takes
 * three), 0 if they do not. *partial_r is set when argv[0] is the first
 * word of name (a family such as "acl" without one of its commands). */
static int command_words(const char *name, int argc, char **argv, bool *partial_r)
{
	int words = 0;

	while (*name != '\0') {
		size_t len = strcspn(name, " ");

		if (words >= argc || strncmp(argv[words], name, len) != 0 ||
		    argv[words][len] != '\0')
			return 0;
		if (words++ == 0)
			*partial_r = true;
		name += len;
		name += strspn(name, " ");
	}
	return words;
}

/* The entry named by the first words of argv; *words_r is how many
 * arguments the name took (1 when only a family's first word matched). */
static const struct ctl_command *find_command(int argc, char **argv, int *words_r)
{
	bool partial = false;

	for (size_t c = 0; c < N_COMMANDS; c++) {
		int words = command_words(commands[c].name, argc, argv, &partial);

		if (words > 0) {
			*words_r = words;
			return &commands[c];
		}
	}
	*words_r = partial ? 1 : 0;
	return NULL;
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
	const struct ctl_command *cmd;
	struct config cfg;
	struct ctl ctl;
	char err[CTL_ERR_MAX];
	int i, words = 0, ret;

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
			return CTL_USAGE;
		}
		if (r < 0) {
			fprintf(stderr, "kairanctl: %s needs a value\n", argv[i]);
			usage(stderr);
			return CTL_USAGE;
		}
	}
	if (i >= argc || (config_path == NULL && dsn == NULL)) {
		usage(stderr);
		return CTL_USAGE;
	}
	cmd = find_command(argc - i, argv + i, &words);
	if (cmd == NULL) {
		fprintf(stderr, "kairanctl: unknown command %s%s%s\n", argv[i],
		        words == 1 && i + 1 < argc ? " " : "",
		        words == 1 && i + 1 < argc ? argv[i + 1] : "");
		usage(stderr);
		return CTL_USAGE;
	}

	/* --dsn wins, but a -c file given with it is still read and must be
	 * valid: a broken config should not go unnoticed. */
	if (config_path == NULL)
		config_defaults(&cfg);
	else if (config_load(config_path, &cfg, err, sizeof(err)) < 0) {
		/* deliver speaks sysexits.h: an MTA keeps the message after
		 * EX_TEMPFAIL (75) while the admin fixes the file. */
		ctl_report(CTL_FAILED, err);
		return cmd->run == ctl_cmd_deliver ? 75 : CTL_FAILED;
	}
	memset(&ctl, 0, sizeof(ctl));
	ctl.dsn = dsn != NULL ? dsn : cfg.db_dsn;
	ctl.cfg = &cfg;
	arena_init(&ctl.arena);
	ret = cmd->run(&ctl, argc - i - words, argv + i + words);
	/* A command's output must reach its reader: a full disk or a closed
	 * pipe is a failure, not a silent success. */
	if (fflush(stdout) != 0 && ret == CTL_OK)
		ret = ctl_report(CTL_FAILED, "cannot write the output");
	ctl_close(&ctl);
	config_free(&cfg);
	return ret;
}
