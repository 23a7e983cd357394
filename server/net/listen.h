/* Listening sockets. */
#ifndef KAIRAN_NET_LISTEN_H
#define KAIRAN_NET_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

/* Binds and listens on "host:port" ("[v6]:port"), or on a Unix socket when
 * given an absolute path (listen.c says when an old one is replaced); the
 * socket is non-blocking and close-on-exec. `shared` (TCP only) sets
 * SO_REUSEPORT, so that other kairand processes of the same user may
 * listen on the same port and the kernel spreads the connections among
 * them. Returns the fd, or -1 with a one-line reason in err and errno the
 * failure's (EADDRINUSE: the port is taken). */
int net_listen(const char *hostport, bool shared, char *err, size_t errlen);

#endif
