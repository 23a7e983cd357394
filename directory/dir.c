/* The directory handle: configuration, the lazily opened LDAP connection, the
 * service-account bind, and turning libldap errors into one log line. */
#include "directory/dir_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Replaces control bytes so that an error message stays one log line, even
 * when it quotes what a server sent. */
static void dir_sanitize(char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			*s = '?';
	}
}

void dir_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	dir_sanitize(err);
}

void dir_ldap_error(LDAP *ld, int rc, const char *what, char *err, size_t errlen)
{
	char *diag = NULL;

	if (ld != NULL)
		(void)ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	if (diag != NULL && diag[0] != '\0')
		dir_set_err(err, errlen, "%s: %s (%s)", what, ldap_err2string(rc), diag);
	else
		dir_set_err(err, errlen, "%s: %s", what, ldap_err2string(rc));
	ldap_memfree(diag);
}

static char *dir_strdup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

int dir_open(const struct dir_config *cfg, dir **dir_r)
{
	dir *d = calloc(1, sizeof(*d));

	*dir_r = NULL;
	if (d == NULL)
		return -1;
	d->uri = dir_strdup(cfg->uri);
	d->bind_dn = dir_strdup(cfg->bind_dn);
	d->bind_password = dir_strdup(cfg->bind_password);
	d->base_dn = dir_strdup(cfg->base_dn);
	d->user_filter = dir_strdup(cfg->user_filter);
	d->login_attribute = dir_strdup(cfg->login_attribute);
	d->timeout_sec = cfg->timeout_sec > 0 ? cfg->timeout_sec : DIR_DEFAULT_TIMEOUT_SEC;
	d->bound = DIR_BOUND_NONE;
	if (d->uri == NULL || d->bind_dn == NULL || d->bind_password == NULL ||
	    d->base_dn == NULL || d->user_filter == NULL || d->login_attribute == NULL) {
		dir_close(&d);
		return -1;
	}
	*dir_r = d;
	return 0;
}

void dir_close(dir **dp)
{
	dir *d;

	if (dp == NULL || *dp == NULL)
		return;
	d = *dp;
	dir_conn_drop(d);
	free(d->uri);
	free(d->bind_dn);
	if (d->bind_password != NULL) {
		/* Do not leave the service password in freed heap memory. */
		explicit_bzero(d->bind_password, strlen(d->bind_password));
		free(d->bind_password);
	}
	free(d->base_dn);
	free(d->user_filter);
	free(d->login_attribute);
	free(d);
	*dp = NULL;
}

void dir_conn_drop(dir *d)
{
	if (d->ld != NULL)
		(void)ldap_unbind_ext_s(d->ld, NULL, NULL);
	d->ld = NULL;
	d->bound = DIR_BOUND_NONE;
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
	 * operation, bounded by LDAP_OPT_NETWORK_TIMEOUT. LDAP_OPT_TIMEOUT bounds
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
	if (rc == LDAP_INVALID_CREDENTIALS)
		dir_ldap_error(d->ld, rc, "LDAP service account bind refused, check bind_dn and bind_password",
			err, errlen);
	else
		dir_ldap_error(d->ld, rc, "LDAP service account bind", err, errlen);
	return DIR_UNAVAILABLE;
}

static bool dir_dn_valid(const char *s)
{
	LDAPDN dn = NULL;

	if (ldap_str2dn(s, &dn, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		return false;
	ldap_dnfree(dn);
	return true;
}

/* Parentheses must balance once the template is expanded with a harmless value. */
static bool dir_filter_template_valid(const char *tmpl)
{
	char buf[1024];
	int depth = 0;

	if (strstr(tmpl, "%u") == NULL || dir_build_filter(tmpl, "x", 1, buf, sizeof(buf)) < 0)
		return false;
	for (const char *p = buf; *p != '\0'; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && --depth < 0)
			return false;
	}
	return depth == 0;
}

static bool dir_attribute_valid(const char *s)
{
	if (s[0] == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' || *s == ';'))
			return false;
	}
	return true;
}

int dir_check_config(const struct dir_config *cfg, char *err, size_t errlen)
{
	LDAP *ld = NULL;

	if (cfg->uri == NULL || cfg->uri[0] == '\0' ||
	    ldap_initialize(&ld, cfg->uri) != LDAP_SUCCESS) {
		dir_set_err(err, errlen, "LDAP uri is missing or invalid");
		return -1;
	}
	(void)ldap_unbind_ext_s(ld, NULL, NULL); /* never connected: no I/O */
	if (cfg->base_dn == NULL || cfg->base_dn[0] == '\0' || !dir_dn_valid(cfg->base_dn)) {
		dir_set_err(err, errlen, "LDAP base DN is missing or not a DN");
		return -1;
	}
	if (cfg->bind_dn != NULL && cfg->bind_dn[0] != '\0') {
		if (!dir_dn_valid(cfg->bind_dn)) {
			dir_set_err(err, errlen, "LDAP bind DN is not a DN");
			return -1;
		}
		if (cfg->bind_password == NULL || cfg->bind_password[0] == '\0') {
			dir_set_err(err, errlen, "LDAP bind DN is set but its password is empty");
			return -1;
		}
	}
	if (cfg->user_filter == NULL || !dir_filter_template_valid(cfg->user_filter)) {
		dir_set_err(err, errlen, "LDAP user filter must contain %%u, use %%%% for a literal %%, "
			"and balance its parentheses");
		return -1;
	}
	if (cfg->login_attribute == NULL || !dir_attribute_valid(cfg->login_attribute)) {
		dir_set_err(err, errlen, "LDAP login attribute is missing or not an attribute name");
		return -1;
	}
	return 0;
}
