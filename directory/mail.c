/* dir_lookup_by_mail: which account owns an address. */
#include "directory/dir_private.h"

#include <stdlib.h>
#include <string.h>

static void dir_clear(char *s, size_t size)
{
	if (s != NULL && size > 0)
		s[0] = '\0';
}

/* Something@something, within bounds, UTF-8 without control bytes. The
 * syntax is otherwise the directory's business: it holds the addresses, and
 * an odd one simply matches nothing. */
static bool dir_address_valid(const char *s, size_t len)
{
	const char *at;

	if (s == NULL || !dir_text_valid(s, len, DIR_ADDRESS_MAX))
		return false;
	at = memrchr(s, '@', len);
	return at != NULL && at != s && at != s + len - 1;
}

struct mail_op {
	const char *filter;
	char *dn_r, *login_r;
	size_t dn_size, login_size;
};

static enum dir_result mail_op_run(dir *d, struct dir_attempt *a, void *arg,
		char *err, size_t errlen)
{
	struct mail_op *m = arg;
	enum dir_result r;
	char *dn = NULL;

	r = dir_find_user(d, a, m->filter, "address", &dn, m->login_r, m->login_size, err, errlen);
	if (r == DIR_OK && m->dn_r != NULL) {
		if (strlen(dn) >= m->dn_size) {
			dir_set_err(err, errlen, "LDAP entry's DN is too long");
			r = DIR_FAIL;
		} else {
			memcpy(m->dn_r, dn, strlen(dn) + 1);
		}
	}
	ldap_memfree(dn);
	return r;
}

enum dir_result dir_lookup_by_mail(dir *d, const char *address, size_t len,
		char *dn_r, size_t dn_size, char *login_r, size_t login_size,
		char *err, size_t errlen)
{
	struct mail_op m = { NULL, dn_r, login_r, dn_size, login_size };
	enum dir_result r;
	char *filter;

	dir_clear(dn_r, dn_size);
	dir_clear(login_r, login_size);
	dir_clear(err, errlen);
	if (d == NULL) {
		dir_set_err(err, errlen, "no directory handle");
		return DIR_UNAVAILABLE;
	}
	if (!dir_address_valid(address, len)) {
		dir_set_err(err, errlen, "address rejected: empty, too long, no '@', "
			"control bytes or not UTF-8");
		return DIR_FAIL;
	}
	filter = dir_mail_filter(d->mail_attributes, d->login_attribute, address, len);
	if (filter == NULL) {
		dir_set_err(err, errlen, "cannot build the LDAP mail filter, check mail_attributes");
		return DIR_UNAVAILABLE;
	}
	m.filter = filter;
	r = dir_run(d, mail_op_run, NULL, &m, err, errlen);
	if (r != DIR_OK) {
		dir_clear(dn_r, dn_size);
		dir_clear(login_r, login_size);
	}
	free(filter);
	return r;
}
