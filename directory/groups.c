/* dir_user_groups: the names of the groups a user belongs to, by whichever
 * membership schema the directory uses. */
#include "directory/dir_private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void dir_clear(char *s, size_t size)
{
	if (s != NULL && size > 0)
		s[0] = '\0';
}

bool dir_entry_group_name(dir *d, LDAPMessage *e, bool fallback, char name_r[DIR_LOGIN_MAX + 1])
{
	const char *attr = d->group_name_attribute;
	char *dn = ldap_get_dn(d->ld, e);
	LDAPDN pdn = NULL;
	struct berval **vals = NULL;
	struct berval v = { 0, NULL };
	bool ok = false;

	/* The RDN value when it is the name attribute: an entry has exactly
	 * one, whereas the attribute may hold several values (cn: sales, cn:
	 * Sales Team) in an order LDAP does not promise. */
	if (dn != NULL && ldap_str2dn(dn, &pdn, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS &&
	    pdn != NULL && pdn[0] != NULL && pdn[0][0] != NULL && pdn[0][1] == NULL) {
		LDAPAVA *ava = pdn[0][0];

		if ((ava->la_flags & LDAP_AVA_BINARY) == 0 && ava->la_attr.bv_len == strlen(attr) &&
		    strncasecmp(ava->la_attr.bv_val, attr, ava->la_attr.bv_len) == 0)
			v = ava->la_value;
	}
	if (v.bv_val == NULL) {
		vals = fallback ? dir_attr_values(d, e, attr) : ldap_get_values_len(d->ld, e, attr);
		if (vals != NULL && vals[0] != NULL)
			v = *vals[0];
	}
	if (v.bv_val != NULL && dir_login_valid(v.bv_val, v.bv_len)) {
		memcpy(name_r, v.bv_val, v.bv_len);
		name_r[v.bv_len] = '\0';
		ok = true;
	}
	ldap_value_free_len(vals);
	ldap_dnfree(pdn);
	ldap_memfree(dn);
	return ok;
}

struct groups_op {
	const char *user_dn, *login;
	struct dir_strv names;
	bool truncated;
};

static void groups_op_reset(void *arg)
{
	struct groups_op *g = arg;

	dir_strv_clear(&g->names);
	g->truncated = false;
}

/* take() of dir_read_each and of the search: one group entry's name. */
static int groups_take(void *arg, LDAPMessage *e, dir *d)
{
	struct groups_op *g = arg;
	char name[DIR_LOGIN_MAX + 1];

	if (g->names.n >= DIR_GROUPS_MAX) {
		g->truncated = true;
		return 0;
	}
	if (!dir_entry_group_name(d, e, true, name))
		return 0; /* not a usable identifier: skipped */
	return dir_strv_add(&g->names, name, strlen(name));
}

/* dir_read_each's take() has no handle argument. */
struct groups_take_ctx {
	struct groups_op *g;
	dir *d;
};

static int groups_take_read(void *arg, LDAPMessage *e)
{
	struct groups_take_ctx *c = arg;

	return groups_take(c->g, e, c->d);
}

/* member, uniqueMember, memberUid, auto: one subtree search of the group base. */
static enum dir_result groups_search(dir *d, struct dir_attempt *a, struct groups_op *g,
		char *err, size_t errlen)
{
	char *attrs[] = { d->group_name_attribute, NULL };
	struct timeval tv = { .tv_sec = d->timeout_sec, .tv_usec = 0 };
	LDAPMessage *res = NULL;
	enum dir_result r = DIR_OK;
	char *filter;
	int rc;

	filter = dir_groups_filter(d->membership, d->group_filter, g->user_dn, strlen(g->user_dn),
		g->login, strlen(g->login));
	if (filter == NULL) {
		dir_set_err(err, errlen, "out of memory");
		return DIR_UNAVAILABLE;
	}
	a->ops++;
	rc = ldap_search_ext_s(d->ld, d->group_base_dn, LDAP_SCOPE_SUBTREE, filter, attrs, 0,
		NULL, NULL, &tv, DIR_GROUPS_MAX + 1, &res);
	free(filter);
	/* Over our limit or the server's (slapd's default is 500 entries for
	 * anyone but the rootdn): what arrived is kept and the rest noted. */
	if (rc == LDAP_SIZELIMIT_EXCEEDED) {
		g->truncated = true;
	} else if (rc != LDAP_SUCCESS) {
		a->rc = rc;
		/* A group base that does not exist is a configuration error, not
		 * "no groups": reporting it keeps a typo from revoking every
		 * group grant without a word. */
		dir_ldap_error(d->ld, rc, rc == LDAP_NO_SUCH_OBJECT ?
			"LDAP group search, check group_base_dn" : rc == LDAP_FILTER_ERROR ?
			"LDAP group search, check group_filter" : "LDAP group search", err, errlen);
		r = DIR_UNAVAILABLE;
	}
	for (LDAPMessage *e = dir_first_entry(d, res); r == DIR_OK && e != NULL;
	     e = ldap_next_entry(d->ld, e))
		if (groups_take(g, e, d) < 0) {
			dir_set_err(err, errlen, "out of memory");
			r = DIR_UNAVAILABLE;
		}
	ldap_msgfree(res);
	return r;
}

/* memberOf: the user's entry names its groups; each is read for its name,
 * and to check it is a group (group_filter) under group_base_dn. */
static enum dir_result groups_memberof(dir *d, struct dir_attempt *a, struct groups_op *g,
		char *err, size_t errlen)
{
	char *attrs[] = { "memberOf", NULL };
	struct groups_take_ctx ctx = { g, d };
	struct dir_strv dns = { NULL, 0, 0 };
	struct berval **vals = NULL;
	LDAPMessage *res = NULL, *e;
	enum dir_result r;

	r = dir_read_user_entry(d, a, g->user_dn, attrs, &res, err, errlen);
	if (r != DIR_OK) {
		ldap_msgfree(res);
		return r;
	}
	e = dir_first_entry(d, res);
	vals = e != NULL ? ldap_get_values_len(d->ld, e, "memberOf") : NULL;
	for (size_t i = 0; vals != NULL && vals[i] != NULL && r == DIR_OK; i++) {
		const struct berval *v = vals[i];

		if (dns.n >= DIR_GROUPS_MAX) {
			g->truncated = true;
			break;
		}
		/* A NUL inside a value cannot be a DN; memchr keeps it out of the
		 * C strings below. */
		if (v->bv_len == 0 || memchr(v->bv_val, '\0', v->bv_len) != NULL)
			continue;
		if (dir_strv_add(&dns, v->bv_val, v->bv_len) < 0) {
			dir_set_err(err, errlen, "out of memory");
			r = DIR_UNAVAILABLE;
		} else if (!dir_dn_under(dns.v[dns.n - 1], d->group_base_dn)) {
			free(dns.v[--dns.n]);
			dns.v[dns.n] = NULL;
		}
	}
	ldap_value_free_len(vals);
	ldap_msgfree(res);
	if (r == DIR_OK)
		r = dir_read_each(d, a, dns.v, dns.n, d->group_filter, d->group_name_attribute,
			groups_take_read, &ctx, err, errlen);
	dir_strv_clear(&dns);
	return r;
}

static enum dir_result groups_op_run(dir *d, struct dir_attempt *a, void *arg,
		char *err, size_t errlen)
{
	struct groups_op *g = arg;

	if (d->membership == DIR_MEMBERSHIP_MEMBER_OF)
		return groups_memberof(d, a, g, err, errlen);
	return groups_search(d, a, g, err, errlen);
}

enum dir_result dir_user_groups(dir *d, const char *user_dn, const char *login,
		char ***groups_r, size_t *n_r, char *err, size_t errlen)
{
	struct groups_op g = { user_dn, login, { NULL, 0, 0 }, false };
	enum dir_result r;

	*groups_r = NULL;
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
	if (user_dn == NULL || user_dn[0] == '\0' || login == NULL ||
	    !dir_login_valid(login, strlen(login))) {
		dir_set_err(err, errlen, "group look-up needs the user's DN and login");
		return DIR_FAIL;
	}
	r = dir_run(d, groups_op_run, groups_op_reset, &g, err, errlen);
	if (r != DIR_OK) {
		dir_strv_clear(&g.names);
		return r;
	}
	if (dir_strv_finish(&g.names, groups_r, n_r) < 0) {
		dir_set_err(err, errlen, "out of memory");
		return DIR_UNAVAILABLE;
	}
	if (g.truncated)
		dir_set_err(err, errlen, "user %s is in more LDAP groups than the %d read "
			"(or than the server's size limit); the rest are ignored", login, DIR_GROUPS_MAX);
	return DIR_OK;
}
