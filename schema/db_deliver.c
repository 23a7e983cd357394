/* Delivery into several mailboxes in one statement (db_deliver.h).
 *
 * The CTEs, in the order they run:
 *   msg   the content row, as APPEND stores it (db_append.c): inserted, or
 *         found by its hash and locked against kairanctl gc. Once, however
 *         many targets.
 *   want  each target's mailbox: the one named if it can take mail, else
 *         the owner's INBOX (NULL: neither).
 *   lk    those mailbox rows locked, in ascending id order (ORDER BY under
 *         FOR UPDATE: the rows are locked as the sort returns them), after
 *         msg (its EXISTS is evaluated before the first row): two
 *         deliveries with overlapping targets take their common locks in
 *         the same order, so neither waits for a lock the other holds
 *         while holding one it wants. Content comes first, as in APPEND:
 *         a delivery of the same bytes waits on the content row before it
 *         holds any mailbox.
 *   fresh the duplicate records (migrations/0019), with the window $15 > 0:
 *         a mailbox gets one when it has none or only one older than the
 *         window; ON CONFLICT reads the newest committed record whatever
 *         the statement's snapshot, and a concurrent writer of the same
 *         record holds the mailbox lock, so it has committed by now.
 *   go    the mailboxes that take the message: all locked ones without a
 *         window, the fresh ones with it.
 *   mb    their UIDs and quota usage (migrations/0018, counted as APPEND
 *         counts), and ins their entries.
 * The result: per target (in order), its mailbox and what happened
 * ('s'tored, 'd'uplicate, 'n'o mailbox, 'f'ailed: no UID left, or the
 * mailbox was deleted before it could be locked). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/db_deliver.h"
#include "schema/db_private.h"
#include "server/core/spool.h"

#define DELIVER_SQL(RAW) \
	"WITH " DB_MESSAGE_CTE(RAW, "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13") "," \
	" want AS (SELECT t.i, COALESCE(" \
	"     (SELECT b.id FROM mailboxes b WHERE b.owner_id = t.o AND b.name = t.f AND NOT b.noselect)," \
	"     (SELECT b.id FROM mailboxes b WHERE b.owner_id = t.o AND b.name = 'INBOX'" \
	"       AND NOT b.noselect)) AS id" \
	"   FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY t(o, f, i))," \
	" lk AS (SELECT b.id FROM mailboxes b WHERE b.id IN (SELECT id FROM want)" \
	"   AND EXISTS (SELECT 1 FROM msg) ORDER BY b.id FOR UPDATE)," \
	" fresh AS (INSERT INTO delivery_duplicates AS dd (mailbox_id, sha256)" \
	"   SELECT lk.id, msg.sha256 FROM lk, msg WHERE $15::bigint > 0" \
	"   ON CONFLICT (mailbox_id, sha256) DO UPDATE SET delivered_at = now()" \
	"     WHERE dd.delivered_at <= now() - make_interval(secs => $15::bigint)" \
	"   RETURNING mailbox_id)," \
	" go AS (SELECT id FROM lk WHERE $15::bigint <= 0 UNION ALL SELECT mailbox_id FROM fresh)," \
	" mb AS (UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1," \
	"     shared_modseq = highestmodseq + 1, message_count = message_count + 1," \
	"     message_bytes = message_bytes + (SELECT size FROM msg)" \
	"   FROM go WHERE mailboxes.id = go.id AND uidnext < 4294967296" \
	"   RETURNING mailboxes.id, uidnext - 1 AS uid, highestmodseq)," \
	" ins AS (INSERT INTO mailbox_messages (mailbox_id, uid, message_id, flags, keywords, modseq," \
	"     internaldate)" \
	"   SELECT mb.id, mb.uid, msg.id, 0, '{}', mb.highestmodseq, to_timestamp($14::bigint)" \
	"   FROM mb, msg RETURNING mailbox_id)" \
	" SELECT w.id, CASE WHEN w.id IS NULL THEN 'n'" \
	"   WHEN w.id IN (SELECT mailbox_id FROM ins) THEN 's'" \
	"   WHEN w.id IN (SELECT id FROM lk) AND w.id NOT IN (SELECT id FROM go) THEN 'd'" \
	"   ELSE 'f' END" \
	" FROM want w ORDER BY w.i"

const struct db_stmt db_deliver_stmts[] = {
	{ "deliver_message", DELIVER_SQL("$3::bytea") },
	{ "deliver_message_lo", DELIVER_SQL("lo_get($3::oid)") },
	{ NULL, NULL },
};

/* Runs the statement; the raw bytes are m's, or the large object lo_oid's. */
static enum db_result run(db *d, const struct db_append_msg *m,
			  const struct db_deliver_target *targets, size_t n, long dup_window_s,
			  const char *lo_oid, struct db_deliver_result *results, char *err,
			  size_t errlen)
{
	const char *values[15];
	int lengths[15] = { 0 }, formats[15] = { 0 };
	char date[24], window[24];
	const char **names = xcalloc(n, sizeof(*names));
	struct buf owners, folders;
	struct db_analysed a;
	enum db_result r = DB_OK;
	PGresult *res;
	int64_t *ids = xcalloc(n, sizeof(*ids));

	for (size_t i = 0; i < n; i++) {
		ids[i] = targets[i].owner_id;
		names[i] = targets[i].mailbox != NULL ? targets[i].mailbox : "INBOX";
	}
	buf_init(&owners);
	buf_init(&folders);
	db_id_array(&owners, ids, n);
	db_text_array_append(&folders, names, n);
	snprintf(date, sizeof(date), "%lld", (long long)m->internaldate);
	snprintf(window, sizeof(window), "%ld", dup_window_s);
	db_analysed_params(&a, m);
	values[0] = (const char *)owners.data;
	values[1] = (const char *)folders.data;
	if (lo_oid != NULL)
		values[2] = lo_oid;
	else
		values[2] = m->raw, lengths[2] = (int)m->raw_len, formats[2] = 1;
	for (int i = 0; i < DB_ANALYSED_NPARAMS; i++) {  /* $4..$13 */
		values[3 + i] = a.values[i];
		lengths[3 + i] = a.lengths[i];
		formats[3 + i] = a.formats[i];
	}
	values[13] = date;
	values[14] = window;
	res = PQexecPrepared(d->conn, lo_oid != NULL ? "deliver_message_lo" : "deliver_message", 15,
			     values, lengths, formats, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_err_result(err, errlen, "delivering", d->conn, res);
		r = DB_FAILED;
	} else if ((size_t)PQntuples(res) != n) {
		db_errf(err, errlen, "delivering: unexpected result");
		r = DB_FAILED;
	} else {
		for (size_t i = 0; i < n; i++) {
			char o = PQgetvalue(res, (int)i, 1)[0];
			results[i].mailbox_id = 0;
			if (!PQgetisnull(res, (int)i, 0))
				(void)db_get_int64(res, (int)i, 0, &results[i].mailbox_id);
			results[i].outcome = o == 's' ? DB_DELIVERY_STORED :
					     o == 'd' ? DB_DELIVERY_DUPLICATE :
					     o == 'n' ? DB_DELIVERY_NO_MAILBOX : DB_DELIVERY_FAILED;
		}
	}
	PQclear(res);
	db_analysed_free(&a);
	buf_free(&owners);
	buf_free(&folders);
	free(names);
	free(ids);
	return r;
}

/* A big message: its spool goes to a large object first, in the same
 * transaction (db_append_big.c says why). */
static enum db_result run_spooled(db *d, const struct db_append_msg *m,
				  const struct db_deliver_target *targets, size_t n,
				  long dup_window_s, struct db_deliver_result *results, char *err,
				  size_t errlen)
{
	char oid[24];
	enum db_result r = DB_FAILED;

	if (db_exec(d->conn, "BEGIN", err, errlen) < 0)
		return DB_FAILED;
	if (db_lo_upload_spool(d, m->raw_spool, m->raw_len, oid, sizeof(oid), err, errlen) &&
	    (r = run(d, m, targets, n, dup_window_s, oid, results, err, errlen)) == DB_OK &&
	    (!db_lo_drop(d, oid, err, errlen) || db_exec(d->conn, "COMMIT", err, errlen) < 0))
		r = DB_FAILED;
	if (r != DB_OK && PQtransactionStatus(d->conn) != PQTRANS_IDLE) {
		PGresult *rb = PQexec(d->conn, "ROLLBACK");
		PQclear(rb);
	}
	return r;
}

enum db_result db_deliver(db *d, const struct db_append_msg *m,
			  const struct db_deliver_target *targets, size_t n, long dup_window_s,
			  struct db_deliver_result *results, char *err, size_t errlen)
{
	if (m->raw_spool != NULL)
		return run_spooled(d, m, targets, n, dup_window_s, results, err, errlen);
	/* One statement is its own transaction: one round trip, one commit. */
	return run(d, m, targets, n, dup_window_s, NULL, results, err, errlen);
}

/* Whole, in one statement: the table holds about one window of deliveries
 * (migrations/0019 says why it has no index on delivered_at). */
static const char prune_sql[] =
	"DELETE FROM delivery_duplicates WHERE delivered_at < now() - make_interval(secs => $1::bigint)";

int db_prune_delivery_duplicates(const char *dsn, long window_s, FILE *out, char *err,
				 size_t errlen)
{
	char window[24];
	const char *params[1] = { window };
	PGconn *conn = db_connect(dsn, err, errlen);
	PGresult *res;
	long long n = 0;

	if (conn == NULL)
		return -1;
	snprintf(window, sizeof(window), "%ld", window_s);
	/* gc works one migration behind (server/ctl/ctl_maint.c). */
	res = PQexec(conn, "SELECT to_regclass('delivery_duplicates') IS NOT NULL");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_err_result(err, errlen, "pruning duplicate records", conn, res);
		PQclear(res);
		PQfinish(conn);
		return -1;
	}
	if (PQgetvalue(res, 0, 0)[0] == 't') {
		PQclear(res);
		res = PQexecParams(conn, prune_sql, 1, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			db_err_result(err, errlen, "pruning duplicate records", conn, res);
			PQclear(res);
			PQfinish(conn);
			return -1;
		}
		n = strtoll(PQcmdTuples(res), NULL, 10);
	}
	PQclear(res);
	PQfinish(conn);
	fprintf(out, "pruned %lld delivery duplicate record%s older than %ld s\n", n,
		n == 1 ? "" : "s", window_s);
	return 0;
}
