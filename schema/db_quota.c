/* Quotas (schema/db_quota.h, migrations/0018). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/db_admin.h"
#include "schema/db_private.h"
#include "schema/db_quota.h"
#include "schema/db_ranges.h"

static const char *const resource_names[DB_QUOTA_NRESOURCES] = { "STORAGE", "MESSAGE" };

const struct db_stmt db_quota_stmts[] = {
	/* The limits as text: '' for no row (the default), 'none' for an
	 * explicit NULL. */
	{ "quota_get",
	  "SELECT a.kind = 'shared', coalesce(sum(m.message_count), 0),"
	  "  coalesce(sum(m.message_bytes), 0),"
	  "  coalesce((SELECT coalesce(q.quota_limit::text, 'none') FROM quotas q"
	  "   WHERE q.account_id = a.id AND q.resource = 'STORAGE'), ''),"
	  "  coalesce((SELECT coalesce(q.quota_limit::text, 'none') FROM quotas q"
	  "   WHERE q.account_id = a.id AND q.resource = 'MESSAGE'), ''),"
	  "  EXISTS (SELECT 1 FROM quotas q WHERE q.account_id = a.id AND q.resource = 'STORAGE'"
	  "   AND q.origin = 'directory'),"
	  "  EXISTS (SELECT 1 FROM quotas q WHERE q.account_id = a.id AND q.resource = 'MESSAGE'"
	  "   AND q.origin = 'directory')"
	  " FROM accounts a LEFT JOIN mailboxes m ON m.owner_id = a.id"
	  " WHERE a.id = $1 GROUP BY a.id" },
	/* $2 the resources to set, $3 their limits (NULL: none), $4 the
	 * resources that go back to the default. */
	{ "quota_set",
	  "WITH del AS (DELETE FROM quotas WHERE account_id = $1 AND resource = ANY ($4::text[]))"
	  " INSERT INTO quotas (account_id, resource, quota_limit)"
	  " SELECT $1, u.r, u.l FROM unnest($2::text[], $3::bigint[]) AS u(r, l)"
	  " ON CONFLICT (account_id, resource) DO UPDATE SET quota_limit = EXCLUDED.quota_limit,"
	  "   origin = 'admin'" },
	/* The directory's limits ($2, $3: as quota_set), at login: never over
	 * an admin's row, no write when nothing changed, and its own rows of
	 * the other resources go. */
	{ "quota_set_directory",
	  "WITH del AS (DELETE FROM quotas WHERE account_id = $1 AND origin = 'directory'"
	  "   AND NOT (resource = ANY ($2::text[])))"
	  " INSERT INTO quotas (account_id, resource, quota_limit, origin)"
	  " SELECT $1, u.r, u.l, 'directory' FROM unnest($2::text[], $3::bigint[]) AS u(r, l)"
	  " ON CONFLICT (account_id, resource) DO UPDATE SET quota_limit = EXCLUDED.quota_limit"
	  "   WHERE quotas.origin = 'directory' AND quotas.quota_limit IS DISTINCT FROM EXCLUDED.quota_limit" },
	/* Recalc: the rows first (writers of those mailboxes wait), then the
	 * counts in a new statement, whose snapshot sees every commit that
	 * came before the lock. $1 0: every mailbox. */
	{ "quota_lock",
	  "SELECT id FROM mailboxes WHERE $1 = 0 OR owner_id = $1 ORDER BY id FOR UPDATE" },
	{ "quota_recalc",
	  "WITH real AS (SELECT m.id, count(mm.uid) AS n, coalesce(sum(g.size), 0) AS bytes"
	  "  FROM mailboxes m LEFT JOIN mailbox_messages mm ON mm.mailbox_id = m.id"
	  "  LEFT JOIN messages g ON g.id = mm.message_id"
	  "  WHERE $1 = 0 OR m.owner_id = $1 GROUP BY m.id)"
	  " UPDATE mailboxes m SET message_count = r.n, message_bytes = r.bytes FROM real r"
	  " WHERE m.id = r.id AND (m.message_count <> r.n OR m.message_bytes <> r.bytes)" },
	/* COPY and MOVE: what the UIDs of $1 in the ranges $2..$3 would add
	 * to the target's root, and the source's owner. */
	{ "quota_selection",
	  "SELECT count(*), coalesce(sum(g.size), 0), (SELECT owner_id FROM mailboxes WHERE id = $1)"
	  " FROM mailbox_messages mm JOIN unnest($2::bigint[], $3::bigint[]) r(lo, hi)"
	  "   ON mm.uid BETWEEN r.lo AND r.hi JOIN messages g ON g.id = mm.message_id"
	  " WHERE mm.mailbox_id = $1" },
	{ NULL, NULL },
};

const char *db_quota_resource_name(enum db_quota_resource r)
{
	return resource_names[r];
}

static int parse_limit(const char *v, int64_t *limit_r)
{
	long long x;
	char *end;

	if (v[0] == '\0') {
		*limit_r = DB_QUOTA_DEFAULT;
		return 0;
	}
	if (strcmp(v, "none") == 0) {
		*limit_r = DB_QUOTA_NONE;
		return 0;
	}
	x = strtoll(v, &end, 10);
	if (*end != '\0' || x < 0)
		return -1;
	*limit_r = x;
	return 0;
}

enum db_result db_quota_get(db *d, int64_t owner_id, struct db_quota *q, char *err, size_t errlen)
{
	char id[24];
	const char *params[1] = { id };
	enum db_result r = DB_OK;
	int64_t messages, bytes;
	PGresult *res;

	snprintf(id, sizeof(id), "%lld", (long long)owner_id);
	res = db_run(d, "quota_get", 1, params, true, "reading a quota", err, errlen);
	if (res == NULL)
		return DB_FAILED;
	if (PQntuples(res) != 1) {
		r = DB_NOT_FOUND;
	} else if (db_get_int64(res, 0, 1, &messages) < 0 || db_get_int64(res, 0, 2, &bytes) < 0 ||
		   messages < 0 || bytes < 0 ||
		   parse_limit(PQgetvalue(res, 0, 3), &q->limit[DB_QUOTA_STORAGE]) < 0 ||
		   parse_limit(PQgetvalue(res, 0, 4), &q->limit[DB_QUOTA_MESSAGE]) < 0) {
		db_errf(err, errlen, "reading a quota: unexpected result");
		r = DB_FAILED;
	} else {
		q->shared = PQgetvalue(res, 0, 0)[0] == 't';
		q->from_directory[DB_QUOTA_STORAGE] = PQgetvalue(res, 0, 5)[0] == 't';
		q->from_directory[DB_QUOTA_MESSAGE] = PQgetvalue(res, 0, 6)[0] == 't';
		q->messages = (uint64_t)messages;
		q->bytes = (uint64_t)bytes;
	}
	PQclear(res);
	return r;
}

/* Runs quota_set or quota_set_directory: $2 the resources to set, $3
 * their limits (NULL: none), $4 (quota_set only) those that go back to
 * the default. limit[r] NULL: r is left alone. */
static enum db_result run_set(db *d, const char *stmt, int nparams, int64_t owner_id,
			      const int64_t *const limit[DB_QUOTA_NRESOURCES], char *err,
			      size_t errlen)
{
	struct buf set = { 0 }, values = { 0 }, reset = { 0 };
	const char *params[4];
	char id[24];
	PGresult *res;

	snprintf(id, sizeof(id), "%lld", (long long)owner_id);
	buf_append_str(&set, "{");
	buf_append_str(&values, "{");
	buf_append_str(&reset, "{");
	for (int i = 0; i < DB_QUOTA_NRESOURCES; i++) {
		if (limit[i] == NULL)
			continue;
		if (*limit[i] == DB_QUOTA_DEFAULT) {
			buf_appendf(&reset, "%s%s", reset.len > 1 ? "," : "", resource_names[i]);
			continue;
		}
		buf_appendf(&set, "%s%s", set.len > 1 ? "," : "", resource_names[i]);
		if (*limit[i] == DB_QUOTA_NONE)
			buf_appendf(&values, "%sNULL", values.len > 1 ? "," : "");
		else
			buf_appendf(&values, "%s%lld", values.len > 1 ? "," : "", (long long)*limit[i]);
	}
	buf_append(&set, "}", 2);
	buf_append(&values, "}", 2);
	buf_append(&reset, "}", 2);
	params[0] = id;
	params[1] = (const char *)set.data;
	params[2] = (const char *)values.data;
	params[3] = (const char *)reset.data;
	res = db_run(d, stmt, nparams, params, false, "setting a quota", err, errlen);
	buf_free(&set);
	buf_free(&values);
	buf_free(&reset);
	if (res == NULL)
		return DB_FAILED;
	PQclear(res);
	return DB_OK;
}

enum db_result db_quota_set(db *d, int64_t owner_id, const int64_t *const limit[DB_QUOTA_NRESOURCES],
			    char *err, size_t errlen)
{
	return run_set(d, "quota_set", 4, owner_id, limit, err, errlen);
}

enum db_result db_quota_set_directory(db *d, int64_t owner_id,
				      const int64_t limit[DB_QUOTA_NRESOURCES], char *err,
				      size_t errlen)
{
	const int64_t *given[DB_QUOTA_NRESOURCES];

	for (int i = 0; i < DB_QUOTA_NRESOURCES; i++)
		given[i] = limit[i] >= 0 ? &limit[i] : NULL;
	return run_set(d, "quota_set_directory", 3, owner_id, given, err, errlen);
}

enum db_result db_quota_recalc(db *d, int64_t owner_id, uint64_t *fixed_r, char *err, size_t errlen)
{
	char id[24];
	const char *params[1] = { id };
	PGresult *res;

	snprintf(id, sizeof(id), "%lld", (long long)owner_id);
	if (db_admin_tx(d, DB_TX_BEGIN, err, errlen) != DB_OK)
		return DB_FAILED;
	res = db_run(d, "quota_lock", 1, params, true, "locking mailboxes", err, errlen);
	if (res != NULL) {
		PQclear(res);
		res = db_run(d, "quota_recalc", 1, params, false, "recounting usage", err, errlen);
	}
	if (res == NULL) {
		(void)db_admin_tx(d, DB_TX_ROLLBACK, NULL, 0);
		return DB_FAILED;
	}
	*fixed_r = strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return db_admin_tx(d, DB_TX_COMMIT, err, errlen);
}

enum db_result db_quota_selection(db *d, int64_t mailbox_id, const struct db_uid_ranges *set,
				  int64_t *owner_r, uint64_t *messages_r, uint64_t *bytes_r,
				  char *err, size_t errlen)
{
	struct buf lo = { 0 }, hi = { 0 };
	char id[24];
	const char *params[3];
	enum db_result r = DB_OK;
	int64_t n, bytes;
	PGresult *res;

	snprintf(id, sizeof(id), "%lld", (long long)mailbox_id);
	db_ranges_params(set, &lo, &hi);
	params[0] = id;
	params[1] = (const char *)lo.data;
	params[2] = (const char *)hi.data;
	res = db_run(d, "quota_selection", 3, params, true, "measuring messages", err, errlen);
	buf_free(&lo);
	buf_free(&hi);
	if (res == NULL)
		return DB_FAILED;
	if (PQntuples(res) != 1 || db_get_int64(res, 0, 0, &n) < 0 ||
	    db_get_int64(res, 0, 1, &bytes) < 0) {
		db_errf(err, errlen, "measuring messages: unexpected result");
		r = DB_FAILED;
	} else if (db_get_int64(res, 0, 2, owner_r) < 0) {
		r = DB_NOT_FOUND;   /* the mailbox is gone */
	} else {
		*messages_r = (uint64_t)n;
		*bytes_r = (uint64_t)bytes;
	}
	PQclear(res);
	return r;
}

