/* See metrics_http.h. A scraper is trusted no more than any client: the
 * request is read into a fixed buffer, answered once, and the connection
 * closed; the tick closes whatever is still open after HTTP_TIMEOUT_MS
 * (a slowloris holds one of HTTP_MAX_CONNS slots for 5 s, no more). */
#include "server/metrics_http.h"
#include "server/client_private.h"
#include "server/server.h"
#include "server/worker.h"
#include "server/bus/bus.h"
#include "server/core/clock.h"
#include "server/core/log.h"
#include "server/core/metrics.h"
#include "server/imap/commands.h"
#include "server/net/listen.h"
#include "server/net/loop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define HTTP_MAX_REQUEST 4096
#define HTTP_TIMEOUT_MS 5000
#define HTTP_MAX_CONNS 16
#define HTTP_TICK_MS 250

struct http_conn {
	struct net_watch watch;         /* first: the loop hands us this pointer */
	struct http_conn *prev, *next;
	char req[HTTP_MAX_REQUEST];
	size_t reqlen;
	struct buf out;                 /* the whole response, once known */
	size_t out_pos;
	bool answering;                 /* out is set: only writing is left */
	bool timed_out;                 /* shut down by the tick */
	uint64_t deadline_ms;
};

static struct {
	struct server *srv;
	struct net_watch listen_watch, tick_watch;
	struct http_conn *conns;
	size_t nconns;
	bool started;
} http;

bool metrics_http_is_loopback(const char *spec)
{
	char host[256];
	struct in_addr a4;
	struct in6_addr a6;
	int port;

	if (config_split_hostport(spec, host, sizeof(host), &port) < 0)
		return false;
	if (strcmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

static void conn_close(struct http_conn *c)
{
	net_loop_del(http.srv->loop, &c->watch);
	close(c->watch.fd);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		http.conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	http.nconns--;
	buf_free(&c->out);
	free(c);
}

/* ---- the page */

static const char *session_state(const struct client *c)
{
	/* Read while a worker may run the session's command: each field is
	 * read once, and a scrape that sees a state a moment early or late
	 * is as good as any. */
	enum imap_state st = __atomic_load_n(&c->session.state, __ATOMIC_RELAXED);

	if (imap_session_idling(&c->session))
		return "idle";
	switch (st) {
	case IMAP_STATE_NOT_AUTH: return "not_authenticated";
	case IMAP_STATE_AUTH: return "authenticated";
	case IMAP_STATE_SELECTED: return "selected";
	default: return "logout";
	}
}

static void render_gauges(struct buf *out)
{
	static const char *const states[] = { "not_authenticated", "authenticated", "selected",
					      "idle", "logout" };
	size_t counts[5] = { 0 }, pending, running, workers;

	for (const struct client *c = http.srv->clients; c != NULL; c = c->next) {
		const char *st = session_state(c);
		for (size_t i = 0; i < 5; i++)
			if (strcmp(st, states[i]) == 0)
				counts[i]++;
	}
	buf_appendf(out, "# HELP kairan_build_info The running kairand's version.\n"
		    "# TYPE kairan_build_info gauge\n"
		    "kairan_build_info{version=\"%s\"} 1\n", KAIRAN_VERSION);
	buf_append_str(out, "# HELP kairan_sessions Open sessions by protocol and state.\n"
			    "# TYPE kairan_sessions gauge\n");
	for (size_t i = 0; i < 5; i++)
		buf_appendf(out, "kairan_sessions{protocol=\"imap\",state=\"%s\"} %zu\n", states[i],
			    counts[i]);
	worker_pool_depth(http.srv->pool, &pending, &running, &workers);
	buf_appendf(out, "# HELP kairan_worker_queue_depth Commands waiting for a worker.\n"
		    "# TYPE kairan_worker_queue_depth gauge\n"
		    "kairan_worker_queue_depth %zu\n"
		    "# HELP kairan_worker_busy Workers running a command.\n"
		    "# TYPE kairan_worker_busy gauge\n"
		    "kairan_worker_busy %zu\n"
		    "# HELP kairan_workers Worker threads.\n"
		    "# TYPE kairan_workers gauge\n"
		    "kairan_workers %zu\n", pending, running, workers);
	buf_appendf(out, "# HELP kairan_bus_trusted 1 while the change bus is connected and "
		    "reconciled lately, else 0.\n"
		    "# TYPE kairan_bus_trusted gauge\n"
		    "kairan_bus_trusted %d\n",
		    http.srv->bus != NULL && bus_trusted(http.srv->bus) ? 1 : 0);
}

static void respond(struct http_conn *c, int status, const char *reason, const char *extra,
		    bool head)
{
	struct buf body;

	buf_init(&body);
	if (status == 200) {
		render_gauges(&body);
		metrics_render(&body, imap_command_slot_name);
	} else
		buf_appendf(&body, "%d %s\n", status, reason);
	buf_appendf(&c->out, "HTTP/1.1 %d %s\r\n"
		    "Content-Type: %s\r\n"
		    "Content-Length: %zu\r\n"
		    "%s"
		    "Connection: close\r\n\r\n", status, reason,
		    status == 200 ? "text/plain; version=0.0.4; charset=utf-8" :
		    "text/plain; charset=utf-8", body.len, extra != NULL ? extra : "");
	if (!head)
		buf_append(&c->out, body.data, body.len);
	buf_free(&body);
	c->answering = true;
}

/* The request line: "GET /metrics HTTP/1.1". Header fields are read (so
 * that the request is complete) and ignored. */
static void answer(struct http_conn *c, size_t line_len)
{
	const char *line = c->req, *sp1, *sp2, *target, *version;
	size_t mlen, tlen, vlen;
	bool head;

	for (size_t i = 0; i < line_len; i++)
		if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e) {
			respond(c, 400, "Bad Request", NULL, false);
			return;
		}
	sp1 = memchr(line, ' ', line_len);
	sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', line_len - (size_t)(sp1 + 1 - line)) : NULL;
	if (sp1 == NULL || sp2 == NULL) {
		respond(c, 400, "Bad Request", NULL, false);
		return;
	}
	mlen = (size_t)(sp1 - line);
	target = sp1 + 1;
	tlen = (size_t)(sp2 - target);
	version = sp2 + 1;
	vlen = line_len - (size_t)(version - line);
	if (!(vlen == 8 && (memcmp(version, "HTTP/1.0", 8) == 0 || memcmp(version, "HTTP/1.1", 8) == 0))) {
		respond(c, 400, "Bad Request", NULL, false);
		return;
	}
	head = mlen == 4 && memcmp(line, "HEAD", 4) == 0;
	if (!head && !(mlen == 3 && memcmp(line, "GET", 3) == 0)) {
		respond(c, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n", false);
		return;
	}
	if (!(tlen >= 8 && memcmp(target, "/metrics", 8) == 0 && (tlen == 8 || target[8] == '?'))) {
		respond(c, 404, "Not Found", NULL, head);
		return;
	}
	respond(c, 200, "OK", NULL, head);
}

/* ---- reading and writing */

/* The end of the header block (a blank line), or 0 while incomplete. */
static bool request_complete(const struct http_conn *c, size_t *line_len_r)
{
	const char *lf = memchr(c->req, '\n', c->reqlen);

	if (lf == NULL)
		return false;
	*line_len_r = (size_t)(lf - c->req);
	if (*line_len_r > 0 && c->req[*line_len_r - 1] == '\r')
		(*line_len_r)--;
	for (size_t i = 0; i + 1 < c->reqlen; i++)
		if (c->req[i] == '\n' &&
		    (c->req[i + 1] == '\n' || (c->req[i + 1] == '\r' && i + 2 < c->reqlen &&
					       c->req[i + 2] == '\n')))
			return true;
	return false;
}

static void on_conn(struct net_watch *w, uint32_t events);

/* Writes what the socket takes; true once everything is written. */
static bool flush(struct http_conn *c)
{
	while (c->out_pos < c->out.len) {
		ssize_t n = send(c->watch.fd, c->out.data + c->out_pos, c->out.len - c->out_pos,
				 MSG_NOSIGNAL);
		if (n > 0)
			c->out_pos += (size_t)n;
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		else
			return true;   /* the peer is gone: nothing more to do */
	}
	return true;
}

static void start_answering(struct http_conn *c)
{
	if (flush(c)) {
		conn_close(c);
		return;
	}
	/* The rest when the socket has room: watch for writing only. */
	net_loop_del(http.srv->loop, &c->watch);
	if (net_loop_add(http.srv->loop, &c->watch, EPOLLOUT) < 0)
		conn_close(c);
}

static void on_conn(struct net_watch *w, uint32_t events)
{
	struct http_conn *c = (struct http_conn *)w;
	size_t line_len;

	if (c->timed_out) {
		conn_close(c);
		return;
	}
	if (c->answering) {
		if (flush(c) || (events & (EPOLLHUP | EPOLLERR)))
			conn_close(c);
		return;
	}
	for (;;) {
		ssize_t n;
		if (c->reqlen == sizeof(c->req)) {
			/* Full and still no blank line: refuse, bounded. */
			if (memchr(c->req, '\n', c->reqlen) == NULL)
				respond(c, 414, "URI Too Long", NULL, false);
			else
				respond(c, 431, "Request Header Fields Too Large", NULL, false);
			start_answering(c);
			return;
		}
		n = recv(c->watch.fd, c->req + c->reqlen, sizeof(c->req) - c->reqlen, 0);
		if (n > 0) {
			c->reqlen += (size_t)n;
			if (request_complete(c, &line_len)) {
				answer(c, line_len);
				start_answering(c);
				return;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		conn_close(c);   /* closed before the request was complete, or an error */
		return;
	}
}

static void on_accept(struct net_watch *w, uint32_t events)
{
	(void)events;
	for (;;) {
		struct http_conn *c;
		int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warning("metrics: accept: %s", strerror(errno));
			return;
		}
		if (http.nconns >= HTTP_MAX_CONNS) {
			close(fd);
			continue;
		}
		c = xcalloc(1, sizeof(*c));
		c->watch.fd = fd;
		c->watch.fn = on_conn;
		buf_init(&c->out);
		c->deadline_ms = clock_now_ms() + HTTP_TIMEOUT_MS;
		if (net_loop_add(http.srv->loop, &c->watch, EPOLLIN | EPOLLRDHUP) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = http.conns;
		if (http.conns != NULL)
			http.conns->prev = c;
		http.conns = c;
		http.nconns++;
	}
}

/* Closing here could free a connection whose event waits later in the
 * same batch; shutting it down instead makes its own handler see the
 * end and close it. */
static void on_tick(struct net_watch *w, uint32_t events)
{
	uint64_t expirations, now = clock_now_ms();

	(void)events;
	(void)!read(w->fd, &expirations, sizeof(expirations));
	for (struct http_conn *c = http.conns; c != NULL; c = c->next)
		if (!c->timed_out && now >= c->deadline_ms) {
			c->timed_out = true;
			shutdown(c->watch.fd, SHUT_RDWR);
		}
}

int metrics_http_start(struct server *srv, const char *spec, bool allow_remote, char *err,
		       size_t errlen)
{
	struct itimerspec tick = { .it_interval = { 0, HTTP_TICK_MS * 1000000L },
				   .it_value = { 0, HTTP_TICK_MS * 1000000L } };
	int fd, tfd;

	if (!allow_remote && !metrics_http_is_loopback(spec)) {
		snprintf(err, errlen, "metrics_listen %s is not a loopback address (the endpoint has "
			 "no authentication); set metrics_allow_remote = yes to allow it", spec);
		return -1;
	}
	fd = net_listen(spec, false, err, errlen);
	if (fd < 0)
		return -1;
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (tfd < 0 || timerfd_settime(tfd, 0, &tick, NULL) < 0) {
		snprintf(err, errlen, "metrics: timerfd: %s", strerror(errno));
		close(fd);
		if (tfd >= 0)
			close(tfd);
		return -1;
	}
	http.srv = srv;
	http.listen_watch = (struct net_watch){ .fd = fd, .fn = on_accept };
	http.tick_watch = (struct net_watch){ .fd = tfd, .fn = on_tick };
	if (net_loop_add(srv->loop, &http.listen_watch, EPOLLIN) < 0 ||
	    net_loop_add(srv->loop, &http.tick_watch, EPOLLIN) < 0) {
		snprintf(err, errlen, "metrics: epoll: %s", strerror(errno));
		return -1;
	}
	http.started = true;
	return 0;
}

void metrics_http_stop(void)
{
	if (!http.started)
		return;
	while (http.conns != NULL)
		conn_close(http.conns);
	net_loop_del(http.srv->loop, &http.listen_watch);
	net_loop_del(http.srv->loop, &http.tick_watch);
	close(http.listen_watch.fd);
	close(http.tick_watch.fd);
	http.started = false;
}
