/* STATUS (RFC 3501 §6.3.10, RFC 9051 §6.3.11; schema/db_mailbox.h). */
#include <stdio.h>
#include <string.h>

#include "schema/db_mailbox.h"
#include "schema/db_private.h"
#include "schema/db_seen_sql.h"

/* The columns and FROM of both statements: the mailbox row m, then the
 * counts; `size` and `reader` are the parameters that ask for the size and
 * name the reader. */
#define STATUS_SELECT(size, reader) \
	"SELECT m.noselect, m.uidnext, m.uidvalidity, " DB_READER_HIGHESTMODSEQ(reader, "m") "," \
	"  c.messages, c.recent, c.unseen, c.deleted," \
	"  CASE WHEN " size "::boolean THEN (SELECT coalesce(sum(g.size), 0)" \
	"   FROM mailbox_messages x JOIN messages g ON g.id = x.message_id" \
	"   WHERE x.mailbox_id = m.id AND x.flags & 8 <> 0) END, m.id, m.message_bytes" \
	" FROM mailboxes m, LATERAL (SELECT count(*) AS messages," \
	"   count(*) FILTER (WHERE mm.uid >= (SELECT recent_uid FROM mailbox_recent" \
	"     WHERE mailbox_id = m.id)) AS recent," \
	"   count(*) FILTER (WHERE " DB_SEEN_FLAGS("mm", "m.seen_per_user", \
						 DB_SEEN_SET(reader, "m.id")) \
	"     & 1 = 0) AS unseen," \
	"   count(*) FILTER (WHERE mm.flags & 8 <> 0) AS deleted" \
	"  FROM mailbox_messages mm WHERE mm.mailbox_id = m.id) c"

/* One pass over the mailbox's rows (the primary key index) counts every
 * item at once. SIZE is the mailbox's usage counter (migrations/0018);
 * DELETED-STORAGE (RFC 9208 §4.2), the size of the messages marked
 * \Deleted, needs the messages table and runs only when asked. RECENT counts the messages no SELECT has claimed yet
 * (migrations/0010: UIDs at or above mailbox_recent.recent_uid), which is what the next
 * session to select the mailbox will see as \Recent. The size needs the
 * messages table and runs only when asked: a CASE evaluates its subquery
 * only for the branch taken. UNSEEN counts what the reader has not seen
 * (schema/db_seen_sql.h; the seen set is read once per mailbox).
 * HIGHESTMODSEQ is the reader's (migrations/0011). */
const struct db_stmt db_mailbox_status_stmts[] = {
	/* $1 owner, $2 name, $3 want size, $4 reader. */
	{ "mailbox_status", STATUS_SELECT("$3", "$4") " WHERE m.owner_id = $1 AND m.name = $2" },
	/* LIST-STATUS (RFC 5819): the same for many mailboxes in one round
	 * trip, each counted over its own index range. $1 mailbox ids, $2
	 * want size, $3 reader. */
	{ "mailbox_status_ids",
	  STATUS_SELECT("$2", "$3") " WHERE m.id = ANY ($1::bigint[]) AND NOT m.noselect" },
	{ NULL, NULL },
};

static int get_u64(const PGresult *res, int row, int col, uint64_t *v)
{
	int64_t x;

	if (db_get_int64(res, row, col, &x) < 0 || x < 0)
		return -1;
	*v = (uint64_t)x;
	return 0;
}

static int get_u32(const PGresult *res, int row, int col, uint32_t *v)
{
	uint64_t x;

	if (get_u64(res, row, col, &x) < 0 || x > UINT32_MAX)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

/* The counts of row `row` of either statement. */
static int read_status(const PGresult *res, int row, bool want_size, struct db_mailbox_status *st)
{
	if (get_u64(res, row, 1, &st->uidnext) < 0 || get_u32(res, row, 2, &st->uidvalidity) < 0 ||
	    get_u64(res, row, 3, &st->highestmodseq) < 0 || get_u32(res, row, 4, &st->messages) < 0 ||
	    get_u32(res, row, 5, &st->recent) < 0 || get_u32(res, row, 6, &st->unseen) < 0 ||
	    get_u32(res, row, 7, &st->deleted) < 0 ||
	    (want_size && get_u64(res, row, 8, &st->deleted_storage) < 0) ||
	    db_get_int64(res, row, 9, &st->mailbox_id) < 0 || get_u64(res, row, 10, &st->size) < 0)
		return -1;
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
	else if (read_status(res, 0, want_size, st) < 0) {
		db_errf(err, errlen, "mailbox status: unexpected result");
		r = DB_MBOX_FAILED;
	}
	PQclear(res);
	return r;
}

int db_mailbox_status_ids(db *d, int64_t reader_id, const int64_t *ids, size_t n, bool want_size,
			  struct arena *arena, struct db_mailbox_status_row **rows_r, size_t *n_r,
			  char *err, size_t errlen)
{
	struct db_mailbox_status_row *rows;
	char reader[24];
	const char *params[3];
	struct buf array;
	PGresult *res;
	size_t got = 0;
	int r = 0;

	*rows_r = NULL;
	*n_r = 0;
	if (n == 0)
		return 0;
	buf_init(&array);
	db_id_array(&array, ids, n);
	snprintf(reader, sizeof(reader), "%lld", (long long)reader_id);
	params[0] = (const char *)array.data;
	params[1] = want_size ? "t" : "f";
	params[2] = reader;
	res = PQexecPrepared(d->conn, "mailbox_status_ids", 3, params, NULL, NULL, 0);
	buf_free(&array);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_err_result(err, errlen, "mailbox status", d->conn, res);
		PQclear(res);
		return -1;
	}
	rows = arena_alloc(arena, ((size_t)PQntuples(res) + 1) * sizeof(*rows));
	for (int i = 0; i < PQntuples(res); i++) {
		memset(&rows[got], 0, sizeof(rows[got]));
		if (read_status(res, i, want_size, &rows[got].status) < 0 ||
		    db_get_int64(res, i, 9, &rows[got].mailbox_id) < 0) {
			db_errf(err, errlen, "mailbox status: unexpected result");
			r = -1;
			break;
		}
		got++;
	}
	PQclear(res);
	*rows_r = rows;
	*n_r = r == 0 ? got : 0;
	return r;
}
