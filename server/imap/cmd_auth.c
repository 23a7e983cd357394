/* Commands of the not-authenticated state: RFC 3501 §6.2. */
#include "server/imap/args.h"
#include "server/imap/commands.h"
#include "server/core/log.h"
#include "directory/dir.h"
#include "schema/db.h"

#include <stdlib.h>

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

static void login_failed(struct imap_session *s, const char *user, size_t ulen)
{
	char name[96];

	log_escape(user, ulen, name, sizeof(name));
	log_info("%s: authentication failed for '%s'", s->peer, name);
	s->auth_failures++;
	/* The same delay for an unknown user and a wrong password, so that
	 * neither the answer nor its timing tells them apart. */
	s->reply_delay_ms = (unsigned)s->cfg->auth_fail_delay_ms;
	imap_reply(s, "NO", "AUTHENTICATIONFAILED", "Authentication failed");
}

/* §6.2.3 */
void cmd_login(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	const char *user, *pass;
	size_t ulen, plen;
	char dn[1024], login[257], err[256];
	int64_t account_id;

	if (cmd->nargs != 2 || !imap_arg_astring(&cmd->args[0], &user, &ulen) ||
	    !imap_arg_astring(&cmd->args[1], &pass, &plen)) {
		imap_reply(s, "BAD", NULL, "LOGIN expects a user name and a password");
		return;
	}
	if (!imap_session_login_allowed(s)) {
		imap_reply(s, "NO", "PRIVACYREQUIRED", "LOGIN is disabled before STARTTLS");
		return;
	}
	switch (dir_authenticate(be->dir, user, ulen, pass, plen, dn, sizeof(dn),
				 login, sizeof(login), err, sizeof(err))) {
	case DIR_FAIL:
		login_failed(s, user, ulen);
		return;
	case DIR_UNAVAILABLE:
		log_warning("%s: directory unavailable: %s", s->peer, err);
		imap_reply(s, "NO", "UNAVAILABLE", "Directory temporarily unavailable, try again later");
		return;
	case DIR_OK:
		break;
	}
	if (db_ensure(be->db) < 0) {
		log_warning("%s: database unavailable: %s", s->peer, db_error(be->db));
		imap_reply(s, "NO", "UNAVAILABLE", "Mail store temporarily unavailable, try again later");
		return;
	}
	if (db_account_provision(be->db, login, dn, &account_id, err, sizeof(err)) < 0) {
		log_warning("%s: cannot provision account %s: %s", s->peer, login, err);
		imap_reply(s, "NO", "UNAVAILABLE", "Mail store temporarily unavailable, try again later");
		return;
	}
	s->user = xstrdup(login);
	s->user_dn = xstrdup(dn);
	s->account_id = account_id;
	imap_session_set_state(s, IMAP_STATE_AUTH);
	log_info("%s: user %s logged in", s->peer, login);
	buf_append_str(&s->out, s->cmd->tag);
	buf_append_str(&s->out, " OK [CAPABILITY ");
	imap_capabilities(s, &s->out);
	buf_append_str(&s->out, "] Logged in\r\n");
	s->consecutive_bad = 0;
}
