/* who-can-access: everyone who has a right on a mailbox, answered as
 * kairand would answer it at this moment (what-user-can-see, in
 * ctl_visible.c, is the other direction of the same audit). Rights are
 * acl/'s acl_evaluate with each person's directory groups and admin flag
 * read now (kairanctl has no cache), so a change in the directory shows at
 * once here, and within ldap_cache_ttl in kairand.
 *
 * Output: one line per principal, "NAME<TAB>RIGHTS<TAB>(via ...)", sorted
 * bytewise, so that it diffs and greps well. */
#include "server/ctl/ctl.h"

#include <string.h>

/* Adds the members of a group (by name, or with by_dn the admin group's
 * DN). A group the directory does not have is a warning: its entry gives
 * nobody anything. */
static enum ctl_status add_members(struct ctl *ctl, dir *d, struct ctl_list *l, const char *group,
				   bool by_dn, char *err, size_t errlen)
{
	char reason[CTL_ERR_MAX], **members = NULL;
	size_t n = 0;
	enum dir_result r = by_dn ?
		dir_group_members_by_dn(d, group, &members, &n, reason, sizeof(reason)) :
		dir_group_members(d, group, &members, &n, reason, sizeof(reason));

	if (r == DIR_UNAVAILABLE)
		return ctl_err(CTL_FAILED, err, errlen, "directory unavailable: %s", reason);
	if (reason[0] != '\0')
		ctl_warn("%s", reason);
	for (size_t i = 0; i < n; i++)
		ctl_list_add(&ctl->arena, l, arena_strndup(&ctl->arena, members[i],
							   strlen(members[i])));
	dir_groups_free(&members);
	return CTL_OK;
}

/* Every login the ACL can reach; *anyone_r / *auth_r when entries name
 * those (they are shown as themselves: nobody can list "everyone"). */
static enum ctl_status collect(struct ctl *ctl, dir *d, const struct ctl_mailbox *mb,
			       struct ctl_list *l, bool *anyone_r, bool *auth_r,
			       char *err, size_t errlen)
{
	const char *admin_group = ctl->cfg->auth_admin_group;
	enum ctl_status st = CTL_OK;

	if (!mb->owner_shared)
		ctl_list_add(&ctl->arena, l, mb->owner_login);
	for (size_t i = 0; i < mb->nacl && st == CTL_OK; i++) {
		struct acl_identifier id;
		const char *ident = mb->acl[i].identifier;

		if (acl_identifier_parse(ident, strlen(ident), &id) != ACL_ID_OK)
			continue;   /* ctl_evaluate reports it */
		if (id.kind == ACL_ID_USER)
			ctl_list_add(&ctl->arena, l, arena_strndup(&ctl->arena, id.name,
								   id.name_len));
		else if (id.kind == ACL_ID_GROUP)
			st = add_members(ctl, d, l, arena_strndup(&ctl->arena, id.name, id.name_len),
					 false, err, errlen);
		*anyone_r |= id.kind == ACL_ID_ANYONE;
		*auth_r |= id.kind == ACL_ID_AUTHENTICATED;
	}
	/* Admins have "l" and "a" on every mailbox (acl/evaluate.h). */
	if (st == CTL_OK && admin_group[0] != '\0')
		st = add_members(ctl, d, l, admin_group, true, err, errlen);
	ctl_list_sort(l);
	return st;
}

/* The line of one person, or NULL when they have no right. */
static enum ctl_status person_line(struct ctl *ctl, const struct ctl_mailbox *mb,
				   const char *login, const char **line_r, char *err, size_t errlen)
{
	const char *notes[3] = { NULL, NULL, NULL };
	struct acl_caller caller;
	struct ctl_person p;
	enum ctl_status st;
	acl_rights rights;
	bool found, owner;
	size_t k = 0;

	*line_r = NULL;
	st = ctl_person_lookup(ctl, login, strlen(login), true, &p, &found, err, errlen);
	if (st == CTL_OK && !found)
		*line_r = ctl_strf(&ctl->arena, "%s\t-\t(not in the directory: cannot log in)",
				   login);
	if (st != CTL_OK || !found) {
		ctl_person_free(&p);
		return st;
	}
	owner = !mb->owner_shared && strcmp(p.login, mb->owner_login) == 0;
	if (owner)
		notes[k++] = "owner";
	if (p.admin)
		notes[k++] = "admin group";
	ctl_caller(&ctl->arena, &p, true, &caller);
	rights = ctl_evaluate(&ctl->arena, &caller, owner, mb->acl, mb->nacl, mb->arg);
	if (rights != 0)
		*line_r = ctl_strf(&ctl->arena, "%s\t%s\t%s", p.login,
				   ctl_rights_text(&ctl->arena, rights),
				   ctl_via(&ctl->arena, &caller, mb->acl, mb->nacl, notes));
	ctl_person_free(&p);
	return CTL_OK;
}

/* "anyone" or "authenticated" as a principal: a session that matches that
 * keyword and no login or group. */
static const char *keyword_line(struct ctl *ctl, const struct ctl_mailbox *mb, bool authenticated)
{
	struct acl_caller caller;
	acl_rights rights;

	ctl_caller(&ctl->arena, NULL, authenticated, &caller);
	rights = ctl_evaluate(&ctl->arena, &caller, false, mb->acl, mb->nacl, mb->arg);
	if (rights == 0)
		return NULL;
	return ctl_strf(&ctl->arena, "%s\t%s\t%s", authenticated ? "authenticated" : "anyone",
			ctl_rights_text(&ctl->arena, rights),
			ctl_via(&ctl->arena, &caller, mb->acl, mb->nacl, NULL));
}

int ctl_cmd_who_can_access(struct ctl *ctl, int argc, char **argv)
{
	char err[CTL_ERR_MAX];
	struct ctl_list logins = { 0 }, lines = { 0 };
	struct ctl_mailbox mb;
	bool anyone = false, auth = false;
	const char *line;
	enum ctl_status st;
	db *d = NULL;
	dir *ld = NULL;

	if (argc != 1)
		return ctl_usage("who-can-access", "who-can-access needs a mailbox");
	if ((st = ctl_db(ctl, &d, err, sizeof(err))) != CTL_OK ||
	    (st = ctl_mailbox_resolve(ctl, d, argv[0], &mb, err, sizeof(err))) != CTL_OK ||
	    (st = ctl_dir(ctl, &ld, err, sizeof(err))) != CTL_OK ||
	    (st = collect(ctl, ld, &mb, &logins, &anyone, &auth, err, sizeof(err))) != CTL_OK)
		return ctl_report(st, err);
	for (size_t i = 0; i < logins.n; i++) {
		if (i > 0 && strcmp(logins.v[i], logins.v[i - 1]) == 0)
			continue;
		if ((st = person_line(ctl, &mb, logins.v[i], &line, err, sizeof(err))) != CTL_OK)
			return ctl_report(st, err);
		if (line != NULL)
			ctl_list_add(&ctl->arena, &lines, line);
	}
	if (anyone && (line = keyword_line(ctl, &mb, false)) != NULL)
		ctl_list_add(&ctl->arena, &lines, line);
	if (auth && (line = keyword_line(ctl, &mb, true)) != NULL)
		ctl_list_add(&ctl->arena, &lines, line);
	ctl_list_print(&lines);
	return CTL_OK;
}
