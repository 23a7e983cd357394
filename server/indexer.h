/* The search indexer: one background thread per kairand process, with a
 * PostgreSQL connection of its own (not a worker's), that moves messages
 * from the backlog into the trigram indexes (migrations/0008,
 * schema/db_search_index.h) so that APPEND does none of that work.
 *
 * Policy: a batch of `batch` messages, the oldest first, whenever there is
 * a backlog and no APPEND, COPY or MOVE has run in this process for
 * quiet_ms; but once the oldest waiting message has waited max_lag_ms, a
 * batch runs regardless. With nothing to do it sleeps, looking at the
 * backlog every 250 ms (other kairand processes deliver too). Database
 * failures are logged once per outage and retried with backoff. SEARCH is
 * exact whatever the indexer has done, so falling behind only costs time. */
#ifndef KAIRAN_SERVER_INDEXER_H
#define KAIRAN_SERVER_INDEXER_H

#include <stdint.h>

struct activity;
struct indexer;

struct indexer_settings {
	const char *dsn;            /* libpq DSN, as db_open takes it */
	uint64_t quiet_ms;
	uint64_t max_lag_ms;
	long batch;
};

/* Starts the thread; it connects by itself (and keeps trying). settings
 * is copied; settings->dsn and writes must outlive the indexer. Aborts if
 * the thread cannot be created. */
struct indexer *indexer_start(const struct indexer_settings *settings, struct activity *writes);

/* Stops the thread after its current batch (which commits), joins it,
 * closes its connection and frees everything. Sets *ip NULL; NULL-safe. */
void indexer_stop(struct indexer **ip);

#endif
