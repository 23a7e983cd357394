#include "server/net/listen.h"
#include "server/core/config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int net_listen(const char *hostport, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	char host[256], portstr[16];
	int port, fd = -1, one = 1, rc;

	err[0] = '\0';
	if (config_split_hostport(hostport, host, sizeof(host), &port) < 0) {
		snprintf(err, errlen, "invalid listen address '%s' (want host:port)", hostport);
		return -1;
	}
	snprintf(portstr, sizeof(portstr), "%d", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", hostport, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
			break;
		snprintf(err, errlen, "cannot listen on %s: %s", hostport, strerror(errno));
		close(fd);
		fd = -1;
	}
	if (fd < 0 && err[0] == '\0')
		snprintf(err, errlen, "cannot listen on %s", hostport);
	freeaddrinfo(res);
	return fd;
}
