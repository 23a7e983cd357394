/* Reading messages for FETCH (schema/db_message.h). Results come in binary
 * format, so message bytes arrive as they are stored (no bytea hex text
 * twice the size) and in single-row mode, so a FETCH of a whole large
 * mailbox holds one message in memory at a time. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "schema/db_message.h"
#include "schema/db_private.h"
#include "schema/db_ranges.h"
#include "schema/db_seen_sql.h"

/* $4 is a bitmask of enum db_fetch_column: columns not asked for are NULL
 * and their TOASTed values are never read. The flags are those reader $5
 * sees (schema/db_seen_sql.h). */
/* The messages row is joined per row (LATERAL, by primary key), so the
 * cost follows the request, never the size of the whole store; a FETCH of
 * only UID/FLAGS/INTERNALDATE ($4 & 32 == 0) does not touch it at all. */
const struct db_stmt db_fetch_stmts[] = {
	{ "fetch_messages",
	  "SELECT mm.uid, " DB_SEEN_FLAGS("mm", DB_SEEN_PER_USER("$1"), DB_SEEN_SET("$5", "$1")) "::bigint,"
	  " array_to_string(mm.keywords, ' '),"
	  " extract(epoch FROM mm.internaldate)::bigint, coalesce(m.size, 0), mm.modseq,"
	  " m.envelope, m.body, m.bodystructure, m.raw, m.parts, mm.message_id, m.preview,"
	  " extract(epoch FROM mm.saved_at)::bigint"
	  " FROM " DB_UID_RANGE_ROWS("mm", "$1", "OFFSET 0")
	  " LEFT JOIN LATERAL (SELECT size,"
	  "   CASE WHEN $4::int & 1 <> 0 THEN envelope END AS envelope,"
	  "   CASE WHEN $4::int & 2 <> 0 THEN body END AS body,"
	  "   CASE WHEN $4::int & 4 <> 0 THEN bodystructure END AS bodystructure,"
	  "   CASE WHEN $4::int & 8 <> 0 OR ($4::int & 128 <> 0 AND preview IS NULL) THEN raw"
	  "     WHEN $4::int & 256 <> 0 THEN CASE WHEN parts->>0 = '1'"
	  "       THEN substring(raw FROM 1 FOR ((parts->1->>0)::bigint + (parts->1->>1)::bigint)::int)"
	  "       ELSE raw END END AS raw,"
	  "   CASE WHEN $4::int & 16 <> 0 THEN parts::text END AS parts,"
	  "   CASE WHEN $4::int & 64 <> 0 THEN preview END AS preview"
	  "   FROM messages WHERE id = mm.message_id AND $4::int & 32 <> 0 OFFSET 0) m ON true"
	  " ORDER BY mm.uid" },
	/* A preview computed at FETCH time (migrations/0015); a row the
	 * indexer rewrote meanwhile keeps its own, the same text. */
	{ "fetch_set_previews",
	  "UPDATE messages m SET preview = v.p FROM unnest($1::bigint[], $2::text[]) v(id, p)"
	  " WHERE m.id = v.id AND m.preview IS NULL" },
	/* One message named by an IMAP URL (CATENATE), with its mailbox's
	 * UIDVALIDITY to compare with the URL's. */
	{ "fetch_url_message",
	  "SELECT b.uidvalidity::bigint, m.raw, m.parts::text FROM mailboxes b"
	  " JOIN mailbox_messages mm ON mm.mailbox_id = b.id AND mm.uid = $2::bigint"
	  " JOIN messages m ON m.id = mm.message_id WHERE b.id = $1" },
	{ NULL, NULL },
};

static int64_t be64(const PGresult *res, int row, int col)
{
	uint64_t v = 0;
	const unsigned char *p = (const unsigned char *)PQgetvalue(res, row, col);

	if (PQgetisnull(res, row, col) || PQgetlength(res, row, col) != 8)
		return -1;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (int64_t)v;
}

static const char *bytes(const PGresult *res, int row, int col, size_t *len_r)
{
	if (PQgetisnull(res, row, col)) {
		*len_r = 0;
		return NULL;
	}
	*len_r = (size_t)PQgetlength(res, row, col);
	return PQgetvalue(res, row, col);
}

/* Reads what is left of the query after the callback stopped early or an
 * error, so the connection is ready for the next statement. */
static void drain(PGconn *conn)
{
	PGresult *res;

	while ((res = PQgetResult(conn)) != NULL)
		PQclear(res);
}

enum db_result db_fetch_messages(db *d, int64_t reader_id, int64_t mailbox_id,
				 const struct db_uid_ranges *ranges, unsigned columns,
				 int (*row_cb)(void *ctx, const struct db_message_row *row), void *ctx,
				 char *err, size_t errlen)
{
	char id[24], cols[8], reader[24];
	struct buf lo, hi;
	const char *params[5];
	enum db_result r = DB_OK;
	PGresult *res;
	int sent;

	buf_init(&lo);
	buf_init(&hi);
	db_ranges_params(ranges, &lo, &hi);
	snprintf(id, sizeof(id), "%lld", (long long)mailbox_id);
	snprintf(cols, sizeof(cols), "%u", columns);
	snprintf(reader, sizeof(reader), "%lld", (long long)reader_id);
	params[0] = id;
	params[1] = (const char *)lo.data;
	params[2] = (const char *)hi.data;
	params[3] = cols;
	params[4] = reader;
	sent = PQsendQueryPrepared(d->conn, "fetch_messages", 5, params, NULL, NULL, 1);
	buf_free(&lo);
	buf_free(&hi);
	if (!sent || !PQsetSingleRowMode(d->conn)) {
		db_err_conn(err, errlen, "fetching messages", d->conn);
		drain(d->conn);
		return DB_FAILED;
	}
	while ((res = PQgetResult(d->conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);
		struct db_message_row row;

		if (st == PGRES_TUPLES_OK) {        /* the end: zero rows */
			PQclear(res);
			continue;
		}
		if (st != PGRES_SINGLE_TUPLE) {
			db_err_result(err, errlen, "fetching messages", d->conn, res);
			PQclear(res);
			r = DB_FAILED;
			continue;
		}
		if (r != DB_OK) {                   /* stopped: discard the rest */
			PQclear(res);
			continue;
		}
		memset(&row, 0, sizeof(row));
		row.uid = (uint32_t)be64(res, 0, 0);
		row.flags = (unsigned)be64(res, 0, 1);
		row.keywords = PQgetvalue(res, 0, 2);
		row.internaldate = be64(res, 0, 3);
		row.size = (uint64_t)be64(res, 0, 4);
		row.modseq = (uint64_t)be64(res, 0, 5);
		row.envelope = bytes(res, 0, 6, &row.envelope_len);
		row.body = bytes(res, 0, 7, &row.body_len);
		row.bodystructure = bytes(res, 0, 8, &row.bodystructure_len);
		row.raw = bytes(res, 0, 9, &row.raw_len);
		row.parts = bytes(res, 0, 10, &row.parts_len);
		row.message_id = be64(res, 0, 11);
		row.preview = bytes(res, 0, 12, &row.preview_len);
		row.saved_known = !PQgetisnull(res, 0, 13);
		row.saved_at = be64(res, 0, 13);
		if (row_cb(ctx, &row) != 0) {
			db_errf(err, errlen, "fetch stopped");
			r = DB_NOT_FOUND;
		}
		PQclear(res);
	}
	return r;
}

enum db_result db_message_set_previews(db *d, const int64_t *message_ids, char *const *previews,
				       size_t n, char *err, size_t errlen)
{
	struct buf ids, texts;
	const char *params[2];
	enum db_result r = DB_OK;
	PGresult *res;

	buf_init(&ids);
	buf_init(&texts);
	db_id_array(&ids, message_ids, n);
	db_text_array_append(&texts, (const char *const *)previews, n);
	params[0] = (const char *)ids.data;
	params[1] = (const char *)texts.data;
	res = PQexecPrepared(d->conn, "fetch_set_previews", 2, params, NULL, NULL, 0);
	buf_free(&ids);
	buf_free(&texts);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		db_err_result(err, errlen, "storing previews", d->conn, res);
		r = DB_FAILED;
	}
	PQclear(res);
	return r;
}

enum db_result db_url_message(db *d, int64_t mailbox_id, uint32_t uid,
			      void (*cb)(void *ctx, const struct db_url_message *m), void *ctx,
			      char *err, size_t errlen)
{
	char id[24], u[16];
	const char *params[2] = { id, u };
	struct db_url_message m;
	enum db_result r = DB_OK;
	PGresult *res;

	snprintf(id, sizeof(id), "%lld", (long long)mailbox_id);
	snprintf(u, sizeof(u), "%u", uid);
	res = PQexecPrepared(d->conn, "fetch_url_message", 2, params, NULL, NULL, 1);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_err_result(err, errlen, "reading a message named by a URL", d->conn, res);
		r = DB_FAILED;
	} else if (PQntuples(res) == 0) {
		r = DB_NOT_FOUND;
	} else {
		m.uidvalidity = (uint32_t)be64(res, 0, 0);
		m.raw = bytes(res, 0, 1, &m.raw_len);
		m.parts = bytes(res, 0, 2, &m.parts_len);
		cb(ctx, &m);
	}
	PQclear(res);
	return r;
}
