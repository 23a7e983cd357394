/* Effective rights as kairand computes them (server/imap/rights.c), for
 * the reports of who-can-access and what-user-can-see: the arithmetic is
 * acl/'s acl_evaluate, fed the person's directory groups and admin flag. */
#include "server/ctl/ctl.h"
#include "server/core/buf.h"

#include <stdlib.h>
#include <string.h>

void ctl_caller(struct arena *a, const struct ctl_person *p, bool authenticated,
		struct acl_caller *caller_r)
{
	struct acl_name *groups = NULL;

	memset(caller_r, 0, sizeof(*caller_r));
	caller_r->authenticated = authenticated;
	/* Without a person the login is "", which no user entry can name
	 * (acl/identifier.h: names are never empty). */
	caller_r->login = "";
	if (p == NULL)
		return;
	groups = arena_alloc(a, (p->ngroups + 1) * sizeof(*groups));
	for (size_t i = 0; i < p->ngroups; i++)
		groups[i] = (struct acl_name){ p->groups[i], strlen(p->groups[i]) };
	caller_r->login = p->login;
	caller_r->login_len = strlen(p->login);
	caller_r->authenticated = true;
	caller_r->groups = groups;
	caller_r->ngroups = p->ngroups;
	caller_r->admin = p->admin;
}

acl_rights ctl_evaluate(struct arena *a, const struct acl_caller *caller, bool owner,
			const struct db_acl_row *rows, size_t n, const char *mailbox)
{
	acl_rights rights = 0;
	size_t bad = 0;

	if (db_acl_evaluate(a, caller, owner, rows, n, &rights, &bad) < 0)
		ctl_warn("corrupt ACL entry '%s' on %s: only the owner's and admins' floors "
			 "are granted", rows[bad].identifier, mailbox);
	return rights;
}

const char *ctl_via(struct arena *a, const struct acl_caller *caller,
		    const struct db_acl_row *rows, size_t n, const char *const *notes)
{
	struct ctl_list matching = { 0 };
	struct buf b;
	const char *out = "";
	size_t items = 0;

	for (size_t i = 0; i < n; i++) {
		struct acl_identifier id;

		if (acl_identifier_parse(rows[i].identifier, strlen(rows[i].identifier), &id) ==
		    ACL_ID_OK && acl_identifier_matches(&id, caller))
			ctl_list_add(a, &matching, rows[i].identifier);
	}
	/* Bytewise, whatever order the database's collation gave the rows. */
	ctl_list_sort(&matching);
	buf_init(&b);
	buf_append_str(&b, "(via ");
	for (size_t i = 0; notes != NULL && notes[i] != NULL; i++)
		buf_appendf(&b, "%s%s", items++ ? ", " : "", notes[i]);
	for (size_t i = 0; i < matching.n; i++)
		buf_appendf(&b, "%s%s", items++ ? ", " : "", matching.v[i]);
	buf_append(&b, ")", 1);
	if (items > 0)
		out = arena_strndup(a, b.data, b.len);
	buf_free(&b);
	return out;
}

const char *ctl_rights_text(struct arena *a, acl_rights rights)
{
	char letters[ACL_RIGHTS_TEXT_MAX];

	if (rights == 0)
		return "-";
	acl_rights_format(rights, letters);
	return arena_strndup(a, letters, strlen(letters));
}

void ctl_list_add(struct arena *a, struct ctl_list *l, const char *s)
{
	if (l->n == l->cap) {
		const char **v;

		l->cap = l->cap ? 2 * l->cap : 32;
		v = arena_alloc(a, l->cap * sizeof(*v));
		if (l->n > 0)
			memcpy(v, l->v, l->n * sizeof(*v));
		l->v = v;
	}
	l->v[l->n++] = s;
}

static int compare_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

void ctl_list_sort(struct ctl_list *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), compare_str);
}

void ctl_list_print(struct ctl_list *l)
{
	ctl_list_sort(l);
	for (size_t i = 0; i < l->n; i++)
		puts(l->v[i]);
}
