/* See metrics.h. */
#include "server/core/metrics.h"

#include <time.h>

uint64_t metrics_counters[METRICS_NCOUNTERS];

/* Upper bounds, in microseconds, of the latency histogram's buckets: from
 * a command served from the state cache (well under a millisecond) to a
 * SEARCH near search_timeout_ms. Few buckets, so that 60-odd commands
 * stay a modest page. +Inf is the count. */
static const uint64_t bucket_us[] = { 1000, 5000, 25000, 100000, 500000, 2500000, 10000000 };
#define NBUCKETS (sizeof(bucket_us) / sizeof(bucket_us[0]))

struct command_stats {
	uint64_t results[3];        /* by enum metrics_result */
	uint64_t buckets[NBUCKETS]; /* not cumulative: each in its own bucket */
	uint64_t sum_us;
};

static struct command_stats commands[METRICS_COMMAND_SLOTS];

static const struct {
	enum metrics_counter c;
	const char *name, *help, *labels;
} counter_defs[] = {
	{ METRICS_CONNECTIONS, "kairan_connections_total", "Client connections accepted.",
	  NULL },
	{ METRICS_BYTES_IN, "kairan_bytes_received_total",
	  "Bytes received from clients (after TLS decryption, before COMPRESS inflates).", NULL },
	{ METRICS_BYTES_OUT, "kairan_bytes_sent_total",
	  "Bytes sent to clients (after COMPRESS deflates, before TLS encryption).", NULL },
	{ METRICS_TLS_HANDSHAKES, "kairan_tls_handshakes_total", "TLS handshakes completed.", NULL },
	{ METRICS_TLS_FAILURES, "kairan_tls_handshake_failures_total", "TLS handshakes that failed.",
	  NULL },
	{ METRICS_LOGINS_OK, "kairan_logins_total", "Authentications (LOGIN, AUTHENTICATE) by result.",
	  "result=\"success\"" },
	{ METRICS_LOGINS_FAILED, "kairan_logins_total", NULL, "result=\"failure\"" },
	{ METRICS_STORE_COMMANDS, "kairan_store_commands_total",
	  "Commands that needed the PostgreSQL store (a connection check and at least one round trip).",
	  NULL },
	{ METRICS_BUS_NOTIFICATIONS, "kairan_bus_notifications_total",
	  "Change notifications the change bus received from PostgreSQL.", NULL },
	{ METRICS_BUS_RECONCILES, "kairan_bus_reconciles_total",
	  "Reconcile polls the change bus completed.", NULL },
	{ METRICS_CONNECTIONS_RATE_LIMITED, "kairan_connections_rate_limited_total",
	  "Connections refused because their address opened too many in one second.", NULL },
	{ METRICS_SLOW_TIMEOUTS_LOGIN, "kairan_slow_client_timeouts_total",
	  "Sessions ended because the client was too slow, by timeout.", "timeout=\"login\"" },
	{ METRICS_SLOW_TIMEOUTS_COMMAND, "kairan_slow_client_timeouts_total", NULL,
	  "timeout=\"command\"" },
	{ METRICS_SLOW_TIMEOUTS_LITERAL, "kairan_slow_client_timeouts_total", NULL,
	  "timeout=\"literal\"" },
};

static uint64_t load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

uint64_t metrics_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void metrics_command(size_t slot, enum metrics_result result, uint64_t usec)
{
	struct command_stats *st = &commands[slot < METRICS_COMMAND_SLOTS ? slot : 0];
	size_t b = 0;

	while (b < NBUCKETS && usec > bucket_us[b])
		b++;
	__atomic_fetch_add(&st->results[result], 1, __ATOMIC_RELAXED);
	if (b < NBUCKETS)
		__atomic_fetch_add(&st->buckets[b], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&st->sum_us, usec, __ATOMIC_RELAXED);
}

static void render_counters(struct buf *out)
{
	for (size_t i = 0; i < sizeof(counter_defs) / sizeof(counter_defs[0]); i++) {
		if (counter_defs[i].help != NULL)
			buf_appendf(out, "# HELP %s %s\n# TYPE %s counter\n", counter_defs[i].name,
				    counter_defs[i].help, counter_defs[i].name);
		buf_appendf(out, "%s%s%s%s %llu\n", counter_defs[i].name,
			    counter_defs[i].labels != NULL ? "{" : "",
			    counter_defs[i].labels != NULL ? counter_defs[i].labels : "",
			    counter_defs[i].labels != NULL ? "}" : "",
			    (unsigned long long)load(&metrics_counters[counter_defs[i].c]));
	}
}

static void render_results(struct buf *out, const char *(*slot_name)(size_t slot))
{
	static const char *const result_names[] = { "ok", "no", "bad" };

	buf_append_str(out, "# HELP kairan_commands_total IMAP commands by name and result.\n"
			    "# TYPE kairan_commands_total counter\n");
	for (size_t i = 0; i < METRICS_COMMAND_SLOTS; i++) {
		const char *name = slot_name(i);
		if (name == NULL)
			continue;
		for (size_t r = 0; r < 3; r++)
			buf_appendf(out, "kairan_commands_total{command=\"%s\",result=\"%s\"} %llu\n",
				    name, result_names[r], (unsigned long long)load(&commands[i].results[r]));
	}
}

/* Counts are read bucket by bucket while workers add to them, so the
 * cumulative +Inf is computed from the same reads as the buckets (and the
 * results): the histogram is always monotonic in le, as the format needs. */
static void render_histograms(struct buf *out, const char *(*slot_name)(size_t slot))
{
	buf_append_str(out, "# HELP kairan_command_duration_seconds Time from a complete command "
			    "to its tagged response.\n"
			    "# TYPE kairan_command_duration_seconds histogram\n");
	for (size_t i = 0; i < METRICS_COMMAND_SLOTS; i++) {
		const char *name = slot_name(i);
		uint64_t cumulative = 0, total = 0;
		if (name == NULL)
			continue;
		for (size_t r = 0; r < 3; r++)
			total += load(&commands[i].results[r]);
		for (size_t b = 0; b < NBUCKETS; b++) {
			cumulative += load(&commands[i].buckets[b]);
			buf_appendf(out, "kairan_command_duration_seconds_bucket{command=\"%s\",le=\"%g\"} "
				    "%llu\n", name, (double)bucket_us[b] / 1e6, (unsigned long long)cumulative);
		}
		if (total < cumulative)
			total = cumulative;
		buf_appendf(out, "kairan_command_duration_seconds_bucket{command=\"%s\",le=\"+Inf\"} %llu\n"
			    "kairan_command_duration_seconds_sum{command=\"%s\"} %.6f\n"
			    "kairan_command_duration_seconds_count{command=\"%s\"} %llu\n",
			    name, (unsigned long long)total, name,
			    (double)load(&commands[i].sum_us) / 1e6, name, (unsigned long long)total);
	}
}

void metrics_render(struct buf *out, const char *(*slot_name)(size_t slot))
{
	render_counters(out);
	render_results(out, slot_name);
	render_histograms(out, slot_name);
}
