/* Sessions running IDLE (RFC 2177), the loop's side; the protocol's side
 * is server/imap/cmd_idle.c.
 *
 * An idling session holds no worker and no database connection: the loop
 * owns it, and it is listed in srv->idlers under the mailbox it has
 * selected. When that mailbox changes (client_wake_mailbox: the change
 * bus, this process's own commands, or the periodic poll while no bus is
 * connected), the session gets one short job on a worker that runs the
 * IDLE command through the pipeline again: the sync NOOP does, whose
 * untagged responses go to the client at once.
 *
 * Wakes coalesce: a wake that finds the session's sync queued or running
 * (or the client behind with its reading) only marks it dirty, and a dirty
 * session syncs once more when it is free. However many changes arrive, a
 * session has at most one sync running and one owed. */
#include "server/client_private.h"
#include "server/bus/bus.h"
#include "server/core/clock.h"
#include "server/core/llist.h"
#include "server/imap/view.h"

static struct client **idle_bucket(struct server *srv, int64_t mailbox_id)
{
	return &srv->idlers[(uint64_t)mailbox_id % SERVER_IDLE_BUCKETS];
}

static void idle_list(struct client *c)
{
	struct client **head;

	/* The loop owns the session now: the view cannot change while the
	 * session idles (a sync that closes it also ends the IDLE). */
	c->idle_mailbox = c->session.view != NULL ? c->session.view->mailbox_id : 0;
	head = idle_bucket(c->srv, c->idle_mailbox);
	LLIST_PREPEND_FULL(*head, c, idle_prev, idle_next);
	c->idle_listed = true;
	c->idle_since_ms = clock_now_ms();
	/* A change committed while the IDLE's first run was on its worker
	 * woke nobody: to be sure, sync once more if any wake came. */
	c->idle_dirty = c->srv->wakes != c->wakes_at_submit && c->idle_mailbox != 0;
}

void client_idle_unlist(struct client *c)
{
	if (!c->idle_listed)
		return;
	LLIST_REMOVE_FULL(*idle_bucket(c->srv, c->idle_mailbox), c, idle_prev, idle_next);
	c->idle_listed = false;
	c->idle_dirty = false;
}

/* A wake: a sync now if the session is free, else once it is. */
static void idle_wake(struct client *c)
{
	if (c->idle_mailbox == 0)
		return;         /* IDLE without a selected mailbox: nothing to report */
	if (c->busy || c->closed || c->close_after_flush ||
	    client_unwritten(c) >= CLIENT_OUTPUT_MAX) {
		c->idle_dirty = true;
		return;
	}
	c->idle_dirty = false;
	imap_session_idle_resume(&c->session);
	client_submit(c);
}

void client_idle_update(struct client *c)
{
	bool idling = imap_session_idling(&c->session) && !c->close_after_flush;

	if (c->busy)
		return;         /* the sync (or the IDLE's first run) is not done */
	if (!idling) {
		client_idle_unlist(c);
		return;
	}
	if (!c->idle_listed)
		idle_list(c);
	if (c->idle_dirty)
		idle_wake(c);
}

void client_wake_mailbox(struct server *srv, int64_t mailbox_id)
{
	struct client *c, *next;

	srv->wakes++;
	for (c = *idle_bucket(srv, mailbox_id); c != NULL; c = next) {
		next = c->idle_next;
		if (c->idle_mailbox == mailbox_id)
			idle_wake(c);
	}
}

void client_wake_reader(struct server *srv, int64_t mailbox_id, int64_t account)
{
	struct client *c, *next;

	srv->wakes++;
	for (c = *idle_bucket(srv, mailbox_id); c != NULL; c = next) {
		next = c->idle_next;
		if (c->idle_mailbox == mailbox_id && c->session.account_id == account)
			idle_wake(c);
	}
}

void client_wake_all(struct server *srv)
{
	struct client *c, *next;

	srv->wakes++;
	for (size_t i = 0; i < SERVER_IDLE_BUCKETS; i++)
		for (c = srv->idlers[i]; c != NULL; c = next) {
			next = c->idle_next;
			idle_wake(c);
		}
}

void client_idle_poll(struct server *srv, uint64_t now_ms)
{
	uint64_t interval = (uint64_t)srv->cfg->idle_poll_interval_ms;

	/* A trusted change bus wakes exactly the sessions that need it. */
	if (interval == 0 || now_ms - srv->last_idle_poll_ms < interval || bus_trusted(srv->bus))
		return;
	srv->last_idle_poll_ms = now_ms;
	client_wake_all(srv);
}

void client_idle_timers(struct client *c, uint64_t now_ms)
{
	const struct config *cfg = c->srv->cfg;
	uint64_t keepalive = 1000 * (uint64_t)cfg->idle_keepalive_interval;

	if (c->close_after_flush)
		return;
	/* RFC 2177 §3: "The server MAY consider a client inactive if it has
	 * an IDLE command running, and if such a server has an inactivity
	 * timeout it MAY log the client off implicitly at the end of its
	 * timeout period." */
	if (now_ms - c->idle_since_ms >= 1000 * (uint64_t)cfg->timeout_idle_command) {
		imap_session_timeout(&c->session);
		client_take_output(c);
		client_end_after_flush(c, "timeout");
		client_flush(c);
		return;
	}
	/* Traffic on a quiet connection, so that NAT boxes and stateful
	 * firewalls keep it, and a dead peer is found; not while output is
	 * still waiting to be written, which says the same. */
	if (keepalive > 0 && now_ms - c->last_write_ms >= keepalive && client_unwritten(c) == 0) {
		imap_untagged(&c->session, "OK Still here");
		client_take_output(c);
		client_flush(c);
	}
}
