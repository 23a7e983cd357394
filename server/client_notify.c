/* Sessions with NOTIFY on (RFC 5465), the loop's side; the protocol's side
 * is server/imap/cmd_notify.c and notify_scan.c.
 *
 * RFC 5465 §1 lets the server send the responses a client asked for at
 * any time, not only while a command runs; so a change reaches a session
 * between its commands as well as during IDLE. The session is then owned
 * by the loop and holds no worker: it is listed in srv->notifiers, and a
 * wake (the change bus: a watched mailbox changed, or names did) gives it
 * one short job on a worker that runs the scan (imap_notify_unsolicited)
 * and writes its untagged responses. No scan starts while a command runs,
 * is being read (a partial line or literal), or waits in the input, nor
 * while the client is behind with its reading: the wake marks the session
 * dirty and the scan runs when it is free, once however many wakes came.
 *
 * A wake finds its sessions by a pass over the NOTIFY sessions, each
 * answering from its sorted watched set (a binary search): cheap for the
 * thousands of sessions a process serves, and it keeps a session's
 * watched mailboxes in one place. */
#include "server/client_private.h"
#include "server/bus/bus.h"
#include "server/core/llist.h"
#include "server/imap/notify.h"

/* Whether the session may run a scan now: nothing else is using it. */
static bool notify_can_scan(const struct client *c)
{
	const struct imap_session *s = &c->session;

	return !c->busy && !c->held && !c->closed && !c->close_after_flush &&
	       !c->starttls_after_flush && !c->compress_after_flush && !c->uncompress_after_flush &&
	       s->cmd == NULL && !s->sasl_waiting && !imap_parser_in_command(s->parser) &&
	       c->in.len == 0 && client_unwritten(c) < CLIENT_OUTPUT_MAX;
}

static void notify_run(struct worker_job *job, struct imap_backend *be)
{
	struct client *c = (struct client *)((char *)job - offsetof(struct client, job));

	imap_notify_unsolicited(&c->session, be);
}

static void notify_done(struct worker_job *job)
{
	struct client *c = (struct client *)((char *)job - offsetof(struct client, job));

	if (!client_job_returned(c))
		return;
	client_take_output(c);
	imap_session_command_done(&c->session);   /* the scan's memory */
	if (c->session.after == IMAP_AFTER_CLOSE) {
		/* The selected mailbox was deleted: its BYE went out. */
		c->session.after = IMAP_AFTER_NOTHING;
		client_end_after_flush(c, "closed");
	}
	if (c->srv->shutting_down && !c->close_after_flush) {
		/* client_shutdown_all passed it by while it was busy. */
		imap_session_shutdown(&c->session);
		client_take_output(c);
		client_end_after_flush(c, "shutdown");
	}
	client_pump(c);
}

static void notify_try(struct client *c)
{
	if (!c->notify_dirty || !notify_can_scan(c) || c->session.notify == NULL)
		return;
	c->notify_dirty = false;
	c->session.notify->names_dirty |= c->notify_names;
	c->notify_names = false;
	c->job.run = notify_run;
	c->job.done = notify_done;
	c->busy = true;
	worker_pool_submit(c->srv->pool, &c->job);
}

void client_notify_unlist(struct client *c)
{
	if (!c->notify_listed)
		return;
	LLIST_REMOVE_FULL(c->srv->notifiers, c, notify_prev, notify_next);
	c->notify_listed = false;
	c->notify_dirty = false;
	c->notify_names = false;
	c->notify_npending = 0;
}

void client_notify_update(struct client *c)
{
	if (c->busy || c->closed)
		return;
	if (c->session.notify == NULL) {
		client_notify_unlist(c);
		return;
	}
	if (!c->notify_listed) {
		LLIST_PREPEND_FULL(c->srv->notifiers, c, notify_prev, notify_next);
		c->notify_listed = true;
	}
	c->notify_account = c->session.account_id;
	for (unsigned i = 0; i < c->notify_npending; i++)
		if (imap_notify_wants(&c->session, c->notify_pending[i]))
			c->notify_dirty = true;
	c->notify_npending = 0;
	notify_try(c);
}

void client_notify_wake(struct server *srv, int64_t mailbox_id, int64_t account)
{
	struct client *c, *next;

	for (c = srv->notifiers; c != NULL; c = next) {
		next = c->notify_next;
		if (account != 0 && c->notify_account != account)
			continue;
		if (c->busy) {
			/* Its worker owns the session: look once it is back. */
			if (c->notify_npending < sizeof(c->notify_pending) / sizeof(c->notify_pending[0]))
				c->notify_pending[c->notify_npending++] = mailbox_id;
			else
				c->notify_dirty = true;
			continue;
		}
		if (!imap_notify_wants(&c->session, mailbox_id))
			continue;
		c->notify_dirty = true;
		notify_try(c);
	}
}

void client_wake_names(struct server *srv)
{
	struct client *c, *next;

	for (c = srv->notifiers; c != NULL; c = next) {
		next = c->notify_next;
		c->notify_dirty = true;
		c->notify_names = true;
		notify_try(c);
	}
}

void client_notify_poll(struct server *srv, uint64_t now_ms)
{
	uint64_t interval = (uint64_t)srv->cfg->idle_poll_interval_ms;

	/* A trusted change bus wakes exactly the sessions that need it. */
	if (srv->notifiers == NULL || interval == 0 ||
	    now_ms - srv->last_notify_poll_ms < interval || bus_trusted(srv->bus))
		return;
	srv->last_notify_poll_ms = now_ms;
	client_wake_names(srv);
}
