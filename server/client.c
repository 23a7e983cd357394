#include "server/client.h"
#include "server/client_private.h"
#include "server/peer_table.h"
#include "server/worker.h"
#include "server/core/buf.h"
#include "server/core/llist.h"
#include "server/core/log.h"
#include "server/core/metrics.h"
#include "server/imap/session.h"
#include "server/imap/trace.h"
#include "server/net/conn.h"
#include "server/net/loop.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Input read ahead while a command runs; reading stops at this bound, so a
 * client that pipelines without end cannot make us buffer more. */
#define CLIENT_INPUT_MAX (64 * 1024)
/* A command streaming a long response waits while more than the high mark
 * is unwritten, and goes on once the client has read down to the low mark. */
#define STREAM_HIGH_MARK (1024 * 1024)
#define STREAM_LOW_MARK (256 * 1024)
#define PEER_EXPIRE_INTERVAL_MS (60 * 1000)


/* The one line a session leaves in the log when it ends (docs/deployment.md,
 * "Logs"), with the reason client_close recorded. Only while no worker
 * owns the session: it reads the session's user and command count. */
static void client_log_end(struct client *c)
{
	const struct imap_session *s = &c->session;
	struct log_field f[] = {
		log_str("peer", net_conn_peer(c->conn)),
		log_str("user", s->user != NULL ? s->user : ""),
		log_num("duration_ms", (long long)(clock_now_ms() - c->connected_ms)),
		log_num("commands", s->commands),
		log_num("bytes_in", (long long)net_conn_bytes_in(c->conn)),
		log_num("bytes_out", (long long)net_conn_bytes_out(c->conn)),
		log_str("reason", c->end_kind),
		log_str("detail", c->end_detail),
	};

	log_fields(LOG_LEVEL_INFO, "session end", f, sizeof(f) / sizeof(f[0]));
	if (s->trace != NULL)
		imap_trace_note(s->trace, "session end: %s (%s)", c->end_kind, c->end_detail);
}

/* kind is the reason in one stable word (logout, timeout, ...), detail
 * says more in words; both must outlive the client (constants, or the
 * connection's error text). */
static void client_close(struct client *c, const char *kind, const char *detail)
{
	if (c->closed)
		return;
	c->closed = true;
	c->end_kind = kind;
	c->end_detail = detail;
	if (c->held) {
		c->held = false;
		c->srv->nheld--;
	}
	pthread_mutex_lock(&c->out_lock);
	c->gone = true;
	pthread_cond_signal(&c->drained);
	pthread_mutex_unlock(&c->out_lock);
	client_idle_unlist(c);
	client_notify_unlist(c);
	net_loop_del(c->srv->loop, &c->watch);
	if (c->counted_peer)
		peer_connection_close(c->srv->peers, net_conn_peer_addr(c->conn));
	c->counted_peer = false;
	/* A busy client is moved to the dead list, and logs its end, when its
	 * command returns. */
	if (!c->busy) {
		client_log_end(c);
		LLIST_REMOVE(c->srv->clients, c);
		c->srv->nclients--;
		LLIST_PREPEND(c->srv->dead, c);
	}
}

/* An I/O failure ends the session at once. */
static void client_close_failed(struct client *c)
{
	client_close(c, "error", net_conn_error(c->conn));
}

void client_end_after_flush(struct client *c, const char *kind)
{
	if (c->end_kind == NULL)
		c->end_kind = kind;
	c->close_after_flush = true;
}

/* Takes c off the server's outbox list, if it is there. */
static void client_outbox_detach(struct client *c)
{
	struct client **pp;

	pthread_mutex_lock(&c->srv->outbox_lock);
	for (pp = &c->srv->outbox_list; *pp != NULL; pp = &(*pp)->next_outbox)
		if (*pp == c) {
			*pp = c->next_outbox;
			break;
		}
	c->on_outbox_list = false;
	pthread_mutex_unlock(&c->srv->outbox_lock);
}

static void client_free(struct client *c)
{
	client_outbox_detach(c);
	pthread_mutex_destroy(&c->out_lock);
	pthread_cond_destroy(&c->drained);
	buf_free(&c->outbox);
	imap_session_deinit(&c->session);
	net_conn_free(&c->conn);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
}

void client_reap(struct server *srv)
{
	while (srv->dead != NULL) {
		struct client *c = srv->dead;
		LLIST_REMOVE(srv->dead, c);
		client_free(c);
	}
}

static void client_append_out(struct client *c, const void *data, size_t len)
{
	if (len == 0)
		return;
	if (c->session.trace != NULL)
		imap_trace_output(c->session.trace, data, len);
	if (c->out_pos == c->out.len) {
		buf_clear(&c->out);
		c->out_pos = 0;
	}
	buf_append(&c->out, data, len);
}

/* Moves what a worker handed over mid-command into the output. */
static void client_take_outbox(struct client *c)
{
	pthread_mutex_lock(&c->out_lock);
	client_append_out(c, c->outbox.data, c->outbox.len);
	buf_clear(&c->outbox);
	pthread_mutex_unlock(&c->out_lock);
}

/* Moves what the session wrote into the connection's output: first any
 * outbox (the finished command's earlier output), then the rest. */
void client_take_output(struct client *c)
{
	if (c->outbox.len > 0)
		client_take_outbox(c);
	client_append_out(c, c->session.out.data, c->session.out.len);
	buf_clear(&c->session.out);
}

/* The session's flush hook, in the worker: hands the output over, wakes
 * the loop, and waits while the client has more than the high mark
 * unread, so a slow reader bounds what a long FETCH holds in memory. */
static int client_stream_flush(struct imap_session *s, void *ctx)
{
	struct client *c = ctx;
	struct server *srv = c->srv;
	bool wake = false;
	int gone;

	pthread_mutex_lock(&c->out_lock);
	buf_append(&c->outbox, s->out.data, s->out.len);
	buf_clear(&s->out);
	if (!c->on_outbox_list) {
		c->on_outbox_list = true;
		pthread_mutex_lock(&srv->outbox_lock);
		c->next_outbox = srv->outbox_list;
		srv->outbox_list = c;
		pthread_mutex_unlock(&srv->outbox_lock);
		wake = true;
	}
	if (wake) {
		const uint64_t one = 1;
		if (write(srv->outbox_watch.fd, &one, sizeof(one)) < 0)
			log_warning("outbox eventfd: %s", strerror(errno));
	}
	while (!c->gone && c->outbox.len + c->unwritten > STREAM_HIGH_MARK)
		pthread_cond_wait(&c->drained, &c->out_lock);
	gone = c->gone;
	pthread_mutex_unlock(&c->out_lock);
	return gone ? -1 : 0;
}

/* Tells a streaming worker how far the client has read. */
static void client_stream_progress(struct client *c)
{
	if (!c->busy)
		return;
	pthread_mutex_lock(&c->out_lock);
	c->unwritten = c->out.len - c->out_pos;
	if (c->outbox.len + c->unwritten <= STREAM_LOW_MARK)
		pthread_cond_signal(&c->drained);
	pthread_mutex_unlock(&c->out_lock);
}

static void on_outbox(struct net_watch *w, uint32_t events)
{
	struct server *srv = (struct server *)((char *)w - offsetof(struct server, outbox_watch));
	struct client *list, *c;
	uint64_t count;

	(void)events;
	(void)read(w->fd, &count, sizeof(count));
	pthread_mutex_lock(&srv->outbox_lock);
	list = srv->outbox_list;
	srv->outbox_list = NULL;
	for (c = list; c != NULL; c = c->next_outbox)
		c->on_outbox_list = false;
	pthread_mutex_unlock(&srv->outbox_lock);
	while (list != NULL) {
		c = list;
		list = c->next_outbox;
		if (c->closed)
			continue;
		client_take_outbox(c);
		client_flush(c);
	}
}

void client_outbox_init(struct server *srv)
{
	pthread_mutex_init(&srv->outbox_lock, NULL);
	srv->outbox_watch.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	srv->outbox_watch.fn = on_outbox;
	if (srv->outbox_watch.fd < 0 || net_loop_add(srv->loop, &srv->outbox_watch, EPOLLIN) < 0) {
		log_error("cannot set up the output hand-over: %s", strerror(errno));
		abort();
	}
}

/* RFC 4978 §3: compression starts right after the CRLF of the tagged OK,
 * which has just gone out. What the client sent after COMPRESS is already
 * in the input buffer: it goes to the inflater, and the pump reads again
 * (no epoll event will say it is there). */
static void client_start_compression(struct client *c)
{
	c->compress_after_flush = false;
	net_conn_start_compression(c->conn, c->in.data, c->in.len);
	buf_clear(&c->in);
	imap_session_compression_started(&c->session);
	c->reread = true;
}

/* RFC 8437 §4.1: compression ends after the CRLF of UNAUTHENTICATE's OK,
 * which has just been flushed, and the client sends plain after the CRLF
 * of its command. What was read but not inflated is plain input. Our
 * final block may have to wait for EPOLLOUT, which calls this again. */
static void client_stop_compression(struct client *c)
{
	int r = net_conn_stop_compression(c->conn, &c->in);

	if (r < 0) {
		client_close_failed(c);
		return;
	}
	if (r == 0)
		return;
	c->uncompress_after_flush = false;
	c->reread = true;
}

void client_flush(struct client *c)
{
	int pushed;

	while (c->out_pos < c->out.len) {
		ssize_t n = net_conn_write(c->conn, c->out.data + c->out_pos, c->out.len - c->out_pos);
		if (n == 0) {
			client_stream_progress(c);
			return; /* EPOLLOUT will bring us back */
		}
		if (n < 0) {
			client_close_failed(c);
			return;
		}
		c->out_pos += (size_t)n;
		c->last_write_ms = clock_now_ms();
	}
	/* With compression, the last piece may still wait in the deflater's
	 * output (net_conn_flush). */
	pushed = net_conn_flush(c->conn);
	if (pushed < 0) {
		client_close_failed(c);
		return;
	}
	client_stream_progress(c);
	buf_clear(&c->out);
	c->out_pos = 0;
	if (pushed == 0)
		return; /* EPOLLOUT will bring us back */
	if (c->close_after_flush) {
		client_close(c, c->end_kind != NULL ? c->end_kind : "closed",
			     c->close_reason != NULL ? c->close_reason :
			     c->session.state == IMAP_STATE_LOGOUT ? "logout" : "closed by server");
		return;
	}
	if (c->starttls_after_flush) {
		/* RFC 3501 §6.2.1: whatever the client sent after STARTTLS was
		 * sent in the clear and is never executed. */
		c->starttls_after_flush = false;
		buf_clear(&c->in);
		imap_parser_reset(c->session.parser);
		if (net_conn_start_tls(c->conn, c->srv->tls) < 0) {
			client_close_failed(c);
			return;
		}
		c->session.tls_active = true;
	}
	if (c->compress_after_flush)
		client_start_compression(c);
	if (c->uncompress_after_flush)
		client_stop_compression(c);
}

/* Reads until the socket has nothing more or the input buffer is full.
 * Returns true in the second case: with edge-triggered epoll no new event
 * comes for bytes already waiting, so the caller must read again once it
 * has made room. */
static bool client_read(struct client *c)
{
	enum net_fill r;
	bool got;

	if (c->eof)
		return false;
	r = net_conn_fill(c->conn, &c->in, CLIENT_INPUT_MAX, &got);
	if (got)
		c->last_activity_ms = clock_now_ms();
	c->eof = r == NET_FILL_EOF;
	return r == NET_FILL_FULL;
}

/* Responses not yet written; past this, no new command starts until the
 * client has read some: a client that pipelines without reading cannot make
 * the server hold more than about this much output. */
size_t client_unwritten(const struct client *c)
{
	return c->out.len - c->out_pos + net_conn_unsent(c->conn);
}

static void job_run(struct worker_job *job, struct imap_backend *be)
{
	struct client *c = (struct client *)((char *)job - offsetof(struct client, job));

	imap_session_execute(&c->session, be);
}

/* The command's output is final: ship it. The caller pumps afterwards, so
 * that the next pipelined command starts (never from inside client_process,
 * which is already walking the input). */
static void client_release(struct client *c)
{
	enum imap_after after = c->session.after;

	if (c->held)
		c->srv->nheld--;
	c->held = false;
	client_take_output(c);
	c->session.after = IMAP_AFTER_NOTHING;
	imap_session_command_done(&c->session);
	if (after == IMAP_AFTER_CLOSE)
		client_end_after_flush(c, c->session.state == IMAP_STATE_LOGOUT ? "logout" : "closed");
	else if (after == IMAP_AFTER_STARTTLS)
		c->starttls_after_flush = true;
	else if (after == IMAP_AFTER_COMPRESS)
		c->compress_after_flush = true;
	else if (after == IMAP_AFTER_UNCOMPRESS)
		c->uncompress_after_flush = true;
	if (c->srv->shutting_down && !c->close_after_flush) {
		imap_session_shutdown(&c->session);
		client_take_output(c);
		client_end_after_flush(c, "shutdown");
	}
}

/* A failed authentication: its answer is held back, for longer the more an
 * address fails, counted from when the command arrived so that the answer
 * takes the same time whatever the directory had to do; the connection ends
 * after max_auth_failures. */
static void client_auth_failed(struct client *c)
{
	const struct config *cfg = c->srv->cfg;
	uint64_t delay = peer_auth_failed(c->srv->peers, net_conn_peer_addr(c->conn),
					  c->last_activity_ms, (uint64_t)cfg->auth_fail_delay_ms,
					  (uint64_t)cfg->auth_fail_delay_max_ms);

	if (++c->session.auth_failures >= (unsigned)cfg->max_auth_failures) {
		imap_untagged(&c->session, "BYE Too many authentication failures");
		c->session.after = IMAP_AFTER_CLOSE;
		c->end_kind = "auth-failures";
	}
	if (delay > 0 && !c->srv->shutting_down) {
		c->held = true;
		c->held_until_ms = c->command_started_ms + delay;
		c->srv->nheld++;
	}
}

/* A login whose user is to be traced (trace_users, kairanctl trace): the
 * trace starts with the login command itself, secrets redacted, so that
 * its response follows. A session traced by its address already has one. */
static void client_trace_login(struct client *c)
{
	struct imap_session *s = &c->session;

	s->trace_wanted = false;
	if (s->trace != NULL) {
		imap_trace_login(s->trace, s->user);
		return;
	}
	s->trace = imap_trace_open(s->cfg->trace_dir, net_conn_peer(c->conn), s->user);
	if (s->trace == NULL)
		return;
	imap_trace_note(s->trace, "trace of %s from %s, from the login on", s->user,
			net_conn_peer(c->conn));
	imap_trace_command(s->trace, s->cmd);
	for (unsigned i = 0; i < s->nsasl; i++)
		imap_trace_sasl_line(s->trace, (const uint8_t *)s->sasl_response[i],
				     s->sasl_response_len[i]);
}

/* Back to not authenticated (UNAUTHENTICATE, RFC 8437): a trace started
 * for the user ends with the user, so that whoever logs in next on the
 * connection is not written into it; a trace of a listed address goes on,
 * as it began before any login. */
static void client_trace_unauthenticated(struct client *c)
{
	struct imap_session *s = &c->session;

	if (imap_trace_listed(s->cfg->trace_addresses, net_conn_peer_addr(c->conn))) {
		imap_trace_note(s->trace, "not authenticated any more");
		return;
	}
	imap_trace_note(s->trace, "trace ends: the user left the session (UNAUTHENTICATE)");
	imap_trace_close(&s->trace);
}

bool client_job_returned(struct client *c)
{
	c->busy = false;
	if (!c->closed)
		return true;
	client_log_end(c);   /* held back while the worker owned the session */
	LLIST_REMOVE(c->srv->clients, c);
	c->srv->nclients--;
	LLIST_PREPEND(c->srv->dead, c);
	return false;
}

static void client_command_finished(struct client *c)
{
	if (!client_job_returned(c))
		return;
	c->last_activity_ms = clock_now_ms();
	/* A login: of a user to trace, or in a session traced by address. */
	if (c->session.trace_wanted || (c->session.trace != NULL && c->session.user != NULL))
		client_trace_login(c);
	else if (c->session.trace != NULL && c->session.unauthenticated)
		client_trace_unauthenticated(c);
	if (c->session.unauthenticated)
		client_slow_logged_out(c, c->last_activity_ms);
	if (c->session.auth_failed)
		client_auth_failed(c);
	else if (c->session.holds_user_slot && c->session.auth_failures > 0)
		peer_auth_succeeded(c->srv->peers, net_conn_peer_addr(c->conn));
	if (!c->held)
		client_release(c);
}

static void job_done(struct worker_job *job)
{
	struct client *c = (struct client *)((char *)job - offsetof(struct client, job));

	client_command_finished(c);
	client_pump(c);
}

/* An APPEND's check before its "+" (IMAP_INPUT_LITERAL_CHECK): the same
 * job, with other steps; the command itself is not complete yet. */
static void literal_check_run(struct worker_job *job, struct imap_backend *be)
{
	struct client *c = (struct client *)((char *)job - offsetof(struct client, job));

	imap_session_literal_check(&c->session, be);
}

static void literal_check_done(struct worker_job *job)
{
	struct client *c = (struct client *)((char *)job - offsetof(struct client, job));

	if (!client_job_returned(c))
		return;
	imap_session_literal_checked(&c->session);
	if (c->srv->shutting_down && !c->close_after_flush) {
		/* client_shutdown_all passed it by while it was busy. */
		imap_session_shutdown(&c->session);
		c->close_after_flush = true;
	}
	client_take_output(c);
	client_pump(c);
}

static void client_submit_literal_check(struct client *c)
{
	c->job.run = literal_check_run;
	c->job.done = literal_check_done;
	c->busy = true;
	worker_pool_submit(c->srv->pool, &c->job);
}

void client_submit(struct client *c)
{
	c->job.run = job_run;
	c->job.done = job_done;
	c->busy = true;
	c->wakes_at_submit = c->srv->wakes;
	worker_pool_submit(c->srv->pool, &c->job);
}

/* Frames and starts commands while the session is free to run one. */
static void client_process(struct client *c)
{
	size_t pos = 0;

	while (!c->busy && !c->held && !c->close_after_flush && !c->starttls_after_flush &&
	       !c->compress_after_flush && !c->uncompress_after_flush && !c->closed &&
	       pos < c->in.len &&
	       client_unwritten(c) < CLIENT_OUTPUT_MAX) {
		size_t used;
		enum imap_input_result r = imap_session_input(&c->session, c->in.data + pos,
							      c->in.len - pos, &used);
		pos += used;
		client_take_output(c);
		if (c->idle_listed && !imap_session_idling(&c->session))
			client_idle_unlist(c);  /* DONE: before the next command starts */
		if (r == IMAP_INPUT_CLOSE) {
			client_end_after_flush(c, "protocol");
		} else if (r == IMAP_INPUT_LITERAL_CHECK) {
			client_submit_literal_check(c);
		} else if (r == IMAP_INPUT_COMMAND) {
			c->session.after = IMAP_AFTER_NOTHING;
			c->command_started_ms = clock_now_ms();
			if (imap_session_command_in_loop(&c->session)) {
				imap_session_execute(&c->session, NULL);
				client_command_finished(c);
			} else
				client_submit(c);
		}
	}
	buf_consume(&c->in, pos);
	/* A client that ended its compressed stream other than with
	 * UNAUTHENTICATE (which is running, or waiting to stop compression)
	 * has nothing more to say: as a close. */
	if (net_conn_compression_ended(c->conn) && !c->busy && !c->held &&
	    !c->close_after_flush && !c->uncompress_after_flush) {
		client_end_after_flush(c, "disconnected");
		c->close_reason = "compressed stream ended by peer";
	}
	if (c->eof && !c->busy && !c->held && !c->close_after_flush) {
		client_end_after_flush(c, "disconnected");
		c->close_reason = "closed by peer";
		if (net_conn_input_corrupt(c->conn)) {
			/* The stream cannot be resynchronised, but the other
			 * direction still works: say why before closing. */
			imap_untagged(&c->session, "BYE Invalid compressed data");
			client_take_output(c);
			c->end_kind = "protocol";
			c->close_reason = net_conn_error(c->conn);
		}
	}
}

/* After a read that left a command incomplete (a literal without the rest
 * of its line, a line without its CRLF, the first bytes of a TLS record):
 * the server has nothing to say until the rest arrives, so the kernel's
 * delayed ACK would hold a client that runs Nagle's algorithm for 40 ms
 * (net_conn_ack_now says why). Not while a command runs or its reply is
 * held back (the client waits for that reply anyway, and it carries the ACK),
 * nor while the client leaves our output unread (it is not waiting for us). */
static void client_ack_partial_command(struct client *c)
{
	if (c->busy || c->held || c->eof || c->close_after_flush ||
	    client_unwritten(c) >= CLIENT_OUTPUT_MAX)
		return;
	if (imap_parser_in_command(c->session.parser) || net_conn_partial_record(c->conn))
		net_conn_ack_now(c->conn);
}

void client_pump(struct client *c)
{
	for (;;) {
		bool full = false;
		size_t before;

		if (c->closed)
			return;
		if (!c->close_after_flush && !c->starttls_after_flush && !c->compress_after_flush &&
		    !c->uncompress_after_flush)
			full = client_read(c);
		before = c->in.len;
		client_process(c);
		if (c->closed)
			return;
		client_flush(c);
		if (c->closed)
			return;
		if (c->reread) {
			c->reread = false;   /* COMPRESS began: read through the inflater */
			continue;
		}
		/* Go round again only if input is waiting and room was made. */
		if (!full || c->in.len == before)
			break;
	}
	/* STARTTLS just began: the handshake is driven by reading. */
	if (!c->closed && c->session.tls_active && net_conn_tls_handshaking(c->conn) &&
	    c->in.len == 0 && !c->busy)
		client_read(c);
	if (!c->closed) {
		client_ack_partial_command(c);
		client_idle_update(c);
		client_slow_note(c, clock_now_ms());
		client_notify_update(c);
	}
	if (c->eof && !c->busy && !c->held && !c->closed && client_unwritten(c) == 0) {
		if (net_conn_error(c->conn)[0] != '\0')
			client_close_failed(c);
		else
			client_close(c, "disconnected", "closed by peer");
	}
}

static void client_event(struct net_watch *w, uint32_t events)
{
	struct client *c = (struct client *)w;

	(void)events;
	client_pump(c);
}

void client_accept(struct server *srv, int fd, const struct sockaddr *sa, socklen_t salen,
		   bool implicit_tls, bool proxied)
{
	struct client *c = xcalloc(1, sizeof(*c));
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->srv = srv;
	c->conn = net_conn_new(fd, sa, salen);
	c->watch.fd = fd;
	c->watch.fn = client_event;
	c->job.run = job_run;
	c->job.done = job_done;
	buf_init(&c->in);
	buf_init(&c->out);
	imap_session_init(&c->session, srv->cfg);
	c->session.user_slots = srv->user_slots;
	c->session.flush = client_stream_flush;
	c->session.flush_ctx = c;
	pthread_mutex_init(&c->out_lock, NULL);
	pthread_cond_init(&c->drained, NULL);
	buf_init(&c->outbox);
	snprintf(c->session.peer, sizeof(c->session.peer), "%s", net_conn_peer(c->conn));
	c->session.peer_loopback = !proxied && net_conn_peer_is_loopback(c->conn);
	c->session.tls_available = srv->tls != NULL;
	c->last_activity_ms = c->last_write_ms = clock_now_ms();
	c->connected_ms = c->login_since_ms = c->last_activity_ms;
	LLIST_PREPEND(srv->clients, c);
	srv->nclients++;
	log_info("%s: connected (%s%s)", net_conn_peer(c->conn), implicit_tls ? "imaps" : "imap",
		 proxied ? ", through the PROXY listener" : "");
	if (imap_trace_listed(srv->cfg->trace_addresses, net_conn_peer_addr(c->conn))) {
		c->session.trace = imap_trace_open(srv->cfg->trace_dir, net_conn_peer(c->conn), NULL);
		if (c->session.trace != NULL)
			imap_trace_note(c->session.trace, "trace of %s (%s), listed in trace_addresses",
					net_conn_peer(c->conn), implicit_tls ? "imaps" : "imap");
	}

	if (implicit_tls && net_conn_start_tls(c->conn, srv->tls) < 0) {
		client_close_failed(c);
		return;
	}
	c->session.tls_active = implicit_tls;
	if (net_loop_add(srv->loop, &c->watch, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) < 0) {
		c->closed = true;
		LLIST_REMOVE(srv->clients, c);
		srv->nclients--;
		LLIST_PREPEND(srv->dead, c);
		return;
	}
	/* The address is the client's, also behind a balancer: the PROXY
	 * listener calls us with the header's address (proxy_accept.c). */
	if (!peer_connection_rate(srv->peers, net_conn_peer_addr(c->conn), c->connected_ms,
				  srv->cfg->max_connection_rate_per_ip)) {
		metrics_add(METRICS_CONNECTIONS_RATE_LIMITED, 1);
		imap_untagged(&c->session, "BYE [LIMIT] Too many new connections from your address");
		client_end_after_flush(c, "limit");
		client_take_output(c);
		client_pump(c);
		return;
	}
	c->counted_peer = peer_connection_open(srv->peers, net_conn_peer_addr(c->conn),
					       srv->cfg->max_connections_per_ip);
	if (!c->counted_peer) {
		imap_untagged(&c->session, "BYE [LIMIT] Too many connections from your address");
		client_end_after_flush(c, "limit");
	} else
		imap_session_greeting(&c->session);
	client_take_output(c);
	client_pump(c);
}

void client_shutdown_all(struct server *srv)
{
	struct client *c, *next;

	for (c = srv->clients; c != NULL; c = next) {
		next = c->next;
		if (c->closed || c->busy)
			continue; /* a busy session says BYE when its command returns */
		if (c->held) {
			client_release(c); /* adds the BYE itself */
			client_pump(c);
			continue;
		}
		if (!c->close_after_flush) {
			imap_session_shutdown(&c->session);
			client_take_output(c);
			client_end_after_flush(c, "shutdown");
		}
		client_flush(c);
	}
}

/* A session quiet for a second (nothing read, nothing to write, no
 * command running or partly read) gives back its buffers: what it costs
 * while it idles is then the structures alone (docs/architecture.md,
 * "Memory per session"). The next bytes allocate again. */
static bool client_release_memory(struct client *c, uint64_t now_ms)
{
	if (c->busy || c->held || c->in.len > 0 || client_unwritten(c) > 0 ||
	    now_ms - c->last_activity_ms < 1000 || now_ms - c->last_write_ms < 1000)
		return false;
	if (c->in.cap == 0 && c->out.cap == 0 && c->session.arena.chunks == NULL)
		return false;   /* released already */
	buf_free(&c->in);
	buf_free(&c->out);
	c->out_pos = 0;
	pthread_mutex_lock(&c->out_lock);
	if (c->outbox.len == 0)
		buf_free(&c->outbox);
	pthread_mutex_unlock(&c->out_lock);
	imap_session_release_memory(&c->session);
	return true;
}

/* Freed memory stays in the process: glibc returns only the top of a heap
 * to the system, and what sessions free lies between what others still
 * hold. malloc_trim gives the free pages inside the heaps back
 * (MADV_DONTNEED), so that the resident size follows the sessions' real
 * needs; at most every few seconds, after sessions released something. */
#define CLIENT_TRIM_INTERVAL_MS 5000

static void client_trim_heap(struct server *srv, uint64_t now_ms)
{
	if (!srv->trim_pending || now_ms - srv->last_trim_ms < CLIENT_TRIM_INTERVAL_MS)
		return;
	srv->trim_pending = false;
	srv->last_trim_ms = now_ms;
	malloc_trim(0);
}

/* Runs every tick (10 ms): held replies are released on time, so the delay
 * of a failed login does not depend on where in a coarse tick it ended;
 * the idle timeouts need a pass over every client only once a second. */
void client_tick(struct server *srv, uint64_t now_ms)
{
	struct client *c, *next;
	bool full = now_ms - srv->last_scan_ms >= 1000;
	size_t released = 0;

	client_idle_poll(srv, now_ms);
	client_notify_poll(srv, now_ms);
	if (!full && srv->nheld == 0)
		return;
	if (full)
		srv->last_scan_ms = now_ms;
	if (now_ms - srv->last_expire_ms > PEER_EXPIRE_INTERVAL_MS) {
		peer_table_expire(srv->peers, now_ms);
		srv->last_expire_ms = now_ms;
	}
	for (c = srv->clients; c != NULL; c = next) {
		uint64_t limit;
		enum client_slow slow;

		next = c->next;
		if (c->closed || c->busy)
			continue;
		if (c->held) {
			if (now_ms >= c->held_until_ms) {
				client_release(c);
				client_pump(c);
			}
			continue;
		}
		if (!full)
			continue;
		if (client_release_memory(c, now_ms))
			released++;
		if (c->idle_listed) {
			client_idle_timers(c, now_ms);   /* IDLE has its own timeout */
			continue;
		}
		if (c->close_after_flush)
			continue;
		slow = client_slow_check(c, srv->cfg, now_ms);
		if (slow != CLIENT_SLOW_NONE) {
			imap_untagged(&c->session, "%s", client_slow_bye(slow));
			client_take_output(c);
			client_end_after_flush(c, "timeout");
			client_flush(c);
			continue;
		}
		limit = 1000 * (uint64_t)(c->session.state == IMAP_STATE_NOT_AUTH ?
					   srv->cfg->timeout_preauth : srv->cfg->timeout_idle);
		if (now_ms - c->last_activity_ms > limit) {
			imap_session_timeout(&c->session);
			client_take_output(c);
			client_end_after_flush(c, "timeout");
			client_flush(c);
		}
	}
	if (released > 0)
		srv->trim_pending = true;
	if (full)
		client_trim_heap(srv, now_ms);
}

void client_abort_streams(struct server *srv)
{
	for (struct client *c = srv->clients; c != NULL; c = c->next) {
		pthread_mutex_lock(&c->out_lock);
		c->gone = true;
		pthread_cond_signal(&c->drained);
		pthread_mutex_unlock(&c->out_lock);
	}
}

void client_free_all(struct server *srv)
{
	while (srv->clients != NULL) {
		struct client *c = srv->clients;
		/* Still open when the shutdown's wait ended, or closed while
		 * its last command ran: neither has logged its end. */
		if (!c->closed) {
			c->end_kind = "shutdown";
			c->end_detail = "server stopped";
		}
		client_log_end(c);
		LLIST_REMOVE(srv->clients, c);
		client_free(c);
	}
	srv->nclients = 0;
	client_reap(srv);
}
