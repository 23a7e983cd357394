/* what-user-can-see: every mailbox a person can see (has "l" or "r"), named
 * as their IMAP client names it, with their rights: the other direction of
 * who-can-access (ctl_access.c), with the same evaluation and output form.
 *
 * The candidates are the ones kairand's LIST considers: the person's own
 * mailboxes, and other owners' mailboxes whose ACL names the person, one
 * of their groups, "anyone" or "authenticated" (db_shared_mailboxes). */
#include "server/ctl/ctl.h"
#include "schema/db_admin.h"
#include "schema/db_shared.h"
#include "server/imap/namespace.h"

#include <stdio.h>
#include <string.h>

struct seen_by {
	struct ctl *ctl;
	const struct ctl_person *p;
	struct acl_caller caller;
	struct ctl_list lines;
};

/* Adds the line of one mailbox when the person may know it exists. */
static void add_line(struct seen_by *s, const char *name, bool owner,
		     const struct db_acl_row *acl, size_t nacl)
{
	const char *notes[3] = { NULL, NULL, NULL };
	struct arena *a = &s->ctl->arena;
	acl_rights rights = ctl_evaluate(a, &s->caller, owner, acl, nacl, name);
	size_t k = 0;

	if (!acl_may_know_exists(rights))
		return;
	if (owner)
		notes[k++] = "owner";
	if (s->p->admin)
		notes[k++] = "admin group";
	ctl_list_add(a, &s->lines, ctl_strf(a, "%s\t%s\t%s", name, ctl_rights_text(a, rights),
					    ctl_via(a, &s->caller, acl, nacl, notes)));
}

static enum ctl_status personal(struct seen_by *s, db *d, int64_t account_id,
				char *err, size_t errlen)
{
	struct db_admin_mailbox *rows;
	size_t n = 0;

	if (db_admin_mailboxes(d, account_id, &s->ctl->arena, &rows, &n, err, errlen) != DB_OK)
		return CTL_FAILED;
	for (size_t i = 0; i < n; i++)
		if (rows[i].mailbox_id != 0)
			add_line(s, rows[i].name, true, rows[i].acl, rows[i].nacl);
	return CTL_OK;
}

/* "Shared/<owner>/<name>" or "Other Users/<owner>/<name>"; the owner's
 * INBOX (shared_name "") is the owner's level itself. */
static enum ctl_status others(struct seen_by *s, db *d, int64_t account_id,
			      char *err, size_t errlen)
{
	struct arena *a = &s->ctl->arena;
	struct db_shared_mailbox *rows;
	size_t n = 0;

	if (db_shared_mailboxes(d, account_id, s->p->login, s->p->groups, s->p->ngroups, a,
				&rows, &n, err, errlen) != DB_OK)
		return CTL_FAILED;
	if (n >= DB_SHARED_MAX_MAILBOXES)
		ctl_warn("only the first %d mailboxes shared with %s are considered",
			 DB_SHARED_MAX_MAILBOXES, s->p->login);
	for (size_t i = 0; i < n; i++) {
		const struct db_shared_mailbox *m = &rows[i];

		add_line(s, imap_ns_join(a, m->shared_owner, m->owner_login, m->name), false,
			 m->acl, m->nacl);
	}
	return CTL_OK;
}

/* The person's account: 0 when they have never logged in (no mailboxes of
 * their own yet, but others may already share with them). */
static enum ctl_status account(db *d, const char *login, int64_t *id_r, char *err, size_t errlen)
{
	struct db_admin_account acc;
	enum db_result r = db_admin_account(d, login, &acc, err, errlen);

	*id_r = 0;
	if (r == DB_FAILED)
		return CTL_FAILED;
	if (r == DB_NOT_FOUND) {
		ctl_warn("%s has not logged in yet: no personal mailboxes", login);
		return CTL_OK;
	}
	if (acc.shared)
		return ctl_err(CTL_FAILED, err, errlen, "'%s' is a shared account; it never logs in",
			       login);
	*id_r = acc.id;
	return CTL_OK;
}

int ctl_cmd_what_user_can_see(struct ctl *ctl, int argc, char **argv)
{
	char err[CTL_ERR_MAX];
	struct ctl_person p;
	struct seen_by s = { .ctl = ctl, .p = &p };
	enum ctl_status st;
	int64_t account_id = 0;
	bool found = false;
	db *d = NULL;

	if (argc != 1)
		return ctl_usage("what-user-can-see", "what-user-can-see needs a login");
	st = ctl_person_lookup(ctl, argv[0], strlen(argv[0]), true, &p, &found, err, sizeof(err));
	if (st == CTL_OK && !found)
		st = ctl_err(CTL_FAILED, err, sizeof(err), "no user '%s' in the directory", argv[0]);
	if (st == CTL_OK) {
		ctl_caller(&ctl->arena, &p, true, &s.caller);
		if ((st = ctl_db(ctl, &d, err, sizeof(err))) == CTL_OK &&
		    (st = account(d, p.login, &account_id, err, sizeof(err))) == CTL_OK &&
		    (account_id == 0 ||
		     (st = personal(&s, d, account_id, err, sizeof(err))) == CTL_OK))
			st = others(&s, d, account_id, err, sizeof(err));
	}
	if (st == CTL_OK && p.admin)
		ctl_warn("%s is in the admin group: \"l\" and \"a\" on every mailbox, of which only "
			 "those shared with them are listed", p.login);
	if (st == CTL_OK)
		ctl_list_print(&s.lines);
	ctl_person_free(&p);
	return ctl_report(st, err);
}
