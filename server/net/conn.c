#include "server/net/conn.h"
#include "server/net/compress.h"
#include "server/net/tls.h"
#include "server/net/tls_internal.h"
#include "server/core/buf.h"
#include "server/core/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The most net_conn_fill asks the socket (or TLS) for at a time: a TLS
 * record's worth. */
#define NET_READ_CHUNK (16 * 1024)

struct net_conn {
	int fd;
	SSL *ssl;
	bool handshake_done;
	bool handshake_failed;   /* counted once in the metrics */
	bool loopback;
	struct net_compress *z;  /* COMPRESS=DEFLATE, NULL until it starts */
	bool z_finished;         /* our final block is in z's output (stopping) */
	bool corrupt;            /* the client's compressed stream was invalid */
	char peer[INET6_ADDRSTRLEN + 16];
	char addr[INET6_ADDRSTRLEN];
	char error[160];
	uint64_t bytes_in, bytes_out;   /* as the metrics count them, for the session end line */
};

struct net_conn *net_conn_new(int fd, const struct sockaddr *sa, socklen_t salen)
{
	struct net_conn *c = xcalloc(1, sizeof(*c));

	(void)salen;
	metrics_add(METRICS_CONNECTIONS, 1);
	c->fd = fd;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, c->addr, sizeof(c->addr));
		snprintf(c->peer, sizeof(c->peer), "%s:%u", c->addr, ntohs(in->sin_port));
		c->loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, c->addr, sizeof(c->addr));
		snprintf(c->peer, sizeof(c->peer), "[%s]:%u", c->addr, ntohs(in6->sin6_port));
		c->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
			      (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127);
	} else {
		snprintf(c->addr, sizeof(c->addr), "local");
		snprintf(c->peer, sizeof(c->peer), "local");
	}
	return c;
}

void net_conn_free(struct net_conn **cp)
{
	struct net_conn *c = *cp;

	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		if (c->handshake_done) {
			ERR_clear_error();
			(void)SSL_shutdown(c->ssl); /* best effort close_notify; never waits */
			/* A peer that is gone makes it fail (EPIPE): that error
			 * must not stay on this thread's queue, where it would
			 * be taken for the next connection's (see tls_result). */
			ERR_clear_error();
		}
		SSL_free(c->ssl);
	}
	net_compress_free(&c->z);
	close(c->fd);
	free(c);
	*cp = NULL;
}

int net_conn_fd(const struct net_conn *c) { return c->fd; }
const char *net_conn_peer(const struct net_conn *c) { return c->peer; }
const char *net_conn_peer_addr(const struct net_conn *c) { return c->addr; }
bool net_conn_peer_is_loopback(const struct net_conn *c) { return c->loopback; }
bool net_conn_is_tls(const struct net_conn *c) { return c->ssl != NULL; }
uint64_t net_conn_bytes_in(const struct net_conn *c) { return c->bytes_in; }
uint64_t net_conn_bytes_out(const struct net_conn *c) { return c->bytes_out; }
bool net_conn_tls_handshaking(const struct net_conn *c) { return c->ssl != NULL && !c->handshake_done; }
const char *net_conn_error(const struct net_conn *c) { return c->error; }

int net_conn_start_tls(struct net_conn *c, struct net_tls *tls)
{
	SSL_CTX *ctx = net_tls_current_ctx(tls);

	c->ssl = SSL_new(ctx);
	SSL_CTX_free(ctx); /* the SSL holds its own reference */
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		snprintf(c->error, sizeof(c->error), "cannot create TLS session");
		return -1;
	}
	SSL_set_accept_state(c->ssl);
	return 0;
}

/* Maps an OpenSSL result: 0 for "try again on the next event", -1 for a
 * failure (with the reason recorded). SSL_get_error reads the thread's
 * error queue, so every SSL_* call below starts with it empty: one thread
 * serves many connections, and a stale entry from another would turn an
 * ordinary "no data yet" into a failure of this one. */
static int tls_result(struct net_conn *c, int ret)
{
	int e = SSL_get_error(c->ssl, ret);
	unsigned long code;

	switch (e) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		snprintf(c->error, sizeof(c->error), "closed by peer");
		return -1;
	case SSL_ERROR_SYSCALL:
		snprintf(c->error, sizeof(c->error), "%s",
			 errno != 0 ? strerror(errno) : "connection closed during TLS");
		ERR_clear_error();
		return -1;
	default:
		code = ERR_get_error();
		if (code != 0)
			ERR_error_string_n(code, c->error, sizeof(c->error));
		else
			snprintf(c->error, sizeof(c->error), "TLS error %d", e);
		ERR_clear_error();
		return -1;
	}
}

static int tls_handshake(struct net_conn *c)
{
	int ret;

	if (c->handshake_done)
		return 1;
	errno = 0;
	ERR_clear_error();
	ret = SSL_do_handshake(c->ssl);
	if (ret == 1) {
		c->handshake_done = true;
		metrics_add(METRICS_TLS_HANDSHAKES, 1);
		return 1;
	}
	ret = tls_result(c, ret);
	if (ret < 0 && !c->handshake_failed) {
		c->handshake_failed = true;
		metrics_add(METRICS_TLS_FAILURES, 1);
	}
	return ret;
}

static ssize_t transport_read(struct net_conn *c, void *buf, size_t len)
{
	if (c->ssl != NULL) {
		size_t n = 0;
		int ret = tls_handshake(c);
		if (ret <= 0)
			return ret;
		errno = 0;
		ERR_clear_error();
		if (SSL_read_ex(c->ssl, buf, len, &n) == 1)
			return (ssize_t)n;
		return tls_result(c, 0);
	}
	for (;;) {
		ssize_t n = read(c->fd, buf, len);
		if (n > 0)
			return n;
		if (n == 0) {
			snprintf(c->error, sizeof(c->error), "closed by peer");
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		snprintf(c->error, sizeof(c->error), "%s", strerror(errno));
		return -1;
	}
}

static ssize_t transport_write(struct net_conn *c, const void *buf, size_t len)
{
	if (c->ssl != NULL) {
		size_t n = 0;
		int ret = tls_handshake(c);
		if (ret <= 0)
			return ret;
		errno = 0;
		ERR_clear_error();
		if (SSL_write_ex(c->ssl, buf, len, &n) == 1)
			return (ssize_t)n;
		return tls_result(c, 0);
	}
	for (;;) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		snprintf(c->error, sizeof(c->error), "%s", strerror(errno));
		return -1;
	}
}

/* Bytes are counted here, for every protocol on a connection, as they pass
 * between TLS (or TCP) and what is above it: after decryption, and before
 * decompression once COMPRESS is on, so the counters follow what the
 * network carried (docs/metrics.md). */
static ssize_t counted_read(struct net_conn *c, void *buf, size_t len)
{
	ssize_t n = transport_read(c, buf, len);

	if (n > 0) {
		metrics_add(METRICS_BYTES_IN, (uint64_t)n);
		c->bytes_in += (uint64_t)n;
	}
	return n;
}

static ssize_t counted_write(struct net_conn *c, const void *buf, size_t len)
{
	ssize_t n = transport_write(c, buf, len);

	if (n > 0) {
		metrics_add(METRICS_BYTES_OUT, (uint64_t)n);
		c->bytes_out += (uint64_t)n;
	}
	return n;
}

/* Inflates into buf, reading compressed bytes from the transport only when
 * what was read has all been inflated: so "nothing now" (0) means the
 * transport has nothing either, and the next epoll event covers the rest.
 * The output never exceeds len, however much the input inflates to. */
static ssize_t compressed_read(struct net_conn *c, void *buf, size_t len)
{
	for (;;) {
		const char *err;
		ssize_t n = net_compress_inflate(c->z, buf, len, &err);
		size_t room;
		uint8_t *space;

		if (n > 0)
			return n;
		/* The client ended its stream: what follows is plain, and is
		 * left unread until the glue stops compressing (or closes). */
		if (n < 0 && err == NULL && net_compress_peer_ended(c->z))
			return 0;
		if (n < 0) {
			c->corrupt = err != NULL;
			if (err != NULL)
				snprintf(c->error, sizeof(c->error), "invalid compressed data (%s)", err);
			else
				snprintf(c->error, sizeof(c->error), "compressed stream ended by peer");
			return -1;
		}
		space = net_compress_in_room(c->z, &room);
		n = counted_read(c, space, room);
		if (n <= 0)
			return n;
		net_compress_in_added(c->z, (size_t)n);
	}
}

/* Hands the compressed output waiting to the transport: 1 all of it, 0 the
 * transport would block, -1 failed. The same bytes are offered again after
 * "would block", as OpenSSL wants for a retried write. */
static int compressed_push(struct net_conn *c)
{
	for (;;) {
		size_t len;
		const uint8_t *data = net_compress_out(c->z, &len);
		ssize_t n;

		if (len == 0)
			return 1;
		n = counted_write(c, data, len);
		if (n <= 0)
			return n < 0 ? -1 : 0;
		net_compress_out_sent(c->z, (size_t)n);
	}
}

/* Deflates a piece of buf only once the previous piece has gone out, so
 * that at most one piece waits here; the piece counts as written as soon
 * as it is deflated, and net_conn_flush sends what is left of it. */
static ssize_t compressed_write(struct net_conn *c, const void *buf, size_t len)
{
	int r = compressed_push(c);
	size_t took;

	if (r <= 0)
		return r;
	took = net_compress_deflate(c->z, buf, len);
	if (compressed_push(c) < 0)
		return -1;
	return (ssize_t)took;
}

ssize_t net_conn_read(struct net_conn *c, void *buf, size_t len)
{
	return c->z != NULL ? compressed_read(c, buf, len) : counted_read(c, buf, len);
}

ssize_t net_conn_write(struct net_conn *c, const void *buf, size_t len)
{
	if (len == 0)
		return 0;
	return c->z != NULL ? compressed_write(c, buf, len) : counted_write(c, buf, len);
}

int net_conn_flush(struct net_conn *c)
{
	return c->z != NULL ? compressed_push(c) : 1;
}

size_t net_conn_unsent(const struct net_conn *c)
{
	size_t len = 0;

	if (c->z != NULL)
		(void)net_compress_out(c->z, &len);
	return len;
}

void net_conn_start_compression(struct net_conn *c, const void *pending, size_t len)
{
	c->z = net_compress_new(pending, len);
}

int net_conn_stop_compression(struct net_conn *c, struct buf *in)
{
	const uint8_t *unread;
	size_t len;
	int pushed;

	if (!c->z_finished) {
		net_compress_finish(c->z);
		c->z_finished = true;
	}
	pushed = compressed_push(c);
	if (pushed <= 0)
		return pushed;
	unread = net_compress_unread(c->z, &len);
	buf_append(in, unread, len);
	net_compress_free(&c->z);
	c->z_finished = false;
	return 1;
}

bool net_conn_compression_ended(const struct net_conn *c)
{
	return c->z != NULL && net_compress_peer_ended(c->z);
}

bool net_conn_is_compressed(const struct net_conn *c) { return c->z != NULL; }
bool net_conn_input_corrupt(const struct net_conn *c) { return c->corrupt; }

bool net_conn_partial_record(const struct net_conn *c)
{
	/* SSL_has_pending also counts the unprocessed bytes of an incomplete
	 * record, which net_conn_read leaves in OpenSSL's buffer after the
	 * socket said "would block". */
	return c->ssl != NULL && SSL_has_pending(c->ssl) == 1;
}

/* Why: a client that writes the last piece of a command separately (Python's
 * imaplib sends an APPEND literal and then its CRLF in two send() calls) has
 * Nagle's algorithm hold that small piece until everything before it is
 * acknowledged. Linux delays the ACK of data the application has read when
 * the connection looks interactive (it answered the previous segment), in
 * the hope of carrying it on a reply; but the server has no reply until the
 * command is complete, so both sides wait for the delayed-ACK timer: 40 ms
 * and more per APPEND. TCP_QUICKACK sends the pending ACK now (the kernel
 * does so only once the receive queue is empty, hence "after reading until
 * would block") and leaves the "interactive" mode until the next reply puts
 * the connection back in it: it is not sticky, so it is set again at every
 * such point. It means the same for TLS, whose records ride on this socket.
 * A failure costs only the delay, so it is not reported. */
void net_conn_ack_now(struct net_conn *c)
{
#ifdef TCP_QUICKACK
	int one = 1;

	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
#else
	(void)c;
#endif
}

enum net_fill net_conn_fill(struct net_conn *c, struct buf *in, size_t max, bool *got_r)
{
	*got_r = false;
	for (;;) {
		ssize_t n;
		size_t room;

		if (in->len >= max)
			return NET_FILL_FULL;
		/* Room for one read chunk, not the whole limit: an idle
		 * session's input buffer stays small (it still grows to max
		 * for a client that sends that much at once). Reads go into
		 * the room there is while it is not tiny, so that the buffer
		 * is not grown, and copied, at every read. */
		room = in->cap - in->len;
		if (room < NET_READ_CHUNK / 4) {
			buf_reserve(in, max - in->len < NET_READ_CHUNK ? max - in->len : NET_READ_CHUNK);
			room = in->cap - in->len;
		}
		if (room > max - in->len)
			room = max - in->len;
		n = net_conn_read(c, in->data + in->len, room);
		if (n == 0)
			return NET_FILL_DRAINED;
		if (n < 0)
			return NET_FILL_EOF;
		in->len += (size_t)n;
		*got_r = true;
	}
}
