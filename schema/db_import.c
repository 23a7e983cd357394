/* kairanctl import (schema/db_import.h). The messages go through APPEND's
 * statement (db_append_send), so an imported message is stored, analysed
 * and indexed exactly as a delivered one; this file adds only what import
 * needs around it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/db_import.h"
#include "schema/db_private.h"

const struct db_stmt db_import_stmts[] = {
	/* uidnext 1: no UID was ever given out, so no client can have cached
	 * one under the old UIDVALIDITY. */
	{ "import_mailbox",
	  "WITH u AS (UPDATE mailboxes SET uidvalidity = $3"
	  "  WHERE owner_id = $1 AND name = $2 AND uidnext = 1 AND $3::bigint > 0"
	  "  RETURNING id, uidvalidity, uidnext, noselect)"
	  " SELECT id, uidvalidity, uidnext, noselect FROM u"
	  " UNION ALL SELECT id, uidvalidity, uidnext, noselect FROM mailboxes"
	  "  WHERE owner_id = $1 AND name = $2 AND NOT EXISTS (SELECT 1 FROM u)" },
	{ "import_known",
	  "SELECT source FROM import_sources WHERE mailbox_id = $1 ORDER BY source COLLATE \"C\"" },
	/* Before a message whose UID is kept: the next append_message takes
	 * uidnext as its UID. Never lowers it. */
	{ "import_uid",
	  "UPDATE mailboxes SET uidnext = $3 WHERE owner_id = $1 AND name = $2 AND uidnext < $3" },
	/* After append_message, in its transaction: the mailbox row is locked
	 * by it, and uidnext - 1 is the UID it just gave. */
	{ "import_record",
	  "INSERT INTO import_sources (mailbox_id, source, uid)"
	  " SELECT id, $3, uidnext - 1 FROM mailboxes WHERE owner_id = $1 AND name = $2" },
	{ "import_uidnext", "UPDATE mailboxes SET uidnext = $2 WHERE id = $1 AND uidnext < $2" },
	{ NULL, NULL },
};

enum db_result db_import_mailbox(db *d, int64_t owner_id, const char *name,
				 uint32_t src_uidvalidity, struct db_import_mailbox *mb_r,
				 char *err, size_t errlen)
{
	char owner[24], uv[16];
	const char *params[3] = { owner, name, uv };
	enum db_result r = DB_NOT_FOUND;
	int64_t v, next;
	PGresult *res;

	snprintf(owner, sizeof(owner), "%lld", (long long)owner_id);
	snprintf(uv, sizeof(uv), "%u", src_uidvalidity);
	res = db_run(d, "import_mailbox", 3, params, true, "opening the target mailbox", err, errlen);
	if (res == NULL)
		return DB_FAILED;
	if (PQntuples(res) == 1) {
		if (db_get_int64(res, 0, 0, &mb_r->mailbox_id) < 0 || db_get_int64(res, 0, 1, &v) < 0 ||
		    db_get_int64(res, 0, 2, &next) < 0) {
			db_errf(err, errlen, "opening the target mailbox: unexpected result");
			r = DB_FAILED;
		} else {
			mb_r->uidvalidity = (uint32_t)v;
			mb_r->uidnext = (uint64_t)next;
			mb_r->noselect = PQgetvalue(res, 0, 3)[0] == 't';
			r = DB_OK;
		}
	}
	PQclear(res);
	return r;
}

enum db_result db_import_known(db *d, int64_t mailbox_id, struct arena *arena,
			       const char ***ids_r, size_t *n_r, char *err, size_t errlen)
{
	char id[24];
	const char *params[1] = { id };
	PGresult *res;
	const char **ids;
	int n;

	snprintf(id, sizeof(id), "%lld", (long long)mailbox_id);
	res = db_run(d, "import_known", 1, params, true, "reading what was imported", err, errlen);
	if (res == NULL)
		return DB_FAILED;
	n = PQntuples(res);
	ids = arena_alloc(arena, ((size_t)n + 1) * sizeof(*ids));
	for (int i = 0; i < n; i++)
		ids[i] = db_get_text(arena, res, i, 0);
	PQclear(res);
	*ids_r = ids;
	*n_r = (size_t)n;
	return DB_OK;
}

/* Reads the results of one pipelined statement that returns no rows;
 * false if it failed (err then says why, unless it was skipped after an
 * earlier failure). */
static bool command_result(db *d, const char *what, char *err, size_t errlen)
{
	PGresult *res;
	bool ok = true;

	while ((res = PQgetResult(d->conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);

		if (ok && st != PGRES_COMMAND_OK) {
			if (st != PGRES_PIPELINE_ABORTED)
				db_err_result(err, errlen, what, d->conn, res);
			ok = false;
		}
		PQclear(res);
	}
	return ok;
}

static bool send_uid_params(db *d, const char *stmt, const char *owner, const char *name,
			    const char *third)
{
	const char *params[3] = { owner, name, third };

	return PQsendQueryPrepared(d->conn, stmt, 3, params, NULL, NULL, 0) == 1;
}

enum db_result db_import_batch(db *d, int64_t owner_id, const char *name,
			       const struct db_import_msg *msgs, size_t n, long max_keywords,
			       uint32_t *uids_r, char *err, size_t errlen)
{
	char owner[24], cap[24], uid[16];
	enum db_result r = DB_OK;
	bool sent;

	snprintf(owner, sizeof(owner), "%lld", (long long)owner_id);
	snprintf(cap, sizeof(cap), "%ld", max_keywords);
	/* BEGIN, per message [import_uid] append_message import_record,
	 * COMMIT, one sync: n messages cost one round trip and one commit.
	 * After a failure the server skips the rest up to the sync point. */
	sent = PQenterPipelineMode(d->conn) &&
	       PQsendQueryParams(d->conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0);
	for (size_t i = 0; sent && i < n; i++) {
		if (msgs[i].uid != 0) {
			snprintf(uid, sizeof(uid), "%u", msgs[i].uid);
			sent = send_uid_params(d, "import_uid", owner, name, uid);
		}
		sent = sent && db_append_send(d, owner, owner, name, cap, &msgs[i].m, NULL) &&
		       send_uid_params(d, "import_record", owner, name, msgs[i].source);
	}
	sent = sent && PQsendQueryParams(d->conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) &&
	       PQpipelineSync(d->conn);
	if (!sent) {
		db_err_conn(err, errlen, "importing", d->conn);
		PQexitPipelineMode(d->conn);
		return DB_FAILED;
	}
	if (!command_result(d, "importing", err, errlen))
		r = DB_FAILED;
	for (size_t i = 0; i < n; i++) {
		struct db_append_result res = { 0 };
		enum db_result one = DB_OK;
		char skipped[64];

		if (msgs[i].uid != 0 && !command_result(d, "keeping the UID", err, errlen))
			one = DB_FAILED;
		if (one == DB_OK && r == DB_OK)
			one = db_append_receive(d, &res, err, errlen);
		else
			(void)db_append_receive(d, &res, skipped, sizeof(skipped));
		if (one == DB_NOT_FOUND)
			snprintf(err, errlen, "importing: the mailbox %s is gone or not selectable", name);
		if (!command_result(d, "recording the source id", err, errlen) && one == DB_OK)
			one = DB_FAILED;
		if (r == DB_OK && one != DB_OK)
			r = one;
		uids_r[i] = res.uid;
	}
	if (!command_result(d, "importing: commit", err, errlen) && r == DB_OK)
		r = DB_FAILED;
	return db_append_pipeline_end(d, r);
}

enum db_result db_import_uidnext(db *d, int64_t mailbox_id, uint64_t uidnext,
				 char *err, size_t errlen)
{
	char id[24], next[24];
	const char *params[2] = { id, next };
	PGresult *res;

	snprintf(id, sizeof(id), "%lld", (long long)mailbox_id);
	snprintf(next, sizeof(next), "%llu", (unsigned long long)uidnext);
	res = db_run(d, "import_uidnext", 2, params, false, "keeping the next UID", err, errlen);
	if (res == NULL)
		return DB_FAILED;
	PQclear(res);
	return DB_OK;
}
