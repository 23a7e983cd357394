/* dir_team_by_mail, dir_teams: groups with an address are teams
 * (directory/dir.h, docs/acl.md "A team run from LDAP"). */
#include "directory/dir_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "(&GROUP_FILTER TEAM_FILTER(ATTR=VALUE))", the value escaped; with
 * value NULL, "(ATTR=*)": every group that has an address. malloc'ed, NULL
 * on out-of-memory. */
static char *team_filter(dir *d, const char *value, size_t len)
{
	size_t esc_size = len * 3 + 2, size;
	char *esc = malloc(esc_size), *filter = NULL;

	if (esc == NULL)
		return NULL;
	if (value == NULL)
		snprintf(esc, esc_size, "*");
	else if (dir_escape_filter_value(value, len, esc, esc_size) < 0)
		goto out;
	size = strlen(d->group_filter) + strlen(d->team_filter) + strlen(d->team_mail_attribute) +
	       strlen(esc) + 8;
	filter = malloc(size);
	if (filter != NULL)
		snprintf(filter, size, "(&%s%s(%s=%s))", d->group_filter, d->team_filter,
			 d->team_mail_attribute, esc);
out:
	free(esc);
	return filter;
}

struct teams_op {
	const char *filter;
	char **attrs;
	int sizelimit;
	LDAPMessage *res;       /* the search's answer, for the caller to read */
};

static void teams_op_reset(void *arg)
{
	struct teams_op *t = arg;

	ldap_msgfree(t->res);
	t->res = NULL;
}

/* One subtree search of the group base. A size limit reached keeps what
 * arrived (the caller says so). */
static enum dir_result teams_op_run(dir *d, struct dir_attempt *a, void *arg,
		char *err, size_t errlen)
{
	struct teams_op *t = arg;
	struct timeval tv = { .tv_sec = d->timeout_sec, .tv_usec = 0 };
	int rc;

	a->ops++;
	rc = ldap_search_ext_s(d->ld, d->group_base_dn, LDAP_SCOPE_SUBTREE, t->filter, t->attrs, 0,
		NULL, NULL, &tv, t->sizelimit, &t->res);
	if (rc == LDAP_SUCCESS || rc == LDAP_SIZELIMIT_EXCEEDED)
		return DIR_OK;
	a->rc = rc;
	dir_ldap_error(d->ld, rc, rc == LDAP_FILTER_ERROR ?
		"LDAP team search, check group_filter and team_filter" : "LDAP team search",
		err, errlen);
	return DIR_UNAVAILABLE;
}

static enum dir_result teams_search(dir *d, struct teams_op *t, char *err, size_t errlen)
{
	enum dir_result r;

	if (t->filter == NULL) {
		dir_set_err(err, errlen, "out of memory");
		return DIR_UNAVAILABLE;
	}
	r = dir_run(d, teams_op_run, teams_op_reset, t, err, errlen);
	if (r != DIR_OK)
		teams_op_reset(t);
	return r;
}

enum dir_result dir_team_by_mail(dir *d, const char *address, size_t len,
		char name_r[DIR_LOGIN_MAX + 1], char *err, size_t errlen)
{
	char *attrs[] = { d->group_name_attribute, NULL };
	struct teams_op t = { NULL, attrs, 2, NULL };
	enum dir_result r;
	int n;

	name_r[0] = '\0';
	dir_set_err(err, errlen, "%s", "");
	if (address == NULL || !dir_text_valid(address, len, DIR_ADDRESS_MAX) ||
	    memchr(address, '@', len) == NULL) {
		dir_set_err(err, errlen, "address rejected: empty, too long, no '@', "
			"control bytes or not UTF-8");
		return DIR_FAIL;
	}
	t.filter = team_filter(d, address, len);
	r = teams_search(d, &t, err, errlen);
	free((char *)t.filter);
	if (r != DIR_OK)
		return r;
	n = ldap_count_entries(d->ld, t.res);
	if (n != 1) {
		if (n > 1)
			dir_set_err(err, errlen, "more than one LDAP group has the address");
		r = DIR_FAIL;
	} else if (!dir_entry_group_name(d, dir_first_entry(d, t.res), true, name_r)) {
		dir_set_err(err, errlen, "the LDAP group with the address has no usable name");
		r = DIR_FAIL;
	}
	ldap_msgfree(t.res);
	return r;
}

static int team_cmp(const void *a, const void *b)
{
	const struct dir_team *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->address, y->address);
}

/* Appends each address of entry e under name. 0, or -1 on out-of-memory. */
static int teams_take(dir *d, LDAPMessage *e, const char *name, struct dir_team **v,
		      size_t *n, size_t *cap)
{
	struct berval **vals = ldap_get_values_len(d->ld, e, d->team_mail_attribute);
	int ret = 0;

	for (size_t i = 0; vals != NULL && vals[i] != NULL && ret == 0; i++) {
		const struct berval *b = vals[i];

		if (!dir_text_valid(b->bv_val, b->bv_len, DIR_ADDRESS_MAX))
			continue;   /* not an address anyone could send to */
		if (*n == *cap) {
			size_t ncap = *cap ? 2 * *cap : 16;
			struct dir_team *nv = realloc(*v, ncap * sizeof(**v));
			if (nv == NULL)
				return -1;
			*v = nv;
			*cap = ncap;
		}
		(*v)[*n].name = strdup(name);
		(*v)[*n].address = strndup(b->bv_val, b->bv_len);
		if ((*v)[*n].name == NULL || (*v)[*n].address == NULL) {
			free((*v)[*n].name);
			free((*v)[*n].address);
			ret = -1;
		} else {
			(*n)++;
		}
	}
	ldap_value_free_len(vals);
	return ret;
}

enum dir_result dir_teams(dir *d, struct dir_team **teams_r, size_t *n_r,
		char *err, size_t errlen)
{
	char *attrs[] = { d->group_name_attribute, d->team_mail_attribute, NULL };
	struct teams_op t = { NULL, attrs, DIR_GROUPS_MAX + 1, NULL };
	struct dir_team *v = NULL;
	size_t n = 0, cap = 0;
	enum dir_result r;
	int groups = 0;

	*teams_r = NULL;
	*n_r = 0;
	dir_set_err(err, errlen, "%s", "");
	t.filter = team_filter(d, NULL, 0);
	r = teams_search(d, &t, err, errlen);
	free((char *)t.filter);
	if (r != DIR_OK)
		return r;
	for (LDAPMessage *e = dir_first_entry(d, t.res); e != NULL && r == DIR_OK;
	     e = ldap_next_entry(d->ld, e)) {
		char name[DIR_LOGIN_MAX + 1];

		if (++groups > DIR_GROUPS_MAX) {
			dir_set_err(err, errlen, "more than %d LDAP groups have an address; the "
				"rest are ignored", DIR_GROUPS_MAX);
			break;
		}
		if (!dir_entry_group_name(d, e, false, name))
			continue;
		if (teams_take(d, e, name, &v, &n, &cap) < 0) {
			dir_set_err(err, errlen, "out of memory");
			r = DIR_UNAVAILABLE;
		}
	}
	ldap_msgfree(t.res);
	if (r != DIR_OK) {
		dir_teams_free(&v, n);
		return r;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), team_cmp);
	*teams_r = v != NULL ? v : calloc(1, sizeof(*v));
	*n_r = n;
	if (*teams_r == NULL) {
		dir_set_err(err, errlen, "out of memory");
		return DIR_UNAVAILABLE;
	}
	return DIR_OK;
}

void dir_teams_free(struct dir_team **teams_p, size_t n)
{
	if (teams_p == NULL || *teams_p == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free((*teams_p)[i].name);
		free((*teams_p)[i].address);
	}
	free(*teams_p);
	*teams_p = NULL;
}
