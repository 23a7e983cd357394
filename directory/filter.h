/* Building the LDAP filters of account and group look-ups.
 *
 * Internal to directory/ (and its unit tests), but free of <ldap.h>: these are
 * pure functions, so the exact filter sent for any hostile input can be
 * checked without a server. Every value a user or the directory controls
 * goes through dir_escape_filter_value(); the fixed parts (attribute names,
 * the configured group filter) were validated by dir_check_config().
 *
 * Each builder returns a malloc'ed NUL-terminated filter the caller frees, or
 * NULL when out of memory or given an argument it cannot use (noted below).
 */
#ifndef KAIRAN_DIRECTORY_FILTER_H
#define KAIRAN_DIRECTORY_FILTER_H

#include <stdbool.h>
#include <stddef.h>

/* How group membership is recorded in the directory (ldap_group_membership). */
enum dir_membership {
	DIR_MEMBERSHIP_AUTO,          /* any of member, uniqueMember, memberUid */
	DIR_MEMBERSHIP_MEMBER,        /* groupOfNames: member = user DN */
	DIR_MEMBERSHIP_UNIQUE_MEMBER, /* groupOfUniqueNames: uniqueMember = user DN */
	DIR_MEMBERSHIP_MEMBER_UID,    /* posixGroup (RFC 2307): memberUid = login */
	DIR_MEMBERSHIP_MEMBER_OF,     /* memberOf on the user's entry names the groups */
};

/* Parses a configured membership schema: "member", "uniqueMember",
 * "memberUid", "memberOf" or "auto" (case-insensitive, as attribute names
 * are); NULL or "" is auto. 0, or -1 if unknown. */
int dir_membership_parse(const char *s, enum dir_membership *m_r);

/* The filter finding the groups a user belongs to, under the group base:
 *   (&GROUP_FILTER(member=DN))                  member
 *   (&GROUP_FILTER(uniqueMember=DN))            uniqueMember
 *   (&GROUP_FILTER(memberUid=LOGIN))            memberUid
 *   (&GROUP_FILTER(|(member=DN)(uniqueMember=DN)(memberUid=LOGIN)))  auto
 * DN and LOGIN escaped. NULL for DIR_MEMBERSHIP_MEMBER_OF, which reads the
 * user's entry instead of searching. */
char *dir_groups_filter(enum dir_membership m, const char *group_filter,
		const char *user_dn, size_t dn_len, const char *login, size_t login_len);

/* The filter finding a group by name: (&GROUP_FILTER(NAME_ATTR=NAME)). */
char *dir_group_name_filter(const char *group_filter, const char *name_attribute,
		const char *name, size_t name_len);

/* The filter finding the accounts of a group in memberOf mode:
 * (&(memberOf=GROUP_DN)(LOGIN_ATTR=*)). */
char *dir_memberof_filter(const char *login_attribute, const char *group_dn, size_t dn_len);

/* The filter finding the account that owns an address: any of the
 * space-separated mail attributes equal to it, on an entry that has a login:
 *   (&(mail=ADDR)(uid=*))                                  one attribute
 *   (&(|(mail=ADDR)(mailAlternateAddress=ADDR))(uid=*))    several
 * The (LOGIN_ATTR=*) part keeps entries that are not accounts (a group or a
 * list that carries the same address) from making the match ambiguous.
 * NULL if mail_attributes names no attribute. */
char *dir_mail_filter(const char *mail_attributes, const char *login_attribute,
		const char *address, size_t len);

/* true if s is one well-formed filter: starts with '(', its parentheses
 * balance, and the first '(' closes at the very end (so it can be nested
 * inside "(&...)" without changing meaning). Says nothing of its insides;
 * the server's answer "filter error" covers those. */
bool dir_filter_valid(const char *s);

/* true if s is a usable attribute name or OID: letters, digits, '-', '.',
 * and ';' for options. */
bool dir_attribute_valid(const char *s);

/* Splits a space-separated attribute list (ldap_mail_attributes). Returns the
 * number of names (0 for an empty list), or -1 if one is not an attribute
 * name or there are more than DIR_MAIL_ATTRIBUTES_MAX. */
#define DIR_MAIL_ATTRIBUTES_MAX 16
int dir_attribute_list_count(const char *list);

/* true if dn lies in the subtree of base (the same DN, or base's RDNs are
 * dn's last ones), RDN by RDN in canonical LDAPv3 form (so "a\2Cb" equals
 * "a\,b") and ignoring case, which is how the attributes used in DNs (dc,
 * ou, cn, uid) match. An empty base is the root: every DN is under it.
 * false if either is not a DN. (Uses libldap's DN parser; no I/O.) */
bool dir_dn_under(const char *dn, const char *base);

/* The length of the DN part of a uniqueMember value: RFC 4517's
 * NameAndOptionalUID is "DN" or "DN#'0101'B". */
size_t dir_unique_member_dn_len(const char *v, size_t len);

#endif
