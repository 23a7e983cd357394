/* dir_group_members and dir_group_members_by_dn: the accounts in a group,
 * for "who can access this mailbox" in kairanctl. */
#include "directory/dir_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Groups of one name read at most; more is noted like a truncated list. */
#define DIR_SAME_NAME_MAX 100

static void dir_clear(char *s, size_t size)
{
	if (s != NULL && size > 0)
		s[0] = '\0';
}

struct members_op {
	const char *name;       /* the group(s) of this name, or */
	const char *dn;         /* the one group entry at this DN */
	bool found, truncated;
	struct dir_strv logins; /* the answer */
	struct dir_strv dns;    /* member DNs still to read */
	struct dir_strv groups; /* memberOf: DNs of the groups of that name */
};

static void members_op_reset(void *arg)
{
	struct members_op *m = arg;

	m->found = m->truncated = false;
	dir_strv_clear(&m->logins);
	dir_strv_clear(&m->dns);
	dir_strv_clear(&m->groups);
}

/* Everything queued for the answer so far, logins and DNs to resolve. */
static bool members_full(struct members_op *m)
{
	if (m->logins.n + m->dns.n < DIR_MEMBERS_MAX)
		return false;
	m->truncated = true;
	return true;
}

/* Queues the values of one membership attribute of a group entry: DNs to
 * read later, or (memberUid) logins as they are. */
static int members_take_attr(dir *d, struct members_op *m, LDAPMessage *e, const char *attr,
		bool values_are_logins)
{
	struct berval **vals = ldap_get_values_len(d->ld, e, attr);
	int rc = 0;

	for (size_t i = 0; vals != NULL && vals[i] != NULL && rc == 0; i++) {
		const struct berval *v = vals[i];
		size_t len = values_are_logins ? v->bv_len :
			dir_unique_member_dn_len(v->bv_val, v->bv_len);

		if (members_full(m))
			break;
		if (values_are_logins) {
			if (dir_login_valid(v->bv_val, len))
				rc = dir_strv_add(&m->logins, v->bv_val, len);
			continue;
		}
		if (len == 0 || memchr(v->bv_val, '\0', len) != NULL)
			continue;
		rc = dir_strv_add(&m->dns, v->bv_val, len);
		/* Accounts live under base_dn (that is where logins are looked
		 * up); anything else, a nested group for one, is not a person. */
		if (rc == 0 && !dir_dn_under(m->dns.v[m->dns.n - 1], d->base_dn)) {
			free(m->dns.v[--m->dns.n]);
			m->dns.v[m->dns.n] = NULL;
		}
	}
	ldap_value_free_len(vals);
	return rc;
}

/* The membership attributes of group entry e that schema s uses. */
static int members_take_attrs(dir *d, struct members_op *m, LDAPMessage *e,
		enum dir_membership s)
{
	int rc = 0;

	if (s == DIR_MEMBERSHIP_AUTO || s == DIR_MEMBERSHIP_MEMBER_UID)
		rc = members_take_attr(d, m, e, "memberUid", true);
	if (rc == 0 && (s == DIR_MEMBERSHIP_AUTO || s == DIR_MEMBERSHIP_MEMBER))
		rc = members_take_attr(d, m, e, "member", false);
	if (rc == 0 && (s == DIR_MEMBERSHIP_AUTO || s == DIR_MEMBERSHIP_UNIQUE_MEMBER))
		rc = members_take_attr(d, m, e, "uniqueMember", false);
	return rc;
}

/* The group entry at m->dn. Its members are read the way dir_is_member
 * tests them (member, uniqueMember or memberUid, whatever the configured
 * schema and group filter), because that is how kairand decides who is in
 * the admin group, the one group named by DN. */
static enum dir_result members_read_dn(dir *d, struct dir_attempt *a, struct members_op *m,
		char *err, size_t errlen)
{
	char *attrs[] = { "member", "uniqueMember", "memberUid", NULL };
	LDAPMessage *res = NULL, *e;
	enum dir_result r = DIR_OK;
	int rc;

	rc = dir_read_entry(d, a, m->dn, "(objectClass=*)", attrs, &res);
	if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_OBJECT && rc != LDAP_INVALID_DN_SYNTAX) {
		a->rc = rc;
		dir_ldap_error(d->ld, rc, "LDAP group read", err, errlen);
		r = DIR_UNAVAILABLE;
	} else if (rc == LDAP_SUCCESS && (e = dir_first_entry(d, res)) != NULL) {
		m->found = true;
		if (members_take_attrs(d, m, e, DIR_MEMBERSHIP_AUTO) < 0) {
			dir_set_err(err, errlen, "out of memory");
			r = DIR_UNAVAILABLE;
		}
	}
	ldap_msgfree(res);
	return r;
}

/* ASCII letters fold, every other byte compares exactly: not strcasecmp,
 * whose folding follows the locale. */
static bool ascii_case_equal(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return *a == *b;
}

/* One group entry found by name. */
static int members_take_group(dir *d, struct members_op *m, LDAPMessage *e)
{
	char name[DIR_LOGIN_MAX + 1];
	enum dir_membership s = d->membership;
	char *dn;
	int rc;

	/* The search matched the name attribute with the server's rule (cn is
	 * case-insensitive, any value counts); an ACL's "group:NAME" matches
	 * the name dir_user_groups gives ignoring ASCII case only
	 * (acl_group_name_equal), so the same test is applied here: whoever
	 * kairand lets in through the entry is listed, and nobody else. */
	if (!dir_entry_group_name(d, e, false, name) || !ascii_case_equal(name, m->name))
		return 0;
	m->found = true;
	if (s == DIR_MEMBERSHIP_MEMBER_OF) {
		dn = ldap_get_dn(d->ld, e);
		rc = dn == NULL ? -1 : dir_strv_add(&m->groups, dn, strlen(dn));
		ldap_memfree(dn);
		return rc;
	}
	return members_take_attrs(d, m, e, s);
}

static enum dir_result members_find_groups(dir *d, struct dir_attempt *a, struct members_op *m,
		char *err, size_t errlen)
{
	char *attrs[] = { d->group_name_attribute, "member", "uniqueMember", "memberUid", NULL };
	struct timeval tv = { .tv_sec = d->timeout_sec, .tv_usec = 0 };
	LDAPMessage *res = NULL;
	enum dir_result r = DIR_OK;
	char *filter;
	int rc;

	if (d->membership == DIR_MEMBERSHIP_MEMBER_OF)
		attrs[1] = NULL;
	filter = dir_group_name_filter(d->group_filter, d->group_name_attribute,
		m->name, strlen(m->name));
	if (filter == NULL) {
		dir_set_err(err, errlen, "out of memory");
		return DIR_UNAVAILABLE;
	}
	a->ops++;
	rc = ldap_search_ext_s(d->ld, d->group_base_dn, LDAP_SCOPE_SUBTREE, filter, attrs, 0,
		NULL, NULL, &tv, DIR_SAME_NAME_MAX, &res);
	free(filter);
	if (rc == LDAP_SIZELIMIT_EXCEEDED) {
		m->truncated = true;
	} else if (rc != LDAP_SUCCESS) {
		a->rc = rc;
		dir_ldap_error(d->ld, rc, rc == LDAP_NO_SUCH_OBJECT ?
			"LDAP group search, check group_base_dn" : "LDAP group search", err, errlen);
		r = DIR_UNAVAILABLE;
	}
	for (LDAPMessage *e = dir_first_entry(d, res); r == DIR_OK && e != NULL;
	     e = ldap_next_entry(d->ld, e))
		if (members_take_group(d, m, e) < 0) {
			dir_set_err(err, errlen, "out of memory");
			r = DIR_UNAVAILABLE;
		}
	ldap_msgfree(res);
	return r;
}

/* take() for member entries: the account's login. */
struct members_ctx {
	struct members_op *m;
	dir *d;
};

static int members_take_login(void *arg, LDAPMessage *e)
{
	struct members_ctx *c = arg;
	struct berval **vals = ldap_get_values_len(c->d->ld, e, c->d->login_attribute);
	int rc = 0;

	if (vals != NULL && vals[0] != NULL && dir_login_valid(vals[0]->bv_val, vals[0]->bv_len))
		rc = dir_strv_add(&c->m->logins, vals[0]->bv_val, vals[0]->bv_len);
	ldap_value_free_len(vals);
	return rc;
}

/* memberOf: the accounts whose memberOf names one of the groups. */
static enum dir_result members_by_memberof(dir *d, struct dir_attempt *a, struct members_op *m,
		char *err, size_t errlen)
{
	char *attrs[] = { d->login_attribute, NULL };
	struct timeval tv = { .tv_sec = d->timeout_sec, .tv_usec = 0 };
	struct members_ctx ctx = { m, d };
	enum dir_result r = DIR_OK;

	for (size_t i = 0; i < m->groups.n && r == DIR_OK && !members_full(m); i++) {
		LDAPMessage *res = NULL;
		char *filter = dir_memberof_filter(d->login_attribute, m->groups.v[i],
			strlen(m->groups.v[i]));
		int rc;

		if (filter == NULL) {
			dir_set_err(err, errlen, "out of memory");
			return DIR_UNAVAILABLE;
		}
		a->ops++;
		rc = ldap_search_ext_s(d->ld, d->base_dn, LDAP_SCOPE_SUBTREE, filter, attrs, 0,
			NULL, NULL, &tv, (int)(DIR_MEMBERS_MAX - m->logins.n), &res);
		free(filter);
		if (rc == LDAP_SIZELIMIT_EXCEEDED) {
			m->truncated = true;
		} else if (rc != LDAP_SUCCESS) {
			a->rc = rc;
			dir_ldap_error(d->ld, rc, "LDAP memberOf search", err, errlen);
			r = DIR_UNAVAILABLE;
		}
		for (LDAPMessage *e = dir_first_entry(d, res); r == DIR_OK && e != NULL;
		     e = ldap_next_entry(d->ld, e))
			if (members_take_login(&ctx, e) < 0) {
				dir_set_err(err, errlen, "out of memory");
				r = DIR_UNAVAILABLE;
			}
		ldap_msgfree(res);
	}
	return r;
}

static enum dir_result members_op_run(dir *d, struct dir_attempt *a, void *arg,
		char *err, size_t errlen)
{
	struct members_op *m = arg;
	struct members_ctx ctx = { m, d };
	enum dir_result r;
	size_t size;
	char *filter;

	r = m->dn != NULL ? members_read_dn(d, a, m, err, errlen) :
		members_find_groups(d, a, m, err, errlen);
	if (r != DIR_OK)
		return r;
	if (!m->found) {
		if (m->dn != NULL)
			dir_set_err(err, errlen, "no LDAP entry %s", m->dn);
		else
			dir_set_err(err, errlen, "no LDAP group is named %s", m->name);
		return DIR_FAIL;
	}
	if (d->membership == DIR_MEMBERSHIP_MEMBER_OF && m->dn == NULL)
		return members_by_memberof(d, a, m, err, errlen);
	/* Only entries with a login are accounts; the others send nothing. */
	size = strlen(d->login_attribute) + 5;
	filter = malloc(size);
	if (filter == NULL) {
		dir_set_err(err, errlen, "out of memory");
		return DIR_UNAVAILABLE;
	}
	snprintf(filter, size, "(%s=*)", d->login_attribute);
	r = dir_read_each(d, a, m->dns.v, m->dns.n, filter, d->login_attribute,
		members_take_login, &ctx, err, errlen);
	free(filter);
	return r;
}

/* Both public calls: the group by name, or by dn; checks, the run, the
 * list handed over. */
static enum dir_result members_run(dir *d, const char *name, const char *dn,
		char ***logins_r, size_t *n_r, char *err, size_t errlen)
{
	const char *label = dn != NULL ? dn : name;
	struct members_op op = { .name = name, .dn = dn }, *m = &op;
	enum dir_result r;

	*logins_r = NULL;
	*n_r = 0;
	dir_clear(err, errlen);
	if (d == NULL) {
		dir_set_err(err, errlen, "no directory handle");
		return DIR_UNAVAILABLE;
	}
	if (!d->membership_ok) {
		dir_set_err(err, errlen, "LDAP group membership schema is unknown, check group_membership");
		return DIR_UNAVAILABLE;
	}
	/* A DN has no length limit of its own; the group's entry is found or not. */
	if (label == NULL ||
	    !dir_text_valid(label, strlen(label), dn != NULL ? strlen(label) : DIR_LOGIN_MAX)) {
		dir_set_err(err, errlen, "group name rejected: empty, too long, control bytes or not UTF-8");
		return DIR_FAIL;
	}
	r = dir_run(d, members_op_run, members_op_reset, m, err, errlen);
	if (r == DIR_OK && dir_strv_finish(&m->logins, logins_r, n_r) < 0) {
		dir_set_err(err, errlen, "out of memory");
		r = DIR_UNAVAILABLE;
	}
	if (r == DIR_OK && m->truncated)
		dir_set_err(err, errlen, "group %s has more members than the %d listed "
			"(or than the server's size limit); the rest are left out", label,
			DIR_MEMBERS_MAX);
	members_op_reset(m);
	return r;
}

enum dir_result dir_group_members(dir *d, const char *group_name,
		char ***logins_r, size_t *n_r, char *err, size_t errlen)
{
	return members_run(d, group_name, NULL, logins_r, n_r, err, errlen);
}

enum dir_result dir_group_members_by_dn(dir *d, const char *group_dn,
		char ***logins_r, size_t *n_r, char *err, size_t errlen)
{
	return members_run(d, NULL, group_dn, logins_r, n_r, err, errlen);
}
