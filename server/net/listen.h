/* Listening sockets. */
#ifndef KAIRAN_NET_LISTEN_H
#define KAIRAN_NET_LISTEN_H

#include <stddef.h>

/* Binds and listens on "host:port" ("[v6]:port"), or on a Unix socket when
 * given an absolute path (listen.c says when an old one is replaced); the
 * socket is non-blocking and close-on-exec. Returns the fd, or -1 with a one-line reason in err. */
int net_listen(const char *hostport, char *err, size_t errlen);

#endif
