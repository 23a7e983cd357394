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

/* The RFC 7162 history (migrations/0011): expunges and readers' private
 * changes older than the configured days go, in batches, and in the same
 * statement the floor below which the history is incomplete rises to the
 * highest modseq removed, so a client resynchronising from before it gets
 * the RFC's fallback instead of a silent gap. */
static const char *const prune_sql[] = {
	"WITH old AS (DELETE FROM expunges WHERE ctid = ANY (ARRAY(SELECT ctid FROM expunges"
	"   WHERE expunged_at < now() - make_interval(days => $1::int) LIMIT $2::int))"
	"   RETURNING mailbox_id, modseq),"
	" fl AS (UPDATE mailboxes m SET expunged_floor = x.top"
	"   FROM (SELECT mailbox_id, max(modseq) AS top FROM old GROUP BY 1) x"
	"   WHERE m.id = x.mailbox_id AND m.expunged_floor < x.top)"
	" SELECT count(*) FROM old",
	"WITH old AS (DELETE FROM seen_changes WHERE ctid = ANY (ARRAY(SELECT ctid FROM seen_changes"
	"   WHERE changed_at < now() - make_interval(days => $1::int) LIMIT $2::int))"
	"   RETURNING account_id, mailbox_id, modseq),"
	" fl AS (UPDATE seen s SET pruned_modseq = x.top"
	"   FROM (SELECT account_id, mailbox_id, max(modseq) AS top FROM old GROUP BY 1, 2) x"
	"   WHERE s.account_id = x.account_id AND s.mailbox_id = x.mailbox_id"
	"   AND s.pruned_modseq < x.top)"
	" SELECT count(*) FROM old",
};

int db_prune_history(const char *dsn, long days, FILE *out, char *err, size_t errlen)
{
	char d[24], batch[16];
	const char *params[2] = { d, batch };
	PGconn *conn = db_connect(dsn, err, errlen);
	long long total[2] = { 0, 0 };

	if (conn == NULL)
		return -1;
	snprintf(d, sizeof(d), "%ld", days);
	snprintf(batch, sizeof(batch), "%d", GC_BATCH);
	for (size_t k = 0; k < 2; k++)
		for (;;) {
			PGresult *res = PQexecParams(conn, prune_sql[k], 2, NULL, params, NULL, NULL, 0);
			long long n;
			if (PQresultStatus(res) != PGRES_TUPLES_OK) {
				db_err_result(err, errlen, "pruning the modseq history", conn, res);
				PQclear(res);
				PQfinish(conn);
				return -1;
			}
			n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
			PQclear(res);
			total[k] += n;
			if (n < GC_BATCH)
				break;
		}
	PQfinish(conn);
	fprintf(out, "pruned %lld expunged UID%s and %lld private change%s older than %ld day%s\n",
		total[0], total[0] == 1 ? "" : "s", total[1], total[1] == 1 ? "" : "s", days,
		days == 1 ? "" : "s");
	return 0;
}
