/* Commands valid in any state: RFC 3501 §6.1. */
#include "server/imap/commands.h"

/* §6.1.1 */
struct imap_result cmd_capability(struct imap_session *s, const struct imap_command *cmd,
				  struct imap_backend *be)
{
	(void)be;
	if (cmd->nargs != 0)
		return imap_bad(s, NULL, "CAPABILITY takes no arguments");
	buf_append_str(&s->out, "* CAPABILITY ");
	imap_capabilities(s, &s->out);
	buf_append(&s->out, "\r\n", 2);
	return imap_done(s);
}

/* §6.1.2: in the selected state, the way to learn what changed; dispatch
 * has reported it (IMAP_CMD_MESSAGES). */
struct imap_result cmd_noop(struct imap_session *s, const struct imap_command *cmd,
			    struct imap_backend *be)
{
	(void)be;
	if (cmd->nargs != 0)
		return imap_bad(s, NULL, "NOOP takes no arguments");
	return imap_done(s);
}

/* §6.1.3: the BYE comes before the tagged OK. */
struct imap_result cmd_logout(struct imap_session *s, const struct imap_command *cmd,
			      struct imap_backend *be)
{
	(void)be;
	if (cmd->nargs != 0)
		return imap_bad(s, NULL, "LOGOUT takes no arguments");
	imap_untagged(s, "BYE Logging out");
	s->state = IMAP_STATE_LOGOUT;
	s->after = IMAP_AFTER_CLOSE;
	return imap_done(s);
}
