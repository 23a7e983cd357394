/* The backlog of the trigram indexes (schema/db_search_index.h,
 * migrations/0008). */
#include <stdio.h>
#include <stdlib.h>

#include "schema/db_private.h"
#include "schema/db_search_index.h"

/* The backlog: the oldest waiting message, by id through
 * messages_search_backlog (ids grow with time, closely enough for a
 * deadline counted in seconds), and its age by the database's clock, the
 * one created_at was written with.
 *
 * The batch: SKIP LOCKED lets the indexers of several kairand processes
 * take disjoint batches. FOR NO KEY UPDATE rather than FOR UPDATE: it is
 * the lock the UPDATE itself takes (search_ready is no key column), and
 * unlike FOR UPDATE it does not conflict with the KEY SHARE lock a COPY's
 * or APPEND's foreign key check takes on the messages row it refers to, so
 * deliveries never wait for a batch. A row that another indexer marked
 * between this statement's snapshot and its lock is re-checked against
 * NOT search_ready and dropped.
 *
 * Neither is a prepared statement: a prepared plan is made once, and the
 * indexer's were made at its first poll, on an empty table in a new
 * database, as a scan of the whole table, which they stayed until
 * autovacuum's first ANALYZE (14-26 ms a poll after 12,000 deliveries,
 * 0.1 ms with a plan of the moment; tests/bench/results-lmtp.md). Sent
 * unnamed, each is planned for the table as it is; the indexer runs a few
 * of them a second. */
static const char BACKLOG_SQL[] =
	"SELECT greatest(0, (extract(epoch FROM now() - created_at) * 1000)::bigint)"
	" FROM messages WHERE NOT search_ready ORDER BY id LIMIT 1";
static const char INDEX_BATCH_SQL[] =
	"UPDATE messages SET search_ready = true WHERE id IN (SELECT id FROM messages"
	"   WHERE NOT search_ready ORDER BY id LIMIT %ld FOR NO KEY UPDATE SKIP LOCKED)";

int db_search_backlog(db *d, int64_t *age_ms_r, char *err, size_t errlen)
{
	PGresult *res = PQexecParams(d->conn, BACKLOG_SQL, 0, NULL, NULL, NULL, NULL, 0);
	int ret = 0;

	*age_ms_r = -1;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_err_result(err, errlen, "reading the search backlog", d->conn, res);
		ret = -1;
	} else if (PQntuples(res) > 0 && db_get_int64(res, 0, 0, age_ms_r) < 0) {
		db_errf(err, errlen, "reading the search backlog: unexpected result");
		ret = -1;
	}
	PQclear(res);
	return ret;
}

int db_search_index_batch(db *d, long limit, long *count_r, char *err, size_t errlen)
{
	char sql[sizeof(INDEX_BATCH_SQL) + 24];
	PGresult *res;
	int ret = 0;

	/* The limit is written into the text: a parameter would make the
	 * statement's plan a generic one again (schema/db_conn.c). */
	snprintf(sql, sizeof(sql), INDEX_BATCH_SQL, limit);
	res = PQexecParams(d->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
	*count_r = 0;
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		db_err_result(err, errlen, "indexing search text", d->conn, res);
		ret = -1;
	} else {
		*count_r = strtol(PQcmdTuples(res), NULL, 10);
	}
	PQclear(res);
	return ret;
}
