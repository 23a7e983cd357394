/* A blocking client connection, plain or TLS (OpenSSL), for kairanctl
 * import from another IMAP server. Not for kairand's event loops: every
 * call waits, up to the timeout given at connect for each read or write.
 *
 * TLS: 1.2 or newer; the server's certificate is verified against the
 * system's trust store (or ca_file) and must name host, unless insecure
 * is set (a test server with a self-signed certificate, by its owner's
 * explicit choice). */
#ifndef KAIRAN_NET_CLIENT_H
#define KAIRAN_NET_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct net_client;

struct net_client_tls {
	const char *ca_file;      /* NULL: the system's trust store */
	bool insecure;            /* no verification at all */
};

/* Connects to host:port (a name or an address), with TLS from the start
 * when tls is given. 0 with *c_r set, or -1 with a one-line reason. */
int net_client_connect(const char *host, const char *port, const struct net_client_tls *tls,
		       int timeout_s, struct net_client **c_r, char *err, size_t errlen);
/* Starts TLS on a plain connection (after STARTTLS was answered OK). */
int net_client_starttls(struct net_client *c, const struct net_client_tls *tls,
			char *err, size_t errlen);
/* Up to len bytes: > 0, 0 at the end of the stream, -1 with err (a
 * timeout, a reset, a TLS failure). */
ssize_t net_client_read(struct net_client *c, void *buf, size_t len, char *err, size_t errlen);
/* All of len bytes, or -1 with err. */
int net_client_write(struct net_client *c, const void *buf, size_t len, char *err, size_t errlen);
void net_client_close(struct net_client **cp);

#endif
