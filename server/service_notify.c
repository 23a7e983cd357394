#include "server/service_notify.h"
#include "server/core/log.h"

#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_addrlen;
static bool notify_failed_logged;

int service_notify_open(char *err, size_t errlen)
{
	const char *name = getenv("NOTIFY_SOCKET");
	size_t len;

	if (name == NULL || name[0] == '\0')
		return 0;
	len = strlen(name);
	if ((name[0] != '/' && name[0] != '@') || len >= sizeof(notify_addr.sun_path)) {
		/* vsock: addresses and the like are not for a mail server. */
		snprintf(err, errlen, "NOTIFY_SOCKET=%s: not an AF_UNIX socket path", name);
		return -1;
	}
	memset(&notify_addr, 0, sizeof(notify_addr));
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, name, len);
	if (name[0] == '@')
		notify_addr.sun_path[0] = '\0';  /* the abstract namespace */
	notify_addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
				     (name[0] == '/' ? 1 : 0));
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (notify_fd < 0) {
		snprintf(err, errlen, "NOTIFY_SOCKET: socket: %s", strerror(errno));
		return -1;
	}
	if (connect(notify_fd, (struct sockaddr *)&notify_addr, notify_addrlen) < 0) {
		snprintf(err, errlen, "NOTIFY_SOCKET=%s: %s", name, strerror(errno));
		close(notify_fd);
		notify_fd = -1;
		return -1;
	}
	return 0;
}

static void notify_send(const char *msg, size_t len)
{
	ssize_t n = send(notify_fd, msg, len, MSG_NOSIGNAL);

	/* A service manager that re-executed itself (systemctl daemon-reexec)
	 * binds its socket anew: the connected peer is gone, the address not. */
	if (n < 0 && (errno == ECONNREFUSED || errno == ENOTCONN))
		n = sendto(notify_fd, msg, len, MSG_NOSIGNAL, (struct sockaddr *)&notify_addr,
			   notify_addrlen);
	if (n < 0 && !notify_failed_logged) {
		notify_failed_logged = true;
		log_warning("NOTIFY_SOCKET: cannot notify the service manager: %s", strerror(errno));
	}
}

void service_notify(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int len;

	if (notify_fd < 0)
		return;
	va_start(ap, fmt);
	len = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	notify_send(msg, (size_t)len < sizeof(msg) ? (size_t)len : sizeof(msg) - 1);
}

void service_notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	service_notify("RELOADING=1\nMONOTONIC_USEC=%llu",
		       (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
}

void service_notify_close(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
}
