/* The connection interface: plain TCP or TLS behind the same calls, so that
 * nothing outside server/net/ ever sees OpenSSL (after Redis's connection.h).
 * Sockets are non-blocking; read and write never block and report "would
 * block" as 0, so the caller simply tries again on the next epoll event
 * (connections are registered edge-triggered for both directions, which
 * covers OpenSSL's WANT_READ-on-write and WANT_WRITE-on-read cases). */
#ifndef KAIRAN_NET_CONN_H
#define KAIRAN_NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct net_conn;
struct net_tls;

/* Takes ownership of fd (closed by net_conn_free). */
struct net_conn *net_conn_new(int fd, const struct sockaddr *peer, socklen_t peerlen);
void net_conn_free(struct net_conn **cp);
int net_conn_fd(const struct net_conn *c);
/* "192.0.2.1:5555" or "[2001:db8::1]:5555". */
const char *net_conn_peer(const struct net_conn *c);
/* The address alone, for per-address accounting. */
const char *net_conn_peer_addr(const struct net_conn *c);
bool net_conn_peer_is_loopback(const struct net_conn *c);
/* Bytes read from and written to the peer so far, as the byte metrics
 * count them: after TLS, and compressed once COMPRESS is on. */
uint64_t net_conn_bytes_in(const struct net_conn *c);
uint64_t net_conn_bytes_out(const struct net_conn *c);

/* Starts the server side of a TLS handshake; reads and writes drive it.
 * -1 if a TLS session could not be created. */
int net_conn_start_tls(struct net_conn *c, struct net_tls *tls);
bool net_conn_is_tls(const struct net_conn *c);
/* True while the handshake is still running. */
bool net_conn_tls_handshaking(const struct net_conn *c);

/* > 0: bytes read; 0: nothing now (would block); -1: closed or failed. */
ssize_t net_conn_read(struct net_conn *c, void *buf, size_t len);
struct buf;
enum net_fill {
	NET_FILL_DRAINED,   /* the socket has nothing more for now */
	NET_FILL_FULL,      /* in reached max: with edge-triggered epoll no event
			     * comes for what still waits, read again after
			     * making room */
	NET_FILL_EOF,       /* the peer is gone (closed or failed) */
};
/* Reads into in (appending) until the socket has nothing more, in holds
 * max bytes, or the peer is gone. *got_r: whether any byte arrived. */
enum net_fill net_conn_fill(struct net_conn *c, struct buf *in, size_t max, bool *got_r);
/* > 0: bytes written; 0: would block; -1: failed. */
ssize_t net_conn_write(struct net_conn *c, const void *buf, size_t len);
/* COMPRESS=DEFLATE (RFC 4978, server/net/compress.h): from now on what is
 * read is inflated and what is written deflated, between the caller and
 * TLS (or TCP). pending: bytes already read from the transport after the
 * command that asked for it (the client may not send any before the OK,
 * but if it did and compressed them, they are its next commands); they are
 * inflated first. Nothing announces them to epoll: read after calling. */
void net_conn_start_compression(struct net_conn *c, const void *pending, size_t len);
bool net_conn_is_compressed(const struct net_conn *c);
/* Ends compression both ways (RFC 8437 §4.1), after the last compressed
 * response was flushed: our stream gets its final block, and what was
 * read but not inflated (the client sends plain after ending its stream,
 * or after the command that ends it) is appended to in. 1: done, plain
 * from now on; 0: the final block waits for EPOLLOUT (call again); -1:
 * failed. */
int net_conn_stop_compression(struct net_conn *c, struct buf *in);
/* The client ended its compressed stream (a final block): nothing more is
 * read until compression stops; if it does not, the peer has gone. */
bool net_conn_compression_ended(const struct net_conn *c);
/* With compression, net_conn_write counts a piece as written once it is
 * deflated, and its compressed bytes may still wait here for the socket:
 * after the last write of a batch, net_conn_flush sends them. 1: nothing
 * waits; 0: would block (try again on EPOLLOUT); -1: failed. Always 1
 * without compression. net_conn_unsent: how many bytes wait. */
int net_conn_flush(struct net_conn *c);
size_t net_conn_unsent(const struct net_conn *c);
/* After a read failed: the client's compressed stream was not valid
 * DEFLATE. The connection can still carry a last response (BYE). */
bool net_conn_input_corrupt(const struct net_conn *c);
/* A short reason for the last -1, for the log. */
const char *net_conn_error(const struct net_conn *c);

/* True when TLS holds the first bytes of a record it cannot decrypt yet:
 * the peer is in the middle of sending something, though net_conn_read had
 * nothing to give. Always false for plain connections. */
bool net_conn_partial_record(const struct net_conn *c);
/* Acknowledges at once, at the TCP level, everything read so far, instead of
 * letting the kernel delay the ACK in the hope of carrying it on a reply. For
 * when the peer has sent part of something and the server will say nothing
 * until the rest arrives (why: see conn.c). Call it after reading until
 * "would block"; it does not last, so call it again at each such point. */
void net_conn_ack_now(struct net_conn *c);

#endif
