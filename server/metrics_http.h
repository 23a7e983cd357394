/* The Prometheus endpoint (docs/metrics.md): `GET /metrics` on
 * metrics_listen, answered from the event loop's thread by a minimal
 * HTTP/1.0 and 1.1 responder that never blocks the loop. Requests are
 * bounded in size (4 KiB), time (5 s from accept to the end of the
 * response) and number (16 connections at once); everything else gets a
 * 4xx and the connection closes. One endpoint per process. */
#ifndef KAIRAN_SERVER_METRICS_HTTP_H
#define KAIRAN_SERVER_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct server;

/* Binds spec ("host:port") on srv's loop; refuses an address that is not
 * loopback unless allow_remote. Call as root, before the drop, if the port
 * needs it. 0, or -1 with a one-line reason in err. */
int metrics_http_start(struct server *srv, const char *spec, bool allow_remote, char *err,
		       size_t errlen);
/* Closes the endpoint and its connections; safe if it never started. */
void metrics_http_stop(void);

/* Whether "host" of a host:port is a loopback address (127.0.0.0/8, ::1,
 * localhost). */
bool metrics_http_is_loopback(const char *spec);

#endif
