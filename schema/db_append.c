/* APPEND (schema/db_message.h): content stored once per SHA-256, UIDs
 * allocated under the mailbox row lock, all in one transaction. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/db_keywords_sql.h"
#include "schema/db_message.h"
#include "schema/db_private.h"
#include "schema/db_seen_sql.h"
#include "server/core/buf.h"

/* One statement per message: the content row (inserted, or found by its
 * hash; DO UPDATE rather than DO NOTHING so that RETURNING yields the id and
 * the row is locked against a concurrent garbage collection), the UID from
 * the mailbox row (whose lock serialises the mailbox's writers), and the
 * mailbox_messages row. The content goes first (mb waits for msg through
 * its EXISTS): the costly part, hashing and storing it, is done before the
 * mailbox row is locked, so concurrent deliveries to one mailbox queue only
 * for the short rest and the commit. New content is stored with
 * search_ready = false: it goes into the backlog, not into the trigram
 * indexes, whose work the indexer does later (migrations/0008,
 * server/indexer.c); content found by its hash keeps its state. Content whose
 * mailbox turns out not to exist is left for kairanctl gc. SHA-256 is
 * computed by PostgreSQL, which keeps OpenSSL out of schema/. Raw bytes and
 * precomputed values are binary parameters: sent as they are, no escaping.
 * In a mailbox with per-user \Seen, a \Seen in $9 goes to the seen row of
 * the appender $16 (sv, after mb has locked the mailbox row), not to the
 * stored flags. body_text and header_text are stored lower-cased by
 * PostgreSQL's lower(), the folding SEARCH's LIKE lower(pattern) expects
 * (migrations/0007).
 *
 * Keywords (schema/db_keywords_sql.h): those of $10 the mailbox has not
 * registered (nkw) are registered at the message's modseq (reg). If they
 * would take the registry past $17 keywords, the message is stored
 * without them, keeping the keywords the mailbox knows, and the third
 * column says so: losing a label is better than refusing the mail, as for
 * the flags RFC 4314 does not let the caller set.
 *
 * The raw bytes are $3, or for a big message the large object whose oid
 * is $3 (schema/db_append_big.c). The subquery with OFFSET 0 is not pulled
 * up, so the bytes are read once and hashed, measured and stored from the
 * same value; "WHERE true" keeps ON CONFLICT from being read as part of
 * the FROM clause.
 *
 * The quota usage counters of the mailbox row (migrations/0018) grow in
 * the same UPDATE that allocates the UID: no second write of the row. */
#define APPEND_MESSAGE_SQL(RAW) \
	"WITH " DB_MESSAGE_CTE(RAW, "$4", "$5", "$6", "$7", "$8", "$12", "$13", "$14", "$15", "$18") "," \
	" box AS (SELECT id FROM mailboxes WHERE owner_id = $1 AND name = $2)," \
	" nkw AS (" DB_KW_NEW("box, unnest($10::text[]) u(k)", "box.id") ")," \
	" fits AS (" DB_KW_FITS("nkw", "(SELECT id FROM box)", "$17") ")," \
	" mb AS (UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1," \
	"     shared_modseq = highestmodseq + 1, message_count = message_count + 1," \
	"     message_bytes = message_bytes + (SELECT size FROM msg)" \
	"   WHERE owner_id = $1 AND name = $2 AND NOT noselect AND uidnext < 4294967296" \
	"     AND EXISTS (SELECT 1 FROM msg)" \
	"   RETURNING id, uidnext - 1 AS uid, highestmodseq, uidvalidity, seen_per_user)," \
	" sv AS (INSERT INTO seen (account_id, mailbox_id, uids)" \
	"   SELECT $16, mb.id, int8multirange(int8range(mb.uid, mb.uid, '[]')) FROM mb" \
	"   WHERE mb.seen_per_user AND $9::int & 1 <> 0" DB_SEEN_ADD_ON_CONFLICT ")," \
	" reg AS (" DB_KW_REGISTER("nkw", "mb", "mb.id", "mb.highestmodseq", "(SELECT ok FROM fits)") ")" \
	" INSERT INTO mailbox_messages (mailbox_id, uid, message_id, flags, keywords, modseq, internaldate)" \
	" SELECT mb.id, mb.uid, msg.id, CASE WHEN mb.seen_per_user THEN $9::int & 30 ELSE $9::int END," \
	"   CASE WHEN (SELECT ok FROM fits) THEN $10::text[]" \
	"     ELSE " DB_KW_WITHOUT_NEW("$10::text[]", "nkw") " END," \
	"   mb.highestmodseq, to_timestamp($11)" \
	" FROM mb, msg RETURNING uid, (SELECT uidvalidity FROM mb), NOT (SELECT ok FROM fits), mailbox_id"

const struct db_stmt db_append_stmts[] = {
	{ "append_message", APPEND_MESSAGE_SQL("$3::bytea") },
	{ "append_message_lo", APPEND_MESSAGE_SQL("lo_get($3::oid)") },
	{ NULL, NULL },
};

bool db_append_send(db *d, const char *reader, const char *owner, const char *mailbox,
		    const char *cap, const struct db_append_msg *m, const char *lo_oid)
{
	char flags[8], date[24];
	const char *values[18];
	int lengths[18] = { 0 }, formats[18] = { 0 };
	struct db_analysed a;
	bool ok;

	snprintf(flags, sizeof(flags), "%u", m->flags);
	snprintf(date, sizeof(date), "%lld", (long long)m->internaldate);
	db_analysed_params(&a, m);
	values[0] = owner;
	values[1] = mailbox;
	if (lo_oid != NULL)
		values[2] = lo_oid;
	else
		values[2] = m->raw, lengths[2] = (int)m->raw_len, formats[2] = 1;
	/* $4..$8, $12..$15 and $18: the precomputed columns. */
	for (int i = 0; i < DB_ANALYSED_NPARAMS; i++) {
		int at = i < 5 ? 3 + i : i < 9 ? 6 + i : 17;
		values[at] = a.values[i];
		lengths[at] = a.lengths[i];
		formats[at] = a.formats[i];
	}
	values[8] = flags;
	values[9] = m->keywords_array;
	values[10] = date;
	values[15] = reader;
	values[16] = cap;
	ok = PQsendQueryPrepared(d->conn, lo_oid != NULL ? "append_message_lo" : "append_message", 18,
				 values, lengths, formats, 0) == 1;
	db_analysed_free(&a);
	return ok;
}

enum db_result db_append_receive(db *d, struct db_append_result *out, char *err, size_t errlen)
{
	enum db_result r = DB_OK;
	PGresult *res;
	bool got = false;

	while ((res = PQgetResult(d->conn)) != NULL) {
		int64_t uid, uidvalidity, mailbox_id;

		if (got || r != DB_OK) {
			PQclear(res);
			continue;
		}
		got = true;
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			db_err_result(err, errlen, "appending", d->conn, res);
			r = DB_FAILED;
		} else if (PQntuples(res) == 0) {
			r = DB_NOT_FOUND;
		} else if (db_get_int64(res, 0, 0, &uid) < 0 || db_get_int64(res, 0, 1, &uidvalidity) < 0 ||
			   db_get_int64(res, 0, 3, &mailbox_id) < 0) {
			db_errf(err, errlen, "appending: unexpected result");
			r = DB_FAILED;
		} else {
			out->uid = (uint32_t)uid;
			out->uidvalidity = (uint32_t)uidvalidity;
			out->mailbox_id = mailbox_id;
			out->keywords_dropped = PQgetvalue(res, 0, 2)[0] == 't';
		}
		PQclear(res);
	}
	return got ? r : DB_FAILED;
}

/* Discards a pipelined statement's results, remembering a failure. */
static bool skip_result(db *d)
{
	PGresult *res;
	bool ok = true;

	while ((res = PQgetResult(d->conn)) != NULL) {
		ok = ok && PQresultStatus(res) == PGRES_COMMAND_OK;
		PQclear(res);
	}
	return ok;
}

enum db_result db_append(db *d, int64_t reader_id, int64_t owner_id, const char *mailbox,
			 const struct db_append_msg *msgs, size_t n, long max_keywords,
			 struct db_append_result *results, char *err, size_t errlen)
{
	char owner[24], reader[24], cap[24];
	enum db_result r = DB_OK;
	bool sent;

	snprintf(owner, sizeof(owner), "%lld", (long long)owner_id);
	snprintf(reader, sizeof(reader), "%lld", (long long)reader_id);
	snprintf(cap, sizeof(cap), "%ld", max_keywords);
	for (size_t i = 0; i < n; i++)
		if (msgs[i].raw_spool != NULL)
			return db_append_streamed(d, reader, owner, mailbox, cap, msgs, n, results,
						  err, errlen);
	if (n == 1) {  /* one statement is its own transaction */
		if (!db_append_send(d, reader, owner, mailbox, cap, &msgs[0], NULL)) {
			db_err_conn(err, errlen, "appending", d->conn);
			return DB_FAILED;
		}
		return db_append_receive(d, &results[0], err, errlen);
	}
	/* MULTIAPPEND (RFC 3502: all or none): BEGIN, one statement per
	 * message, COMMIT, all in one pipeline, so n messages cost one round
	 * trip and one commit. After a failure the server skips the rest up to
	 * the sync point, and the transaction is rolled back below. */
	sent = PQenterPipelineMode(d->conn) &&
	       PQsendQueryParams(d->conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0);
	for (size_t i = 0; sent && i < n; i++)
		sent = db_append_send(d, reader, owner, mailbox, cap, &msgs[i], NULL);
	sent = sent && PQsendQueryParams(d->conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) &&
	       PQpipelineSync(d->conn);
	if (!sent) {
		db_err_conn(err, errlen, "appending", d->conn);
		PQexitPipelineMode(d->conn);
		return DB_FAILED;
	}
	if (!skip_result(d))
		r = DB_FAILED;
	for (size_t i = 0; i < n; i++) {
		enum db_result one = db_append_receive(d, &results[i], err, errlen);
		if (r == DB_OK && one != DB_OK)
			r = one;
	}
	if (!skip_result(d) && r == DB_OK) {
		db_errf(err, errlen, "appending: commit failed");
		r = DB_FAILED;
	}
	return db_append_pipeline_end(d, r);
}

enum db_result db_append_pipeline_end(db *d, enum db_result r)
{
	PGresult *sync = PQgetResult(d->conn);

	if (sync == NULL || PQresultStatus(sync) != PGRES_PIPELINE_SYNC)
		r = DB_FAILED;
	PQclear(sync);
	PQexitPipelineMode(d->conn);
	if (r != DB_OK && PQtransactionStatus(d->conn) != PQTRANS_IDLE) {
		PGresult *rb = PQexec(d->conn, "ROLLBACK");
		PQclear(rb);
	}
	return r;
}
