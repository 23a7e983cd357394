/* Internals shared by the sources in schema/.  The only header in the tree
 * that includes libpq-fe.h; nothing outside schema/ may include this file. */
#ifndef KAIRAN_SCHEMA_DB_PRIVATE_H
#define KAIRAN_SCHEMA_DB_PRIVATE_H

#include <postgresql/libpq-fe.h>
#include <stdbool.h>

#include "schema/db.h"
#include "server/core/arena.h"
#include "server/core/buf.h"

struct db {
	PGconn *conn;
	/* 1 once this connection's session is set up (statement timeout,
	 * schema version checked, statements prepared).  0 after a failed
	 * setup, so that db_ensure() starts over instead of running
	 * statements that were never prepared. */
	int ready;
	/* Reason for the last db_ensure() failure, for db_error(). */
	char error[256];
};

/* One named prepared statement.  Each module that runs SQL defines an array
 * of these, next to the functions that execute them, terminated by
 * {NULL, NULL}, and lists it in db_prepare.c.  The name is what the module
 * passes to PQexecPrepared; it must be unique across modules. */
struct db_stmt {
	const char *name;
	const char *sql;
};

extern const struct db_stmt db_account_stmts[];
extern const struct db_stmt db_mailbox_stmts[];
extern const struct db_stmt db_mailbox_list_stmts[];
extern const struct db_stmt db_mailbox_status_stmts[];
extern const struct db_stmt db_select_stmts[];
extern const struct db_stmt db_fetch_stmts[];
extern const struct db_stmt db_store_stmts[];
extern const struct db_stmt db_append_stmts[];
extern const struct db_stmt db_append_big_stmts[];
extern const struct db_stmt db_deliver_stmts[];
extern const struct db_stmt db_copy_stmts[];
extern const struct db_stmt db_acl_stmts[];
extern const struct db_stmt db_shared_stmts[];
extern const struct db_stmt db_seen_stmts[];
extern const struct db_stmt db_private_keywords_stmts[];
extern const struct db_stmt db_admin_stmts[];
extern const struct db_stmt db_search_stmts[];
extern const struct db_stmt db_reanalyse_stmts[];
extern const struct db_stmt db_notify_stmts[];
extern const struct db_stmt db_import_stmts[];
extern const struct db_stmt db_trace_stmts[];
extern const struct db_stmt db_team_stmts[];
extern const struct db_stmt db_quota_stmts[];

/* --- db_analysed.c: a message's precomputed columns as parameters --- */

struct db_append_msg;
/* envelope, body, bodystructure, parts (binary), mime_version,
 * header_fields (a text[] literal), body_text, the sent date in days
 * (NULL: none), header_text, preview: what APPEND stores and reanalysis
 * rewrites. */
#define DB_ANALYSED_NPARAMS 10
struct db_analysed {
	const char *values[DB_ANALYSED_NPARAMS];
	int lengths[DB_ANALYSED_NPARAMS], formats[DB_ANALYSED_NPARAMS];
	char version[12], sent[24];
	struct buf fields, text;
};
void db_analysed_params(struct db_analysed *a, const struct db_append_msg *m);
void db_analysed_free(struct db_analysed *a);

/* --- db_err.c: one-line error messages --- */

/* snprintf into err, if err and errlen allow. */
void db_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "<what>: <libpq's connection error>", flattened to one line. */
void db_err_conn(char *err, size_t errlen, const char *what, const PGconn *conn);
/* "<what>: <server's primary message>" for a failed result; falls back to
 * the connection's error when res is NULL (out of memory, connection lost
 * before a result arrived). */
void db_err_result(char *err, size_t errlen, const char *what,
                   const PGconn *conn, const PGresult *res);

/* --- db_conn.c --- */

/* Opens a connection with kairan's DSN defaults (see db_open in db.h) and
 * checks the server: PostgreSQL 15 or newer, database encoding UTF8 (or
 * SQL_ASCII, which stores bytes unchecked).  Installs a notice processor
 * that drops NOTICE/WARNING messages, which libpq would otherwise print on
 * stderr.  NULL with err set on failure. */
PGconn *db_connect(const char *dsn, char *err, size_t errlen);

/* Runs one parameterless statement through the extended protocol (so a
 * stray ';' cannot smuggle in a second statement).  0 if it succeeded. */
int db_exec(PGconn *conn, const char *sql, char *err, size_t errlen);

/* --- db_prepare.c --- */

/* Prepares every statement of every module, in one round trip (pipeline
 * mode).  0, or -1 with err naming the first statement that failed. */
int db_prepare_all(PGconn *conn, char *err, size_t errlen);

/* --- db_version.c --- */

/* The newest migration version the binary embeds (0 if none). */
int db_known_version(void);
/* The database's schema version: max(version) of schema_migrations, or 0
 * if that table is missing or empty.  0 or -1 with err. */
int db_schema_version(PGconn *conn, int *version_r, char *err, size_t errlen);
/* 0 if the database is exactly at db_known_version(); -1 with the
 * documented "run kairanctl migrate" / "upgrade kairan" reasons otherwise. */
int db_check_version(PGconn *conn, char *err, size_t errlen);
/* The reason used when a database is newer than this binary. */
void db_err_newer(char *err, size_t errlen, int version);

/* --- db_append.c, db_append_big.c, db_deliver.c --- */

/* The content row of APPEND (db_append.c) and delivery (db_deliver.c),
 * one CTE: inserted with search_ready = false (the indexer's backlog), or
 * found by its hash (DO UPDATE rather than DO NOTHING so that RETURNING
 * yields it and the row is locked against a concurrent garbage
 * collection). RAW is the bytes' expression; P names the parameters of
 * the precomputed columns, in db_analysed order: the statements number
 * them differently. The subquery with OFFSET 0 is not pulled up, so the
 * bytes are read once and hashed, measured and stored from the same
 * value; "WHERE true" keeps ON CONFLICT from being read as part of the
 * FROM clause. body_text and header_text are stored lower-cased, the
 * folding SEARCH expects (migrations/0007). */
#define DB_MESSAGE_CTE(RAW, ENV, BODY, BS, PARTS, VER, FIELDS, TEXT, SENT, HTEXT, PREVIEW) \
	"msg AS (INSERT INTO messages AS m (sha256, raw, size, envelope, body, bodystructure, parts," \
	"     mime_version, header_fields, body_text, sent_date, header_text, search_ready, preview)" \
	"   SELECT sha256(r.raw), r.raw, octet_length(r.raw), " ENV ", " BODY ", " BS "," \
	"     convert_from(" PARTS ", 'UTF8')::jsonb, " VER "::int, " FIELDS "::text[], lower(" TEXT ")," \
	"     DATE '1970-01-01' + " SENT "::int, lower(" HTEXT "), false, " PREVIEW \
	"   FROM (SELECT " RAW " AS raw OFFSET 0) r WHERE true" \
	"   ON CONFLICT (sha256) DO UPDATE SET size = m.size RETURNING id, sha256, size)"

#include "schema/db_message.h"

/* Queues one message's append statement (outside or inside pipeline
 * mode); the parameters are copied by libpq before this returns. With
 * lo_oid, the raw bytes are that large object's, not m->raw. */
bool db_append_send(db *d, const char *reader, const char *owner, const char *mailbox,
		    const char *cap, const struct db_append_msg *m, const char *lo_oid);
/* Reads one queued append statement's results. */
enum db_result db_append_receive(db *d, struct db_append_result *out, char *err, size_t errlen);
/* The end of a pipelined transaction (BEGIN ... COMMIT, sync) whose
 * statements' results were read: reads the sync, leaves pipeline mode,
 * and rolls back when r is not DB_OK. Returns r, or DB_FAILED when the
 * sync is missing. */
enum db_result db_append_pipeline_end(db *d, enum db_result r);
/* db_append for messages of which at least one is in a spool. */
enum db_result db_append_streamed(db *d, const char *reader, const char *owner,
				  const char *mailbox, const char *cap,
				  const struct db_append_msg *msgs, size_t n,
				  struct db_append_result *results, char *err, size_t errlen);

/* The large-object steps of a big message (db_append_big.c), for
 * delivery (db_deliver.c): the spool copied into a new large object (its
 * oid, as text, in oid_r), and the large object removed. Inside an open
 * transaction; false with err set. */
bool db_lo_upload_spool(db *d, struct spool *sp, uint64_t len, char *oid_r, size_t oid_len,
			char *err, size_t errlen);
bool db_lo_drop(db *d, const char *oid, char *err, size_t errlen);

/* --- db_result.c --- */

/* Parses the text value at (row, col) as a decimal int64.  -1 if NULL,
 * absent or not a number. */
int db_get_int64(const PGresult *res, int row, int col, int64_t *value_r);

/* Appends ids as a NUL-terminated PostgreSQL bigint[] literal, "{1,7}",
 * for a $n::bigint[] parameter (one round trip for many ids). */
void db_id_array(struct buf *b, const int64_t *ids, size_t n);
/* Appends the NUL-terminated strings as a NUL-terminated text[] literal,
 * every element double-quoted with " and \ escaped (db_result.c). */
void db_text_array_append(struct buf *b, const char *const *v, size_t n);
/* The text value at (row, col), copied into a ("" for NULL). */
const char *db_get_text(struct arena *a, const PGresult *res, int row, int col);

/* Runs a prepared statement that returns rows (tuples) or none (command).
 * NULL with err set ("<what>: <reason>") on failure; the caller PQclears
 * the result. */
PGresult *db_run(db *d, const char *stmt, int nparams, const char *const *params, bool tuples,
		 const char *what, char *err, size_t errlen);

#endif
