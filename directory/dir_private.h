/* Internals shared by the files of directory/. Includes <ldap.h>, so nothing
 * outside directory/ may include this header. */
#ifndef KAIRAN_DIRECTORY_DIR_PRIVATE_H
#define KAIRAN_DIRECTORY_DIR_PRIVATE_H

#include <ldap.h>
#include <stdbool.h>

#include "directory/dir.h"
#include "directory/filter.h"

#define DIR_DEFAULT_TIMEOUT_SEC 10

/* Who the connection is bound as. A user bind leaves it as that user, so the
 * next search must first bind as the service account again. */
enum dir_bound {
	DIR_BOUND_NONE,    /* fresh connection, or a failed bind: anonymous */
	DIR_BOUND_SERVICE, /* as bind_dn (or anonymous when that is the service identity) */
	DIR_BOUND_USER,
};

struct dir {
	/* Copies of struct dir_config's strings, owned by the handle; never NULL
	 * (a NULL in the config becomes ""). */
	char *uri, *bind_dn, *bind_password, *base_dn, *user_filter, *login_attribute;
	int timeout_sec;
	/* The same for the optional fields, defaults already filled in. */
	char *mail_attributes, *group_base_dn, *group_filter, *group_name_attribute;
	char *team_filter, *team_mail_attribute;
	char *tls_ca_file; /* "" = the system's trust store */
	bool starttls, tls_skip_verify;
	/* group_membership parsed; false when it names no known schema, which
	 * the group calls then report as a configuration error. */
	bool membership_ok;
	enum dir_membership membership;

	LDAP *ld;          /* NULL until the first call, and after a failure */
	enum dir_bound bound;
};

/* One attempt at an operation sequence on a connection, so that a stale
 * connection (server restarted) can be told from a real outage. */
struct dir_attempt {
	bool reused; /* the connection existed before this attempt */
	int ops;     /* LDAP operations issued in this attempt */
	int rc;      /* LDAP result of the operation that failed */
};

/* Creates d->ld with our options if there is none. 0, or -1 with err set
 * (the caller returns DIR_UNAVAILABLE). Sets a->reused. */
int dir_conn_ensure(dir *d, struct dir_attempt *a, char *err, size_t errlen);

/* Unbinds and forgets the connection; the next call reconnects. */
void dir_conn_drop(dir *d);

/* Binds as the service account unless already bound as it. */
enum dir_result dir_bind_service(dir *d, struct dir_attempt *a, char *err, size_t errlen);

/* Formats "<what>: <LDAP error text>[ (<server's diagnostic message>)]" into
 * err as one line, control bytes replaced by '?'. ld may be NULL. */
void dir_ldap_error(LDAP *ld, int rc, const char *what, char *err, size_t errlen);

/* Writes a formatted one-line message into err; err may be NULL/0. */
void dir_set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* true if s[0..len) is a usable login: non-empty, at most DIR_LOGIN_MAX bytes,
 * no control bytes, valid UTF-8. */
bool dir_login_valid(const char *s, size_t len);

/* The same test with another length limit (addresses). */
bool dir_text_valid(const char *s, size_t len, size_t max);

/* Searches base_dn for the one entry matching filter. On DIR_OK, *dn_r is its
 * DN (free with ldap_memfree) and login_r holds its canonical login. `what`
 * names the key in error messages ("login", "address"). */
enum dir_result dir_find_user(dir *d, struct dir_attempt *a, const char *filter,
		const char *what, char **dn_r, char *login_r, size_t login_size,
		char *err, size_t errlen);

/* The values of attribute attr in entry e, falling back to the entry's first
 * attribute without options when the server names attr differently (asking
 * for the alias "userid" returns "uid"): callers ask for that one attribute
 * only. NULL if none. Free with ldap_value_free_len(). */
struct berval **dir_attr_values(dir *d, LDAPMessage *e, const char *attr);

/* One directory operation, run by dir_run on a connection bound as the
 * service account. It counts its LDAP operations in a->ops and stores the
 * failing one's result code in a->rc, so that dir_run can tell a connection
 * the server closed while idle from an outage. */
typedef enum dir_result dir_op_fn(dir *d, struct dir_attempt *a, void *arg,
		char *err, size_t errlen);

/* Connects if needed, binds as the service account, runs op(arg). If that
 * failed because the connection had been closed while idle, calls
 * reset(arg) (to discard partial results; may be NULL) and runs it once more
 * on a fresh connection. Drops the connection after DIR_UNAVAILABLE so the
 * next call reconnects. */
enum dir_result dir_run(dir *d, dir_op_fn *op, void (*reset)(void *arg), void *arg,
		char *err, size_t errlen);

/* A growing list of strings, NULL-terminated at every step, which becomes
 * the char ** of dir_user_groups and dir_group_members. */
struct dir_strv {
	char **v;
	size_t n, cap;
};

/* Appends a copy of s[0..len). 0, or -1 on out-of-memory. */
int dir_strv_add(struct dir_strv *sv, const char *s, size_t len);
/* Sorts (strcmp) and removes duplicates. */
void dir_strv_sort_unique(struct dir_strv *sv);
/* Frees every string and the array; leaves sv empty. */
void dir_strv_clear(struct dir_strv *sv);
/* Sorts, removes duplicates and hands the array over (never NULL, possibly
 * empty), leaving sv empty. 0, or -1 on out-of-memory (sv unchanged). */
int dir_strv_finish(struct dir_strv *sv, char ***list_r, size_t *n_r);

/* The name of group entry e (dir_user_groups says which value), copied into
 * name_r. false if it has none that is a usable identifier. With fallback,
 * a missing name attribute is looked for under the server's own spelling,
 * which is safe only when the search asked for that attribute alone. */
bool dir_entry_group_name(dir *d, LDAPMessage *e, bool fallback, char name_r[DIR_LOGIN_MAX + 1]);

/* Reads entries by DN, pipelined: a base-scope search of each dns[i] with
 * filter, asking for attr only, at most DIR_PIPELINE_WINDOW outstanding.
 * Calls take(arg, e) for every entry returned. A DN that does not exist
 * (noSuchObject) or is not a DN (invalidDNSyntax) yields no entry; any other
 * failure stops with DIR_UNAVAILABLE. take returns 0, or -1 (out of memory)
 * to stop with DIR_UNAVAILABLE. */
/* Below slapd's default conn_max_pending (100), past which it would stop
 * reading the connection until answers drain. */
#define DIR_PIPELINE_WINDOW 64
enum dir_result dir_read_each(dir *d, struct dir_attempt *a, char *const *dns, size_t n,
		const char *filter, const char *attr,
		int (*take)(void *arg, LDAPMessage *e), void *arg, char *err, size_t errlen);

/* Reads the entry at dn (base scope, filter, attrs only, at most one),
 * counting the operation in a. Returns the LDAP result code; *res_r is the
 * result to free with ldap_msgfree (possibly NULL). */
int dir_read_entry(dir *d, struct dir_attempt *a, const char *dn, const char *filter,
		char **attrs, LDAPMessage **res_r);

/* dir_read_entry of a person's entry at dn (filter "(objectClass=*)"),
 * with the result code mapped: DIR_FAIL when the entry does not exist or
 * dn is not a DN, DIR_UNAVAILABLE (a->rc set) for any other failure; err
 * says which. *res_r as dir_read_entry's. */
enum dir_result dir_read_user_entry(dir *d, struct dir_attempt *a, const char *dn, char **attrs,
		LDAPMessage **res_r, char *err, size_t errlen);

/* The user filter for this login, malloc'ed; NULL with err set on failure. */
char *dir_user_filter(dir *d, const char *login, size_t login_len, char *err, size_t errlen);

/* ldap_first_entry, which asserts on a NULL chain, for a result that may be
 * absent: a failed synchronous search may or may not leave one. */
static inline LDAPMessage *dir_first_entry(dir *d, LDAPMessage *res)
{
	return res != NULL ? ldap_first_entry(d->ld, res) : NULL;
}

/* Whether a failed attempt deserves one retry on a fresh connection: its
 * first operation found an idle connection closed by a server restart. */
static inline bool dir_attempt_stale(const struct dir_attempt *a, enum dir_result r)
{
	return r == DIR_UNAVAILABLE && a->reused && a->ops == 1 && a->rc == LDAP_SERVER_DOWN;
}

#endif
