/* kairanctl trace's statements (schema/db_trace.h). */
#include <string.h>

#include "schema/db_private.h"
#include "schema/db_trace.h"

const struct db_stmt db_trace_stmts[] = {
	{ "trace_on",
	  "INSERT INTO protocol_trace (login) VALUES ($1) ON CONFLICT (login) DO NOTHING" },
	{ "trace_off", "DELETE FROM protocol_trace WHERE login = $1" },
	{ "trace_list",
	  "SELECT login, to_char(since AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
	  " FROM protocol_trace ORDER BY login COLLATE \"C\"" },
	{ NULL, NULL },
};

enum db_result db_trace_set(db *d, const char *login, bool on, char *err, size_t errlen)
{
	const char *params[1] = { login };
	PGresult *res = PQexecPrepared(d->conn, on ? "trace_on" : "trace_off", 1, params, NULL,
				       NULL, 0);
	enum db_result r;

	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		db_err_result(err, errlen, "changing the trace", d->conn, res);
		PQclear(res);
		return DB_FAILED;
	}
	r = strcmp(PQcmdTuples(res), "0") == 0 ? DB_NOT_FOUND : DB_OK;
	PQclear(res);
	return r;
}

enum db_result db_trace_list(db *d, struct arena *arena, struct db_trace_row **rows_r,
			     size_t *n_r, char *err, size_t errlen)
{
	PGresult *res = PQexecPrepared(d->conn, "trace_list", 0, NULL, NULL, NULL, 0);
	struct db_trace_row *rows;
	size_t n;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_err_result(err, errlen, "reading the traced logins", d->conn, res);
		PQclear(res);
		return DB_FAILED;
	}
	n = (size_t)PQntuples(res);
	rows = arena_alloc(arena, (n > 0 ? n : 1) * sizeof(*rows));
	for (size_t i = 0; i < n; i++) {
		rows[i].login = arena_strndup(arena, PQgetvalue(res, (int)i, 0),
					      (size_t)PQgetlength(res, (int)i, 0));
		rows[i].since = arena_strndup(arena, PQgetvalue(res, (int)i, 1),
					      (size_t)PQgetlength(res, (int)i, 1));
	}
	PQclear(res);
	*rows_r = rows;
	*n_r = n;
	return DB_OK;
}
