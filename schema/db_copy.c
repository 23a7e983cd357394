/* COPY and MOVE (schema/db_message.h): one statement, one transaction. */
#include <stdlib.h>
#include <string.h>

#include "schema/db_keywords_sql.h"
#include "schema/db_message.h"
#include "schema/db_private.h"
#include "schema/db_ranges.h"
#include "schema/db_seen_sql.h"

/* Both mailbox rows are locked first, in id order (lk, an InitPlan of the
 * later steps), so that a MOVE from A to B and one from B to A cannot
 * deadlock; what the statement needs of them is read from lk, which has
 * their newest versions (a writer that committed while lk waited for the
 * lock may have moved uidnext or switched the \Seen mode). The copies get
 * consecutive UIDs in source UID order, so the COPYUID sets correspond
 * element by element (RFC 4315 §3). Content rows are shared, never copied.
 * With $6 (MOVE, RFC 6851) the source rows go in the same transaction and
 * are recorded as expunged. A MOVE into the source mailbox itself (RFC
 * 6851 §3.3) must not update its row a second time (sm0: PostgreSQL
 * applies only one of two updates of a row in one statement, and the
 * source rows then stayed): its expunges take the copies' modseq (sm).
 *
 * \Seen travels as the copier $7 sees it in the source (src.flags are the
 * copier's flags, schema/db_seen_sql.h): into the stored flags of a common
 * destination, into the copier's seen row (dsv) of a per-user one. Other
 * readers' \Seen stays behind: the copies are new messages to them.
 *
 * $8 masks the flags and $9 says whether keywords travel: the copier's
 * rights on the destination decide (RFC 4314 §4, as for APPEND).
 *
 * Keywords (schema/db_keywords_sql.h): those of the copies the
 * destination has not registered (nkw) are registered at the copies'
 * modseq (reg). If they would take its registry past $10 keywords, the
 * copies go without them, keeping the keywords the destination knows, as
 * APPEND does (db_append.c), and a kind 3 row says so.
 *
 * The destination's quota usage counters (migrations/0018) grow in its
 * UID-allocating UPDATE (dst); MOVE's source rows are taken off by the
 * delete trigger.
 *
 * Result rows: kind 0 = the destination (uidvalidity, -), kind 1 = a copied
 * message (source uid, new uid), kind 2 = an expunged source uid (MOVE),
 * kind 3 = keywords were left out (-, -). */
const struct db_stmt db_copy_stmts[] = {
	{ "copy_messages",
	  "WITH lk AS (SELECT id, owner_id, name, noselect, uidnext, uidvalidity, seen_per_user"
	  "   FROM mailboxes WHERE id = $1 OR (owner_id = $4 AND name = $5) ORDER BY id FOR UPDATE),"
	  " dst0 AS (SELECT id, uidnext, uidvalidity, seen_per_user FROM lk"
	  "   WHERE owner_id = $4 AND name = $5 AND NOT noselect),"
	  " src AS (SELECT mm.uid, mm.message_id,"
	  "   CASE WHEN $9::boolean THEN mm.keywords ELSE '{}' END AS keywords, mm.internaldate,"
	  "   " DB_SEEN_FLAGS("mm", "(SELECT seen_per_user FROM lk WHERE id = $1)", DB_SEEN_SET("$7", "$1"))
	  "     & $8::int AS flags,"
	  "   row_number() OVER (ORDER BY mm.uid) - 1 AS n"
	  "   FROM " DB_UID_RANGE_ROWS("mm", "$1", "OFFSET 0")
	  "   WHERE EXISTS (SELECT 1 FROM dst0)),"
	  " nkw AS (" DB_KW_NEW("dst0, src, unnest(src.keywords) u(k)", "dst0.id") "),"
	  " fits AS (" DB_KW_FITS("nkw", "(SELECT id FROM dst0)", "$10") "),"
	  " dst AS (UPDATE mailboxes m SET uidnext = m.uidnext + (SELECT count(*) FROM src),"
	  "   highestmodseq = m.highestmodseq + 1, shared_modseq = m.highestmodseq + 1,"
	  "   message_count = m.message_count + (SELECT count(*) FROM src),"
	  "   message_bytes = m.message_bytes + (SELECT coalesce(sum(g.size), 0)"
	  "     FROM src JOIN messages g ON g.id = src.message_id) FROM dst0"
	  "   WHERE m.id = dst0.id AND EXISTS (SELECT 1 FROM src)"
	  "     AND dst0.uidnext + (SELECT count(*) FROM src) <= 4294967296"
	  "   RETURNING m.id, dst0.uidnext AS first, m.highestmodseq),"
	  " ins AS (INSERT INTO mailbox_messages (mailbox_id, uid, message_id, flags, keywords, modseq, internaldate)"
	  "   SELECT dst.id, dst.first + src.n, src.message_id,"
	  "     CASE WHEN dst0.seen_per_user THEN src.flags & 30 ELSE src.flags END,"
	  "     CASE WHEN (SELECT ok FROM fits) THEN src.keywords"
	  "       ELSE " DB_KW_WITHOUT_NEW("src.keywords", "nkw") " END,"
	  "     dst.highestmodseq, src.internaldate FROM src, dst, dst0 RETURNING uid),"
	  " reg AS (" DB_KW_REGISTER("nkw", "dst", "dst.id", "dst.highestmodseq", "(SELECT ok FROM fits)") "),"
	  " dsv AS (INSERT INTO seen (account_id, mailbox_id, uids)"
	  "   SELECT $7, dst.id, " DB_SEEN_RANGE_AGG("dst.first + src.n") " FROM src, dst, dst0"
	  "   WHERE dst0.seen_per_user AND src.flags & 1 <> 0 GROUP BY dst.id" DB_SEEN_ADD_ON_CONFLICT "),"
	  " sm0 AS (UPDATE mailboxes SET highestmodseq = highestmodseq + 1, shared_modseq = highestmodseq + 1"
	  "   WHERE id = $1 AND $6 AND EXISTS (SELECT 1 FROM dst) AND id <> (SELECT id FROM dst)"
	  "   RETURNING highestmodseq),"
	  " sm AS (SELECT highestmodseq FROM sm0"
	  "   UNION ALL SELECT highestmodseq FROM dst WHERE $6 AND id = $1),"
	  " del AS (DELETE FROM mailbox_messages mm USING src, sm"
	  "   WHERE mm.mailbox_id = $1 AND mm.uid = src.uid RETURNING mm.uid, sm.highestmodseq),"
	  " exp AS (INSERT INTO expunges (mailbox_id, uid, modseq) SELECT $1, uid, highestmodseq FROM del"
	  "   RETURNING uid)"
	  " SELECT 0, uidvalidity, 0 FROM dst0"
	  " UNION ALL SELECT 1, src.uid, dst.first + src.n FROM src, dst"
	  " UNION ALL SELECT 2, uid, 0 FROM exp"
	  " UNION ALL SELECT 3, 0, 0 FROM fits WHERE NOT ok AND EXISTS (SELECT 1 FROM dst)"
	  " ORDER BY 1, 2" },
	{ NULL, NULL },
};

enum db_result db_copy(db *d, int64_t reader_id, int64_t mailbox_id,
		       const struct db_uid_ranges *ranges, int64_t owner_id, const char *dest, bool move,
		       unsigned keep_flags, bool keep_keywords, long max_keywords,
		       const struct db_copy_cb *cb, char *err, size_t errlen)
{
	char id[24], owner[24], reader[24], mask[8], cap[24];
	struct buf lo, hi;
	const char *params[10];
	enum db_result r = DB_NOT_FOUND;
	PGresult *res;

	buf_init(&lo);
	buf_init(&hi);
	db_ranges_params(ranges, &lo, &hi);
	snprintf(id, sizeof(id), "%lld", (long long)mailbox_id);
	snprintf(owner, sizeof(owner), "%lld", (long long)owner_id);
	snprintf(reader, sizeof(reader), "%lld", (long long)reader_id);
	params[0] = id;
	params[1] = (const char *)lo.data;
	params[2] = (const char *)hi.data;
	params[3] = owner;
	params[4] = dest;
	params[5] = move ? "true" : "false";
	params[6] = reader;
	snprintf(mask, sizeof(mask), "%u", keep_flags & 31u);
	params[7] = mask;
	params[8] = keep_keywords ? "true" : "false";
	snprintf(cap, sizeof(cap), "%ld", max_keywords);
	params[9] = cap;
	res = PQexecPrepared(d->conn, "copy_messages", 10, params, NULL, NULL, 0);
	buf_free(&lo);
	buf_free(&hi);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_err_result(err, errlen, move ? "moving messages" : "copying messages", d->conn, res);
		PQclear(res);
		return DB_FAILED;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		int64_t kind, a, b;
		if (db_get_int64(res, i, 0, &kind) < 0 || db_get_int64(res, i, 1, &a) < 0 ||
		    db_get_int64(res, i, 2, &b) < 0) {
			db_errf(err, errlen, "copying messages: unexpected result");
			r = DB_FAILED;
			break;
		}
		if (kind == 0) {
			cb->destination(cb->ctx, (uint32_t)a);
			r = DB_OK;
		} else if (kind == 1)
			cb->copied(cb->ctx, (uint32_t)a, (uint32_t)b);
		else if (kind == 2)
			cb->expunged(cb->ctx, (uint32_t)a);
		else if (cb->keywords_dropped != NULL)
			cb->keywords_dropped(cb->ctx);
	}
	PQclear(res);
	return r;
}
