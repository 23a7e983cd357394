/* Switching a mailbox between common and per-user \Seen (schema/db_message.h:
 * db_mailbox_set_seen_mode, db_mailbox_share_seen).
 *
 * The switch runs as BEGIN, a lock of the mailbox row, the conversion,
 * COMMIT, in one pipeline (one round trip). The conversion is a statement
 * of its own, after the lock, so that its snapshot is taken once the lock
 * is held: every writer of a mailbox's flags and seen rows locks the
 * mailbox row first, so the conversion then sees all of them, including a
 * message or a seen row inserted while it waited. Within one statement the
 * snapshot would predate the wait and miss those rows. */
#include <stdio.h>

#include "schema/db_message.h"
#include "schema/db_notify.h"
#include "schema/db_private.h"
#include "schema/db_seen_sql.h"

/* seen_mode_convert: $1 mailbox, $2 per-user wanted, $3 fixed, $4 seed
 * account, $5 only if neither fixed nor per-user already (sharing).
 *  mb   the mailbox, unless $5 says to leave it alone;
 *  un   to common: the union of every reader's seen set;
 *  chg  the rows whose stored flags change: to per-user, those with the
 *       1 bit (it is cleared); to common, those whose 1 bit differs from
 *       "in the union";
 *  ms   the new mode, and one new modseq if any row changes;
 *  seed to per-user: the cleared bits become the seed's seen row;
 *  del  to common: the seen rows are no longer the truth. */
const struct db_stmt db_seen_stmts[] = {
	{ "seen_mode_lock", "SELECT 1 FROM mailboxes WHERE id = $1 FOR UPDATE" },
	{ "seen_mode_convert",
	  "WITH mb AS (SELECT id, seen_per_user AS was FROM mailboxes"
	  "   WHERE id = $1 AND NOT ($5::boolean AND (seen_fixed OR seen_per_user))),"
	  " un AS (SELECT range_agg(uids) AS u FROM seen WHERE mailbox_id = $1"
	  "   AND EXISTS (SELECT 1 FROM mb WHERE was AND NOT $2::boolean)),"
	  " chg AS (SELECT uid, flags, nf FROM (SELECT mm.uid, mm.flags, CASE WHEN $2::boolean"
	  "     THEN mm.flags & 30 ELSE (mm.flags & 30) | coalesce(mm.uid <@ (SELECT u FROM un), false)::int"
	  "     END AS nf FROM mailbox_messages mm WHERE mm.mailbox_id = $1"
	  "     AND EXISTS (SELECT 1 FROM mb WHERE was <> $2::boolean)) c"
	  "   WHERE nf <> flags),"
	  " ms AS (UPDATE mailboxes m SET seen_per_user = $2::boolean, seen_fixed = $3::boolean,"
	  "   highestmodseq = m.highestmodseq + CASE WHEN EXISTS (SELECT 1 FROM chg) THEN 1 ELSE 0 END,"
	  "   shared_modseq = CASE WHEN EXISTS (SELECT 1 FROM chg) THEN m.highestmodseq + 1"
	  "     ELSE m.shared_modseq END"
	  "   FROM mb WHERE m.id = mb.id RETURNING m.highestmodseq),"
	  " upd AS (UPDATE mailbox_messages mm SET flags = chg.nf, modseq = ms.highestmodseq FROM chg, ms"
	  "   WHERE mm.mailbox_id = $1 AND mm.uid = chg.uid),"
	  " seed AS (INSERT INTO seen (account_id, mailbox_id, uids)"
	  "   SELECT $4, $1, " DB_SEEN_RANGE_AGG("uid") " FROM chg WHERE $2::boolean AND flags & 1 <> 0"
	  "   HAVING count(*) > 0" DB_SEEN_ADD_ON_CONFLICT "),"
	  " del AS (DELETE FROM seen WHERE mailbox_id = $1"
	  "   AND EXISTS (SELECT 1 FROM mb WHERE was AND NOT $2::boolean))"
	  " SELECT count(*) FROM chg" },
	{ NULL, NULL },
};

/* Reads one pipelined statement's results. Keeps the first failure's
 * reason; *rows_r (if given) gets the row count of a query. */
static bool step_result(PGconn *conn, int *rows_r, bool ok, char *err, size_t errlen)
{
	PGresult *res;

	while ((res = PQgetResult(conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_TUPLES_OK && rows_r != NULL)
			*rows_r = PQntuples(res);
		else if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			if (ok)
				db_err_result(err, errlen, "switching the \\Seen mode", conn, res);
			ok = false;
		}
		PQclear(res);
	}
	return ok;
}

static enum db_result convert(db *d, int64_t mailbox_id, bool per_user, bool fixed,
			      int64_t seed_account_id, bool sharing, char *err, size_t errlen)
{
	char id[24], seed[24];
	const char *params[5] = { id, per_user ? "t" : "f", fixed ? "t" : "f", seed,
				  sharing ? "t" : "f" };
	PGresult *sync;
	int found = 0;
	bool ok, own;

	snprintf(id, sizeof(id), "%lld", (long long)mailbox_id);
	snprintf(seed, sizeof(seed), "%lld", (long long)seed_account_id);
	/* Inside a caller's transaction (kairanctl's), the switch joins it
	 * and the caller commits or rolls back. */
	own = PQtransactionStatus(d->conn) == PQTRANS_IDLE;
	ok = PQenterPipelineMode(d->conn) &&
	     (!own || PQsendQueryParams(d->conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0)) &&
	     PQsendQueryPrepared(d->conn, "seen_mode_lock", 1, params, NULL, NULL, 0) &&
	     PQsendQueryPrepared(d->conn, "seen_mode_convert", 5, params, NULL, NULL, 0) &&
	     (!own || PQsendQueryParams(d->conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0)) &&
	     PQpipelineSync(d->conn);
	if (!ok) {
		db_err_conn(err, errlen, "switching the \\Seen mode", d->conn);
		PQexitPipelineMode(d->conn);
		return DB_FAILED;
	}
	if (own)
		ok = step_result(d->conn, NULL, ok, err, errlen);  /* BEGIN */
	ok = step_result(d->conn, &found, ok, err, errlen);        /* lock */
	ok = step_result(d->conn, NULL, ok, err, errlen);          /* convert */
	if (own)
		ok = step_result(d->conn, NULL, ok, err, errlen);  /* COMMIT */
	sync = PQgetResult(d->conn);
	if (sync == NULL || PQresultStatus(sync) != PGRES_PIPELINE_SYNC) {
		if (ok)
			db_err_conn(err, errlen, "switching the \\Seen mode", d->conn);
		ok = false;
	}
	PQclear(sync);
	PQexitPipelineMode(d->conn);
	if (!ok) {
		/* A failed step leaves our transaction open and aborted. */
		if (own && PQtransactionStatus(d->conn) != PQTRANS_IDLE)
			PQclear(PQexec(d->conn, "ROLLBACK"));
		return DB_FAILED;
	}
	/* Committed here: the mailbox's open sessions read it again (the
	 * change bus, schema/db_notify.h); a caller's transaction tells them
	 * itself when it commits. */
	if (own && found)
		(void)db_notify_changed(d, mailbox_id, NULL, 0);
	return found ? DB_OK : DB_NOT_FOUND;
}

enum db_result db_mailbox_set_seen_mode(db *d, int64_t mailbox_id, bool per_user, bool fixed,
					int64_t seed_account_id, char *err, size_t errlen)
{
	return convert(d, mailbox_id, per_user, fixed, seed_account_id, false, err, errlen);
}

enum db_result db_mailbox_share_seen(db *d, int64_t mailbox_id, int64_t owner_id,
				     char *err, size_t errlen)
{
	return convert(d, mailbox_id, true, false, owner_id, true, err, errlen);
}
