/* Changing messages in place: STORE and EXPUNGE (schema/db_message.h). */
#include <stdlib.h>
#include <string.h>

#include "schema/db_keywords_sql.h"
#include "schema/db_message.h"
#include "schema/db_private.h"
#include "schema/db_ranges.h"
#include "schema/db_seen_sql.h"

/* The new flags of a row for STORE mode $4 (0 replace, 1 add, 2 remove)
 * with system flags $5 and keywords $6, from the flags reader $7 sees
 * (e.ef). Keywords are kept sorted and unique so that equal sets compare
 * equal. */
#define NEW_FLAGS "(CASE $4::int WHEN 0 THEN $5::int WHEN 1 THEN e.ef | $5::int ELSE e.ef & ~$5::int END)"
#define NEW_KEYWORDS \
	"(CASE $4::int WHEN 0 THEN ARRAY(SELECT DISTINCT k FROM unnest($6::text[]) k ORDER BY k)" \
	" WHEN 1 THEN ARRAY(SELECT DISTINCT k FROM unnest(mm.keywords || $6::text[]) k ORDER BY k)" \
	" ELSE ARRAY(SELECT k FROM unnest(mm.keywords) k WHERE k <> ALL($6::text[]) ORDER BY k) END)"

const struct db_stmt db_store_stmts[] = {
	/* The modseq is taken only when something changes, so a STORE that
	 * changes nothing leaves HIGHESTMODSEQ alone (RFC 7162 §3.2). Every
	 * writer locks the mailbox row before any message row (here through
	 * the InitPlan "(SELECT id FROM lk)", which runs before the scan), so
	 * STORE, EXPUNGE and APPEND on one mailbox cannot deadlock.
	 *
	 * Per-user \Seen (lk.pu): ef and nf are the flags reader $7 sees
	 * before and after; a row whose ef changes gets a new modseq, so the
	 * reader's other sessions learn it, while its stored flags get all but
	 * bit 1 of nf (bit 1 is left as it was: it means nothing here). The
	 * reader's seen row (cur, locked after the mailbox row, so read in its
	 * newest version) gains the UIDs that became \Seen and loses those that
	 * stopped being so, in one upsert (sv).
	 *
	 * Keywords (schema/db_keywords_sql.h): those of $6 the mailbox has not
	 * registered (nkw; none when removing) are registered at the new modseq
	 * (reg) when the STORE changes anything. If they would take the
	 * registry past $8 keywords, the STORE changes nothing (sel is empty)
	 * and answers the one row (0, 0, '', false, 0) instead. */
	{ "store_flags",
	  "WITH lk AS (SELECT id, seen_per_user AS pu FROM mailboxes WHERE id = $1 FOR UPDATE),"
	  " cur AS (SELECT " DB_SEEN_UNPACK("uids") " AS uids FROM seen"
	  "   WHERE account_id = $7 AND mailbox_id = (SELECT id FROM lk)"
	  "   AND (SELECT pu FROM lk) FOR UPDATE),"
	  " nkw AS (" DB_KW_NEW("unnest(CASE WHEN $4::int = 2 THEN '{}' ELSE $6::text[] END) u(k)", "$1") "),"
	  " fits AS (" DB_KW_FITS("nkw", "$1", "$8") "),"
	  " sel AS (SELECT mm.uid, mm.keywords, mm.modseq, e.ef, " NEW_FLAGS " AS nf, "
	  NEW_KEYWORDS " AS nk"
	  "   FROM mailbox_messages mm JOIN unnest($2::bigint[], $3::bigint[]) r(lo, hi)"
	  "     ON mm.uid BETWEEN r.lo AND r.hi,"
	  "   LATERAL (SELECT " DB_SEEN_FLAGS("mm", "(SELECT pu FROM lk)", "(SELECT uids FROM cur)") " AS ef) e"
	  "   WHERE mm.mailbox_id = (SELECT id FROM lk) AND (SELECT ok FROM fits) FOR UPDATE OF mm),"
	  " mb AS (UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = $1"
	  "   AND EXISTS (SELECT 1 FROM sel WHERE nf <> ef OR nk <> keywords)"
	  "   RETURNING highestmodseq),"
	  " upd AS (UPDATE mailbox_messages mm SET keywords = sel.nk, modseq = mb.highestmodseq,"
	  "   flags = CASE WHEN (SELECT pu FROM lk) THEN (sel.nf & 30) | (mm.flags & 1) ELSE sel.nf END"
	  "   FROM sel, mb"
	  "   WHERE mm.mailbox_id = $1 AND mm.uid = sel.uid AND (sel.nf <> sel.ef OR sel.nk <> sel.keywords)"
	  "   RETURNING mm.uid, mm.modseq),"
	  " sv AS (INSERT INTO seen (account_id, mailbox_id, uids)"
	  "   SELECT $7, $1, coalesce(" DB_SEEN_RANGE_AGG("uid") " FILTER (WHERE nf & 1 > ef & 1), '{}')"
	  "   FROM sel WHERE (SELECT pu FROM lk) HAVING bool_or(nf & 1 <> ef & 1)"
	  DB_SEEN_ADD_ON_CONFLICT
	  "   - (SELECT coalesce(" DB_SEEN_RANGE_AGG("uid") ", '{}') FROM sel WHERE nf & 1 < ef & 1)),"
	  " reg AS (" DB_KW_REGISTER("nkw", "mb", "$1", "mb.highestmodseq", "true") ")"
	  " SELECT sel.uid, sel.nf, array_to_string(sel.nk, ' '), upd.uid IS NOT NULL,"
	  "   coalesce(upd.modseq, sel.modseq)"
	  " FROM sel LEFT JOIN upd ON upd.uid = sel.uid"
	  " UNION ALL SELECT 0, 0, '', false, 0 FROM fits WHERE NOT ok"
	  " ORDER BY 1" },
	/* EXPUNGE: $2/$3 empty arrays mean every \Deleted message. The
	 * mailbox row is locked (mb) before the DELETE touches message rows. */
	{ "expunge",
	  "WITH mb AS (UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = $1"
	  "   AND EXISTS (SELECT 1 FROM mailbox_messages mm WHERE mm.mailbox_id = $1 AND mm.flags & 8 <> 0"
	  "     AND (cardinality($2::bigint[]) = 0 OR EXISTS (SELECT 1 FROM unnest($2::bigint[], $3::bigint[]) r(lo, hi)"
	  "       WHERE mm.uid BETWEEN r.lo AND r.hi)))"
	  "   RETURNING id, highestmodseq),"
	  " gone AS (DELETE FROM mailbox_messages mm WHERE mm.mailbox_id = (SELECT id FROM mb)"
	  "   AND mm.flags & 8 <> 0"
	  "   AND (cardinality($2::bigint[]) = 0 OR EXISTS (SELECT 1 FROM unnest($2::bigint[], $3::bigint[]) r(lo, hi)"
	  "     WHERE mm.uid BETWEEN r.lo AND r.hi))"
	  "   RETURNING mm.uid),"
	  " ins AS (INSERT INTO expunges (mailbox_id, uid, modseq)"
	  "   SELECT $1, uid, (SELECT highestmodseq FROM mb) FROM gone RETURNING uid, modseq)"
	  " SELECT uid, modseq FROM ins ORDER BY uid" },
	{ NULL, NULL },
};

enum db_result db_store_flags(db *d, int64_t reader_id, int64_t mailbox_id,
			      const struct db_uid_ranges *ranges, int mode, unsigned flags,
			      const char *keywords_array, long max_keywords,
			      void (*row_cb)(void *ctx, uint32_t uid, unsigned flags,
					     const char *keywords, bool changed, uint64_t modseq),
			      void *ctx, char *err, size_t errlen)
{
	char id[24], m[8], f[8], reader[24], cap[24];
	struct buf lo, hi;
	const char *params[8];
	PGresult *res;
	enum db_result r = DB_OK;

	buf_init(&lo);
	buf_init(&hi);
	db_ranges_params(ranges, &lo, &hi);
	snprintf(id, sizeof(id), "%lld", (long long)mailbox_id);
	snprintf(m, sizeof(m), "%d", mode);
	snprintf(f, sizeof(f), "%u", flags);
	snprintf(reader, sizeof(reader), "%lld", (long long)reader_id);
	params[0] = id;
	params[1] = (const char *)lo.data;
	params[2] = (const char *)hi.data;
	params[3] = m;
	params[4] = f;
	params[5] = keywords_array;
	params[6] = reader;
	snprintf(cap, sizeof(cap), "%ld", max_keywords);
	params[7] = cap;
	res = PQexecPrepared(d->conn, "store_flags", 8, params, NULL, NULL, 0);
	buf_free(&lo);
	buf_free(&hi);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_err_result(err, errlen, "storing flags", d->conn, res);
		PQclear(res);
		return DB_FAILED;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		int64_t uid, nf, modseq;
		if (db_get_int64(res, i, 0, &uid) < 0 || db_get_int64(res, i, 1, &nf) < 0 ||
		    db_get_int64(res, i, 4, &modseq) < 0) {
			db_errf(err, errlen, "storing flags: unexpected result");
			r = DB_FAILED;
			break;
		}
		if (uid == 0) {     /* the registry cannot take the new keywords */
			r = DB_LIMIT;
			break;
		}
		row_cb(ctx, (uint32_t)uid, (unsigned)nf, PQgetvalue(res, i, 2),
		       PQgetvalue(res, i, 3)[0] == 't', (uint64_t)modseq);
	}
	PQclear(res);
	return r;
}

enum db_result db_expunge(db *d, int64_t mailbox_id, const struct db_uid_ranges *ranges,
			  void (*uid_cb)(void *ctx, uint32_t uid, uint64_t modseq), void *ctx,
			  char *err, size_t errlen)
{
	static const struct db_uid_ranges none = { NULL, NULL, 0 };
	char id[24];
	struct buf lo, hi;
	const char *params[3];
	PGresult *res;
	enum db_result r = DB_OK;

	buf_init(&lo);
	buf_init(&hi);
	db_ranges_params(ranges != NULL ? ranges : &none, &lo, &hi);
	snprintf(id, sizeof(id), "%lld", (long long)mailbox_id);
	params[0] = id;
	params[1] = (const char *)lo.data;
	params[2] = (const char *)hi.data;
	res = PQexecPrepared(d->conn, "expunge", 3, params, NULL, NULL, 0);
	buf_free(&lo);
	buf_free(&hi);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_err_result(err, errlen, "expunging", d->conn, res);
		PQclear(res);
		return DB_FAILED;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		int64_t uid, modseq;
		if (db_get_int64(res, i, 0, &uid) < 0 || db_get_int64(res, i, 1, &modseq) < 0) {
			db_errf(err, errlen, "expunging: unexpected result");
			r = DB_FAILED;
			break;
		}
		uid_cb(ctx, (uint32_t)uid, (uint64_t)modseq);
	}
	PQclear(res);
	return r;
}
