/* AUTHENTICATE (RFC 3501 §6.2.2) with SASL PLAIN (RFC 4616), with or
 * without an initial response (SASL-IR, RFC 4959). The session collects the
 * client's response line before this runs (imap_sasl_wants_response), so the
 * handler sees the whole exchange at once. */
#include "server/imap/args.h"
#include "server/imap/commands.h"
#include "server/core/base64.h"

#include <string.h>

static bool mechanism_is_plain(const struct imap_arg *a)
{
	return imap_arg_atom_is(a, "PLAIN");
}

bool imap_sasl_wants_response(const struct imap_session *s, const struct imap_command *cmd)
{
	return cmd->nargs == 1 && mechanism_is_plain(&cmd->args[0]) &&
	       imap_session_login_allowed(s);
}

void cmd_authenticate(struct imap_session *s, const struct imap_command *cmd,
		      struct imap_backend *be)
{
	const char *response, *authz, *authc, *pass, *end;
	size_t len;
	struct buf decoded;

	if (cmd->nargs < 1 || cmd->nargs > 2 || cmd->args[0].type != IMAP_ARG_ATOM) {
		imap_reply(s, "BAD", NULL, "AUTHENTICATE expects a mechanism and an optional initial response");
		return;
	}
	if (!mechanism_is_plain(&cmd->args[0])) {
		imap_reply(s, "NO", "CANNOT", "Unsupported authentication mechanism");
		return;
	}
	if (!imap_session_login_allowed(s)) {
		imap_reply(s, "NO", "PRIVACYREQUIRED", "Authentication is disabled before STARTTLS");
		return;
	}
	if (cmd->nargs == 2) {
		/* RFC 4959: the initial response is an atom; "=" is empty. */
		if (cmd->args[1].type != IMAP_ARG_ATOM) {
			imap_reply(s, "BAD", NULL, "Initial response must be base64 or =");
			return;
		}
		response = cmd->args[1].u.str.data;
		len = cmd->args[1].u.str.len;
		if (len == 1 && response[0] == '=')
			len = 0;
	} else {
		response = s->sasl_response;
		len = s->sasl_response_len;
	}
	buf_init(&decoded);
	if (base64_decode(response, len, &decoded) < 0) {
		buf_free(&decoded);
		imap_reply(s, "BAD", NULL, "Invalid base64 in authentication response");
		return;
	}
	/* RFC 4616 §2: message = [authzid] NUL authcid NUL passwd */
	authz = (const char *)decoded.data;
	end = authz + decoded.len;
	authc = authz != NULL ? memchr(authz, '\0', decoded.len) : NULL;
	pass = authc != NULL ? memchr(authc + 1, '\0', (size_t)(end - authc - 1)) : NULL;
	if (pass == NULL || memchr(pass + 1, '\0', (size_t)(end - pass - 1)) != NULL) {
		buf_free(&decoded);
		imap_reply(s, "BAD", NULL, "Malformed PLAIN response");
		return;
	}
	authc++;
	pass++;
	imap_auth_login(s, be, authc, (size_t)(pass - 1 - authc), pass, (size_t)(end - pass),
			authz, (size_t)(authc - 1 - authz));
	/* The password must not linger in freed memory. */
	explicit_bzero(decoded.data, decoded.len);
	buf_free(&decoded);
}
