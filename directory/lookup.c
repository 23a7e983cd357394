/* Directory look-ups that involve no password: finding a user by login and
 * testing group membership. Both run as the service account. */
#include "directory/dir_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void dir_clear(char *s, size_t size)
{
	if (s != NULL && size > 0)
		s[0] = '\0';
}

static enum dir_result dir_lookup_attempt(dir *d, struct dir_attempt *a, const char *filter,
		char *dn_r, size_t dn_size, char *login_r, size_t login_size,
		char *err, size_t errlen)
{
	enum dir_result r;
	char *dn = NULL;

	if (dir_conn_ensure(d, a, err, errlen) < 0)
		return DIR_UNAVAILABLE;
	r = dir_bind_service(d, a, err, errlen);
	if (r == DIR_OK)
		r = dir_find_user(d, a, filter, "login", &dn, login_r, login_size, err, errlen);
	if (r == DIR_OK) {
		if (strlen(dn) >= dn_size) {
			dir_set_err(err, errlen, "LDAP entry's DN is too long");
			r = DIR_FAIL;
		} else
			memcpy(dn_r, dn, strlen(dn) + 1);
	}
	ldap_memfree(dn);
	return r;
}

enum dir_result dir_lookup_user(dir *d, const char *login, size_t login_len,
		char *dn_r, size_t dn_size, char *login_r, size_t login_size,
		char *err, size_t errlen)
{
	struct dir_attempt a;
	enum dir_result r;
	char *filter;

	dir_clear(dn_r, dn_size);
	dir_clear(login_r, login_size);
	dir_clear(err, errlen);
	if (login == NULL || !dir_login_valid(login, login_len)) {
		dir_set_err(err, errlen, "login rejected: empty, too long, control bytes or not UTF-8");
		return DIR_FAIL;
	}
	filter = dir_user_filter(d, login, login_len, err, errlen);
	if (filter == NULL)
		return DIR_UNAVAILABLE;
	r = dir_lookup_attempt(d, &a, filter, dn_r, dn_size, login_r, login_size, err, errlen);
	if (dir_attempt_stale(&a, r)) {
		dir_conn_drop(d);
		r = dir_lookup_attempt(d, &a, filter, dn_r, dn_size, login_r, login_size, err, errlen);
	}
	if (r == DIR_UNAVAILABLE)
		dir_conn_drop(d);
	if (r != DIR_OK) {
		dir_clear(dn_r, dn_size);
		dir_clear(login_r, login_size);
	}
	free(filter);
	return r;
}

/* "(|(member=DN)(uniqueMember=DN)(memberUid=LOGIN))", values escaped. */
static char *dir_member_filter(const char *user_dn, const char *login)
{
	size_t dnlen = strlen(user_dn), loginlen = strlen(login);
	size_t dn_esc = dnlen * 3 + 1, login_esc = loginlen * 3 + 1;
	char *edn = malloc(dn_esc), *elogin = malloc(login_esc), *filter = NULL;
	size_t size;

	if (edn == NULL || elogin == NULL ||
	    dir_escape_filter_value(user_dn, dnlen, edn, dn_esc) < 0 ||
	    dir_escape_filter_value(login, loginlen, elogin, login_esc) < 0)
		goto out;
	size = 2 * strlen(edn) + strlen(elogin) + 64;
	filter = malloc(size);
	if (filter != NULL)
		snprintf(filter, size, "(|(member=%s)(uniqueMember=%s)(memberUid=%s))", edn, edn, elogin);
out:
	free(edn);
	free(elogin);
	return filter;
}

static enum dir_result dir_member_attempt(dir *d, struct dir_attempt *a, const char *group_dn,
		const char *filter, bool *member_r, char *err, size_t errlen)
{
	char *attrs[] = { "1.1", NULL }; /* RFC 4511 §4.5.1.8: no attributes */
	LDAPMessage *res = NULL;
	enum dir_result r;
	int rc;

	if (dir_conn_ensure(d, a, err, errlen) < 0)
		return DIR_UNAVAILABLE;
	r = dir_bind_service(d, a, err, errlen);
	if (r != DIR_OK)
		return r;
	rc = dir_read_entry(d, a, group_dn, filter, attrs, &res);
	if (rc == LDAP_NO_SUCH_OBJECT) {
		*member_r = false;
		r = DIR_OK;
	} else if (rc != LDAP_SUCCESS) {
		a->rc = rc;
		dir_ldap_error(d->ld, rc, "LDAP group search", err, errlen);
		r = DIR_UNAVAILABLE;
	} else {
		*member_r = ldap_count_entries(d->ld, res) > 0;
		r = DIR_OK;
	}
	ldap_msgfree(res);
	return r;
}

enum dir_result dir_is_member(dir *d, const char *group_dn, const char *user_dn,
		const char *login, bool *member_r, char *err, size_t errlen)
{
	struct dir_attempt a;
	enum dir_result r;
	char *filter;

	*member_r = false;
	dir_clear(err, errlen);
	if (group_dn == NULL || group_dn[0] == '\0')
		return DIR_OK;
	filter = dir_member_filter(user_dn, login);
	if (filter == NULL) {
		dir_set_err(err, errlen, "out of memory");
		return DIR_UNAVAILABLE;
	}
	r = dir_member_attempt(d, &a, group_dn, filter, member_r, err, errlen);
	if (dir_attempt_stale(&a, r)) {
		dir_conn_drop(d);
		r = dir_member_attempt(d, &a, group_dn, filter, member_r, err, errlen);
	}
	if (r == DIR_UNAVAILABLE)
		dir_conn_drop(d);
	free(filter);
	return r;
}
