/* An LMTP connection on the event loop: reads, lets session.c run the
 * commands, hands RCPT look-ups and deliveries to the worker pool, writes
 * the replies. Like server/client.c for IMAP, but much smaller: LMTP has no
 * TLS here, no IDLE, no streaming output and no authentication. */
#include "server/lmtp/lmtp_private.h"
#include "server/core/clock.h"
#include "server/core/config.h"
#include "server/core/llist.h"
#include "server/core/log.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/epoll.h>

/* Input read ahead while a job runs (pipelined commands, message bytes). */
#define LMTP_INPUT_MAX (64 * 1024)
/* Replies not yet read past which no new command runs. */
#define LMTP_OUTPUT_MAX (64 * 1024)
/* Commands (or pieces of message data, up to LMTP_INPUT_MAX each) run for
 * one connection per event, so that a client that pipelines without end
 * cannot keep the loop from the others: 256 NOOPs are well under a
 * millisecond, 256 pieces of a message at most 16 MiB. */
#define LMTP_BUDGET 256
#define LMTP_EVENTS (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)

static void lmtp_pump(struct lmtp_conn *c);

static void lmtp_close(struct lmtp_conn *c, const char *reason)
{
	if (c->closed)
		return;
	c->closed = true;
	log_info("%s: lmtp disconnected: %s", net_conn_peer(c->conn), reason);
	net_loop_del(c->srv->loop, &c->watch);
	/* A busy connection is moved to the dead list when its job returns. */
	if (!c->busy) {
		LLIST_REMOVE(c->srv->lmtp_conns, c);
		c->srv->nlmtp--;
		LLIST_PREPEND(c->srv->lmtp_dead, c);
	}
}

static void lmtp_free(struct lmtp_conn *c)
{
	lmtp_reset(c);
	free(c->rcpts);
	free(c->sender);
	buf_free(&c->message);
	buf_free(&c->reply);
	buf_free(&c->in);
	buf_free(&c->out);
	net_conn_free(&c->conn);
	free(c);
}

void lmtp_reap(struct server *srv)
{
	while (srv->lmtp_dead != NULL) {
		struct lmtp_conn *c = srv->lmtp_dead;
		LLIST_REMOVE(srv->lmtp_dead, c);
		lmtp_free(c);
	}
}

void lmtp_free_all(struct server *srv)
{
	while (srv->lmtp_conns != NULL) {
		struct lmtp_conn *c = srv->lmtp_conns;
		LLIST_REMOVE(srv->lmtp_conns, c);
		lmtp_free(c);
	}
	srv->nlmtp = 0;
	lmtp_reap(srv);
}

static void lmtp_flush(struct lmtp_conn *c)
{
	while (c->out_pos < c->out.len) {
		ssize_t n = net_conn_write(c->conn, c->out.data + c->out_pos, c->out.len - c->out_pos);
		if (n == 0)
			return;  /* EPOLLOUT brings us back */
		if (n < 0) {
			lmtp_close(c, net_conn_error(c->conn));
			return;
		}
		c->out_pos += (size_t)n;
	}
	buf_clear(&c->out);
	c->out_pos = 0;
	if (c->close_after_flush)
		lmtp_close(c, "closed by server");
}

/* Reads until the socket has nothing more or the input buffer is full
 * (then returns true: edge-triggered epoll will not tell us again). */
static bool lmtp_read(struct lmtp_conn *c)
{
	enum net_fill r;
	bool got;

	if (c->eof)
		return false;
	r = net_conn_fill(c->conn, &c->in, LMTP_INPUT_MAX, &got);
	if (got)
		c->last_activity_ms = clock_now_ms();
	c->eof = r == NET_FILL_EOF;
	return r == NET_FILL_FULL;
}

/* Whether input is waiting that lmtp_run_input could run now. */
static bool lmtp_runnable(const struct lmtp_conn *c)
{
	return !c->busy && !c->closed && !c->close_after_flush && c->in.len > 0 &&
	       c->out.len - c->out_pos < LMTP_OUTPUT_MAX;
}

/* Runs commands (and message bytes) while *budget lasts. */
static void lmtp_run_input(struct lmtp_conn *c, unsigned *budget)
{
	while (*budget > 0 && lmtp_runnable(c)) {
		size_t used = lmtp_process(c, (const char *)c->in.data, c->in.len);
		buf_consume(&c->in, used);
		(*budget)--;
		if (used == 0)
			break;  /* an incomplete line: wait for more */
	}
}

/* The budget ran out with work left: registering the socket again makes
 * epoll look at it afresh (EPOLL_CTL_ADD reports a socket that is already
 * readable or writable), so the connection comes back after the others'
 * events of the next batch, where a read alone would wait for new bytes. */
static void lmtp_yield(struct lmtp_conn *c)
{
	net_loop_del(c->srv->loop, &c->watch);
	if (net_loop_add(c->srv->loop, &c->watch, LMTP_EVENTS) < 0)
		lmtp_close(c, "cannot watch the connection again");
}

static void lmtp_pump(struct lmtp_conn *c)
{
	unsigned budget = LMTP_BUDGET;

	for (;;) {
		bool full = false;
		size_t before;

		if (c->closed)
			return;
		if (!c->close_after_flush)
			full = lmtp_read(c);
		before = c->in.len;
		lmtp_run_input(c, &budget);
		if (c->closed)
			return;
		lmtp_flush(c);
		if (c->closed)
			return;
		if (budget == 0 && (full || lmtp_runnable(c))) {
			lmtp_yield(c);
			return;
		}
		if (!full || c->in.len == before)
			break;
	}
	if (c->eof && !c->busy && c->out_pos == c->out.len)
		lmtp_close(c, "closed by peer");
}

static void lmtp_event(struct net_watch *w, uint32_t events)
{
	(void)events;
	lmtp_pump((struct lmtp_conn *)w);
}

static void job_done(struct worker_job *job)
{
	struct lmtp_conn *c = (struct lmtp_conn *)((char *)job - offsetof(struct lmtp_conn, job));

	c->busy = false;
	if (c->closed) {
		LLIST_REMOVE(c->srv->lmtp_conns, c);
		c->srv->nlmtp--;
		LLIST_PREPEND(c->srv->lmtp_dead, c);
		return;
	}
	c->last_activity_ms = clock_now_ms();
	lmtp_job_finished(c);
	if (c->srv->shutting_down && !c->close_after_flush) {
		lmtp_reply(c, "421 4.3.2 Server shutting down");
		c->close_after_flush = true;
	}
	lmtp_pump(c);
}

size_t lmtp_worker_share(const struct config *cfg)
{
	/* Three quarters by default: a delivery spends most of its time
	 * waiting for its commit to be flushed, so deliveries go as fast as
	 * the commits they can have in flight (tests/bench/results-lmtp.md
	 * has what half the workers cost), while a quarter, at least one
	 * worker, stays IMAP's. */
	if (cfg->lmtp_workers > 0)
		return (size_t)cfg->lmtp_workers;
	return cfg->workers > 1 ? (size_t)cfg->workers * 3 / 4 : 1;
}

/* Every LMTP job, the RCPT look-up too (a slow directory), is of the
 * limited share: the workers it leaves are IMAP's. */
void lmtp_submit(struct lmtp_conn *c, enum lmtp_job_kind kind)
{
	c->busy = true;
	c->job_kind = kind;
	c->job.limited = true;
	buf_clear(&c->reply);
	worker_pool_submit(c->srv->pool, &c->job);
}

void lmtp_accept(struct server *srv, int fd, const struct sockaddr *sa, socklen_t salen)
{
	struct lmtp_conn *c = xcalloc(1, sizeof(*c));
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->srv = srv;
	c->conn = net_conn_new(fd, sa, salen);
	c->watch.fd = fd;
	c->watch.fn = lmtp_event;
	c->job.run = lmtp_job_run;
	c->job.done = job_done;
	buf_init(&c->in);
	buf_init(&c->out);
	buf_init(&c->message);
	buf_init(&c->reply);
	c->last_activity_ms = clock_now_ms();
	LLIST_PREPEND(srv->lmtp_conns, c);
	srv->nlmtp++;
	log_info("%s: connected (lmtp)", net_conn_peer(c->conn));
	if (net_loop_add(srv->loop, &c->watch, LMTP_EVENTS) < 0) {
		c->closed = true;
		LLIST_REMOVE(srv->lmtp_conns, c);
		srv->nlmtp--;
		LLIST_PREPEND(srv->lmtp_dead, c);
		return;
	}
	lmtp_greeting(c);
	lmtp_pump(c);
}

void lmtp_shutdown_all(struct server *srv)
{
	for (struct lmtp_conn *c = srv->lmtp_conns, *next; c != NULL; c = next) {
		next = c->next;
		if (c->closed || c->busy || c->close_after_flush)
			continue;  /* a busy one says 421 when its job returns */
		lmtp_reply(c, "421 4.3.2 Server shutting down");
		c->close_after_flush = true;
		lmtp_flush(c);
	}
}

void lmtp_tick(struct server *srv, uint64_t now_ms)
{
	for (struct lmtp_conn *c = srv->lmtp_conns, *next; c != NULL; c = next) {
		next = c->next;
		if (c->closed || c->busy || c->close_after_flush ||
		    now_ms - c->last_activity_ms < LMTP_TIMEOUT_MS)
			continue;
		lmtp_reply(c, "421 4.4.2 Timeout, closing the connection");
		c->close_after_flush = true;
		lmtp_flush(c);
	}
}
