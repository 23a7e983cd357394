/* What kairanctl's commands share: the configuration, the PostgreSQL and
 * LDAP connections (opened on first use, so a command that needs neither
 * runs without them), and the exit statuses.
 *
 * Errors: helpers return a ctl_status and write a one-line reason into the
 * caller's err buffer; the command prints it once, with ctl_report, and
 * returns the status as the exit code. */
#ifndef KAIRAN_CTL_CTL_H
#define KAIRAN_CTL_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include "acl/evaluate.h"
#include "acl/identifier.h"
#include "acl/modify.h"
#include "directory/dir.h"
#include "schema/db.h"
#include "schema/db_acl.h"
#include "server/core/address.h"
#include "server/core/arena.h"
#include "server/core/config.h"

/* The exit statuses (docs/kairanctl.md). */
enum ctl_status {
	CTL_OK = 0,
	CTL_FAILED = 1,   /* the command could not be done */
	CTL_USAGE = 2,    /* the arguments are wrong: nothing was done */
};

/* Room for one reason. */
#define CTL_ERR_MAX 512

struct ctl {
	const char *dsn;
	const struct config *cfg;
	db *db;               /* NULL until ctl_db */
	dir *dir;             /* NULL until ctl_dir */
	struct arena arena;   /* for the one command a process runs */
};

/* The connections, opened on first use. CTL_OK with *db_r / *dir_r set
 * (owned by ctl: ctl_close frees them), or CTL_FAILED with err set. The
 * directory's settings are checked first, so a command that needs LDAP
 * with a config that has none says so in one line. */
enum ctl_status ctl_db(struct ctl *ctl, db **db_r, char *err, size_t errlen);
enum ctl_status ctl_dir(struct ctl *ctl, dir **dir_r, char *err, size_t errlen);

void ctl_close(struct ctl *ctl);

/* A transaction around a command's changes, so that they commit together
 * or not at all: ctl_tx_end commits when status is CTL_OK, else rolls back,
 * and returns the status (CTL_FAILED with err when the COMMIT fails). */
enum ctl_status ctl_tx_begin(db *d, char *err, size_t errlen);
enum ctl_status ctl_tx_end(db *d, enum ctl_status status, char *err, size_t errlen);

/* Prints "kairanctl: <err>" on stderr unless status is CTL_OK; returns
 * status, so that a command ends with "return ctl_report(r, err);". */
int ctl_report(enum ctl_status status, const char *err);

/* A note on stderr ("kairanctl: warning: ...") that does not change the
 * exit status: a group that does not exist (yet), a truncated list. */
void ctl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A formatted string from ctl's arena (the lines of a report). */
char *ctl_strf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* snprintf into err; returns status, for "return ctl_err(...)". */
enum ctl_status ctl_err(enum ctl_status status, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* --- ctl_person.c: people and identifiers, through the directory --- */

/* A person as kairand sees them at login: the directory's canonical login
 * and DN, their groups, and whether they are in auth_admin_group. */
struct ctl_person {
	char login[DIR_LOGIN_MAX + 1];
	char dn[1024];
	char **groups;        /* dir_user_groups' list; ctl_person_free */
	size_t ngroups;
	bool admin;
};

/* Looks login up, with memberships its groups and admin flag too (else
 * they are empty). CTL_OK with *found_r false when the directory has no
 * such person; CTL_FAILED with err when it cannot say. Memberships are
 * read now, never cached: a change in the directory shows at the next
 * run. Free with ctl_person_free (also after a failure). */
enum ctl_status ctl_person_lookup(struct ctl *ctl, const char *login, size_t len,
				  bool memberships, struct ctl_person *p, bool *found_r,
				  char *err, size_t errlen);
void ctl_person_free(struct ctl_person *p);

/* How an identifier argument is checked against the directory. */
enum ctl_id_check {
	CTL_ID_GRANT,   /* a login must exist; a group that does not is a warning */
	CTL_ID_ANY,     /* nothing is looked up (acl remove of a stored entry) */
};

/* Parses text with acl_identifier_parse (CTL_USAGE with the reason when
 * it does not) and writes the form to store into out (ACL_IDENTIFIER_MAX
 * + 2 bytes): a login canonicalised by the directory, as IMAP SETACL
 * does, so "BOB" and "bob" are one entry. *id_r describes out. */
enum ctl_status ctl_identifier(struct ctl *ctl, const char *text, enum ctl_id_check check,
			       struct acl_identifier *id_r, char *out, size_t size,
			       char *err, size_t errlen);

/* --- ctl_mailbox.c: the MAILBOX argument --- */

struct ctl_mailbox {
	const char *arg;            /* as given; once resolved, normalised (INBOX) */
	const char *owner_login;
	bool owner_shared;          /* a shared account: no owner rights apply */
	int64_t owner_id, mailbox_id;
	const char *name;           /* in the owner's namespace ("INBOX/X") */
	struct db_acl_row *acl;     /* the stored entries, by identifier */
	size_t nacl;
};

/* Resolves "Shared/NAME[/SUB...]" or "LOGIN:NAME" to a mailbox and reads
 * its ACL (from ctl's arena). CTL_USAGE for a malformed argument,
 * CTL_FAILED when there is no such account or mailbox. */
enum ctl_status ctl_mailbox_resolve(struct ctl *ctl, db *d, const char *arg,
				    struct ctl_mailbox *mb, char *err, size_t errlen);

/* Whether the stored identifier ident is the positive entry of the
 * mailbox's owner, the one that replaces the owner's default rights. */
bool ctl_mailbox_names_owner(const struct ctl_mailbox *mb, const char *ident);


/* --- ctl_acl.c --- */

/* Applies change to mailbox mb's entry for ident (stored form), inside
 * the caller's transaction: locks the mailbox row, reads the entry again,
 * stores acl_change_apply's result (0 removes the entry; the owner keeps
 * "l" and "a"), and makes \Seen per user when someone other than the
 * owner is given "r" (migration 0006). *result_r is what was stored. */
enum ctl_status ctl_acl_change(struct ctl *ctl, db *d, struct ctl_mailbox *mb, const char *ident,
			       const struct acl_change *change, acl_rights *result_r,
			       char *err, size_t errlen);

/* Parses a RIGHTS argument as SETACL does ([+|-] letters, c and d
 * mapped); CTL_USAGE with the reason when it does not parse. */
enum ctl_status ctl_rights_arg(const char *text, struct acl_change *change_r,
			       char *err, size_t errlen);

/* --- ctl_rights.c: effective rights, as kairand computes them --- */

/* A caller for acl_evaluate: the person, or with p NULL a session that
 * matches only "anyone" (authenticated false) or also "authenticated". */
void ctl_caller(struct arena *a, const struct ctl_person *p, bool authenticated,
		struct acl_caller *caller_r);

/* acl_evaluate over stored rows; a corrupt row is reported as a warning
 * (the result then holds only the floors, as in kairand). */
acl_rights ctl_evaluate(struct arena *a, const struct acl_caller *caller, bool owner,
			const struct db_acl_row *rows, size_t n, const char *mailbox);

/* The identifiers of the rows that apply to caller, ", "-separated, after
 * the notes given (NULL-terminated), as "(via owner, group:sales, -bob)";
 * "" when there is nothing to say. From a. */
const char *ctl_via(struct arena *a, const struct acl_caller *caller,
		    const struct db_acl_row *rows, size_t n, const char *const *notes);

/* The rights' canonical letters, "-" for none, from a. */
const char *ctl_rights_text(struct arena *a, acl_rights rights);

/* A growing list of strings (the lines of a report, logins to look up),
 * in an arena: nothing to free. Zero-initialise. */
struct ctl_list {
	const char **v;
	size_t n, cap;
};

/* Appends s itself (not a copy). */
void ctl_list_add(struct arena *a, struct ctl_list *l, const char *s);
/* Sorts bytewise (strcmp), so that reports are stable and diff well. */
void ctl_list_sort(struct ctl_list *l);
/* Sorts, then prints one string a line. */
void ctl_list_print(struct ctl_list *l);

/* --- ctl_team.c: team addresses --- */

/* Normalises an ADDRESS argument (server/core/address.h); CTL_USAGE with
 * command's usage line when it is not one a team can have. */
enum ctl_status ctl_team_address_arg(const char *command, const char *arg,
				     char norm_r[ADDRESS_MAX + 1], char *err, size_t errlen);

/* Refuses (CTL_FAILED with the reason) an address the directory gives to
 * a person, or, with teams_from_directory, to another team's group: mail
 * to it would not reach Shared/name (docs/delivery.md, "Clashes"). */
enum ctl_status ctl_team_address_check(struct ctl *ctl, const char *name, const char *address,
				       char *err, size_t errlen);

/* Gives the (normalised) address to the shared account, in the caller's
 * transaction if any; *added_r false when it had it. CTL_FAILED when
 * another shared account holds it. */
enum ctl_status ctl_team_address_add(struct ctl *ctl, db *d, int64_t account_id,
				     const char *address, bool *added_r, char *err, size_t errlen);

/* The commands (one file per family), as kairanctl.c's table calls them:
 * argc/argv are the arguments after the command's name. */
int ctl_cmd_migrate(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_gc(struct ctl *ctl, int argc, char **argv);
/* ctl_deliver.c: returns a sysexits.h code, not a ctl_status. */
int ctl_cmd_deliver(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_shared_create(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_shared_list(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_shared_address_add(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_shared_address_remove(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_shared_address_list(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_shared_sync(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_acl_set(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_acl_remove(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_acl_show(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_mailbox_seen(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_who_can_access(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_what_user_can_see(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_trace(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_trace_list(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_quota_show(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_quota_set(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_quota_recalc(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_import(struct ctl *ctl, int argc, char **argv);
int ctl_cmd_export(struct ctl *ctl, int argc, char **argv);

/* A usage error of one command: prints "kairanctl: <why>" and the
 * command's usage line, returns CTL_USAGE. Defined by kairanctl.c, which
 * owns the table of usage lines. */
int ctl_usage(const char *command, const char *why);

#endif
