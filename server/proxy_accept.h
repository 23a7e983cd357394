/* Connections on a PROXY listener (config imap_proxy_listen,
 * imaps_proxy_listen; docs/deployment.md, "Behind a load balancer"): only
 * from the addresses proxy_trusted names, and the first bytes must be a
 * PROXY protocol v2 header (server/net/proxy_v2.h). The header is read on
 * the event loop, a connection at a time parked until it is complete,
 * then the IMAP session starts (client_accept) with the client's address
 * from the header: logs, per-address limits and the plaintext-login rules
 * see the real client, and a proxied client is never taken for loopback.
 * Loop thread only. */
#ifndef KAIRAN_SERVER_PROXY_ACCEPT_H
#define KAIRAN_SERVER_PROXY_ACCEPT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct server;

/* A header not complete this long after the connection is dropped. */
#define PROXY_HEADER_TIMEOUT_MS 5000
/* Connections waiting for their header at once; more are refused. */
#define PROXY_MAX_PENDING 1024

void proxy_accept(struct server *srv, int fd, const struct sockaddr *sa, socklen_t salen,
		  bool implicit_tls);
/* Drops the connections whose header is late. */
void proxy_tick(struct server *srv, uint64_t now_ms);
/* Closes every connection still waiting (shutdown). */
void proxy_close_all(struct server *srv);

/* Whether the address is within one of the networks of list ("127.0.0.1
 * 10.0.0.0/8 ::1 fd00::/8", separated by spaces or commas; an address
 * without a prefix is a single host). */
bool proxy_trusted_address(const char *list, const struct sockaddr *sa);

#endif
