/* The service manager's readiness protocol (systemd's sd_notify(3)),
 * spoken without libsystemd: one datagram of "KEY=value\n" lines to the
 * AF_UNIX socket named by $NOTIFY_SOCKET (a path, or "@name" for an
 * abstract socket). kairand says READY=1 once it serves, RELOADING=1 and
 * READY=1 around a SIGHUP reload, STOPPING=1 at shutdown, and STATUS=
 * lines for `systemctl status` (docs/deployment.md). Without
 * $NOTIFY_SOCKET every call does nothing.
 *
 * Process-wide state, used from the event loop's thread only. */
#ifndef KAIRAN_SERVER_SERVICE_NOTIFY_H
#define KAIRAN_SERVER_SERVICE_NOTIFY_H

#include <stddef.h>

/* Reads $NOTIFY_SOCKET and connects a datagram socket to it. Call before
 * dropping root: a connected socket keeps working whatever the socket
 * file's permissions. 0 (also when there is nothing to notify), or -1 with
 * the reason in err (kairand logs it and goes on: the service manager then
 * times the start out, which says more than a refusal to start). */
int service_notify_open(char *err, size_t errlen);

/* Sends one message: printf-style lines, e.g. "READY=1\nSTATUS=serving".
 * Failures are logged once and otherwise ignored: a lost notification
 * must not stop the server. */
void service_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "RELOADING=1" with the MONOTONIC_USEC= that Type=notify-reload asks for. */
void service_notify_reloading(void);

void service_notify_close(void);

#endif
