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

/* §6.2.2: the mechanism is an atom, the optional initial response (RFC
 * 4959) another. Whether the mechanism is known is the handler's answer
 * (NO [CANNOT]), not a syntax error. */
struct imap_result imap_check_authenticate(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs < 1 || cmd->nargs > 2 || cmd->args[0].type != IMAP_ARG_ATOM)
		return imap_bad(s, NULL,
				"AUTHENTICATE expects a mechanism and an optional initial response");
	return imap_ok(s, NULL, "checked");
}

/* RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd. Splits
 * the decoded response; false when it is not of that shape. */
static bool plain_split(const struct buf *decoded, const char **authz_r, size_t *zlen_r,
			const char **authc_r, size_t *alen_r, const char **pass_r, size_t *plen_r)
{
	const char *authz = (const char *)decoded->data, *end, *authc, *pass;

	if (authz == NULL)
		return false;
	end = authz + decoded->len;
	authc = memchr(authz, '\0', decoded->len);
	pass = authc != NULL ? memchr(authc + 1, '\0', (size_t)(end - authc - 1)) : NULL;
	if (pass == NULL || memchr(pass + 1, '\0', (size_t)(end - pass - 1)) != NULL)
		return false;
	authc++;
	pass++;
	*authz_r = authz;
	*zlen_r = (size_t)(authc - 1 - authz);
	*authc_r = authc;
	*alen_r = (size_t)(pass - 1 - authc);
	*pass_r = pass;
	*plen_r = (size_t)(end - pass);
	return true;
}

struct imap_result cmd_authenticate(struct imap_session *s, const struct imap_command *cmd,
				    struct imap_backend *be)
{
	const char *response, *authz, *authc, *pass;
	size_t len, zlen, alen, plen;
	struct buf decoded;
	struct imap_result r;

	if (!mechanism_is_plain(&cmd->args[0]))
		return imap_no(s, "CANNOT", "Unsupported authentication mechanism");
	if (!imap_session_login_allowed(s))
		return imap_no(s, "PRIVACYREQUIRED", "Authentication is disabled before STARTTLS");
	if (cmd->nargs == 2) {
		/* RFC 4959: the initial response is an atom; "=" is empty. */
		if (cmd->args[1].type != IMAP_ARG_ATOM)
			return imap_bad(s, NULL, "Initial response must be base64 or =");
		response = cmd->args[1].u.str.data;
		len = cmd->args[1].u.str.len;
		if (len == 1 && response[0] == '=')
			len = 0;
	} else {
		response = s->sasl_response;
		len = s->sasl_response_len;
	}
	buf_init(&decoded);
	if (base64_decode(response, len, &decoded) < 0)
		r = imap_bad(s, NULL, "Invalid base64 in authentication response");
	else if (!plain_split(&decoded, &authz, &zlen, &authc, &alen, &pass, &plen))
		r = imap_bad(s, NULL, "Malformed PLAIN response");
	else
		r = imap_auth_login(s, be, authc, alen, pass, plen, authz, zlen);
	/* The password must not linger in freed memory. */
	if (decoded.data != NULL)
		explicit_bzero(decoded.data, decoded.len);
	buf_free(&decoded);
	return r;
}
