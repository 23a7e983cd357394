/* Reading typed values out of a PGresult.  Results are fetched in text
 * format, so numbers arrive as decimal strings and are parsed strictly
 * here: a value that does not parse is a bug or a schema mismatch, and is
 * reported instead of becoming 0. */
#include <errno.h>
#include <stdlib.h>

#include "schema/db_private.h"

int db_get_int64(const PGresult *res, int row, int col, int64_t *value_r)
{
	const char *s;
	char *end;
	long long v;

	if (row >= PQntuples(res) || col >= PQnfields(res) || PQgetisnull(res, row, col))
		return -1;
	s = PQgetvalue(res, row, col);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*value_r = (int64_t)v;
	return 0;
}

void db_id_array(struct buf *b, const int64_t *ids, size_t n)
{
	buf_append(b, "{", 1);
	for (size_t i = 0; i < n; i++)
		buf_appendf(b, "%s%lld", i ? "," : "", (long long)ids[i]);
	buf_append(b, "}", 2); /* with the NUL */
}

PGresult *db_run(db *d, const char *stmt, int nparams, const char *const *params, bool tuples,
		 const char *what, char *err, size_t errlen)
{
	PGresult *res = PQexecPrepared(d->conn, stmt, nparams, params, NULL, NULL, 0);

	if (PQresultStatus(res) != (tuples ? PGRES_TUPLES_OK : PGRES_COMMAND_OK)) {
		db_err_result(err, errlen, what, d->conn, res);
		PQclear(res);
		return NULL;
	}
	return res;
}

const char *db_get_text(struct arena *a, const PGresult *res, int row, int col)
{
	return arena_strndup(a, PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col));
}

void db_text_array_append(struct buf *b, const char *const *v, size_t n)
{
	buf_append(b, "{", 1);
	for (size_t i = 0; i < n; i++) {
		buf_append_str(b, i ? ",\"" : "\"");
		for (const char *p = v[i]; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				buf_append(b, "\\", 1);
			buf_append(b, p, 1);
		}
		buf_append(b, "\"", 1);
	}
	buf_append(b, "}", 2); /* with the NUL */
}
