/* Process-wide counters for the Prometheus endpoint (docs/metrics.md).
 *
 * Any thread updates them with relaxed atomic increments: no lock on the
 * hot path, and a scrape reads each counter on its own (a scrape is not a
 * consistent snapshot across counters, which Prometheus does not need).
 * Gauges that describe the present (sessions by state, the worker queue,
 * the change bus) are not kept here: the endpoint reads them from their
 * owners when it is scraped (server/metrics_http.c). */
#ifndef KAIRAN_CORE_METRICS_H
#define KAIRAN_CORE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "server/core/buf.h"

enum metrics_counter {
	METRICS_CONNECTIONS,        /* accepted IMAP connections */
	METRICS_BYTES_IN,           /* bytes read from clients, after TLS */
	METRICS_BYTES_OUT,          /* bytes written to clients, before TLS */
	METRICS_TLS_HANDSHAKES,     /* completed TLS handshakes */
	METRICS_TLS_FAILURES,       /* TLS handshakes that failed */
	METRICS_LOGINS_OK,          /* LOGIN and AUTHENTICATE that succeeded */
	METRICS_LOGINS_FAILED,      /* ... that failed (credentials or authorization) */
	METRICS_STORE_COMMANDS,     /* commands that needed the database */
	METRICS_BUS_NOTIFICATIONS,  /* change notifications the bus received */
	METRICS_BUS_RECONCILES,     /* reconcile polls the bus completed */
	METRICS_CONNECTIONS_RATE_LIMITED, /* refused: max_connection_rate_per_ip */
	METRICS_SLOW_TIMEOUTS_LOGIN,      /* ended by timeout_login */
	METRICS_SLOW_TIMEOUTS_COMMAND,    /* ended by timeout_command */
	METRICS_SLOW_TIMEOUTS_LITERAL,    /* ended by timeout_literal */
	METRICS_NCOUNTERS
};

extern uint64_t metrics_counters[METRICS_NCOUNTERS];

static inline void metrics_add(enum metrics_counter c, uint64_t n)
{
	__atomic_fetch_add(&metrics_counters[c], n, __ATOMIC_RELAXED);
}

/* Commands are counted per slot: slot 0 is every command not in the
 * command table (and lines that did not parse), slot i > 0 the table's
 * command i - 1. Slots beyond METRICS_COMMAND_SLOTS count as slot 0. */
#define METRICS_COMMAND_SLOTS 96

enum metrics_result { METRICS_OK, METRICS_NO, METRICS_BAD };

/* One finished command: its result and how long it ran, in microseconds
 * from the moment it was complete to its tagged response. */
void metrics_command(size_t slot, enum metrics_result result, uint64_t usec);

/* A monotonic clock in microseconds, for command latencies. */
uint64_t metrics_now_us(void);

/* Appends the counters and the command histograms, in the Prometheus text
 * format 0.0.4. slot_name(i) names slot i, or returns NULL for a slot
 * that is not used (it is then left out). */
void metrics_render(struct buf *out, const char *(*slot_name)(size_t slot));

#endif
