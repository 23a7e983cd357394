/* Reading many entries by DN in one pipelined exchange, and the string lists
 * that group look-ups return.
 *
 * Mapping memberOf values to group names, or member DNs to logins, takes one
 * base-scope read per DN. Sent one at a time, a 10,000-member group costs
 * 10,000 round trips; libldap lets one connection carry many outstanding
 * requests, so up to DIR_PIPELINE_WINDOW are in flight at once and the cost
 * is bounded by the server's speed rather than by latency. */
#include "directory/dir_private.h"

#include <stdlib.h>
#include <string.h>

int dir_strv_add(struct dir_strv *sv, const char *s, size_t len)
{
	char *copy;

	if (sv->n + 1 >= sv->cap) {
		size_t cap = sv->cap == 0 ? 16 : sv->cap * 2;
		char **v = realloc(sv->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		sv->v = v;
		sv->cap = cap;
	}
	copy = malloc(len + 1);
	if (copy == NULL)
		return -1;
	memcpy(copy, s, len);
	copy[len] = '\0';
	sv->v[sv->n++] = copy;
	sv->v[sv->n] = NULL;
	return 0;
}

static int dir_strv_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void dir_strv_sort_unique(struct dir_strv *sv)
{
	size_t out = 0;

	if (sv->n == 0)
		return;
	qsort(sv->v, sv->n, sizeof(*sv->v), dir_strv_cmp);
	for (size_t i = 0; i < sv->n; i++) {
		if (out > 0 && strcmp(sv->v[out - 1], sv->v[i]) == 0)
			free(sv->v[i]);
		else
			sv->v[out++] = sv->v[i];
	}
	sv->n = out;
	sv->v[out] = NULL;
}

void dir_strv_clear(struct dir_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

int dir_strv_finish(struct dir_strv *sv, char ***list_r, size_t *n_r)
{
	*list_r = NULL;
	*n_r = 0;
	/* An empty list is still an array, so callers need no NULL case. */
	if (sv->v == NULL) {
		sv->v = calloc(1, sizeof(*sv->v));
		if (sv->v == NULL)
			return -1;
		sv->cap = 1;
	}
	dir_strv_sort_unique(sv);
	*list_r = sv->v;
	*n_r = sv->n;
	sv->v = NULL;
	sv->n = sv->cap = 0;
	return 0;
}

void dir_groups_free(char ***list_p)
{
	if (list_p == NULL || *list_p == NULL)
		return;
	for (char **p = *list_p; *p != NULL; p++)
		free(*p);
	free(*list_p);
	*list_p = NULL;
}

/* Handles one complete response chain (entries, then the search result). */
static enum dir_result dir_read_chain(dir *d, struct dir_attempt *a, LDAPMessage *res,
		int (*take)(void *arg, LDAPMessage *e), void *arg, size_t *pending,
		char *err, size_t errlen)
{
	for (LDAPMessage *m = ldap_first_message(d->ld, res); m != NULL;
	     m = ldap_next_message(d->ld, m)) {
		int code = LDAP_OTHER;

		switch (ldap_msgtype(m)) {
		case LDAP_RES_SEARCH_ENTRY:
			if (take(arg, m) < 0) {
				dir_set_err(err, errlen, "out of memory");
				return DIR_UNAVAILABLE;
			}
			break;
		case LDAP_RES_SEARCH_REFERENCE:
			break; /* referrals are not followed, as elsewhere */
		case LDAP_RES_SEARCH_RESULT:
			(*pending)--;
			if (ldap_parse_result(d->ld, m, &code, NULL, NULL, NULL, NULL, 0) != LDAP_SUCCESS)
				code = LDAP_DECODING_ERROR;
			/* A dangling reference (the entry was deleted, or the value is
			 * not a DN) names nobody; the rest of the list still counts. */
			if (code != LDAP_SUCCESS && code != LDAP_NO_SUCH_OBJECT &&
			    code != LDAP_INVALID_DN_SYNTAX) {
				a->rc = code;
				dir_ldap_error(d->ld, code, "LDAP entry read", err, errlen);
				return DIR_UNAVAILABLE;
			}
			break;
		default:
			/* e.g. a Notice of Disconnection (RFC 4511 §4.4.1). */
			a->rc = LDAP_SERVER_DOWN;
			dir_set_err(err, errlen, "LDAP entry read: unexpected message from the server");
			return DIR_UNAVAILABLE;
		}
	}
	return DIR_OK;
}

int dir_read_entry(dir *d, struct dir_attempt *a, const char *dn, const char *filter,
		char **attrs, LDAPMessage **res_r)
{
	struct timeval tv = { .tv_sec = d->timeout_sec, .tv_usec = 0 };

	*res_r = NULL;
	a->ops++;
	return ldap_search_ext_s(d->ld, dn, LDAP_SCOPE_BASE, filter, attrs, 0, NULL, NULL, &tv, 1,
		res_r);
}

enum dir_result dir_read_user_entry(dir *d, struct dir_attempt *a, const char *dn, char **attrs,
		LDAPMessage **res_r, char *err, size_t errlen)
{
	int rc = dir_read_entry(d, a, dn, "(objectClass=*)", attrs, res_r);

	if (rc == LDAP_SUCCESS)
		return DIR_OK;
	if (rc == LDAP_NO_SUCH_OBJECT || rc == LDAP_INVALID_DN_SYNTAX) {
		dir_ldap_error(d->ld, rc, "LDAP user entry", err, errlen);
		return DIR_FAIL;
	}
	a->rc = rc;
	dir_ldap_error(d->ld, rc, "LDAP user entry read", err, errlen);
	return DIR_UNAVAILABLE;
}

enum dir_result dir_read_each(dir *d, struct dir_attempt *a, char *const *dns, size_t n,
		const char *filter, const char *attr,
		int (*take)(void *arg, LDAPMessage *e), void *arg, char *err, size_t errlen)
{
	char *attrs[] = { (char *)attr, NULL };
	struct timeval tv = { .tv_sec = d->timeout_sec, .tv_usec = 0 };
	size_t next = 0, pending = 0;

	/* Any early return leaves requests outstanding; they die with the
	 * connection, which dir_run drops after DIR_UNAVAILABLE. */
	while (next < n || pending > 0) {
		LDAPMessage *res = NULL;
		enum dir_result r;
		int rc, msgid;

		if (next < n && pending < DIR_PIPELINE_WINDOW) {
			a->ops++;
			rc = ldap_search_ext(d->ld, dns[next], LDAP_SCOPE_BASE, filter, attrs, 0,
				NULL, NULL, &tv, 1, &msgid);
			if (rc != LDAP_SUCCESS) {
				a->rc = rc;
				dir_ldap_error(d->ld, rc, "LDAP entry read", err, errlen);
				return DIR_UNAVAILABLE;
			}
			next++;
			pending++;
			continue;
		}
		/* Waits for any one request to complete; each wait is bounded by
		 * the operation timeout, and each completes a request. */
		rc = ldap_result(d->ld, LDAP_RES_ANY, LDAP_MSG_ALL, &tv, &res);
		if (rc <= 0) {
			if (rc == 0)
				rc = LDAP_TIMEOUT;
			else if (ldap_get_option(d->ld, LDAP_OPT_RESULT_CODE, &rc) != LDAP_OPT_SUCCESS ||
				 rc == LDAP_SUCCESS)
				rc = LDAP_SERVER_DOWN;
			a->rc = rc;
			ldap_msgfree(res);
			dir_ldap_error(d->ld, rc, "LDAP entry read", err, errlen);
			return DIR_UNAVAILABLE;
		}
		r = dir_read_chain(d, a, res, take, arg, &pending, err, errlen);
		ldap_msgfree(res);
		if (r != DIR_OK)
			return r;
	}
	return DIR_OK;
}
