/* Commands of the not-authenticated state: RFC 3501 §6.2, and the login
 * steps that LOGIN and AUTHENTICATE share. */
#include "server/imap/args.h"
#include "server/imap/commands.h"
#include "server/imap/quota.h"
#include "server/imap/trace.h"
#include "server/imap/user_slots.h"
#include "server/core/log.h"
#include "server/core/metrics.h"
#include "directory/dir.h"
#include "schema/db.h"

#include <string.h>

/* §6.2.1, RFC 2595: the glue flushes the OK in plaintext, throws away any
 * input that came after the command (it was sent before TLS and may be an
 * injection), and starts the handshake. */
struct imap_result cmd_starttls(struct imap_session *s, const struct imap_command *cmd,
				struct imap_backend *be)
{
	(void)cmd;
	(void)be;
	if (s->tls_active)
		return imap_bad(s, NULL, "TLS is already active");
	if (!s->tls_available)
		return imap_bad(s, NULL, "TLS is not available");
	s->after = IMAP_AFTER_STARTTLS;
	return imap_ok(s, NULL, "Begin TLS negotiation now");
}

/* Who is logging in, as the steps below establish it. Committed to the
 * session only when every step succeeded. */
struct auth_user {
	char dn[1024];
	char login[DIR_LOGIN_MAX + 1];
	bool admin;              /* member of auth_admin_group */
	int64_t account_id;
	bool trace;              /* kairanctl trace asked for this login's sessions */
};

/* The loop delays the NO (longer for an address that keeps failing) and
 * counts the failure; the text is the same whatever went wrong, so that
 * neither the answer nor its timing tells an unknown user from a wrong
 * password. The reason is for the log only. */
static struct imap_result auth_failed(struct imap_session *s, const char *code, const char *who,
				      size_t wlen, const char *why)
{
	char name[96];

	log_escape(who, wlen, name, sizeof(name));
	log_info("%s: authentication failed for '%s': %s", s->peer, name, why);
	s->auth_failed = true;
	metrics_add(METRICS_LOGINS_FAILED, 1);
	return imap_no(s, code, "Authentication failed");
}

/* Step 1, authentication: the password proves who is asking. */
static bool auth_authenticate(struct imap_session *s, struct imap_backend *be, const char *authc,
			      size_t alen, const char *pass, size_t plen, struct auth_user *u,
			      struct imap_result *res_r)
{
	char err[256];

	switch (dir_authenticate(be->dir, authc, alen, pass, plen, u->dn, sizeof(u->dn), u->login,
				 sizeof(u->login), err, sizeof(err))) {
	case DIR_OK:
		return true;
	case DIR_FAIL:
		*res_r = auth_failed(s, "AUTHENTICATIONFAILED", authc, alen, err);
		return false;
	case DIR_UNAVAILABLE:
		break;
	}
	*res_r = imap_directory_failed(s, "authenticating", err);
	return false;
}

/* Whether u belongs to the admin group (auth_admin_group; none: nobody). */
static bool auth_is_admin(struct imap_session *s, struct imap_backend *be,
			  const struct auth_user *u, bool *admin_r, struct imap_result *res_r)
{
	char err[256];

	*admin_r = false;
	if (s->cfg->auth_admin_group[0] == '\0')
		return true;
	if (dir_is_member(be->dir, s->cfg->auth_admin_group, u->dn, u->login, admin_r, err,
			  sizeof(err)) == DIR_OK)
		return true;
	*res_r = imap_directory_failed(s, "checking the admin group", err);
	return false;
}

bool imap_user_lookup(struct imap_session *s, struct imap_backend *be, const char *name,
		      size_t len, char *dn_r, size_t dn_size, char *login_r, size_t login_size,
		      bool *found_r, struct imap_result *res_r)
{
	char err[256];
	enum dir_result r;

	r = dir_lookup_user(be->dir, name, len, dn_r, dn_size, login_r, login_size, err,
			    sizeof(err));
	*found_r = r == DIR_OK;
	if (r != DIR_UNAVAILABLE)
		return true;
	*res_r = imap_directory_failed(s, "looking up a user", err);
	return false;
}

/* Step 2, authorisation: whom the session acts as, and with what powers.
 * RFC 4616 §2: acting as someone else (authz) is a separate decision,
 * taken after the password proved who is asking; only members of the
 * admin group may. u becomes the user acted as. */
static bool auth_authorize(struct imap_session *s, struct imap_backend *be, const char *authz,
			   size_t zlen, struct auth_user *u, struct imap_result *res_r)
{
	char admin[DIR_LOGIN_MAX + 1];
	bool may, found;

	if (authz != NULL && zlen > 0 &&
	    (zlen != strlen(u->login) || memcmp(authz, u->login, zlen) != 0)) {
		if (!auth_is_admin(s, be, u, &may, res_r))
			return false;
		if (!may) {
			*res_r = auth_failed(s, "AUTHORIZATIONFAILED", u->login, strlen(u->login),
					     "not allowed to act as another user");
			return false;
		}
		memcpy(admin, u->login, sizeof(admin));
		if (!imap_user_lookup(s, be, authz, zlen, u->dn, sizeof(u->dn), u->login,
				      sizeof(u->login), &found, res_r))
			return false;
		if (!found) {
			*res_r = auth_failed(s, "AUTHORIZATIONFAILED", authz, zlen, "no such user");
			return false;
		}
		log_info("%s: %s acts as %s", s->peer, admin, u->login);
	}
	return auth_is_admin(s, be, u, &u->admin, res_r);
}

/* Step 3, the connection slot (max_connections_per_user). Taken before
 * provisioning, so that a refused login writes nothing. */
static bool auth_take_slot(struct imap_session *s, const struct auth_user *u,
			   struct imap_result *res_r)
{
	if (s->user_slots == NULL ||
	    imap_user_slot_take(s->user_slots, u->login, s->cfg->max_connections_per_user))
		return true;
	log_info("%s: user %s has too many connections", s->peer, u->login);
	*res_r = imap_no(s, "LIMIT", "Too many connections for this user");
	return false;
}

/* Step 4, provisioning: the account row (and its default mailboxes on the
 * first login). Gives the slot back when it fails. */
static bool auth_provision(struct imap_session *s, struct imap_backend *be, struct auth_user *u,
			   struct imap_result *res_r)
{
	char err[256];

	if (db_account_provision(be->db, u->login, u->dn, &u->account_id, &u->trace, err,
				 sizeof(err)) == 0) {
		imap_quota_from_directory(s, be, u->account_id, u->dn);
		return true;
	}
	if (s->user_slots != NULL)
		imap_user_slot_release(s->user_slots, u->login);
	*res_r = imap_store_failed(s, "provisioning the account", err);
	return false;
}

/* RFC 3501 §7.1: the capabilities change at login; saying them in the
 * tagged OK spares the client a CAPABILITY round trip. */
static struct imap_result auth_logged_in(struct imap_session *s, const struct auth_user *u)
{
	s->holds_user_slot = s->user_slots != NULL;
	s->user = xstrdup(u->login);
	s->user_dn = xstrdup(u->dn);
	s->admin = u->admin;
	s->account_id = u->account_id;
	/* The loop starts the trace when this command returns (client.c). */
	s->trace_wanted = u->trace || imap_trace_listed(s->cfg->trace_users, u->login);
	imap_session_set_state(s, IMAP_STATE_AUTH);
	log_info("%s: user %s logged in", s->peer, u->login);
	metrics_add(METRICS_LOGINS_OK, 1);
	return imap_ok(s, imap_capability_code(s), "Logged in");
}

struct imap_result imap_auth_login(struct imap_session *s, struct imap_backend *be,
				   const char *authc, size_t alen, const char *pass, size_t plen,
				   const char *authz, size_t zlen)
{
	struct auth_user *u = arena_alloc(&s->arena, sizeof(*u));
	struct imap_result r;

	memset(u, 0, sizeof(*u));
	if (!auth_authenticate(s, be, authc, alen, pass, plen, u, &r) ||
	    !auth_authorize(s, be, authz, zlen, u, &r) ||
	    !auth_take_slot(s, u, &r) ||
	    !auth_provision(s, be, u, &r))
		return r;
	return auth_logged_in(s, u);
}

struct login_args {
	const char *user, *pass;
	size_t ulen, plen;
};

/* §6.2.3: LOGIN userid password, both astrings. */
struct imap_result imap_check_login(struct imap_session *s, const struct imap_command *cmd)
{
	struct login_args *a = arena_alloc(&s->arena, sizeof(*a));

	if (cmd->nargs != 2 || !imap_arg_astring(&cmd->args[0], &a->user, &a->ulen) ||
	    !imap_arg_astring(&cmd->args[1], &a->pass, &a->plen))
		return imap_bad(s, NULL, "LOGIN expects a user name and a password");
	s->parsed = a;
	return imap_ok(s, NULL, "checked");
}

/* §6.2.3: "Unless either the STARTTLS command has been negotiated or some
 * other mechanism that protects the session from password snooping has
 * been provided, a server implementation MUST implement a configuration in
 * which it advertises the LOGINDISABLED capability and does NOT permit the
 * LOGIN command." Whether this connection is such is
 * imap_session_login_allowed's (TLS, loopback, or the configuration). */
struct imap_result cmd_login(struct imap_session *s, const struct imap_command *cmd,
			     struct imap_backend *be)
{
	const struct login_args *a = s->parsed;

	(void)cmd;
	if (!imap_session_login_allowed(s))
		return imap_no(s, "PRIVACYREQUIRED", "LOGIN is disabled before STARTTLS");
	return imap_auth_login(s, be, a->user, a->ulen, a->pass, a->plen, NULL, 0);
}
