/* Reanalysis of rows an older MIME parser computed (schema/db_reanalyse.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/db_message.h"
#include "schema/db_private.h"
#include "schema/db_reanalyse.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* reanalyse_stale reads through messages_mime_stale (the partial index
 * migrations/0015 builds for "mime_version < DB_MIME_VERSION", which the
 * constant in the statement lets the planner use). reanalyse_update
 * writes what APPEND would store today (db_append.c, same encoding:
 * db_analysed.c); the text is lower-cased as 0007 requires. */
const struct db_stmt db_reanalyse_stmts[] = {
	{ "reanalyse_stale",
	  "SELECT id, raw FROM messages WHERE mime_version < " STR(DB_MIME_VERSION)
	  " ORDER BY id LIMIT $1::int" },
	{ "reanalyse_update",
	  "UPDATE messages SET envelope = $2, body = $3, bodystructure = $4,"
	  "   parts = convert_from($5, 'UTF8')::jsonb, mime_version = $6::int,"
	  "   header_fields = $7::text[], body_text = lower($8),"
	  "   sent_date = DATE '1970-01-01' + $9::int, header_text = lower($10), preview = $11"
	  " WHERE id = $1 AND mime_version < $6::int" },
	{ NULL, NULL },
};

static int reanalyse_one(db *d, const char *id, db_analyse_fn *analyse, void *ctx,
			 struct db_append_msg *m, char *err, size_t errlen)
{
	const char *values[1 + DB_ANALYSED_NPARAMS] = { id };
	int lengths[1 + DB_ANALYSED_NPARAMS] = { 0 }, formats[1 + DB_ANALYSED_NPARAMS] = { 0 };
	struct db_analysed a;
	PGresult *res;
	int ret = 0;

	analyse(ctx, m);
	db_analysed_params(&a, m);
	memcpy(values + 1, a.values, sizeof(a.values));
	memcpy(lengths + 1, a.lengths, sizeof(a.lengths));
	memcpy(formats + 1, a.formats, sizeof(a.formats));
	res = PQexecPrepared(d->conn, "reanalyse_update", 1 + DB_ANALYSED_NPARAMS, values, lengths,
			     formats, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		db_err_result(err, errlen, "rewriting a reanalysed message", d->conn, res);
		ret = -1;
	}
	PQclear(res);
	db_analysed_free(&a);
	return ret;
}

int db_reanalyse_batch(db *d, long limit, db_analyse_fn *analyse, void *ctx, long *count_r,
		       char *err, size_t errlen)
{
	char n[24];
	const char *params[1] = { n };
	PGresult *res;
	int ret = 0;

	*count_r = 0;
	snprintf(n, sizeof(n), "%ld", limit);
	/* Binary results: raw comes as its bytes; id as 8 bytes big-endian,
	 * so ask for it as text in the UPDATE (below). */
	res = PQexecPrepared(d->conn, "reanalyse_stale", 1, params, NULL, NULL, 1);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_err_result(err, errlen, "reading messages to reanalyse", d->conn, res);
		PQclear(res);
		return -1;
	}
	for (int i = 0; i < PQntuples(res) && ret == 0; i++) {
		struct db_append_msg m;
		const unsigned char *b = (const unsigned char *)PQgetvalue(res, i, 0);
		char id[24];
		uint64_t v = 0;

		if (PQgetlength(res, i, 0) != 8) {
			db_errf(err, errlen, "reading messages to reanalyse: unexpected result");
			ret = -1;
			break;
		}
		for (int k = 0; k < 8; k++)
			v = v << 8 | b[k];
		snprintf(id, sizeof(id), "%lld", (long long)v);
		memset(&m, 0, sizeof(m));
		m.raw = PQgetvalue(res, i, 1);
		m.raw_len = (size_t)PQgetlength(res, i, 1);
		if ((ret = reanalyse_one(d, id, analyse, ctx, &m, err, errlen)) == 0)
			(*count_r)++;
	}
	PQclear(res);
	return ret;
}
