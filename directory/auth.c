/* dir_authenticate: check the login, find its entry as the service account,
 * then bind as that entry with the user's password. */
#include "directory/dir_private.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

bool dir_login_valid(const char *s, size_t len)
{
	return dir_text_valid(s, len, DIR_LOGIN_MAX);
}

bool dir_text_valid(const char *s, size_t len, size_t max)
{
	size_t i = 0;

	if (len == 0 || len > max)
		return false;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp, min;
		size_t n;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			n = 2; cp = c & 0x1f; min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 3; cp = c & 0x0f; min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 4; cp = c & 0x07; min = 0x10000;
		} else {
			return false;
		}
		if (n > len - i)
			return false;
		for (size_t k = 1; k < n; k++) {
			unsigned char cc = (unsigned char)s[i + k];

			if ((cc & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (cc & 0x3f);
		}
		/* Overlong forms, surrogates, beyond Unicode, and C1 controls. */
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f)
			return false;
		i += n;
	}
	return true;
}

struct berval **dir_attr_values(dir *d, LDAPMessage *e, const char *attr)
{
	struct berval **vals = ldap_get_values_len(d->ld, e, attr);
	BerElement *ber = NULL;

	if (vals != NULL)
		return vals;
	for (char *a = ldap_first_attribute(d->ld, e, &ber); a != NULL;
	     a = ldap_next_attribute(d->ld, e, ber)) {
		if (vals == NULL && strchr(a, ';') == NULL)
			vals = ldap_get_values_len(d->ld, e, a);
		ldap_memfree(a);
	}
	if (ber != NULL)
		ber_free(ber, 0);
	return vals;
}

/* Takes the canonical login from entry e into login_r (if not NULL). */
static enum dir_result dir_entry_login(dir *d, LDAPMessage *e, char *login_r, size_t login_size,
		char *err, size_t errlen)
{
	struct berval **vals = dir_attr_values(d, e, d->login_attribute);
	enum dir_result r = DIR_OK;

	if (vals == NULL || vals[0] == NULL) {
		dir_set_err(err, errlen, "LDAP entry has no %s value", d->login_attribute);
		r = DIR_FAIL;
	} else if (!dir_login_valid(vals[0]->bv_val, vals[0]->bv_len)) {
		dir_set_err(err, errlen, "LDAP entry's %s is not a usable login", d->login_attribute);
		r = DIR_FAIL;
	} else if (login_r != NULL && vals[0]->bv_len >= login_size) {
		dir_set_err(err, errlen, "LDAP entry's %s is longer than %zu bytes",
			d->login_attribute, login_size > 0 ? login_size - 1 : 0);
		r = DIR_FAIL;
	} else if (login_r != NULL) {
		memcpy(login_r, vals[0]->bv_val, vals[0]->bv_len);
		login_r[vals[0]->bv_len] = '\0';
	}
	ldap_value_free_len(vals);
	return r;
}

enum dir_result dir_find_user(dir *d, struct dir_attempt *a, const char *filter,
		const char *what, char **dn_r, char *login_r, size_t login_size,
		char *err, size_t errlen)
{
	char *attrs[] = { d->login_attribute, NULL };
	struct timeval tv = { .tv_sec = d->timeout_sec, .tv_usec = 0 };
	LDAPMessage *res = NULL, *e;
	enum dir_result r = DIR_UNAVAILABLE;
	int rc, n;

	*dn_r = NULL;
	a->ops++;
	rc = ldap_search_ext_s(d->ld, d->base_dn, LDAP_SCOPE_SUBTREE, filter, attrs, 0,
		NULL, NULL, &tv, 2, &res);
	if (rc == LDAP_SIZELIMIT_EXCEEDED) {
		dir_set_err(err, errlen, "more than one LDAP entry matches the %s", what);
		r = DIR_FAIL;
		goto out;
	}
	if (rc != LDAP_SUCCESS) {
		a->rc = rc;
		dir_ldap_error(d->ld, rc, rc != LDAP_FILTER_ERROR ? "LDAP search" :
			strcmp(what, "login") == 0 ? "LDAP search, check user_filter" :
			"LDAP search, check mail_attributes", err, errlen);
		goto out;
	}
	n = ldap_count_entries(d->ld, res);
	if (n != 1) {
		if (n < 0)
			dir_set_err(err, errlen, "LDAP search: cannot read the result");
		else
			dir_set_err(err, errlen, "%s LDAP entry matches the %s",
				n == 0 ? "no" : "more than one", what);
		r = n < 0 ? DIR_UNAVAILABLE : DIR_FAIL;
		goto out;
	}
	e = ldap_first_entry(d->ld, res);
	*dn_r = e != NULL ? ldap_get_dn(d->ld, e) : NULL;
	if (*dn_r == NULL) {
		dir_set_err(err, errlen, "LDAP search: cannot read the entry's DN");
		goto out;
	}
	r = dir_entry_login(d, e, login_r, login_size, err, errlen);
	if (r != DIR_OK) {
		ldap_memfree(*dn_r);
		*dn_r = NULL;
	}
out:
	ldap_msgfree(res);
	return r;
}

static enum dir_result dir_bind_user(dir *d, struct dir_attempt *a, const char *dn,
		const char *password, size_t password_len, char *err, size_t errlen)
{
	struct berval cred = { password_len, (char *)password };
	int rc;

	/* Whatever the outcome, the connection is no longer the service account
	 * (a failed bind leaves it anonymous): the next call binds again. */
	d->bound = DIR_BOUND_USER;
	a->ops++;
	rc = ldap_sasl_bind_s(d->ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	switch (rc) {
	case LDAP_SUCCESS:
		return DIR_OK;
	case LDAP_INVALID_CREDENTIALS:
		dir_set_err(err, errlen, "invalid credentials");
		return DIR_FAIL;
	case LDAP_INAPPROPRIATE_AUTH:   /* e.g. the entry has no password */
	case LDAP_UNWILLING_TO_PERFORM: /* e.g. the account is disabled */
		dir_ldap_error(d->ld, rc, "LDAP refused the user bind", err, errlen);
		return DIR_FAIL;
	default:
		a->rc = rc;
		dir_ldap_error(d->ld, rc, "LDAP user bind", err, errlen);
		return DIR_UNAVAILABLE;
	}
}

/* One pass: connect if needed, service bind, search, user bind. */
static enum dir_result dir_auth_attempt(dir *d, struct dir_attempt *a, const char *filter,
		const char *password, size_t password_len,
		char *dn_r, size_t dn_size, char *login_r, size_t login_size,
		char *err, size_t errlen)
{
	char *dn = NULL;
	enum dir_result r;

	if (dir_conn_ensure(d, a, err, errlen) < 0)
		return DIR_UNAVAILABLE;
	r = dir_bind_service(d, a, err, errlen);
	if (r == DIR_OK)
		r = dir_find_user(d, a, filter, "login", &dn, login_r, login_size, err, errlen);
	/* Check the DN fits before trying the password: a result we cannot
	 * return must not cost the user a password attempt. */
	if (r == DIR_OK && dn_r != NULL && strlen(dn) >= dn_size) {
		dir_set_err(err, errlen, "LDAP entry's DN is longer than %zu bytes",
			dn_size > 0 ? dn_size - 1 : 0);
		r = DIR_FAIL;
	}
	if (r == DIR_OK)
		r = dir_bind_user(d, a, dn, password, password_len, err, errlen);
	if (r == DIR_OK && dn_r != NULL)
		memcpy(dn_r, dn, strlen(dn) + 1);
	ldap_memfree(dn);
	return r;
}

char *dir_user_filter(dir *d, const char *login, size_t login_len, char *err, size_t errlen)
{
	size_t size = strlen(d->user_filter) + 1, pct = 0;
	char *filter;

	/* Each escaped byte takes at most 3; login_len <= DIR_LOGIN_MAX. */
	for (const char *p = d->user_filter; *p != '\0'; p++)
		pct += *p == '%';
	size += pct * 3 * login_len;
	filter = malloc(size);
	if (filter == NULL) {
		dir_set_err(err, errlen, "out of memory");
		return NULL;
	}
	if (dir_build_filter(d->user_filter, login, login_len, filter, size) < 0) {
		dir_set_err(err, errlen, "LDAP user filter template is malformed");
		free(filter);
		return NULL;
	}
	return filter;
}

static void dir_clear(char *s, size_t size)
{
	if (s != NULL && size > 0)
		s[0] = '\0';
}

enum dir_result dir_authenticate(dir *d, const char *login, size_t login_len,
		const char *password, size_t password_len,
		char *dn_r, size_t dn_size, char *login_r, size_t login_size,
		char *err, size_t errlen)
{
	struct dir_attempt a;
	enum dir_result r;
	char *filter;

	dir_clear(dn_r, dn_size);
	dir_clear(login_r, login_size);
	dir_clear(err, errlen);
	if (d == NULL) {
		dir_set_err(err, errlen, "no directory handle");
		return DIR_UNAVAILABLE;
	}
	/* Checked before any network I/O: a bad login can never reach a filter,
	 * and an empty password would be an "unauthenticated bind" (RFC 4513
	 * §5.1.2), which servers answer with success as anonymous. */
	if (login == NULL || !dir_login_valid(login, login_len)) {
		dir_set_err(err, errlen, "login rejected: empty, too long, control bytes or not UTF-8");
		return DIR_FAIL;
	}
	if (password == NULL || password_len == 0) {
		dir_set_err(err, errlen, "empty password rejected");
		return DIR_FAIL;
	}
	filter = dir_user_filter(d, login, login_len, err, errlen);
	if (filter == NULL)
		return DIR_UNAVAILABLE;

	r = dir_auth_attempt(d, &a, filter, password, password_len,
		dn_r, dn_size, login_r, login_size, err, errlen);
	/* A connection that sat idle may have been closed by a server restart or
	 * an idle timeout; that shows as "server down" on its first operation.
	 * One fresh connection settles whether the directory is really down. */
	if (dir_attempt_stale(&a, r)) {
		dir_conn_drop(d);
		dir_clear(err, errlen);
		r = dir_auth_attempt(d, &a, filter, password, password_len,
			dn_r, dn_size, login_r, login_size, err, errlen);
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
