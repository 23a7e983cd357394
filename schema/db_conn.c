/* Connections: open with kairan's defaults, set the session up, keep it
 * usable across server restarts, close. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "schema/db_private.h"

/* PostgreSQL 15 is what DESIGN.md requires; 0001 already relies on 14+
 * (int8multirange, lz4 TOAST compression). */
#define DB_MIN_SERVER_VERSION 150000

/* Used unless the DSN or PGCONNECT_TIMEOUT says otherwise: libpq's default
 * is to wait forever, which would hang a worker (and db_ensure's
 * reconnect) on an unreachable host. */
#define DB_CONNECT_TIMEOUT "10"

/* The session's statement timeout unless one is configured already.  A
 * command that runs longer than this is a bug or an overloaded server; the
 * client gets NO instead of a worker being held indefinitely. */
#define DB_STATEMENT_TIMEOUT "30s"

/* Libpq prints server NOTICEs and WARNINGs on stderr by default.  A daemon
 * must not write there behind its logger's back, and none of the notices
 * our statements can produce ("relation already exists, skipping") needs
 * action, so they are dropped. */
static void drop_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Checks done on every new or reset connection. */
static int check_server(PGconn *conn, char *err, size_t errlen)
{
	const char *enc = PQparameterStatus(conn, "server_encoding");
	int version = PQserverVersion(conn);

	if (version < DB_MIN_SERVER_VERSION) {
		db_errf(err, errlen, "PostgreSQL server is version %d.%d, kairan needs 15 or newer",
		        version / 10000, version % 10000);
		return -1;
	}
	/* Mailbox names are UTF-8.  A LATIN1 database would reject most of
	 * them; SQL_ASCII stores the bytes unchecked, which works because
	 * kairan validates UTF-8 itself. */
	if (enc == NULL || (strcmp(enc, "UTF8") != 0 && strcmp(enc, "SQL_ASCII") != 0)) {
		db_errf(err, errlen, "database encoding is %s, kairan needs UTF8",
		        enc != NULL ? enc : "unknown");
		return -1;
	}
	return 0;
}

PGconn *db_connect(const char *dsn, char *err, size_t errlen)
{
	/* PQconnectdbParams processes the keywords in order and the last value
	 * wins; with expand_dbname the "dbname" entry is the user's whole DSN.
	 * So defaults the DSN may override go before it, and what kairan
	 * insists on goes after it. */
	const char *keys[6], *values[6];
	int n = 0;
	PGconn *conn;

	keys[n] = "fallback_application_name";
	values[n++] = "kairan";
	if (getenv("PGCONNECT_TIMEOUT") == NULL) {
		keys[n] = "connect_timeout";
		values[n++] = DB_CONNECT_TIMEOUT;
	}
	keys[n] = "dbname";
	values[n++] = dsn != NULL ? dsn : "";
	/* Overrides PGCLIENTENCODING and the DSN: every string we exchange
	 * with the server is UTF-8. */
	keys[n] = "client_encoding";
	values[n++] = "UTF8";
	keys[n] = NULL;
	values[n] = NULL;

	conn = PQconnectdbParams(keys, values, 1);
	if (conn == NULL) {
		db_errf(err, errlen, "cannot connect to PostgreSQL: out of memory");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		/* libpq's message names the socket or host but never says what
		 * it is; the prefix tells an admin reading a log line. */
		db_err_conn(err, errlen, "cannot connect to PostgreSQL", conn);
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeProcessor(conn, drop_notice, NULL);
	if (check_server(conn, err, errlen) < 0) {
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

int db_exec(PGconn *conn, const char *sql, char *err, size_t errlen)
{
	PGresult *res = PQexecParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);
	int ret = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		db_err_result(err, errlen, NULL, conn, res);
		ret = -1;
	}
	PQclear(res);
	return ret;
}

/* Everything a daemon connection needs after (re)connecting.  Also re-run
 * after PQreset, which starts a fresh server session: prepared statements
 * and SET values do not survive it. */
static int session_setup(PGconn *conn, char *err, size_t errlen)
{
	/* Only where nothing (DSN options, PGOPTIONS, ALTER ROLE/DATABASE ...
	 * SET) configured them already: the administrator's choice wins.
	 *
	 * Generic plans: every statement is prepared once and planned once.
	 * Left to choose, PostgreSQL re-planned store_flags and mailbox_sync
	 * at every call, as their generic plans looked dearer on paper, and
	 * planning took more of its CPU than running them (1.1 against 0.4
	 * ms a STORE; tests/bench/results-mixed.md). The statements are
	 * written so that one plan fits every mailbox and UID set
	 * (DB_UID_RANGE_ROWS); the searches, built per command, ask for a
	 * plan of their own (search_settings). */
	if (db_exec(conn, "SELECT CASE WHEN current_setting('statement_timeout') = '0'"
	                  " THEN set_config('statement_timeout', '" DB_STATEMENT_TIMEOUT "', false) END,"
	                  " CASE WHEN current_setting('plan_cache_mode') = 'auto'"
	                  " THEN set_config('plan_cache_mode', 'force_generic_plan', false) END",
	            err, errlen) < 0)
		return -1;
	/* The version is checked before preparing: against an old schema the
	 * statements would fail with "column does not exist", which tells the
	 * administrator much less than "run kairanctl migrate". */
	if (db_check_version(conn, err, errlen) < 0)
		return -1;
	return db_prepare_all(conn, err, errlen);
}

int db_open(const char *dsn, db **db_r, char *err, size_t errlen)
{
	db *d;
	PGconn *conn;

	*db_r = NULL;
	conn = db_connect(dsn, err, errlen);
	if (conn == NULL)
		return -1;
	if (session_setup(conn, err, errlen) < 0) {
		PQfinish(conn);
		return -1;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		db_errf(err, errlen, "out of memory");
		PQfinish(conn);
		return -1;
	}
	d->conn = conn;
	d->ready = 1;
	*db_r = d;
	return 0;
}

void db_close(db **dbp)
{
	if (dbp == NULL || *dbp == NULL)
		return;
	PQfinish((*dbp)->conn);
	free(*dbp);
	*dbp = NULL;
}

const char *db_error(const db *d)
{
	return d != NULL ? d->error : "no database connection";
}

/* Notices a connection the server closed while we were idle, so that the
 * command reconnects instead of failing on its first statement.  A server
 * that restarted or terminated this backend sent a FATAL error and closed
 * the socket; nothing else arrives unasked on a worker's connection (it
 * does not LISTEN).  PQconsumeInput alone is not enough: it reads the
 * error, parses it without changing the status, and stops before the end
 * of file.  So: while the socket is readable, consume; the read that hits
 * end of file fails and marks the connection bad.  Never blocks. */
static int still_connected(PGconn *conn)
{
	for (int i = 0; i < 4; i++) {
		struct pollfd p = { .fd = PQsocket(conn), .events = POLLIN };

		if (p.fd < 0)
			return 0;
		if (poll(&p, 1, 0) <= 0)
			break;
		if (!PQconsumeInput(conn))
			return 0;
	}
	return PQstatus(conn) == CONNECTION_OK;
}

/* 1 if the connection can run the next command as it is. */
static int connection_usable(db *d)
{
	if (!d->ready || PQstatus(d->conn) != CONNECTION_OK)
		return 0;
	if (!still_connected(d->conn))
		return 0;
	switch (PQtransactionStatus(d->conn)) {
	case PQTRANS_IDLE:
		return 1;
	case PQTRANS_INTRANS:
	case PQTRANS_INERROR:
		/* A command failed between BEGIN and COMMIT and its error path
		 * did not roll back.  Do it here so one bug cannot wedge the
		 * worker's connection for every later command. */
		return db_exec(d->conn, "ROLLBACK", d->error, sizeof(d->error)) == 0;
	default:
		/* PQTRANS_ACTIVE (a result was never collected) or UNKNOWN. */
		return 0;
	}
}

int db_ensure(db *d)
{
	if (d == NULL)
		return -1;
	d->error[0] = '\0';
	if (connection_usable(d))
		return 0;

	d->ready = 0;
	PQreset(d->conn);
	if (PQstatus(d->conn) != CONNECTION_OK) {
		db_err_conn(d->error, sizeof(d->error), "reconnecting to PostgreSQL", d->conn);
		return -1;
	}
	/* A reset may reach another server (failover) or a database that was
	 * migrated meanwhile: check it as db_open did. */
	if (check_server(d->conn, d->error, sizeof(d->error)) < 0 ||
	    session_setup(d->conn, d->error, sizeof(d->error)) < 0)
		return -1;
	d->ready = 1;
	return 0;
}
