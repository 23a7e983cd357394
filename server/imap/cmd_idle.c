/* IDLE (RFC 2177): the client waits for the server to tell it of changes.
 *
 * The command runs in three parts. First, here, as any command: the
 * pipeline reports what changed in the selected mailbox (as for NOOP), and
 * the handler asks for the continuation ("+ idling") and returns without a
 * tagged response (imap_continues). Then the session idles, holding no
 * worker and no database connection: the loop owns it, reads the client's
 * lines (session.c: only DONE is allowed) and, when woken because the
 * mailbox changed, runs the pipeline again for this command on a worker
 * (imap_session_idle_resume): a short sync whose untagged responses go to
 * the client at once, expunges included. Last, DONE ends it with the
 * tagged OK; a failed sync ends it with its NO (server/client_idle.c has
 * the loop's side: wakes, coalescing, keepalive and timeout). */
#include "server/imap/commands.h"
#include "server/imap/notify.h"
#include "server/core/buf.h"

/* RFC 2177 §3: "The IDLE command is sent from the client to the server
 * when the client is ready to accept unsolicited mailbox update messages.
 * The server requests a response to the IDLE command using the
 * continuation ("+") response." Allowed in the authenticated state too,
 * where there is nothing to report but the keepalive and the timeout. */
struct imap_result cmd_idle(struct imap_session *s, const struct imap_command *cmd,
			    struct imap_backend *be)
{
	if (!imap_session_idling(s)) {
		s->idle_tag = xstrdup(cmd->tag);
		buf_append_str(&s->out, "+ idling\r\n");
	}
	/* NOTIFY's MessageNew fetch attributes (RFC 5465 §5.2) follow the
	 * EXISTS this sync reported. */
	imap_notify_fetch_new(s, be);
	return imap_continues();
}
