/* schema/: the store.  The only code that speaks SQL; everything else sees
 * these typed functions and never a PGresult (libpq-fe.h is included only by
 * the sources in schema/, through schema/db_private.h).
 *
 * Errors: functions return 0 on success and -1 on failure with a short,
 * one-line, human-readable reason (no trailing newline) in the caller's
 * err buffer, truncated to errlen.  The caller sends it to the client or
 * log once, at its command boundary.  A -1 caused by a broken connection
 * needs nothing special from the caller: the next db_ensure() reconnects.
 *
 * Every statement is a named prepared statement created when the connection
 * opens (and again after a reconnect); values always travel as parameters. */
#ifndef KAIRAN_SCHEMA_DB_H
#define KAIRAN_SCHEMA_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One PostgreSQL connection and its prepared statements.  Not thread-safe:
 * each worker thread owns one (libpq itself is safe across threads as long as
 * a connection is used by one thread at a time). */
typedef struct db db;

/* System flags as stored in mailbox_messages.flags (a smallint bitmask).
 * The values are part of the on-disk format: never renumber them. */
enum db_flag {
	DB_FLAG_SEEN     = 1 << 0,
	DB_FLAG_ANSWERED = 1 << 1,
	DB_FLAG_FLAGGED  = 1 << 2,
	DB_FLAG_DELETED  = 1 << 3,
	DB_FLAG_DRAFT    = 1 << 4,
};

/* Connects with the libpq DSN (a "key=value ..." string or a postgresql://
 * URI; libpq's PG* environment variables fill in what it leaves out), checks
 * that the database is exactly at the newest migration this binary embeds,
 * and prepares every statement.
 *
 * Settings added to the DSN: fallback_application_name=kairan (an
 * application_name in the DSN wins), connect_timeout=10 unless the DSN or
 * PGCONNECT_TIMEOUT sets one, client_encoding=UTF8 always (mailbox names are
 * UTF-8 whatever the environment says), and statement_timeout=30s for the
 * session unless the DSN, the role or the database already configured one.
 *
 * Version mismatch reasons, verbatim:
 *   "database is not initialised: run kairanctl migrate"
 *   "database schema is at version N, this kairand needs M: run kairanctl migrate"
 *   "database schema version N is newer than this binary knows (M): upgrade kairan"
 *
 * 0 and *db_r set (free with db_close); -1 with *db_r NULL and err set. */
int db_open(const char *dsn, db **db_r, char *err, size_t errlen);

/* Closes the connection and frees everything.  Sets *dbp NULL; NULL-safe. */
void db_close(db **dbp);

/* Call before each command.  Makes the connection usable: rolls back a
 * transaction a failed command left open, notices a connection the server
 * closed while it sat idle (restart, pg_terminate_backend), and if it is
 * broken tries PQreset once, then re-checks the schema version and
 * re-prepares the statements.  0 if usable; -1 otherwise (the caller
 * answers NO [UNAVAILABLE]; db_error() says why).  Blocks for at most
 * about connect_timeout while reconnecting. */
int db_ensure(db *d);

/* The reason for the last failure of db_ensure() on this connection ("" if
 * none).  Valid until the next call on d. */
const char *db_error(const db *d);

/* Creates the account of kind 'user' on first login, or records a changed
 * ldap_dn (NULL allowed) on later ones, and returns its id in
 * *account_id_r, and in *trace_r (unless NULL) whether an admin asked for
 * the login's sessions to be traced (kairanctl trace).  One round trip; no
 * write when nothing changed.  Fails (-1, err set) if login belongs to a
 * shared account: those never log in. */
int db_account_provision(db *d, const char *login, const char *ldap_dn,
                         int64_t *account_id_r, bool *trace_r, char *err, size_t errlen);

/* kairanctl migrate.  Connects itself with dsn (same settings as db_open,
 * but without the statement timeout: a migration may legitimately run for
 * a long time), then applies the pending embedded migrations in order.
 * Each runs in its own transaction together with its schema_migrations row
 * (version, name, applied_at), under a transaction-scoped advisory lock, so
 * two concurrent migrates serialise and every migration is applied exactly
 * once.  Writes one line per applied migration to out ("applied
 * 0001_initial"), or "schema is up to date (version N)" if none was
 * pending.
 *
 * Refuses (-1, err set, nothing applied) a database whose newest applied
 * version is higher than this binary knows, or whose applied migration
 * names differ from the embedded ones (a database migrated by another
 * branch).  A failing migration is rolled back entirely; err names it and
 * the line of the failing statement. */
int db_migrate(const char *dsn, FILE *out, char *err, size_t errlen);

/* kairanctl gc: deletes message content that no mailbox refers to and that
 * is older than grace_seconds, in batches; safe while kairand delivers
 * (schema/db_gc.c says why). Prints how many rows went to out. 0 / -1. */
int db_gc(const char *dsn, long grace_seconds, FILE *out, char *err, size_t errlen);
/* kairanctl gc too: removes the expunge history and the readers' private
 * change logs older than days, raising the floors CONDSTORE and QRESYNC
 * fall back from (migrations/0011). Prints the counts to out. 0 / -1. */
int db_prune_history(const char *dsn, long days, FILE *out, char *err, size_t errlen);

#endif
