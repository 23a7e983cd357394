/* directory/: everything Kairan asks of the LDAP directory.
 *
 * This header is the only part of the directory module other code sees; it
 * deliberately does not include <ldap.h>: only the .c files of directory/ may.
 *
 * Threading: a `dir` is one LDAP connection and is not thread-safe. Each
 * worker thread opens and owns its own; different handles may be used from
 * different threads at the same time (libldap 2.5+ is thread-safe per handle).
 *
 * Signals: libldap writes to its socket with write(2). If the directory closes
 * the connection, a write can raise SIGPIPE, so the process must ignore SIGPIPE
 * (kairand does so anyway for its client sockets).
 *
 * Error strings (`err`) are one line, meant for the server log. Never send them
 * to an IMAP client: they say whether a login exists.
 */
#ifndef KAIRAN_DIRECTORY_DIR_H
#define KAIRAN_DIRECTORY_DIR_H

#include <stdbool.h>
#include <stddef.h>

/* Longest login dir_authenticate accepts, in bytes. */
#define DIR_LOGIN_MAX 256

struct dir_config {
	const char *uri;            /* ldap://127.0.0.1:1389 or ldaps://...; several, space-separated, are tried in order */
	const char *bind_dn;        /* service account used to search; NULL or "" = anonymous */
	const char *bind_password;
	const char *base_dn;        /* search base for accounts */
	const char *user_filter;    /* e.g. (&(objectClass=inetOrgPerson)(uid=%u)); every %u is replaced by the escaped login, %% is a literal % */
	const char *login_attribute;/* attribute holding the canonical login, e.g. "uid" */
	int timeout_sec;            /* network and per-operation timeout; <= 0 means 10 */

	/* Addresses, groups and TLS. A NULL (or "", or false) field takes the
	 * default named here, so that a zero-initialised field is always the
	 * documented default, and the safe one: certificates are verified. */
	const char *mail_attributes;      /* space-separated attributes holding an account's addresses; default DIR_DEFAULT_MAIL_ATTRIBUTES */
	const char *group_base_dn;        /* subtree searched for groups; default base_dn */
	const char *group_filter;         /* which entries are groups; default DIR_DEFAULT_GROUP_FILTER */
	const char *group_name_attribute; /* a group's name, as in "group:NAME" ACL identifiers; default "cn" */
	const char *group_membership;     /* member, uniqueMember, memberUid, memberOf or auto (the default) */
	const char *team_filter;          /* which groups may be teams, ANDed with group_filter; default DIR_DEFAULT_TEAM_FILTER */
	const char *team_mail_attribute;  /* a team group's addresses; default DIR_DEFAULT_TEAM_MAIL_ATTRIBUTE */
	bool starttls;              /* StartTLS on ldap:// URIs (ldaps:// is TLS already); never falls back to plaintext */
	const char *tls_ca_file;    /* PEM CA bundle for the directory's certificate; default: the system's trust store */
	bool tls_skip_verify;       /* accept any certificate (ldap_tls_require_cert = no): for tests only */
};

#define DIR_DEFAULT_MAIL_ATTRIBUTES "mail mailAlternateAddress"
#define DIR_DEFAULT_GROUP_FILTER \
	"(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))"
#define DIR_DEFAULT_GROUP_NAME_ATTRIBUTE "cn"
#define DIR_DEFAULT_TEAM_FILTER "(objectClass=*)"
#define DIR_DEFAULT_TEAM_MAIL_ATTRIBUTE "mail"

/* Bounds on what one call returns, so that a huge group cannot make a login
 * or an admin command unbounded in time or memory. */
#define DIR_GROUPS_MAX 1000   /* groups of one user */
#define DIR_MEMBERS_MAX 10000 /* accounts listed for one group */
#define DIR_ADDRESS_MAX 320   /* bytes of an address: 64 local part + '@' + 255 domain */

/* One LDAP connection, opened lazily and reopened after a failure. */
typedef struct dir dir;

enum dir_result {
	DIR_OK = 0,
	DIR_FAIL = 1,        /* unknown user, wrong password, unusable login */
	DIR_UNAVAILABLE = 2, /* directory unreachable, erroring, or misconfigured */
};

/* Validates a configuration without contacting the directory: uri parses,
 * base_dn (and bind_dn, if set) are DNs, bind_password is non-empty when
 * bind_dn is set, user_filter is a well-formed template containing %u with
 * balanced parentheses, login_attribute is an attribute name; and, when set,
 * mail_attributes is 1 to 16 attribute names, group_base_dn a DN,
 * group_filter one parenthesised filter, group_name_attribute an attribute
 * name, group_membership one of the five schemas, tls_ca_file a readable
 * file. Meant for start-up, so a typo is reported once instead of at every
 * login. Returns 0, or -1 with a one-line reason in err. */
int dir_check_config(const struct dir_config *cfg, char *err, size_t errlen);

/* Allocates a handle. Never connects; copies every string of *cfg, so cfg
 * may be freed afterwards. Returns 0 and sets *dir_r, or -1 on out-of-memory.
 * The caller owns *dir_r and releases it with dir_close(). */
int dir_open(const struct dir_config *cfg, dir **dir_r);

/* Unbinds (if connected), frees the handle and sets *dp to NULL.
 * NULL-safe: dp == NULL and *dp == NULL are fine. */
void dir_close(dir **dp);

/* Authenticates login/password (explicit lengths: both come from IMAP and may
 * contain NUL bytes).
 *
 * Without contacting the directory, returns DIR_FAIL for a login that is
 * empty, longer than DIR_LOGIN_MAX bytes, contains a control byte (0x00-0x1f,
 * 0x7f) or is not valid UTF-8, and for an empty password (an RFC 4513 §5.1.2
 * "unauthenticated bind" would otherwise succeed as anonymous).
 *
 * Otherwise: binds as the service account unless the connection already is;
 * searches base_dn's subtree with user_filter (the login RFC 4515-escaped),
 * sizelimit 2, asking for login_attribute only; exactly one entry must match;
 * then simple-binds as that entry's DN with the password. Afterwards the
 * connection is marked so the next call binds as the service account again.
 *
 * DIR_OK: dn_r holds the entry's DN and login_r the first value of its
 * login_attribute (the canonical login: "alice" when the user typed "ALICE"),
 * both NUL-terminated. Either may be NULL (with size 0) if not wanted.
 *
 * DIR_FAIL: no entry or more than one matched, invalid credentials (or the
 * directory refused this account with inappropriateAuthentication or
 * unwillingToPerform), the entry has no usable login_attribute value, or the
 * DN or login does not fit in dn_size / login_size. The password is not tried
 * in the last two cases.
 *
 * DIR_UNAVAILABLE: transport error, timeout, unexpected LDAP result, the
 * service account's bind refused (a configuration error), bad configuration.
 * The connection is dropped and the next call reconnects. If the first
 * operation of a call fails with "server down" on a connection that was open
 * before the call (e.g. slapd restarted), the call reconnects and retries once.
 * A call takes about timeout_sec at most when the server hangs; an unreachable
 * host costs up to timeout_sec per URI for the connect.
 *
 * err (may be NULL/0) receives a one-line reason for FAIL and UNAVAILABLE,
 * never containing the password. On anything but DIR_OK, dn_r and login_r
 * are set to "" (when their size is > 0). */
enum dir_result dir_authenticate(dir *d, const char *login, size_t login_len,
		const char *password, size_t password_len,
		char *dn_r, size_t dn_size, char *login_r, size_t login_size,
		char *err, size_t errlen);

/* RFC 4515 §3 escaping of a filter assertion value: '*' '(' ')' '\' and NUL
 * become \2a \28 \29 \5c \00; every other byte, UTF-8 included, is copied.
 * Writes at most outsize bytes including the terminating NUL. Returns the
 * output length (without the NUL), or -1 if it does not fit (then out is ""
 * when outsize > 0). Used instead of ldap_bv2escaped_filter_value() so the
 * exact bytes, NUL handling included, are ours and unit-tested. */
int dir_escape_filter_value(const char *in, size_t len, char *out, size_t outsize);

/* Builds a filter from a NUL-terminated template: each "%u" becomes the
 * escaped value, "%%" a literal '%'; any other '%' makes the template
 * malformed. Same return convention as above: length, or -1 if it does not
 * fit or the template is malformed. */
int dir_build_filter(const char *tmpl, const char *value, size_t len, char *out, size_t outsize);

/* RFC 4514 §2.4 escaping of an attribute value placed in a DN: ',' '+' '"'
 * '\' '<' '>' ';' and '=' get a backslash, as do a leading '#' or space and a
 * trailing space; NUL becomes \00. ('=' needs no escape under RFC 4514 but
 * older RFC 2253 parsers want it, and "\=" is valid everywhere.) Same return
 * convention as dir_escape_filter_value(). */
int dir_escape_dn_value(const char *in, size_t len, char *out, size_t outsize);

/* Looks a user up by login without a password (the PLAIN authorization
 * identity of an admin acting as someone else): service bind and search,
 * exactly as dir_authenticate but without the user bind. Same results and
 * buffers as dir_authenticate. */
enum dir_result dir_lookup_user(dir *d, const char *login, size_t login_len,
		char *dn_r, size_t dn_size, char *login_r, size_t login_size,
		char *err, size_t errlen);

/* The values of attribute attr of the entry user_dn, space-separated, in
 * out (out_size bytes, "" when there are none); values with control
 * bytes, and those that would not fit, are left out. DIR_FAIL for
 * an invalid attribute name or an entry that does not exist. */
enum dir_result dir_user_attribute(dir *d, const char *user_dn, const char *attr, char *out,
				   size_t out_size, char *err, size_t errlen);

/* Whether the user (entry user_dn, canonical login) is a member of the group
 * entry group_dn, by any of the usual schemas: member or uniqueMember naming
 * user_dn, or memberUid naming login. DIR_OK with *member_r set, or
 * DIR_UNAVAILABLE. A group that does not exist has no members. */
enum dir_result dir_is_member(dir *d, const char *group_dn, const char *user_dn,
		const char *login, bool *member_r, char *err, size_t errlen);

/* Finds the account that owns a mail address (an LMTP recipient, an ACL
 * identifier given as an address): a subtree search of base_dn for an entry
 * with a login_attribute on which any of mail_attributes equals the address,
 * compared as the directory's matching rule for each attribute says (for
 * mail: case-insensitive). Exactly one entry must match. Connection, retry,
 * buffers and results as dir_lookup_user.
 *
 * Without contacting the directory, returns DIR_FAIL for an address that is
 * empty, longer than DIR_ADDRESS_MAX bytes, contains a control byte or is not
 * UTF-8, or has no '@' with something on both sides. */
enum dir_result dir_lookup_by_mail(dir *d, const char *address, size_t len,
		char *dn_r, size_t dn_size, char *login_r, size_t login_size,
		char *err, size_t errlen);

/* The names of the groups a user belongs to: the group_name_attribute of
 * each group_filter entry under group_base_dn that lists the user (entry
 * user_dn, canonical login) the way group_membership says:
 *
 *   member, uniqueMember, memberUid, auto: one subtree search,
 *     (&GROUP_FILTER(|(member=DN)(uniqueMember=DN)(memberUid=LOGIN))) for
 *     auto, the one matching clause otherwise;
 *   memberOf: the memberOf values of the user's entry, each group entry read
 *     (base scope, group_filter, pipelined) for its name; groups outside
 *     group_base_dn or not matching group_filter are ignored, so every
 *     schema yields the same set. Nested groups are not expanded.
 *
 * A group's name is the value of its RDN when the RDN's attribute is
 * group_name_attribute (unique and stable), else the attribute's first value.
 * Names that are not usable identifiers (empty, over DIR_LOGIN_MAX bytes,
 * control bytes, not UTF-8) are skipped. The list is sorted (strcmp) and
 * without duplicates (two groups of one name are one "group:NAME").
 *
 * DIR_OK: *groups_r is a malloc'ed, NULL-terminated array of *n_r malloc'ed
 * names (never NULL, possibly empty), freed with dir_groups_free. At most
 * DIR_GROUPS_MAX: if the user is in more, the rest are left out and err
 * holds a note for the log; otherwise err is "". DIR_FAIL: user_dn or login
 * is empty or not usable. DIR_UNAVAILABLE: as dir_lookup_user, including the
 * one retry after a server restart. On failure *groups_r is NULL, *n_r 0. */
enum dir_result dir_user_groups(dir *d, const char *user_dn, const char *login,
		char ***groups_r, size_t *n_r, char *err, size_t errlen);

/* The accounts in the group(s) named group_name (as dir_user_groups names
 * them; names compare ignoring ASCII case, and all groups of that name
 * count, exactly as "group:NAME" matches them in acl_evaluate), for "who
 * can access this mailbox":
 *
 *   memberUid values are logins already;
 *   member and uniqueMember values are DNs: each one under base_dn is read
 *     (base scope, pipelined) for its login_attribute; DNs that are not
 *     accounts (a nested group, a deleted user) are skipped;
 *   auto takes all three; memberOf searches base_dn for accounts whose
 *     memberOf names the group.
 *
 * DIR_OK: *logins_r as *groups_r above (sorted, unique, NULL-terminated, free
 * with dir_groups_free), at most DIR_MEMBERS_MAX, a note in err if more were
 * left out. DIR_FAIL: no group of that name, or the name is not usable.
 * DIR_UNAVAILABLE as above. */
enum dir_result dir_group_members(dir *d, const char *group_name,
		char ***logins_r, size_t *n_r, char *err, size_t errlen);

/* The same for the one group entry at group_dn (auth_admin_group, which
 * kairand tests with dir_is_member): the logins of its member,
 * uniqueMember and memberUid values, read as dir_group_members reads them,
 * whatever group_membership, group_filter and group_base_dn say, because
 * dir_is_member ignores them too. DIR_FAIL: no entry at group_dn (or it is
 * not a DN). Otherwise as dir_group_members. */
enum dir_result dir_group_members_by_dn(dir *d, const char *group_dn,
		char ***logins_r, size_t *n_r, char *err, size_t errlen);

/* Frees a list from dir_user_groups or dir_group_members and sets *list_p to
 * NULL. NULL-safe. */
void dir_groups_free(char ***list_p);

/* Teams from the directory (docs/acl.md, "A team run from LDAP"): groups
 * (group_filter and team_filter, under group_base_dn) that have an address
 * in team_mail_attribute. Their names are as dir_user_groups gives them,
 * so "group:NAME" grants the team's members. */

/* The team whose group has address (compared as the directory's matching
 * rule for team_mail_attribute says; for mail: case-insensitive). DIR_OK
 * with the group's name in name_r; DIR_FAIL when no group, or more than
 * one, has it (err says which), or address is not usable (as
 * dir_lookup_by_mail); DIR_UNAVAILABLE as dir_lookup_user. */
enum dir_result dir_team_by_mail(dir *d, const char *address, size_t len,
		char name_r[DIR_LOGIN_MAX + 1], char *err, size_t errlen);

/* One address of one team. */
struct dir_team {
	char *name;
	char *address;   /* as the directory holds it */
};

/* Every (team, address) pair, sorted by name then address (strcmp), at
 * most DIR_GROUPS_MAX groups (a note in err if more were left out).
 * Groups whose name is not a usable identifier are skipped. DIR_OK with
 * *teams_r (free with dir_teams_free; never NULL) and *n_r, or
 * DIR_UNAVAILABLE. */
enum dir_result dir_teams(dir *d, struct dir_team **teams_r, size_t *n_r,
		char *err, size_t errlen);
void dir_teams_free(struct dir_team **teams_p, size_t n);

/* A TTL cache of look-up results, shared by all worker threads of a process
 * (it has its own mutex; no directory I/O happens while it is held). Bounded
 * in entries and bytes; the least recently used entries go first. */
typedef struct dir_cache dir_cache;

#define DIR_CACHE_DEFAULT_ENTRIES 10000
#define DIR_CACHE_DEFAULT_BYTES (64u * 1024 * 1024)

/* Allocates a cache whose entries live ttl_sec seconds (0: nothing is ever
 * stored, every call queries the directory). max_entries and max_bytes of 0
 * take the defaults above. 0, or -1 on out-of-memory. Free with
 * dir_cache_free (NULL-safe, sets *cp to NULL) once no thread uses it. */
int dir_cache_new(unsigned ttl_sec, size_t max_entries, size_t max_bytes, dir_cache **cache_r);
void dir_cache_free(dir_cache **cp);

/* dir_user_groups through the cache, keyed by login: a copy of the cached
 * list if it was fetched less than ttl_sec ago for the same user_dn, else a
 * query whose DIR_OK result replaces the entry. c == NULL means no cache.
 *
 * Fails closed: when the directory is unavailable, the answer is
 * DIR_UNAVAILABLE even if an expired entry is at hand, and that entry is
 * dropped. Serving it would keep a user in a group the directory no longer
 * lists for as long as the outage lasts, and an outage is exactly when an
 * admin may be revoking access. A cache hit leaves err "" (a truncation note
 * was given when the list was fetched). */
enum dir_result dir_user_groups_cached(dir_cache *c, dir *d, const char *user_dn,
		const char *login, char ***groups_r, size_t *n_r, char *err, size_t errlen);

/* dir_lookup_by_mail through the cache, keyed by the address with ASCII
 * letters lower-cased (the mail attributes match case-insensitively). Only
 * DIR_OK results are stored, so a new account receives mail at once; fails
 * closed as above. */
enum dir_result dir_lookup_by_mail_cached(dir_cache *c, dir *d, const char *address, size_t len,
		char *dn_r, size_t dn_size, char *login_r, size_t login_size,
		char *err, size_t errlen);

/* Drops what the cache holds for login (its groups), so the next
 * dir_user_groups_cached asks the directory: for a fresh login, which should
 * see the directory as it is now. NULL-safe. */
void dir_cache_forget_user(dir_cache *c, const char *login);

#endif
