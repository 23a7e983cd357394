/* Commands of the not-authenticated state: RFC 3501 §6.2, and the login
 * steps that LOGIN and AUTHENTICATE share. */
#include "server/imap/args.h"
#include "server/imap/commands.h"
#include "server/imap/user_slots.h"
#include "server/core/log.h"
#include "directory/dir.h"
#include "schema/db.h"

#include <stdlib.h>
#include <string.h>

/* §6.2.1, RFC 2595: the glue flushes the OK in plaintext, throws away any
 * input that came after the command (it was sent before TLS and may be an
 * injection), and starts the handshake. */
void cmd_starttls(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	(void)be;
	if (cmd->nargs != 0)
		imap_reply(s, "BAD", NULL, "STARTTLS takes no arguments");
	else if (s->tls_active)
		imap_reply(s, "BAD", NULL, "TLS is already active");
	else if (!s->tls_available)
		imap_reply(s, "BAD", NULL, "TLS is not available");
	else {
		imap_reply(s, "OK", NULL, "Begin TLS negotiation now");
		s->after = IMAP_AFTER_STARTTLS;
	}
}

/* The loop delays the NO (longer for an address that keeps failing) and
 * counts the failure; the text is the same whatever went wrong, so that
 * neither the answer nor its timing tells an unknown user from a wrong
 * password. */
static void auth_failed(struct imap_session *s, const char *code, const char *who, size_t wlen,
			const char *why)
{
	char name[96];

	log_escape(who, wlen, name, sizeof(name));
	log_info("%s: authentication failed for '%s': %s", s->peer, name, why);
	s->auth_failed = true;
	imap_reply(s, "NO", code, "Authentication failed");
}

static void auth_unavailable(struct imap_session *s, const char *what, const char *why)
{
	log_warning("%s: %s unavailable: %s", s->peer, what, why);
	imap_reply(s, "NO", "UNAVAILABLE", "%s temporarily unavailable, try again later",
		   strcmp(what, "directory") == 0 ? "Directory" : "Mail store");
}

/* May the authenticated user act as another? Only members of the admin
 * group (auth_admin_group) may. */
static enum dir_result auth_may_impersonate(struct imap_session *s, struct imap_backend *be,
					    const char *dn, const char *login, bool *ok_r,
					    char *err, size_t errlen)
{
	*ok_r = false;
	if (s->cfg->auth_admin_group[0] == '\0')
		return DIR_OK;
	return dir_is_member(be->dir, s->cfg->auth_admin_group, dn, login, ok_r, err, errlen);
}

void imap_auth_login(struct imap_session *s, struct imap_backend *be,
		     const char *authc, size_t alen, const char *pass, size_t plen,
		     const char *authz, size_t zlen)
{
	char dn[1024], login[257], err[256];
	enum dir_result r;
	int64_t account_id;

	r = dir_authenticate(be->dir, authc, alen, pass, plen, dn, sizeof(dn),
			     login, sizeof(login), err, sizeof(err));
	if (r == DIR_UNAVAILABLE) {
		auth_unavailable(s, "directory", err);
		return;
	}
	if (r == DIR_FAIL) {
		auth_failed(s, "AUTHENTICATIONFAILED", authc, alen, err);
		return;
	}
	if (authz != NULL && zlen > 0 && (zlen != strlen(login) || memcmp(authz, login, zlen) != 0)) {
		/* RFC 4616 §2: acting as someone else is a separate
		 * authorisation decision, taken after the password proved
		 * who is asking. */
		bool may = false;
		char admin[257];

		r = auth_may_impersonate(s, be, dn, login, &may, err, sizeof(err));
		if (r == DIR_UNAVAILABLE) {
			auth_unavailable(s, "directory", err);
			return;
		}
		if (!may) {
			auth_failed(s, "AUTHORIZATIONFAILED", authc, alen,
				    "not allowed to act as another user");
			return;
		}
		memcpy(admin, login, sizeof(admin));
		r = dir_lookup_user(be->dir, authz, zlen, dn, sizeof(dn), login, sizeof(login),
				    err, sizeof(err));
		if (r == DIR_UNAVAILABLE) {
			auth_unavailable(s, "directory", err);
			return;
		}
		if (r == DIR_FAIL) {
			auth_failed(s, "AUTHORIZATIONFAILED", authz, zlen, err);
			return;
		}
		log_info("%s: %s acts as %s", s->peer, admin, login);
	}
	if (db_ensure(be->db) < 0) {
		auth_unavailable(s, "database", db_error(be->db));
		return;
	}
	if (db_account_provision(be->db, login, dn, &account_id, err, sizeof(err)) < 0) {
		auth_unavailable(s, "database", err);
		return;
	}
	if (s->user_slots != NULL &&
	    !imap_user_slot_take(s->user_slots, login, s->cfg->max_connections_per_user)) {
		log_info("%s: user %s has too many connections", s->peer, login);
		imap_reply(s, "NO", "LIMIT", "Too many connections for this user");
		return;
	}
	if (s->cfg->auth_admin_group[0] != '\0' &&
	    dir_is_member(be->dir, s->cfg->auth_admin_group, dn, login, &s->admin, err,
			  sizeof(err)) != DIR_OK) {
		auth_unavailable(s, "directory", err);
		if (s->user_slots != NULL)
			imap_user_slot_release(s->user_slots, login);
		return;
	}
	s->holds_user_slot = s->user_slots != NULL;
	s->user = xstrdup(login);
	s->user_dn = xstrdup(dn);
	s->account_id = account_id;
	imap_session_set_state(s, IMAP_STATE_AUTH);
	log_info("%s: user %s logged in", s->peer, login);
	/* RFC 3501 §7.1: the capabilities change at login; saying them here
	 * spares the client a CAPABILITY round trip. */
	buf_append_str(&s->out, s->cmd->tag);
	buf_append_str(&s->out, " OK [CAPABILITY ");
	imap_capabilities(s, &s->out);
	buf_append_str(&s->out, "] Logged in\r\n");
	s->consecutive_bad = 0;
}

/* §6.2.3 */
void cmd_login(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	const char *user, *pass;
	size_t ulen, plen;

	if (cmd->nargs != 2 || !imap_arg_astring(&cmd->args[0], &user, &ulen) ||
	    !imap_arg_astring(&cmd->args[1], &pass, &plen)) {
		imap_reply(s, "BAD", NULL, "LOGIN expects a user name and a password");
		return;
	}
	if (!imap_session_login_allowed(s)) {
		imap_reply(s, "NO", "PRIVACYREQUIRED", "LOGIN is disabled before STARTTLS");
		return;
	}
	imap_auth_login(s, be, user, ulen, pass, plen, NULL, 0);
}
