/* The LDAP connection of a handle: opening it (TLS included) when needed,
 * binding as the service account, running an operation with one retry after
 * a server restart, and dropping it after a failure. */
#include "directory/dir_private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void dir_clear(char *s, size_t size)
{
	if (s != NULL && size > 0)
		s[0] = '\0';
}

void dir_conn_drop(dir *d)
{
	if (d->ld != NULL)
		(void)ldap_unbind_ext_s(d->ld, NULL, NULL);
	d->ld = NULL;
	d->bound = DIR_BOUND_NONE;
}

/* true if any URI of the space-separated list is ldaps://. */
static bool dir_uri_has_ldaps(const char *uris)
{
	for (const char *p = uris; *p != '\0'; p += strcspn(p, " \t")) {
		p += strspn(p, " \t");
		if (strncasecmp(p, "ldaps://", 8) == 0)
			return true;
	}
	return false;
}

/* The handle's own TLS settings. libldap starts every handle with the
 * process-wide defaults (ldap.conf, LDAPTLS_* variables); options set on a
 * handle take effect only when LDAP_OPT_X_TLS_NEWCTX builds the handle's TLS
 * context from them, so that comes last. TLS 1.2 is the floor, as for our
 * own listeners. */
static int dir_tls_setup(dir *d, LDAP *ld, char *err, size_t errlen)
{
	int require = d->tls_skip_verify ? LDAP_OPT_X_TLS_NEVER : LDAP_OPT_X_TLS_DEMAND;
	int min = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
	int is_server = 0;
	int rc;

	if (d->tls_ca_file[0] != '\0' &&
	    ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, d->tls_ca_file) != LDAP_OPT_SUCCESS) {
		dir_set_err(err, errlen, "cannot set the LDAP TLS CA file");
		return -1;
	}
	if (ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &require) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &min) != LDAP_OPT_SUCCESS) {
		dir_set_err(err, errlen, "cannot set LDAP TLS options");
		return -1;
	}
	rc = ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &is_server);
	if (rc != LDAP_OPT_SUCCESS) {
		dir_ldap_error(ld, rc, "cannot create the LDAP TLS context (check ldap_tls_ca_file)",
			err, errlen);
		return -1;
	}
	return 0;
}

/* Whether rc, from the first operation on a connection, may be a failed TLS
 * handshake: libldap reports those as "can't contact" or "connect error",
 * which would send an admin looking at the network instead of the CA. */
static bool dir_tls_failure(const dir *d, int rc)
{
	return (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR) &&
	       (d->starttls || dir_uri_has_ldaps(d->uri));
}

/* Connects and runs StartTLS, unless the URI that answered was ldaps://
 * (TLS already: a second StartTLS would be refused). A failure is never
 * followed by plaintext: the service password would cross the network. */
static int dir_starttls(struct dir_attempt *a, LDAP *ld, char *err, size_t errlen)
{
	int rc;

	a->ops++;
	rc = ldap_connect(ld);
	if (rc != LDAP_SUCCESS) {
		/* ldap_connect returns -1 and leaves the code in the handle. */
		if (ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &rc) != LDAP_OPT_SUCCESS ||
		    rc == LDAP_SUCCESS)
			rc = LDAP_SERVER_DOWN;
	} else if (!ldap_tls_inplace(ld)) {
		rc = ldap_start_tls_s(ld, NULL, NULL);
	}
	if (rc != LDAP_SUCCESS) {
		a->rc = rc;
		dir_ldap_error(ld, rc, rc == LDAP_CONNECT_ERROR ? "LDAP StartTLS (check that the "
			"server's TLS certificate is trusted: ldap_tls_ca_file)" : "LDAP StartTLS",
			err, errlen);
		return -1;
	}
	return 0;
}

int dir_conn_ensure(dir *d, struct dir_attempt *a, char *err, size_t errlen)
{
	LDAP *ld = NULL;
	int version = LDAP_VERSION3;
	struct timeval tv = { .tv_sec = d->timeout_sec, .tv_usec = 0 };
	int rc;

	a->reused = d->ld != NULL;
	a->ops = 0;
	a->rc = LDAP_SUCCESS;
	if (d->ld != NULL)
		return 0;

	/* ldap_initialize only parses the URI; the connect happens at the first
	 * operation (or at StartTLS), bounded by LDAP_OPT_NETWORK_TIMEOUT, which
	 * libldap also applies to the TLS handshake. LDAP_OPT_TIMEOUT bounds
	 * every synchronous call's wait for its result. */
	rc = ldap_initialize(&ld, d->uri);
	if (rc != LDAP_SUCCESS) {
		dir_ldap_error(NULL, rc, "invalid LDAP uri", err, errlen);
		return -1;
	}
	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_RESTART, LDAP_OPT_ON) != LDAP_OPT_SUCCESS) {
		(void)ldap_unbind_ext_s(ld, NULL, NULL);
		dir_set_err(err, errlen, "cannot set LDAP connection options");
		return -1;
	}
	/* Plain ldap:// without StartTLS needs no TLS context, and must not fail
	 * for want of a CA file it will never use. */
	if ((d->starttls || dir_uri_has_ldaps(d->uri)) &&
	    (dir_tls_setup(d, ld, err, errlen) < 0 ||
	     (d->starttls && dir_starttls(a, ld, err, errlen) < 0))) {
		(void)ldap_unbind_ext_s(ld, NULL, NULL);
		return -1;
	}
	d->ld = ld;
	/* A fresh LDAPv3 connection is anonymous, which is the service identity
	 * when no bind_dn is configured. */
	d->bound = d->bind_dn[0] == '\0' ? DIR_BOUND_SERVICE : DIR_BOUND_NONE;
	return 0;
}

enum dir_result dir_bind_service(dir *d, struct dir_attempt *a, char *err, size_t errlen)
{
	struct berval cred = { 0, NULL };
	const char *bind_dn = NULL;
	int rc;

	if (d->bound == DIR_BOUND_SERVICE)
		return DIR_OK;
	if (d->bind_dn[0] != '\0') {
		bind_dn = d->bind_dn;
		cred.bv_val = d->bind_password;
		cred.bv_len = strlen(d->bind_password);
	}
	/* else an anonymous bind, to shed the previous user's identity. */
	d->bound = DIR_BOUND_NONE;
	a->ops++;
	rc = ldap_sasl_bind_s(d->ld, bind_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	if (rc == LDAP_SUCCESS) {
		d->bound = DIR_BOUND_SERVICE;
		return DIR_OK;
	}
	a->rc = rc;
	if (!a->reused && dir_tls_failure(d, rc))
		dir_ldap_error(d->ld, rc, "LDAP service account bind (if the server is up, check "
			"that its TLS certificate is trusted: ldap_tls_ca_file)", err, errlen);
	else if (rc == LDAP_INVALID_CREDENTIALS)
		dir_ldap_error(d->ld, rc, "LDAP service account bind refused, check bind_dn and bind_password",
			err, errlen);
	else
		dir_ldap_error(d->ld, rc, "LDAP service account bind", err, errlen);
	return DIR_UNAVAILABLE;
}

static enum dir_result dir_run_once(dir *d, struct dir_attempt *a, dir_op_fn *op, void *arg,
		char *err, size_t errlen)
{
	enum dir_result r;

	if (dir_conn_ensure(d, a, err, errlen) < 0)
		return DIR_UNAVAILABLE;
	r = dir_bind_service(d, a, err, errlen);
	if (r == DIR_OK)
		r = op(d, a, arg, err, errlen);
	return r;
}

enum dir_result dir_run(dir *d, dir_op_fn *op, void (*reset)(void *arg), void *arg,
		char *err, size_t errlen)
{
	struct dir_attempt a;
	enum dir_result r;

	r = dir_run_once(d, &a, op, arg, err, errlen);
	/* A connection that sat idle may have been closed by a server restart or
	 * an idle timeout; that shows as "server down" on its first operation.
	 * One fresh connection settles whether the directory is really down. */
	if (dir_attempt_stale(&a, r)) {
		dir_conn_drop(d);
		if (reset != NULL)
			reset(arg);
		dir_clear(err, errlen);
		r = dir_run_once(d, &a, op, arg, err, errlen);
	}
	if (r == DIR_UNAVAILABLE)
		dir_conn_drop(d);
	return r;
}
