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
};

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
 * balanced parentheses, login_attribute is an attribute name. Meant for
 * start-up, so a typo is reported once instead of at every login.
 * Returns 0, or -1 with a one-line reason in err. */
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

/* Whether the user (entry user_dn, canonical login) is a member of the group
 * entry group_dn, by any of the usual schemas: member or uniqueMember naming
 * user_dn, or memberUid naming login. DIR_OK with *member_r set, or
 * DIR_UNAVAILABLE. A group that does not exist has no members. */
enum dir_result dir_is_member(dir *d, const char *group_dn, const char *user_dn,
		const char *login, bool *member_r, char *err, size_t errlen);

#endif
