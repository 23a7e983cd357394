/* Internals shared by the files of directory/. Includes <ldap.h>, so nothing
 * outside directory/ may include this header. */
#ifndef KAIRAN_DIRECTORY_DIR_PRIVATE_H
#define KAIRAN_DIRECTORY_DIR_PRIVATE_H

#include <ldap.h>
#include <stdbool.h>

#include "directory/dir.h"

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

/* Searches for the one entry matching filter. On DIR_OK, *dn_r is its DN
 * (free with ldap_memfree) and login_r holds its canonical login. */
enum dir_result dir_find_user(dir *d, struct dir_attempt *a, const char *filter,
		char **dn_r, char *login_r, size_t login_size, char *err, size_t errlen);

/* The user filter for this login, malloc'ed; NULL with err set on failure. */
char *dir_user_filter(dir *d, const char *login, size_t login_len, char *err, size_t errlen);

/* Whether a failed attempt deserves one retry on a fresh connection: its
 * first operation found an idle connection closed by a server restart. */
static inline bool dir_attempt_stale(const struct dir_attempt *a, enum dir_result r)
{
	return r == DIR_UNAVAILABLE && a->reused && a->ops == 1 && a->rc == LDAP_SERVER_DOWN;
}

#endif
