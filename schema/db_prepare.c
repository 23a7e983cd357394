/* The registry of prepared statements, and preparing them all at once.
 *
 * Every statement kairan runs is prepared when a connection opens, so a
 * typo in SQL shows up at startup rather than in the middle of a command,
 * and each later execution skips parsing and planning setup.  They are
 * sent in one pipeline: a reconnect costs one round trip however many
 * statements there are. */
#include <string.h>

#include "schema/db_private.h"

/* Each module's table, next to the code that runs its statements.  A new
 * module in schema/ adds its table here. */
static const struct db_stmt *const stmt_tables[] = {
	db_account_stmts,
	db_mailbox_stmts,
	db_mailbox_list_stmts,
	db_mailbox_status_stmts,
	db_select_stmts,
	db_fetch_stmts,
	db_store_stmts,
	db_append_stmts,
	db_append_big_stmts,
	db_deliver_stmts,
	db_copy_stmts,
	db_acl_stmts,
	db_shared_stmts,
	db_seen_stmts,
	db_private_keywords_stmts,
	db_admin_stmts,
	db_search_stmts,
	db_reanalyse_stmts,
	db_notify_stmts,
	db_trace_stmts,
	db_team_stmts,
	db_quota_stmts,
	db_import_stmts,
};

#define N_TABLES (sizeof(stmt_tables) / sizeof(stmt_tables[0]))

/* Reads the pipeline's results up to and including its sync point, keeping
 * the first failure (a failed Parse makes the server skip everything up to
 * the sync, which libpq reports as PGRES_PIPELINE_ABORTED for each).
 * names[i] is the statement whose result comes i-th. */
static int collect(PGconn *conn, const char *const *names, size_t count,
                   char *err, size_t errlen)
{
	size_t next = 0;
	int failed = 0, nulls = 0;

	for (;;) {
		PGresult *res = PQgetResult(conn);
		ExecStatusType st;

		if (res == NULL) {
			/* One NULL ends each statement's results.  More than that
			 * in a row means nothing more is coming: the connection
			 * broke before the sync point. */
			if (PQstatus(conn) != CONNECTION_OK || ++nulls > 1) {
				if (!failed)
					db_err_conn(err, errlen, "preparing statements", conn);
				return -1;
			}
			continue;
		}
		nulls = 0;
		st = PQresultStatus(res);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			return failed ? -1 : 0;
		}
		if (st != PGRES_COMMAND_OK && st != PGRES_PIPELINE_ABORTED && !failed) {
			char what[128];

			snprintf(what, sizeof(what), "preparing statement %s",
			         next < count ? names[next] : "?");
			db_err_result(err, errlen, what, conn, res);
			failed = 1;
		}
		PQclear(res);
		next++;
	}
}

int db_prepare_all(PGconn *conn, char *err, size_t errlen)
{
	const char *names[256];
	size_t count = 0;
	int ret;

	if (!PQenterPipelineMode(conn)) {
		db_err_conn(err, errlen, "preparing statements", conn);
		return -1;
	}
	for (size_t t = 0; t < N_TABLES; t++) {
		for (const struct db_stmt *s = stmt_tables[t]; s->name != NULL; s++) {
			if (count == sizeof(names) / sizeof(names[0])) {
				/* A programming error, caught by the first test run. */
				db_errf(err, errlen, "preparing statements: more than %zu statements",
				        count);
				goto broken;
			}
			if (!PQsendPrepare(conn, s->name, s->sql, 0, NULL)) {
				db_err_conn(err, errlen, "preparing statements", conn);
				goto broken;
			}
			names[count++] = s->name;
		}
	}
	if (!PQpipelineSync(conn)) {
		db_err_conn(err, errlen, "preparing statements", conn);
		goto broken;
	}
	ret = collect(conn, names, count, err, errlen);
	if (!PQexitPipelineMode(conn) && ret == 0) {
		db_err_conn(err, errlen, "preparing statements", conn);
		ret = -1;
	}
	return ret;

broken:
	/* Statements are queued without a sync point, so the connection is in
	 * no state to reuse.  It needs no cleanup here: db_open discards it,
	 * and db_ensure resets it because the db is not marked ready. */
	return -1;
}
