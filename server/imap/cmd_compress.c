/* COMPRESS=DEFLATE (RFC 4978). The command only decides; the connection
 * glue (server/client.c) switches the connection over once the OK has been
 * written, and server/net/compress.c does the deflating. */
#include "server/imap/args.h"
#include "server/imap/commands.h"

/* §5: compress = "COMPRESS" SP algorithm, matched without regard to case;
 * DEFLATE is the only algorithm. §3: an unknown one is BAD. */
struct imap_result imap_check_compress(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs != 1 || cmd->args[0].type != IMAP_ARG_ATOM)
		return imap_bad(s, NULL, "COMPRESS expects one algorithm name");
	if (!imap_arg_atom_is(&cmd->args[0], "DEFLATE"))
		return imap_bad(s, NULL, "Unknown compression algorithm");
	return imap_ok(s, NULL, "checked");
}

/* §3: compression starts right after the CRLF of the tagged OK, in both
 * directions, and cannot be turned off. A second COMPRESS finds the same
 * mechanism active: NO [COMPRESSIONACTIVE], as §3 prescribes for that case
 * (its result list also allows BAD; Dovecot and most servers say NO with
 * the code, which tells a client exactly what happened). TLS never
 * compresses here (server/net/tls.c disables it), so TLS is never the
 * active layer. */
struct imap_result cmd_compress(struct imap_session *s, const struct imap_command *cmd,
				struct imap_backend *be)
{
	(void)cmd;
	(void)be;
	if (s->compress_active)
		return imap_no(s, "COMPRESSIONACTIVE", "DEFLATE is already active");
	s->after = IMAP_AFTER_COMPRESS;
	return imap_ok(s, NULL, "DEFLATE active");
}
