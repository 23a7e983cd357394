/* kairanctl migrate: bring the database to the newest embedded migration.
 *
 * Each step is one transaction that
 *   1. takes a transaction-scoped advisory lock, so concurrent migrates (two
 *      admins, or several hosts' deploy scripts) queue up behind each other;
 *   2. creates schema_migrations if it is missing;
 *   3. reads the applied versions *under the lock*, so a migrate that waited
 *      sees what the one before it applied and does not apply it again;
 *   4. applies the next migration and records it, or stops.
 * A migration and its schema_migrations row commit together or not at all,
 * so a failed or interrupted migrate leaves the database at the last
 * complete version and can simply be run again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/db_private.h"
#include "schema/migrations.h"

/* Advisory lock key: the bytes "kairanMG" as a big-endian bigint, unlikely to
 * collide with another application's advisory locks in the same database. */
#define MIGRATE_LOCK_KEY "7737581574781029703"

static const char create_table_sql[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	" version integer PRIMARY KEY CHECK (version >= 1),"
	" name text NOT NULL,"
	" applied_at timestamptz NOT NULL DEFAULT now())";

/* Compares the applied migrations with the embedded ones and sets *current_r
 * to the newest applied version.  They must be 1..current without gaps.  A name that differs means the database was
 * migrated by a binary from another branch whose NNNN collided with ours:
 * applying ours on top would build a schema nobody wrote, so refuse. */
static int read_applied(PGconn *conn, int *current_r, char *err, size_t errlen)
{
	PGresult *res = PQexecParams(conn, "SELECT version, name FROM schema_migrations ORDER BY version",
	                             0, NULL, NULL, NULL, NULL, 0);
	int known = db_known_version(), ret = -1;

	*current_r = 0;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_err_result(err, errlen, "reading schema_migrations", conn, res);
		goto out;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		int64_t v;
		const char *name = PQgetvalue(res, i, 1);

		if (db_get_int64(res, i, 0, &v) < 0 || v < 1 || v > 1000000) {
			db_errf(err, errlen, "schema_migrations holds an invalid version");
			goto out;
		}
		if (v > known) {
			int64_t newest = v;

			/* Rows are ordered: report the newest, as db_open does. */
			(void)db_get_int64(res, PQntuples(res) - 1, 0, &newest);
			db_err_newer(err, errlen, (int)newest);
			goto out;
		}
		/* Each migration assumes all earlier ones: a gap (a row deleted
		 * by hand) would make "the next one" ambiguous. */
		if (v != i + 1) {
			db_errf(err, errlen, "schema_migrations lacks version %d", i + 1);
			goto out;
		}
		if (strcmp(name, db_migrations[v - 1].name) != 0) {
			db_errf(err, errlen, "database has migration %d applied as \"%.64s\", "
			        "this binary has \"%s\"", (int)v, name, db_migrations[v - 1].name);
			goto out;
		}
		*current_r = (int)v;
	}
	ret = 0;
out:
	PQclear(res);
	return ret;
}

/* The 1-based line of the statement a failed migration stopped at, from the
 * error's position (1-based, in characters of the submitted string); 0 if
 * the server gave no position. */
static int error_line(const char *sql, const PGresult *res)
{
	const char *pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
	long want, chars = 0;
	int line = 1;

	if (pos == NULL || (want = strtol(pos, NULL, 10)) < 1)
		return 0;
	for (const unsigned char *p = (const unsigned char *)sql; *p != '\0'; p++) {
		/* UTF-8 continuation bytes do not start a character. */
		if ((*p & 0xC0) != 0x80 && ++chars == want)
			return line;
		if (*p == '\n')
			line++;
	}
	return 0;
}

static int apply(PGconn *conn, const struct db_migration *m, char *err, size_t errlen)
{
	char version[16];
	const char *params[2] = { version, m->name };
	PGresult *res;
	ExecStatusType st;
	int ret = 0;

	/* The one place SQL is run with PQexec: a migration file is several
	 * statements, which only the simple query protocol accepts.  The text
	 * is compiled into the binary; nothing in it comes from users. */
	res = PQexec(conn, m->sql);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		char what[128];
		int line = res != NULL ? error_line(m->sql, res) : 0;

		if (line > 0)
			snprintf(what, sizeof(what), "migration %s failed at line %d", m->name, line);
		else
			snprintf(what, sizeof(what), "migration %s failed", m->name);
		db_err_result(err, errlen, what, conn, res);
		PQclear(res);
		return -1;
	}
	PQclear(res);

	snprintf(version, sizeof(version), "%d", m->version);
	res = PQexecParams(conn, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
	                   2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		db_err_result(err, errlen, "recording the migration", conn, res);
		ret = -1;
	}
	PQclear(res);
	return ret;
}

/* One transaction: 1 if it applied a migration (named in *applied_r), 0 if
 * the database was already up to date (version in *current_r), -1 on
 * error (rolled back). */
static int step(PGconn *conn, const struct db_migration **applied_r, int *current_r,
                char *err, size_t errlen)
{
	const char *params[1] = { MIGRATE_LOCK_KEY };
	const struct db_migration *m;
	PGresult *res;
	int current;

	*applied_r = NULL;
	if (db_exec(conn, "BEGIN", err, errlen) < 0)
		return -1;
	res = PQexecParams(conn, "SELECT pg_advisory_xact_lock($1::bigint)", 1, NULL, params,
	                   NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_err_result(err, errlen, "taking the migration lock", conn, res);
		PQclear(res);
		goto fail;
	}
	PQclear(res);
	if (db_exec(conn, create_table_sql, err, errlen) < 0 ||
	    read_applied(conn, &current, err, errlen) < 0)
		goto fail;
	*current_r = current;
	if (current == db_known_version())
		return db_exec(conn, "COMMIT", err, errlen) < 0 ? -1 : 0;

	/* Versions are 1..N without gaps (embed_migrations.sh enforces it), so
	 * the next one is at index current. */
	m = &db_migrations[current];
	if (apply(conn, m, err, errlen) < 0)
		goto fail;
	/* COMMIT can fail too (a deferred constraint, a serialisation failure,
	 * a lost connection): only a successful one counts as applied. */
	if (db_exec(conn, "COMMIT", err, errlen) < 0) {
		char reason[256];

		snprintf(reason, sizeof(reason), "%s", err != NULL && errlen > 0 ? err : "");
		db_errf(err, errlen, "migration %s failed at commit: %s", m->name, reason);
		return -1;
	}
	*applied_r = m;
	*current_r = m->version;
	return 1;

fail:
	/* The error is what matters; a failing ROLLBACK (connection gone) has
	 * the same effect on the server anyway. */
	(void)db_exec(conn, "ROLLBACK", NULL, 0);
	return -1;
}

int db_migrate(const char *dsn, FILE *out, char *err, size_t errlen)
{
	PGconn *conn = db_connect(dsn, err, errlen);
	int applied_any = 0, ret;

	if (conn == NULL)
		return -1;
	for (;;) {
		const struct db_migration *m;
		int current = 0;

		ret = step(conn, &m, &current, err, errlen);
		if (ret < 0)
			break;
		if (ret == 0) {
			if (!applied_any && out != NULL)
				fprintf(out, "schema is up to date (version %d)\n", current);
			break;
		}
		applied_any = 1;
		if (out != NULL) {
			/* Flushed at once: if a later migration fails, the admin
			 * still sees which ones made it. */
			fprintf(out, "applied %s\n", m->name);
			fflush(out);
		}
	}
	PQfinish(conn);
	return ret < 0 ? -1 : 0;
}
