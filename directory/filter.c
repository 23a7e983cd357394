/* Filters for account and group look-ups, and DN tests (see filter.h). Pure
 * functions (libldap only parses DNs here): the unit tests pin the exact
 * bytes each one produces for hostile input. */
#include "directory/filter.h"
#include "directory/dir.h"

#include <ldap.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A filter under construction. Its size is computed before anything is
 * written (every escaped byte takes at most 3), so appending cannot fail
 * except for a bug, which fb_finish reports as NULL. */
struct fbuf {
	char *p;
	size_t size, len;
	bool bad;
};

static bool fb_init(struct fbuf *b, size_t size)
{
	b->p = malloc(size);
	b->size = size;
	b->len = 0;
	b->bad = b->p == NULL;
	return !b->bad;
}

static void fb_put(struct fbuf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->bad || n >= b->size - b->len) {
		b->bad = true;
		return;
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

static void fb_put_n(struct fbuf *b, const char *s, size_t n)
{
	if (b->bad || n >= b->size - b->len) {
		b->bad = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Appends value escaped per RFC 4515 (dir_escape_filter_value). */
static void fb_put_value(struct fbuf *b, const char *v, size_t len)
{
	int n;

	if (b->bad)
		return;
	n = dir_escape_filter_value(v, len, b->p + b->len, b->size - b->len);
	if (n < 0)
		b->bad = true;
	else
		b->len += (size_t)n;
}

/* "(attr=value)" with the value escaped. */
static void fb_put_eq(struct fbuf *b, const char *attr, const char *v, size_t len)
{
	fb_put(b, "(");
	fb_put(b, attr);
	fb_put(b, "=");
	fb_put_value(b, v, len);
	fb_put(b, ")");
}

static char *fb_finish(struct fbuf *b)
{
	if (b->bad) {
		free(b->p);
		return NULL;
	}
	return b->p;
}

/* Room for the fixed text plus `copies` escaped copies of a value. Lengths
 * here are bounded by what the callers accept (DNs and logins of at most a
 * few KiB), far from overflowing size_t. */
static size_t fb_room(size_t fixed, size_t copies, size_t value_len)
{
	return fixed + copies * 3 * value_len + 1;
}

int dir_membership_parse(const char *s, enum dir_membership *m_r)
{
	static const struct { const char *name; enum dir_membership m; } names[] = {
		{ "auto", DIR_MEMBERSHIP_AUTO },
		{ "member", DIR_MEMBERSHIP_MEMBER },
		{ "uniqueMember", DIR_MEMBERSHIP_UNIQUE_MEMBER },
		{ "memberUid", DIR_MEMBERSHIP_MEMBER_UID },
		{ "memberOf", DIR_MEMBERSHIP_MEMBER_OF },
	};

	if (s == NULL || s[0] == '\0') {
		*m_r = DIR_MEMBERSHIP_AUTO;
		return 0;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i].name) == 0) {
			*m_r = names[i].m;
			return 0;
		}
	return -1;
}

char *dir_groups_filter(enum dir_membership m, const char *group_filter,
		const char *user_dn, size_t dn_len, const char *login, size_t login_len)
{
	struct fbuf b;
	/* "(&" + "(|" + "(member=)(uniqueMember=)(memberUid=)" + "))" */
	size_t fixed = strlen(group_filter) + 64;

	if (m == DIR_MEMBERSHIP_MEMBER_OF ||
	    !fb_init(&b, fb_room(fixed, 2, dn_len) + 3 * login_len))
		return NULL;
	fb_put(&b, "(&");
	fb_put(&b, group_filter);
	switch (m) {
	case DIR_MEMBERSHIP_MEMBER:
		fb_put_eq(&b, "member", user_dn, dn_len);
		break;
	case DIR_MEMBERSHIP_UNIQUE_MEMBER:
		fb_put_eq(&b, "uniqueMember", user_dn, dn_len);
		break;
	case DIR_MEMBERSHIP_MEMBER_UID:
		fb_put_eq(&b, "memberUid", login, login_len);
		break;
	case DIR_MEMBERSHIP_AUTO:
		fb_put(&b, "(|");
		fb_put_eq(&b, "member", user_dn, dn_len);
		fb_put_eq(&b, "uniqueMember", user_dn, dn_len);
		fb_put_eq(&b, "memberUid", login, login_len);
		fb_put(&b, ")");
		break;
	case DIR_MEMBERSHIP_MEMBER_OF:
		break;
	}
	fb_put(&b, ")");
	return fb_finish(&b);
}

char *dir_group_name_filter(const char *group_filter, const char *name_attribute,
		const char *name, size_t name_len)
{
	struct fbuf b;

	if (!fb_init(&b, fb_room(strlen(group_filter) + strlen(name_attribute) + 8, 1, name_len)))
		return NULL;
	fb_put(&b, "(&");
	fb_put(&b, group_filter);
	fb_put_eq(&b, name_attribute, name, name_len);
	fb_put(&b, ")");
	return fb_finish(&b);
}

char *dir_memberof_filter(const char *login_attribute, const char *group_dn, size_t dn_len)
{
	struct fbuf b;

	if (!fb_init(&b, fb_room(strlen(login_attribute) + 24, 1, dn_len)))
		return NULL;
	fb_put(&b, "(&");
	fb_put_eq(&b, "memberOf", group_dn, dn_len);
	fb_put(&b, "(");
	fb_put(&b, login_attribute);
	fb_put(&b, "=*))");
	return fb_finish(&b);
}

/* Calls fn for each name of a space-separated list; stops at the first
 * nonzero return and returns it. */
static int attr_list_each(const char *list, int (*fn)(void *arg, const char *name, size_t len),
		void *arg)
{
	const char *p = list;

	while (*p != '\0') {
		size_t n;
		int r;

		while (*p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, " \t");
		if (n == 0)
			break;
		r = fn(arg, p, n);
		if (r != 0)
			return r;
		p += n;
	}
	return 0;
}

struct attr_count {
	int n;
};

static int attr_count_one(void *arg, const char *name, size_t len)
{
	struct attr_count *c = arg;
	char buf[128];

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, name, len);
	buf[len] = '\0';
	if (!dir_attribute_valid(buf) || ++c->n > DIR_MAIL_ATTRIBUTES_MAX)
		return -1;
	return 0;
}

int dir_attribute_list_count(const char *list)
{
	struct attr_count c = { 0 };

	if (list == NULL)
		return 0;
	if (attr_list_each(list, attr_count_one, &c) != 0)
		return -1;
	return c.n;
}

struct mail_clause {
	struct fbuf *b;
	const char *address;
	size_t len;
};

static int mail_clause_one(void *arg, const char *name, size_t len)
{
	struct mail_clause *m = arg;

	fb_put(m->b, "(");
	fb_put_n(m->b, name, len);
	fb_put(m->b, "=");
	fb_put_value(m->b, m->address, m->len);
	fb_put(m->b, ")");
	return 0;
}

char *dir_mail_filter(const char *mail_attributes, const char *login_attribute,
		const char *address, size_t len)
{
	int n = dir_attribute_list_count(mail_attributes);
	struct fbuf b;
	struct mail_clause m = { &b, address, len };

	if (n <= 0 || !fb_init(&b, fb_room(strlen(mail_attributes) + 4 * (size_t)n +
			strlen(login_attribute) + 16, (size_t)n, len)))
		return NULL;
	fb_put(&b, "(&");
	if (n > 1)
		fb_put(&b, "(|");
	(void)attr_list_each(mail_attributes, mail_clause_one, &m);
	if (n > 1)
		fb_put(&b, ")");
	fb_put(&b, "(");
	fb_put(&b, login_attribute);
	fb_put(&b, "=*))");
	return fb_finish(&b);
}

bool dir_filter_valid(const char *s)
{
	int depth = 0;

	if (s == NULL || s[0] != '(')
		return false;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && --depth == 0)
			return p[1] == '\0';
		if (depth < 0)
			return false;
	}
	return false;
}

bool dir_attribute_valid(const char *s)
{
	if (s == NULL || s[0] == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' || *s == ';'))
			return false;
	}
	return true;
}

size_t dir_unique_member_dn_len(const char *v, size_t len)
{
	size_t i;

	/* A '#' inside a DN value is escaped ("\#") only at the start of the
	 * value, so only a trailing "#'[01]*'B" is taken for the UID. The
	 * member's value comes from the directory and may end in anything. */
	if (len < 4 || v[len - 1] != 'B' || v[len - 2] != '\'')
		return len;
	for (i = len - 3; i > 0 && (v[i] == '0' || v[i] == '1'); i--)
		;
	if (v[i] == '\'' && i > 0 && v[i - 1] == '#')
		return i - 1;
	return len;
}

/* Whether two RDNs are the same, compared in their LDAPv3 string form (so
 * that escapes are canonical: "a\2Cb" and "a\,b" agree), ignoring case. */
static bool dir_rdns_equal(LDAPRDN ra, LDAPRDN rb)
{
	char *sa = NULL, *sb = NULL;
	bool eq;

	eq = ldap_rdn2str(ra, &sa, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS &&
	     ldap_rdn2str(rb, &sb, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS &&
	     strcasecmp(sa, sb) == 0;
	ldap_memfree(sa);
	ldap_memfree(sb);
	return eq;
}

bool dir_dn_under(const char *dn, const char *base)
{
	LDAPDN pdn = NULL, pbase = NULL;
	size_t nd = 0, nb = 0;
	bool under = false;

	if (ldap_str2dn(dn, &pdn, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS ||
	    ldap_str2dn(base, &pbase, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		goto out;
	while (pdn != NULL && pdn[nd] != NULL)
		nd++;
	while (pbase != NULL && pbase[nb] != NULL)
		nb++;
	if (nb > nd)
		goto out;
	under = true;
	for (size_t i = 0; i < nb && under; i++)
		under = dir_rdns_equal(pdn[nd - nb + i], pbase[i]);
out:
	ldap_dnfree(pdn);
	ldap_dnfree(pbase);
	return under;
}
