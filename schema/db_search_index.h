/* The search indexer's side of the store (migrations/0008): the messages
 * whose text is not in the trigram indexes yet (search_ready false, "the
 * backlog"), and marking them indexed. Used by kairand's indexer thread
 * (server/indexer.c) on a connection of its own; SEARCH never needs it,
 * since db_search reads the backlog's text directly. */
#ifndef KAIRAN_SCHEMA_DB_SEARCH_INDEX_H
#define KAIRAN_SCHEMA_DB_SEARCH_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "schema/db.h"

/* How long the oldest message of the backlog has waited, in milliseconds
 * since its content was stored (by the database's clock), in *age_ms_r;
 * -1 when the backlog is empty. One index probe. 0, or -1 with err. */
int db_search_backlog(db *d, int64_t *age_ms_r, char *err, size_t errlen);

/* Marks up to limit messages of the backlog indexed, the oldest first, in
 * one transaction; the UPDATE is what inserts their text into the trigram
 * indexes. Rows another kairand's indexer holds at that moment are
 * skipped, so several processes share the backlog without waiting for one
 * another. *count_r is how many were marked (0 once the backlog is empty).
 * 0, or -1 with err. */
int db_search_index_batch(db *d, long limit, long *count_r, char *err, size_t errlen);

#endif
