/* AUTHENTICATE (RFC 3501 §6.2.2) with SASL PLAIN (RFC 4616) and LOGIN
 * (draft-murchison-sasl-login: "Username:", then "Password:"), with or
 * without an initial response (SASL-IR, RFC 4959). The session collects the
 * client's response lines before this runs (imap_sasl_challenge), so the
 * handler sees the whole exchange at once. */
#include "server/imap/args.h"
#include "server/imap/commands.h"
#include "server/core/base64.h"

#include <string.h>

enum sasl_mech { MECH_UNKNOWN, MECH_PLAIN, MECH_LOGIN };

static enum sasl_mech mechanism(const struct imap_arg *a)
{
	if (imap_arg_atom_is(a, "PLAIN"))
		return MECH_PLAIN;
	if (imap_arg_atom_is(a, "LOGIN"))
		return MECH_LOGIN;
	return MECH_UNKNOWN;
}

/* The password must not linger in freed memory. */
static void wipe(struct buf *b)
{
	if (b->data != NULL)
		explicit_bzero(b->data, b->len);
	buf_free(b);
}

static bool base64_valid(const char *data, size_t len)
{
	struct buf b;
	bool ok;

	buf_init(&b);
	ok = base64_decode(data, len, &b) == 0;
	wipe(&b);
	return ok;
}

/* PLAIN: one empty challenge without an initial response. LOGIN: the
 * user name (which the initial response may carry), then the password.
 * A user name that is not base64 gets no password challenge: the handler
 * answers BAD at once. */
const char *imap_sasl_challenge(const struct imap_session *s, const struct imap_command *cmd)
{
	unsigned have = s->nsasl + (cmd->nargs == 2);

	if (cmd->nargs < 1 || cmd->nargs > 2 || !imap_session_login_allowed(s))
		return NULL;
	if (cmd->nargs == 2 && (cmd->args[1].type != IMAP_ARG_ATOM ||
				(!(cmd->args[1].u.str.len == 1 && cmd->args[1].u.str.data[0] == '=') &&
				 !base64_valid(cmd->args[1].u.str.data, cmd->args[1].u.str.len))))
		return NULL;
	if (s->nsasl > 0 && !base64_valid(s->sasl_response[s->nsasl - 1],
					  s->sasl_response_len[s->nsasl - 1]))
		return NULL;
	switch (mechanism(&cmd->args[0])) {
	case MECH_PLAIN:
		return have == 0 ? "" : NULL;
	case MECH_LOGIN:
		return have == 0 ? "VXNlcm5hbWU6" : have == 1 ? "UGFzc3dvcmQ6" : NULL;
	default:
		return NULL;
	}
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

/* The decoded PLAIN message, split and checked. */
static struct imap_result auth_plain(struct imap_session *s, struct imap_backend *be,
				     const struct buf *decoded)
{
	const char *authz, *authc, *pass;
	size_t zlen, alen, plen;

	if (!plain_split(decoded, &authz, &zlen, &authc, &alen, &pass, &plen))
		return imap_bad(s, NULL, "Malformed PLAIN response");
	return imap_auth_login(s, be, authc, alen, pass, plen, authz, zlen);
}

/* LOGIN: user name and password, each decoded. Neither may hold a NUL
 * (no LDAP name or password does, and it would cut them short). */
static struct imap_result auth_login(struct imap_session *s, struct imap_backend *be,
				     const struct buf *user, const struct buf *pass)
{
	if ((user->len > 0 && memchr(user->data, '\0', user->len) != NULL) ||
	    (pass->len > 0 && memchr(pass->data, '\0', pass->len) != NULL))
		return imap_bad(s, NULL, "Malformed LOGIN response");
	return imap_auth_login(s, be, user->len > 0 ? (const char *)user->data : "", user->len,
			       pass->len > 0 ? (const char *)pass->data : "", pass->len, NULL, 0);
}

struct imap_result cmd_authenticate(struct imap_session *s, const struct imap_command *cmd,
				    struct imap_backend *be)
{
	enum sasl_mech mech = mechanism(&cmd->args[0]);
	const char *response[IMAP_SASL_MAX_RESPONSES];
	size_t len[IMAP_SASL_MAX_RESPONSES];
	struct buf decoded[IMAP_SASL_MAX_RESPONSES];
	unsigned n = 0, want = mech == MECH_LOGIN ? 2 : 1;
	struct imap_result r = { .status = IMAP_RESULT_OK };

	if (mech == MECH_UNKNOWN)
		return imap_no(s, "CANNOT", "Unsupported authentication mechanism");
	if (!imap_session_login_allowed(s))
		return imap_no(s, "PRIVACYREQUIRED", "Authentication is disabled before STARTTLS");
	if (cmd->nargs == 2) {
		/* RFC 4959: the initial response is an atom; "=" is empty. */
		if (cmd->args[1].type != IMAP_ARG_ATOM)
			return imap_bad(s, NULL, "Initial response must be base64 or =");
		response[n] = cmd->args[1].u.str.data;
		len[n] = cmd->args[1].u.str.len;
		if (len[n] == 1 && response[n][0] == '=')
			len[n] = 0;
		n++;
	}
	for (unsigned i = 0; i < s->nsasl && n < want; i++, n++) {
		response[n] = s->sasl_response[i];
		len[n] = s->sasl_response_len[i];
	}
	for (unsigned i = 0; i < n; i++) {
		buf_init(&decoded[i]);
		if (imap_result_ok(&r) && base64_decode(response[i], len[i], &decoded[i]) < 0)
			r = imap_bad(s, NULL, "Invalid base64 in authentication response");
	}
	/* Short only when imap_sasl_challenge stopped at a bad response. */
	if (imap_result_ok(&r) && n != want)
		r = imap_bad(s, NULL, "Incomplete authentication exchange");
	if (imap_result_ok(&r))
		r = mech == MECH_PLAIN ? auth_plain(s, be, &decoded[0]) :
		    auth_login(s, be, &decoded[0], &decoded[1]);
	for (unsigned i = 0; i < n; i++)
		wipe(&decoded[i]);
	return r;
}
