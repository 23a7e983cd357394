/* Commands valid in any state: RFC 3501 §6.1. */
#include "server/imap/commands.h"
#include "server/imap/view.h"

/* §6.1.1 */
void cmd_capability(struct imap_session *s, const struct imap_command *cmd,
		    struct imap_backend *be)
{
	(void)be;
	if (cmd->nargs != 0) {
		imap_reply(s, "BAD", NULL, "CAPABILITY takes no arguments");
		return;
	}
	buf_append_str(&s->out, "* CAPABILITY ");
	imap_capabilities(s, &s->out);
	buf_append(&s->out, "\r\n", 2);
	imap_reply(s, "OK", NULL, "CAPABILITY completed");
}

/* §6.1.2: in the selected state, the way to learn what changed. */
void cmd_noop(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	if (cmd->nargs != 0) {
		imap_reply(s, "BAD", NULL, "NOOP takes no arguments");
		return;
	}
	if (s->view != NULL) {
		if (!imap_db_ready(s, be))
			return;
		imap_view_sync(s, be, true);
	}
	imap_reply(s, "OK", NULL, "NOOP completed");
}

/* §6.1.3: the BYE comes before the tagged OK. */
void cmd_logout(struct imap_session *s, const struct imap_command *cmd, struct imap_backend *be)
{
	(void)be;
	if (cmd->nargs != 0) {
		imap_reply(s, "BAD", NULL, "LOGOUT takes no arguments");
		return;
	}
	imap_untagged(s, "BYE Logging out");
	imap_reply(s, "OK", NULL, "LOGOUT completed");
	s->state = IMAP_STATE_LOGOUT;
	s->after = IMAP_AFTER_CLOSE;
}
