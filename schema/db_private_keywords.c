/* Private keywords (migrations/0013; schema/db_message.h,
 * db_store_private_keywords): a reader's own keywords in a mailbox with
 * per-user \Seen, each a set of UIDs, changed as a private change
 * (migrations/0011). */
#include <stdlib.h>
#include <string.h>

#include "schema/db_message.h"
#include "schema/db_private.h"
#include "schema/db_ranges.h"

/* store_private_keywords: $1 mailbox, $2/$3 the UID ranges, $4 mode (0
 * replace, 1 add, 2 remove), $5 the private keywords named (text[]), $6
 * the reader, $7 every private keyword the server knows (replace removes
 * those not named), $8 the UIDs that must not change (a failed
 * UNCHANGEDSINCE), as a multirange.
 *  lk   the mailbox, locked like every writer's, only if \Seen is per user;
 *  sr   the UIDs of the set that exist, less $8;
 *  want each known keyword's set before and after;
 *  chg  those that change; dif the UIDs whose keywords changed;
 *  mb   one new modseq from the counter; sv the reader's seen row (its
 *       modseq), up the keywords, log the reader's change log.
 * Rows: ('k', keyword, its new UIDs) for each changed keyword, then ('m',
 * modseq, the changed UIDs) when anything changed. */
const struct db_stmt db_private_keywords_stmts[] = {
	{ "store_private_keywords",
	  "WITH lk AS (SELECT id FROM mailboxes WHERE id = $1 AND seen_per_user FOR UPDATE),"
	  " sr AS (SELECT coalesce(range_agg(int8range(mm.uid, mm.uid, '[]')), '{}') - $8::int8multirange AS u"
	  "   FROM " DB_UID_RANGE_ROWS("mm", "(SELECT id FROM lk)", "OFFSET 0") "),"
	  " cur AS (SELECT keyword, uids FROM private_keywords"
	  "   WHERE account_id = $6 AND mailbox_id = (SELECT id FROM lk) FOR UPDATE),"
	  " want AS (SELECT k, coalesce(c.uids, '{}') AS old,"
	  "   CASE WHEN k = ANY ($5::text[]) AND $4::int IN (0, 1) THEN coalesce(c.uids, '{}') + sr.u"
	  "     WHEN (k = ANY ($5::text[]) AND $4::int = 2) OR (NOT k = ANY ($5::text[]) AND $4::int = 0)"
	  "       THEN coalesce(c.uids, '{}') - sr.u"
	  "     ELSE coalesce(c.uids, '{}') END AS new"
	  "   FROM unnest($7::text[]) k LEFT JOIN cur c ON c.keyword = k, sr"
	  "   WHERE EXISTS (SELECT 1 FROM lk)),"
	  " chg AS (SELECT k, new, (old - new) + (new - old) AS dif FROM want WHERE old <> new),"
	  " mb AS (UPDATE mailboxes SET highestmodseq = highestmodseq + 1"
	  "   WHERE id = $1 AND EXISTS (SELECT 1 FROM chg) RETURNING highestmodseq),"
	  " sv AS (INSERT INTO seen AS s (account_id, mailbox_id, modseq)"
	  "   SELECT $6, $1, highestmodseq FROM mb"
	  "   ON CONFLICT (account_id, mailbox_id) DO UPDATE SET modseq = EXCLUDED.modseq),"
	  " up AS (INSERT INTO private_keywords (account_id, mailbox_id, keyword, uids)"
	  "   SELECT $6, $1, k, new FROM chg"
	  "   ON CONFLICT (account_id, mailbox_id, keyword) DO UPDATE SET uids = EXCLUDED.uids),"
	  " log AS (INSERT INTO seen_changes (account_id, mailbox_id, modseq, uids)"
	  "   SELECT $6, $1, mb.highestmodseq, (SELECT range_agg(dif) FROM chg) FROM mb)"
	  " SELECT 'k', k, new::text FROM chg"
	  " UNION ALL SELECT 'm', highestmodseq::text, (SELECT range_agg(dif) FROM chg)::text FROM mb" },
	{ NULL, NULL },
};

enum db_result db_store_private_keywords(db *d, int64_t reader_id, int64_t mailbox_id,
					 const struct db_uid_ranges *ranges, int mode,
					 const char *named_array, const char *known_array,
					 const char *frozen_multirange,
					 const struct db_private_keywords_cb *cb,
					 char *err, size_t errlen)
{
	char id[24], m[8], reader[24];
	struct buf lo, hi;
	const char *params[8];
	PGresult *res;
	enum db_result r = DB_OK;

	buf_init(&lo);
	buf_init(&hi);
	db_ranges_params(ranges, &lo, &hi);
	snprintf(id, sizeof(id), "%lld", (long long)mailbox_id);
	snprintf(m, sizeof(m), "%d", mode);
	snprintf(reader, sizeof(reader), "%lld", (long long)reader_id);
	params[0] = id;
	params[1] = (const char *)lo.data;
	params[2] = (const char *)hi.data;
	params[3] = m;
	params[4] = named_array;
	params[5] = reader;
	params[6] = known_array;
	params[7] = frozen_multirange;
	res = PQexecPrepared(d->conn, "store_private_keywords", 8, params, NULL, NULL, 0);
	buf_free(&lo);
	buf_free(&hi);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_err_result(err, errlen, "storing private keywords", d->conn, res);
		PQclear(res);
		return DB_FAILED;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		if (PQgetvalue(res, i, 0)[0] == 'k')
			cb->keyword(cb->ctx, PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
		else
			cb->changed(cb->ctx, strtoull(PQgetvalue(res, i, 1), NULL, 10),
				    PQgetvalue(res, i, 2));
	}
	PQclear(res);
	return r;
}
