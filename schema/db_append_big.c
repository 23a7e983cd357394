/* APPEND and delivery of messages that arrived in a spool (db_message.h,
 * raw_spool): libpq sends a parameter only whole, from memory, so a big
 * message goes to PostgreSQL as a large object written in chunks of
 * DB_APPEND_CHUNK bytes, which the append statement then reads with
 * lo_get, all in one transaction that ends with the large object unlinked
 * (a rollback removes it as well). kairand holds one chunk per worker at a
 * time, whatever the size of the message; the backend holds the message
 * once while it hashes, compresses and stores it, as it does for any
 * bytea value (docs/architecture.md, "Big messages", says what that
 * costs and why it is accepted). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/db_message.h"
#include "schema/db_private.h"
#include "server/core/spool.h"

/* Big enough that a 40 MiB message costs 80 round trips, small enough that
 * libpq's output buffer, which never shrinks, stays about 1 MiB. */
#define DB_APPEND_CHUNK (512 * 1024)

const struct db_stmt db_append_big_stmts[] = {
	{ "lo_new", "SELECT lo_create(0)" },
	{ "lo_put_chunk", "SELECT lo_put($1::oid, $2::int8, $3::bytea)" },
	{ "lo_drop", "SELECT lo_unlink($1::oid)" },
	{ NULL, NULL },
};

/* Runs one of the statements above; its one value (if any) in value_r. */
static bool lo_run(db *d, const char *stmt, int n, const char *const *values, const int *lengths,
		   const int *formats, char *value_r, size_t value_len, char *err, size_t errlen)
{
	PGresult *res = PQexecPrepared(d->conn, stmt, n, values, lengths, formats, 0);
	bool ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;

	if (!ok)
		db_err_result(err, errlen, "storing a big message", d->conn, res);
	else if (value_r != NULL)
		snprintf(value_r, value_len, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return ok;
}

/* Copies the spool into a new large object; its oid (text) in oid_r. */
static bool lo_upload(db *d, struct spool *sp, uint64_t len, char *oid_r, size_t oid_len,
		      char *chunk, char *err, size_t errlen)
{
	int failed;

	if (spool_failed(sp, &failed) || spool_size(sp) != len) {
		db_errf(err, errlen, "the message's spool is incomplete: %s",
			failed ? strerror(failed) : "short");
		return false;
	}
	if (!lo_run(d, "lo_new", 0, NULL, NULL, NULL, oid_r, oid_len, err, errlen))
		return false;
	for (uint64_t at = 0; at < len;) {
		char offset[24];
		const char *values[3] = { oid_r, offset, chunk };
		int lengths[3] = { 0, 0, 0 }, formats[3] = { 0, 0, 1 };
		ssize_t n = spool_read(sp, at, chunk, DB_APPEND_CHUNK);

		if (n <= 0) {
			db_errf(err, errlen, "reading the message's spool: %s",
				n < 0 ? strerror(errno) : "short");
			return false;
		}
		snprintf(offset, sizeof(offset), "%" PRIu64, at);
		lengths[2] = (int)n;
		if (!lo_run(d, "lo_put_chunk", 3, values, lengths, formats, NULL, 0, err, errlen))
			return false;
		at += (uint64_t)n;
	}
	return true;
}

bool db_lo_upload_spool(db *d, struct spool *sp, uint64_t len, char *oid_r, size_t oid_len,
			char *err, size_t errlen)
{
	char *chunk = xmalloc(DB_APPEND_CHUNK);
	bool ok = lo_upload(d, sp, len, oid_r, oid_len, chunk, err, errlen);

	free(chunk);
	return ok;
}

bool db_lo_drop(db *d, const char *oid, char *err, size_t errlen)
{
	const char *values[1] = { oid };

	return lo_run(d, "lo_drop", 1, values, NULL, NULL, NULL, 0, err, errlen);
}

/* One message inside the open transaction. */
static enum db_result append_one(db *d, const char *reader, const char *owner, const char *mailbox,
				 const char *cap, const struct db_append_msg *m,
				 struct db_append_result *result, char *chunk, char *err,
				 size_t errlen)
{
	char oid[24];
	enum db_result r;

	if (m->raw_spool == NULL) {
		if (!db_append_send(d, reader, owner, mailbox, cap, m, NULL)) {
			db_err_conn(err, errlen, "appending", d->conn);
			return DB_FAILED;
		}
		return db_append_receive(d, result, err, errlen);
	}
	if (!lo_upload(d, m->raw_spool, m->raw_len, oid, sizeof(oid), chunk, err, errlen))
		return DB_FAILED;
	if (!db_append_send(d, reader, owner, mailbox, cap, m, oid)) {
		db_err_conn(err, errlen, "appending", d->conn);
		return DB_FAILED;
	}
	if ((r = db_append_receive(d, result, err, errlen)) != DB_OK)
		return r;
	/* Its bytes are in messages.raw now. */
	return db_lo_drop(d, oid, err, errlen) ? DB_OK : DB_FAILED;
}

/* Statement by statement rather than pipelined as db_append does: each
 * chunk waits for the one before, so that libpq never holds more than
 * one; a big message costs far more in bytes than in round trips. */
enum db_result db_append_streamed(db *d, const char *reader, const char *owner,
				  const char *mailbox, const char *cap,
				  const struct db_append_msg *msgs, size_t n,
				  struct db_append_result *results, char *err, size_t errlen)
{
	enum db_result r = DB_OK;
	char *chunk;

	if (db_exec(d->conn, "BEGIN", err, errlen) < 0)
		return DB_FAILED;
	chunk = xmalloc(DB_APPEND_CHUNK);
	for (size_t i = 0; i < n && r == DB_OK; i++)
		r = append_one(d, reader, owner, mailbox, cap, &msgs[i], &results[i], chunk, err,
			       errlen);
	free(chunk);
	if (r == DB_OK && db_exec(d->conn, "COMMIT", err, errlen) < 0)
		r = DB_FAILED;
	if (r != DB_OK && PQtransactionStatus(d->conn) != PQTRANS_IDLE) {
		PGresult *rb = PQexec(d->conn, "ROLLBACK");
		PQclear(rb);
	}
	return r;
}
