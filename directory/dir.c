/* The directory handle: configuration (checking it, copying it, defaults)
 * and turning libldap errors into one log line. The connection itself is in
 * conn.c. */
#include "directory/dir_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	/* libldap's placeholder after a failed TLS handshake says nothing. */
	if (diag != NULL && diag[0] != '\0' && strcmp(diag, "(unknown error code)") != 0)
		dir_set_err(err, errlen, "%s: %s (%s)", what, ldap_err2string(rc), diag);
	else
		dir_set_err(err, errlen, "%s: %s", what, ldap_err2string(rc));
	ldap_memfree(diag);
}

static char *dir_strdup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

/* s, or def when s is NULL or "". */
static const char *dir_or(const char *s, const char *def)
{
	return s != NULL && s[0] != '\0' ? s : def;
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
	d->mail_attributes = dir_strdup(dir_or(cfg->mail_attributes, DIR_DEFAULT_MAIL_ATTRIBUTES));
	d->group_base_dn = dir_strdup(dir_or(cfg->group_base_dn, cfg->base_dn));
	d->group_filter = dir_strdup(dir_or(cfg->group_filter, DIR_DEFAULT_GROUP_FILTER));
	d->group_name_attribute = dir_strdup(dir_or(cfg->group_name_attribute,
		DIR_DEFAULT_GROUP_NAME_ATTRIBUTE));
	d->team_filter = dir_strdup(dir_or(cfg->team_filter, DIR_DEFAULT_TEAM_FILTER));
	d->team_mail_attribute = dir_strdup(dir_or(cfg->team_mail_attribute,
		DIR_DEFAULT_TEAM_MAIL_ATTRIBUTE));
	d->tls_ca_file = dir_strdup(cfg->tls_ca_file);
	d->starttls = cfg->starttls;
	d->tls_skip_verify = cfg->tls_skip_verify;
	/* An unknown schema is reported by the calls that need it (as a bad
	 * user_filter is), not here: dir_open fails only for out-of-memory. */
	d->membership_ok = dir_membership_parse(cfg->group_membership, &d->membership) == 0;
	d->bound = DIR_BOUND_NONE;
	if (d->uri == NULL || d->bind_dn == NULL || d->bind_password == NULL ||
	    d->base_dn == NULL || d->user_filter == NULL || d->login_attribute == NULL ||
	    d->mail_attributes == NULL || d->group_base_dn == NULL || d->group_filter == NULL ||
	    d->group_name_attribute == NULL || d->tls_ca_file == NULL ||
	    d->team_filter == NULL || d->team_mail_attribute == NULL) {
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
	free(d->mail_attributes);
	free(d->group_base_dn);
	free(d->group_filter);
	free(d->group_name_attribute);
	free(d->tls_ca_file);
	free(d->team_filter);
	free(d->team_mail_attribute);
	free(d);
	*dp = NULL;
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

/* The fields added for addresses, groups and TLS, each optional. */
static int dir_check_optional(const struct dir_config *cfg, char *err, size_t errlen)
{
	enum dir_membership m;

	if (cfg->mail_attributes != NULL && cfg->mail_attributes[0] != '\0' &&
	    dir_attribute_list_count(cfg->mail_attributes) <= 0) {
		dir_set_err(err, errlen, "LDAP mail attributes must be 1 to %d attribute names "
			"separated by spaces", DIR_MAIL_ATTRIBUTES_MAX);
		return -1;
	}
	if (cfg->group_base_dn != NULL && cfg->group_base_dn[0] != '\0' &&
	    !dir_dn_valid(cfg->group_base_dn)) {
		dir_set_err(err, errlen, "LDAP group base DN is not a DN");
		return -1;
	}
	if (cfg->group_filter != NULL && cfg->group_filter[0] != '\0' &&
	    !dir_filter_valid(cfg->group_filter)) {
		dir_set_err(err, errlen, "LDAP group filter must be one filter in parentheses, "
			"e.g. (objectClass=groupOfNames)");
		return -1;
	}
	if (cfg->group_name_attribute != NULL && cfg->group_name_attribute[0] != '\0' &&
	    !dir_attribute_valid(cfg->group_name_attribute)) {
		dir_set_err(err, errlen, "LDAP group name attribute is not an attribute name");
		return -1;
	}
	if (cfg->team_filter != NULL && cfg->team_filter[0] != '\0' &&
	    !dir_filter_valid(cfg->team_filter)) {
		dir_set_err(err, errlen, "LDAP team filter must be one filter in parentheses, "
			"e.g. (objectClass=extensibleObject)");
		return -1;
	}
	if (cfg->team_mail_attribute != NULL && cfg->team_mail_attribute[0] != '\0' &&
	    !dir_attribute_valid(cfg->team_mail_attribute)) {
		dir_set_err(err, errlen, "LDAP team mail attribute is not an attribute name");
		return -1;
	}
	if (dir_membership_parse(cfg->group_membership, &m) < 0) {
		dir_set_err(err, errlen, "LDAP group membership must be member, uniqueMember, "
			"memberUid, memberOf or auto");
		return -1;
	}
	/* Checked here because libldap would only say "cannot create the TLS
	 * context" at the first connection. */
	if (cfg->tls_ca_file != NULL && cfg->tls_ca_file[0] != '\0' &&
	    access(cfg->tls_ca_file, R_OK) != 0) {
		dir_set_err(err, errlen, "LDAP TLS CA file %s is not readable", cfg->tls_ca_file);
		return -1;
	}
	return 0;
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
	return dir_check_optional(cfg, err, errlen);
}
