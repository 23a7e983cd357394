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
	 * Shared and private changes (migrations/0011): ef and nf are the
	 * flags reader $7 sees before and after. A row changes for everyone
	 * (sh) when its keywords or its stored flags change: all of them in a
	 * common mailbox, all but \Seen in a per-user one (lk.pu), where the
	 * stored 1 bit means nothing. It changes for the reader alone (pv) when
	 * only \Seen does there: the message row is left as it was, the
	 * reader's seen row (cur, locked after the mailbox row, so read in its
	 * newest version) gains or loses the UID (sv), and the change is
	 * logged at its modseq for the reader's CHANGEDSINCE (log). The
	 * counter (highestmodseq) serves both; shared_modseq follows only a
	 * shared change.
	 *
	 * UNCHANGEDSINCE $9 (RFC 7162 §3.1.3; NULL: none): a row whose MODSEQ
	 * for the reader is above it is left alone and reported as modified:
	 * its shared modseq, a private change of the reader after $9 (lg), or
	 * the reader's pruned log (its floor) says so.
	 *
	 * Keywords (schema/db_keywords_sql.h): those of $6 the mailbox has not
	 * registered (nkw; none when removing) are registered at the new modseq
	 * (reg) when the STORE changes anything. If they would take the
	 * registry past $8 keywords, the STORE changes nothing (sel is empty)
	 * and answers the one row (0, 0, '', false, 0, false, false) instead. */
	{ "store_flags",
	  "WITH lk AS (SELECT id, seen_per_user AS pu FROM mailboxes WHERE id = $1 FOR UPDATE),"
	  " cur AS (SELECT " DB_SEEN_UNPACK("uids") " AS uids, pruned_modseq FROM seen"
	  "   WHERE account_id = $7 AND mailbox_id = (SELECT id FROM lk)"
	  "   AND (SELECT pu FROM lk) FOR UPDATE),"
	  " lg AS (SELECT range_agg(uids) AS u FROM seen_changes"
	  "   WHERE account_id = $7 AND mailbox_id = $1 AND modseq > $9::bigint AND (SELECT pu FROM lk)),"
	  " nkw AS (" DB_KW_NEW("unnest(CASE WHEN $4::int = 2 THEN '{}' ELSE $6::text[] END) u(k)", "$1") "),"
	  " fits AS (" DB_KW_FITS("nkw", "$1", "$8") "),"
	  " sel0 AS (SELECT mm.uid, mm.keywords, mm.modseq, e.ef, " NEW_FLAGS " AS nf, "
	  NEW_KEYWORDS " AS nk,"
	  "     coalesce(mm.modseq > $9::bigint OR mm.uid <@ (SELECT u FROM lg)"
	  "       OR (SELECT pruned_modseq FROM cur) > $9::bigint, false) AS modified"
	  "   FROM " DB_UID_RANGE_ROWS("mm", "(SELECT id FROM lk)", "AND (SELECT ok FROM fits) FOR UPDATE") ","
	  "   LATERAL (SELECT " DB_SEEN_FLAGS("mm", "(SELECT pu FROM lk)", "(SELECT uids FROM cur)") " AS ef) e),"
	  " sel AS (SELECT *, NOT modified AND (nk <> keywords OR (nf # ef) &"
	  "     CASE WHEN (SELECT pu FROM lk) THEN 30 ELSE 31 END <> 0) AS sh,"
	  "   NOT modified AND (SELECT pu FROM lk) AND (nf # ef) & 1 <> 0 AS pv FROM sel0),"
	  " mb AS (UPDATE mailboxes SET highestmodseq = highestmodseq + 1,"
	  "   shared_modseq = CASE WHEN EXISTS (SELECT 1 FROM sel WHERE sh) THEN highestmodseq + 1"
	  "     ELSE shared_modseq END"
	  "   WHERE id = $1 AND EXISTS (SELECT 1 FROM sel WHERE sh OR pv) RETURNING highestmodseq),"
	  " upd AS (UPDATE mailbox_messages mm SET keywords = sel.nk, modseq = mb.highestmodseq,"
	  "   flags = CASE WHEN (SELECT pu FROM lk) THEN (sel.nf & 30) | (mm.flags & 1) ELSE sel.nf END"
	  "   FROM sel, mb WHERE mm.mailbox_id = $1 AND mm.uid = sel.uid AND sel.sh"
	  /* By primary key: without it the planner, blind to how few rows
	   * sel holds, hash-joined the whole mailbox (0.71 → 0.42 ms a call,
	   * tests/bench/results-mixed.md). */
	  "   AND mm.uid = ANY (ARRAY(SELECT uid FROM sel WHERE sh))),"
	  " sv AS (INSERT INTO seen AS s (account_id, mailbox_id, uids, modseq)"
	  "   SELECT $7, $1, coalesce(" DB_SEEN_RANGE_AGG("uid") " FILTER (WHERE nf & 1 > ef & 1), '{}'),"
	  "     (SELECT highestmodseq FROM mb)"
	  "   FROM sel WHERE pv HAVING count(*) > 0"
	  "   ON CONFLICT (account_id, mailbox_id) DO UPDATE SET modseq = EXCLUDED.modseq,"
	  "     uids = s.uids + EXCLUDED.uids"
	  "       - (SELECT coalesce(" DB_SEEN_RANGE_AGG("uid") ", '{}') FROM sel WHERE pv AND nf & 1 < ef & 1)),"
	  " log AS (INSERT INTO seen_changes (account_id, mailbox_id, modseq, uids)"
	  "   SELECT $7, $1, (SELECT highestmodseq FROM mb), " DB_SEEN_RANGE_AGG("uid")
	  "   FROM sel WHERE pv HAVING count(*) > 0),"
	  " reg AS (" DB_KW_REGISTER("nkw", "mb", "$1", "mb.highestmodseq", "true") ")"
	  " SELECT sel.uid, CASE WHEN modified THEN ef ELSE nf END,"
	  "   array_to_string(CASE WHEN modified THEN keywords ELSE nk END, ' '), sh OR pv,"
	  "   CASE WHEN sh OR pv THEN (SELECT highestmodseq FROM mb) ELSE sel.modseq END, sh, modified"
	  " FROM sel"
	  " UNION ALL SELECT 0, 0, '', false, 0, false, false FROM fits WHERE NOT ok"
	  " ORDER BY 1" },
	/* EXPUNGE: $2/$3 empty arrays mean every \Deleted message. The
	 * mailbox row is locked (mb) before the DELETE touches message rows. */
	{ "expunge",
	  "WITH mb AS (UPDATE mailboxes SET highestmodseq = highestmodseq + 1,"
	  "   shared_modseq = highestmodseq + 1 WHERE id = $1"
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
			      const char *keywords_array, long max_keywords, uint64_t unchangedsince,
			      void (*row_cb)(void *ctx, const struct db_stored_row *row),
			      void *ctx, char *err, size_t errlen)
{
	char id[24], m[8], f[8], reader[24], cap[24], since[24];
	struct buf lo, hi;
	const char *params[9];
	PGresult *res;
	enum db_result r = DB_OK;

	buf_init(&lo);
	buf_init(&hi);
	db_ranges_params(ranges, &lo, &hi);
	snprintf(id, sizeof(id), "%lld", (long long)mailbox_id);
	snprintf(m, sizeof(m), "%d", mode);
	snprintf(f, sizeof(f), "%u", flags);
	snprintf(reader, sizeof(reader), "%lld", (long long)reader_id);
	snprintf(cap, sizeof(cap), "%ld", max_keywords);
	snprintf(since, sizeof(since), "%llu", (unsigned long long)unchangedsince);
	params[0] = id;
	params[1] = (const char *)lo.data;
	params[2] = (const char *)hi.data;
	params[3] = m;
	params[4] = f;
	params[5] = keywords_array;
	params[6] = reader;
	params[7] = cap;
	params[8] = unchangedsince == DB_NO_UNCHANGEDSINCE ? NULL : since;
	res = PQexecPrepared(d->conn, "store_flags", 9, params, NULL, NULL, 0);
	buf_free(&lo);
	buf_free(&hi);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_err_result(err, errlen, "storing flags", d->conn, res);
		PQclear(res);
		return DB_FAILED;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		int64_t uid, nf, modseq;
		struct db_stored_row row;
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
		row = (struct db_stored_row){
			.uid = (uint32_t)uid,
			.flags = (unsigned)nf,
			.keywords = PQgetvalue(res, i, 2),
			.changed = PQgetvalue(res, i, 3)[0] == 't',
			.shared = PQgetvalue(res, i, 5)[0] == 't',
			.modified = PQgetvalue(res, i, 6)[0] == 't',
			.modseq = (uint64_t)modseq,
		};
		row_cb(ctx, &row);
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
