/* STATUS (RFC 3501 §6.3.10, RFC 9051 §6.3.11; schema/db_mailbox.h). */
#include <stdio.h>
#include <string.h>

#include "schema/db_mailbox.h"
#include "schema/db_private.h"
#include "schema/db_seen_sql.h"

/* One pass over the mailbox's rows (the primary key index) counts every
 * item at once. RECENT counts the messages no SELECT has claimed yet
 * (migrations/0010: UIDs at or above mailbox_recent.recent_uid), which is what the next
 * session to select the mailbox will see as \Recent. The size needs the
 * messages table and runs only when asked: a CASE evaluates its subquery
 * only for the branch taken. UNSEEN counts what reader $4 has not seen
 * (schema/db_seen_sql.h; the seen set is an InitPlan of the count, read
 * once). HIGHESTMODSEQ is the reader's (migrations/0011). $1 owner, $2
 * name, $3 want size. */
const struct db_stmt db_mailbox_status_stmts[] = {
	{ "mailbox_status",
	  "SELECT m.noselect, m.uidnext, m.uidvalidity, " DB_READER_HIGHESTMODSEQ("$4", "m") ","
	  "  c.messages, c.recent, c.unseen, c.deleted,"
	  "  CASE WHEN $3::boolean THEN (SELECT coalesce(sum(g.size), 0)"
	  "   FROM mailbox_messages x JOIN messages g ON g.id = x.message_id"
	  "   WHERE x.mailbox_id = m.id) END"
	  " FROM mailboxes m, LATERAL (SELECT count(*) AS messages,"
	  "   count(*) FILTER (WHERE mm.uid >= (SELECT recent_uid FROM mailbox_recent"
	  "     WHERE mailbox_id = m.id)) AS recent,"
	  "   count(*) FILTER (WHERE " DB_SEEN_FLAGS("mm", "m.seen_per_user", DB_SEEN_SET("$4", "m.id"))
	  "     & 1 = 0) AS unseen,"
	  "   count(*) FILTER (WHERE mm.flags & 8 <> 0) AS deleted"
	  "  FROM mailbox_messages mm WHERE mm.mailbox_id = m.id) c"
	  " WHERE m.owner_id = $1 AND m.name = $2" },
	{ NULL, NULL },
};

static int get_u64(const PGresult *res, int col, uint64_t *v)
{
	int64_t x;

	if (db_get_int64(res, 0, col, &x) < 0 || x < 0)
		return -1;
	*v = (uint64_t)x;
	return 0;
}

static int get_u32(const PGresult *res, int col, uint32_t *v)
{
	uint64_t x;

	if (get_u64(res, col, &x) < 0 || x > UINT32_MAX)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

enum db_mbox_result db_mailbox_status(db *d, int64_t reader_id, int64_t owner_id, const char *name,
				      bool want_size, struct db_mailbox_status *st,
				      char *err, size_t errlen)
{
	char owner[24], reader[24];
	const char *params[4] = { owner, name, want_size ? "t" : "f", reader };
	PGresult *res;
	enum db_mbox_result r = DB_MBOX_OK;

	memset(st, 0, sizeof(*st));
	snprintf(owner, sizeof(owner), "%lld", (long long)owner_id);
	snprintf(reader, sizeof(reader), "%lld", (long long)reader_id);
	res = PQexecPrepared(d->conn, "mailbox_status", 4, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_err_result(err, errlen, "mailbox status", d->conn, res);
		PQclear(res);
		return DB_MBOX_FAILED;
	}
	if (PQntuples(res) == 0)
		r = DB_MBOX_NONEXISTENT;
	else if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
		r = DB_MBOX_NOSELECT;
	else if (get_u64(res, 1, &st->uidnext) < 0 || get_u32(res, 2, &st->uidvalidity) < 0 ||
		 get_u64(res, 3, &st->highestmodseq) < 0 || get_u32(res, 4, &st->messages) < 0 ||
		 get_u32(res, 5, &st->recent) < 0 || get_u32(res, 6, &st->unseen) < 0 ||
		 get_u32(res, 7, &st->deleted) < 0 ||
		 (want_size && get_u64(res, 8, &st->size) < 0)) {
		db_errf(err, errlen, "mailbox status: unexpected result");
		r = DB_MBOX_FAILED;
	}
	PQclear(res);
	return r;
}
