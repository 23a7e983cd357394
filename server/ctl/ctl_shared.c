/* shared create, shared list: the accounts behind "Shared/<name>"
 * (DESIGN.md "Namespaces and shared folders"). A shared account never logs
 * in; it owns team mailboxes that its ACL opens to people and groups. */
#include "server/ctl/ctl.h"
#include "schema/db_admin.h"
#include "server/imap/namespace.h"
#include "server/teams.h"

#include <stdio.h>
#include <string.h>

#define CMD "shared create"

struct grant {
	const char *arg;                       /* IDENTIFIER=RIGHTS as given */
	char ident[ACL_IDENTIFIER_MAX + 2];    /* stored form */
	struct acl_change change;
	acl_rights stored;                     /* the entry afterwards, to report */
};

struct create_args {
	const char *name;
	int seen;                              /* -1 unchanged, 0 shared, 1 per user */
	struct grant *grants;
	size_t ngrants;
	char (*addresses)[ADDRESS_MAX + 1];    /* normalised */
	bool *added;                           /* each address was new */
	size_t naddresses;
};

/* The option at argv[*ip] if it is name ("--x V" or "--x=V"): 1 with
 * *value_r, 0 if it is not, -1 if its value is missing. */
static int option(int argc, char **argv, int *ip, const char *name, const char **value_r)
{
	size_t len = strlen(name);

	if (strncmp(argv[*ip], name, len) != 0)
		return 0;
	if (argv[*ip][len] == '=') {
		*value_r = argv[*ip] + len + 1;
		return 1;
	}
	if (argv[*ip][len] != '\0')
		return 0;
	if (*ip + 1 >= argc)
		return -1;
	*value_r = argv[++*ip];
	return 1;
}

/* Syntax only: nothing is looked up yet. */
static int parse_create(struct ctl *ctl, int argc, char **argv, struct create_args *a,
			char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	a->seen = -1;
	a->grants = arena_alloc(&ctl->arena, ((size_t)argc + 1) * sizeof(*a->grants));
	a->addresses = arena_alloc(&ctl->arena, ((size_t)argc + 1) * sizeof(*a->addresses));
	a->added = arena_alloc(&ctl->arena, ((size_t)argc + 1) * sizeof(*a->added));
	for (int i = 0; i < argc; i++) {
		const char *v = NULL, *eq;
		int r;

		if ((r = option(argc, argv, &i, "--grant", &v)) > 0) {
			struct grant *g = &a->grants[a->ngrants++];

			/* Rights have no '=', identifiers may: split at the last. */
			if ((eq = strrchr(v, '=')) == NULL)
				return ctl_usage(CMD, "--grant needs IDENTIFIER=RIGHTS");
			g->arg = v;
			snprintf(g->ident, sizeof(g->ident), "%.*s", (int)(eq - v), v);
			if (ctl_rights_arg(eq + 1, &g->change, err, errlen) != CTL_OK)
				return ctl_usage(CMD, err);
		} else if (r == 0 && (r = option(argc, argv, &i, "--seen", &v)) > 0) {
			if (strcmp(v, "per-user") != 0 && strcmp(v, "shared") != 0)
				return ctl_usage(CMD, "--seen is per-user or shared");
			a->seen = strcmp(v, "per-user") == 0;
		} else if (r == 0 && (r = option(argc, argv, &i, "--address", &v)) > 0) {
			enum ctl_status st = ctl_team_address_arg(CMD, v, a->addresses[a->naddresses++],
								  err, errlen);
			if (st != CTL_OK)
				return st;
		} else if (r < 0) {
			return ctl_usage(CMD, "an option needs a value");
		} else if (strncmp(argv[i], "--", 2) == 0 || a->name != NULL) {
			snprintf(err, errlen, "unexpected argument '%s'", argv[i]);
			return ctl_usage(CMD, err);
		} else {
			a->name = argv[i];
		}
	}
	if (a->name == NULL)
		return ctl_usage(CMD, "the shared account's NAME is missing");
	return CTL_OK;
}

/* The name becomes a login and the level below "Shared/", so it must be
 * what an ACL could name as a login: UTF-8, no control characters, no
 * '/', space or IMAP/LDAP metacharacters, not "anyone" or a "group:"
 * name, at most ACL_NAME_MAX bytes (acl/identifier.h). */
static enum ctl_status check_name(const char *name, char *err, size_t errlen)
{
	enum acl_id_error e = teams_name_check(name);

	if (e != ACL_ID_OK)
		return ctl_err(CTL_USAGE, err, errlen, "invalid shared account name '%s': %s", name,
			       acl_id_error_str(e));
	return CTL_OK;
}

/* Checks before any change: the name is free or already a shared account,
 * no person in the directory has it (their first login would find it
 * taken), and every grant names a known person or a group. */
static enum ctl_status check_create(struct ctl *ctl, db *d, struct create_args *a,
				    char *err, size_t errlen)
{
	struct db_admin_account acc;
	struct acl_identifier id;
	struct ctl_person p;
	enum ctl_status st;
	enum db_result r;
	bool found;

	if ((st = check_name(a->name, err, errlen)) != CTL_OK)
		return st;
	r = db_admin_account(d, a->name, &acc, err, errlen);
	if (r == DB_FAILED)
		return CTL_FAILED;
	if (r == DB_OK && !acc.shared)
		return ctl_err(CTL_FAILED, err, errlen, "'%s' is a user account, not a shared one",
			       a->name);
	if (r == DB_NOT_FOUND) {
		st = ctl_person_lookup(ctl, a->name, strlen(a->name), false, &p, &found, err,
				       errlen);
		if (st != CTL_OK)
			return st;
		if (found)
			return ctl_err(CTL_FAILED, err, errlen, "'%s' is a person in the directory "
				       "(login %s): choose another name", a->name, p.login);
	}
	for (size_t i = 0; i < a->ngrants; i++) {
		char text[ACL_IDENTIFIER_MAX + 2];

		snprintf(text, sizeof(text), "%s", a->grants[i].ident);
		st = ctl_identifier(ctl, text, CTL_ID_GRANT, &id, a->grants[i].ident,
				    sizeof(a->grants[i].ident), err, errlen);
		if (st != CTL_OK)
			return st;
	}
	for (size_t i = 0; i < a->naddresses; i++)
		if ((st = ctl_team_address_check(ctl, a->name, a->addresses[i], err,
						  errlen)) != CTL_OK)
			return st;
	return CTL_OK;
}

/* The account, its INBOX and the grants, in the caller's transaction. */
static enum ctl_status create(struct ctl *ctl, db *d, struct create_args *a,
			      bool *created_r, char *err, size_t errlen)
{
	struct ctl_mailbox mb = { .owner_login = a->name, .owner_shared = true };
	enum ctl_status st;
	enum db_result r;

	mb.arg = imap_ns_join(&ctl->arena, true, a->name, "");
	r = db_admin_shared_account(d, a->name, &mb.owner_id, created_r, err, errlen);
	if (r == DB_NOT_FOUND)
		return ctl_err(CTL_FAILED, err, errlen, "'%s' is a user account, not a shared one",
			       a->name);
	if (r != DB_OK || db_admin_shared_inbox(d, mb.owner_id, a->seen, &mb.mailbox_id, err,
						errlen) != DB_OK)
		return CTL_FAILED;
	for (size_t i = 0; i < a->ngrants; i++) {
		st = ctl_acl_change(ctl, d, &mb, a->grants[i].ident, &a->grants[i].change,
				    &a->grants[i].stored, err, errlen);
		if (st != CTL_OK)
			return st;
	}
	for (size_t i = 0; i < a->naddresses; i++)
		if ((st = ctl_team_address_add(ctl, d, mb.owner_id, a->addresses[i], &a->added[i],
					       err, errlen)) != CTL_OK)
			return st;
	return CTL_OK;
}

int ctl_cmd_shared_create(struct ctl *ctl, int argc, char **argv)
{
	char err[CTL_ERR_MAX];
	struct create_args a;
	enum ctl_status st;
	bool created = false;
	db *d = NULL;

	if ((st = parse_create(ctl, argc, argv, &a, err, sizeof(err))) != CTL_OK)
		return st;
	if ((st = ctl_db(ctl, &d, err, sizeof(err))) == CTL_OK &&
	    (st = check_create(ctl, d, &a, err, sizeof(err))) == CTL_OK &&
	    (st = ctl_tx_begin(d, err, sizeof(err))) == CTL_OK)
		st = ctl_tx_end(d, create(ctl, d, &a, &created, err, sizeof(err)), err,
				sizeof(err));
	if (st != CTL_OK)
		return ctl_report(st, err);
	if (created)
		printf("created shared account %s: Shared/%s\n", a.name, a.name);
	else
		printf("shared account %s exists: %s\n", a.name,
		       a.ngrants > 0 || a.seen >= 0 || a.naddresses > 0 ?
		       "grants and settings updated" :
		       "nothing to change");
	if (a.seen >= 0)
		printf("Shared/%s\tseen=%s\n", a.name, a.seen ? "per-user" : "shared");
	for (size_t i = 0; i < a.ngrants; i++)
		printf("Shared/%s\t%s\t%s\n", a.name, a.grants[i].ident,
		       ctl_rights_text(&ctl->arena, a.grants[i].stored));
	for (size_t i = 0; i < a.naddresses; i++)
		printf("Shared/%s\t%s\t%s\n", a.name, a.addresses[i],
		       a.added[i] ? "added" : "already there");
	return CTL_OK;
}

/* One line per mailbox: its name as members see it, its \Seen mode, and
 * every entry as IDENTIFIER=RIGHTS, the form --grant takes. */
int ctl_cmd_shared_list(struct ctl *ctl, int argc, char **argv)
{
	char err[CTL_ERR_MAX];
	struct db_admin_mailbox *rows;
	enum ctl_status st;
	size_t n = 0;
	db *d = NULL;

	(void)argv;
	if (argc != 0)
		return ctl_usage("shared list", "shared list takes no arguments");
	if ((st = ctl_db(ctl, &d, err, sizeof(err))) != CTL_OK)
		return ctl_report(st, err);
	if (db_admin_mailboxes(d, 0, &ctl->arena, &rows, &n, err, sizeof(err)) != DB_OK)
		return ctl_report(CTL_FAILED, err);
	for (size_t i = 0; i < n; i++) {
		const struct db_admin_mailbox *m = &rows[i];

		printf("Shared/%s%s%s", m->owner_login, m->shared_name[0] != '\0' ? "/" : "",
		       m->shared_name);
		if (m->mailbox_id == 0) {
			printf("\t(no mailboxes)\n");
			continue;
		}
		printf("\tseen=%s%s%s", m->seen_per_user ? "per-user" : "shared",
		       m->seen_fixed ? ",fixed" : "", m->noselect ? ",noselect" : "");
		for (size_t j = 0; j < m->nacl; j++)
			printf("\t%s=%s", m->acl[j].identifier, m->acl[j].rights);
		putchar('\n');
	}
	return CTL_OK;
}
