/* Garbage collection of message content no mailbox refers to any more.
 *
 * Content rows are shared (single instance), so EXPUNGE only removes the
 * mailbox_messages row; the content goes here, later. Racing deliveries are
 * safe: the candidates are locked FOR UPDATE SKIP LOCKED, so a row that an
 * APPEND is re-using at this moment (its INSERT ... ON CONFLICT DO UPDATE
 * holds the row lock) or that a COPY is referencing (its foreign-key check
 * holds a KEY SHARE lock) is skipped; an APPEND that comes after the lock
 * waits, finds the row gone, and inserts it afresh. Rows younger than the
 * grace period are left alone too, which keeps the collector away from
 * content whose first reference is being written. Batches bound the length
 * of each transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/db_private.h"

#define GC_BATCH 1000

static const char gc_sql[] =
	"WITH victims AS (SELECT m.id FROM messages m"
	"   WHERE m.created_at < now() - make_interval(secs => $1::bigint)"
	"   AND NOT EXISTS (SELECT 1 FROM mailbox_messages mm WHERE mm.message_id = m.id)"
	"   LIMIT $2::int FOR UPDATE OF m SKIP LOCKED)"
	" DELETE FROM messages WHERE id IN (SELECT id FROM victims)"
	"   AND NOT EXISTS (SELECT 1 FROM mailbox_messages mm WHERE mm.message_id = messages.id)";

int db_gc(const char *dsn, long grace_seconds, FILE *out, char *err, size_t errlen)
{
	char grace[24], batch[16];
	const char *params[2] = { grace, batch };
	PGconn *conn = db_connect(dsn, err, errlen);
	long long total = 0;

	if (conn == NULL)
		return -1;
	snprintf(grace, sizeof(grace), "%ld", grace_seconds);
	snprintf(batch, sizeof(batch), "%d", GC_BATCH);
	for (;;) {
		PGresult *res = PQexecParams(conn, gc_sql, 2, NULL, params, NULL, NULL, 0);
		long long n;

		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			db_err_result(err, errlen, "collecting unreferenced content", conn, res);
			PQclear(res);
			PQfinish(conn);
			return -1;
		}
		n = strtoll(PQcmdTuples(res), NULL, 10);
		PQclear(res);
		total += n;
		if (n < GC_BATCH)
			break;
	}
	PQfinish(conn);
	fprintf(out, "removed %lld unreferenced message%s\n", total, total == 1 ? "" : "s");
	return 0;
}
