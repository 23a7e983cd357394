/* The schema version: which migrations the database has, compared with the
 * ones this binary embeds.  kairand runs only against exactly the schema it
 * was built for; kairanctl migrate is the one way to change it. */
#include <string.h>

#include "schema/db_private.h"
#include "schema/migrations.h"

/* SQLSTATE undefined_table: schema_migrations does not exist yet. */
#define SQLSTATE_UNDEFINED_TABLE "42P01"

int db_known_version(void)
{
	return db_migrations_count > 0 ? db_migrations[db_migrations_count - 1].version : 0;
}

int db_schema_version(PGconn *conn, int *version_r, char *err, size_t errlen)
{
	PGresult *res = PQexecParams(conn, "SELECT coalesce(max(version), 0) FROM schema_migrations",
	                             0, NULL, NULL, NULL, NULL, 0);
	int64_t v;
	int ret = -1;

	*version_r = 0;
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		if (db_get_int64(res, 0, 0, &v) == 0 && v >= 0 && v <= 1000000) {
			*version_r = (int)v;
			ret = 0;
		} else {
			db_errf(err, errlen, "schema_migrations holds an invalid version");
		}
	} else {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		/* One round trip for the common case; a missing table is the
		 * answer "version 0", not an error. */
		if (state != NULL && strcmp(state, SQLSTATE_UNDEFINED_TABLE) == 0)
			ret = 0;
		else
			db_err_result(err, errlen, "reading the schema version", conn, res);
	}
	PQclear(res);
	return ret;
}

void db_err_newer(char *err, size_t errlen, int version)
{
	db_errf(err, errlen, "database schema version %d is newer than this binary knows (%d): "
	        "upgrade kairan", version, db_known_version());
}

int db_check_version(PGconn *conn, char *err, size_t errlen)
{
	int have, want = db_known_version();

	if (db_schema_version(conn, &have, err, errlen) < 0)
		return -1;
	if (have == want)
		return 0;
	if (have == 0)
		db_errf(err, errlen, "database is not initialised: run kairanctl migrate");
	else if (have < want)
		db_errf(err, errlen, "database schema is at version %d, this kairand needs %d: "
		        "run kairanctl migrate", have, want);
	else
		db_err_newer(err, errlen, have);
	return -1;
}
