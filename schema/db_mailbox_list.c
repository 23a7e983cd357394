/* Listing an account's names and its subscriptions (schema/db_mailbox.h).
 *
 * LIST and LSUB read every name of the account in one query and match the
 * pattern in kairand (server/imap/list_match.c): RFC 3501's "%" stops at
 * the hierarchy delimiter, INBOX matches in any case, and \HasChildren
 * needs the names around each match, none of which LIKE expresses. The
 * per-account limits on mailboxes and subscriptions bound the result. */
#include <stdio.h>
#include <string.h>

#include "schema/db_mailbox.h"
#include "schema/db_private.h"

const struct db_stmt db_mailbox_list_stmts[] = {
	/* $1 account, $2 whether subscriptions are wanted. Special-use
	 * attributes are joined with spaces: they are atoms ("\Sent"), and
	 * the array's text form would quote and escape the backslash. */
	{ "mailbox_list",
	  "SELECT name, noselect, array_to_string(special_use, ' '), false, id FROM mailboxes"
	  " WHERE owner_id = $1"
	  " UNION ALL SELECT name, false, '', true, 0 FROM subscriptions"
	  " WHERE account_id = $1 AND $2::boolean" },
	/* $1 account, $2 name, $3 limit. Columns: rows inserted, already
	 * subscribed. */
	{ "mailbox_subscribe",
	  "WITH ins AS (INSERT INTO subscriptions (account_id, name)"
	  "  SELECT $1, $2::text WHERE (SELECT count(*) FROM subscriptions WHERE account_id = $1) < $3"
	  "  ON CONFLICT DO NOTHING RETURNING 1)"
	  " SELECT (SELECT count(*) FROM ins),"
	  "  EXISTS (SELECT 1 FROM subscriptions WHERE account_id = $1 AND name = $2)" },
	{ "mailbox_unsubscribe",
	  "DELETE FROM subscriptions WHERE account_id = $1 AND name = $2" },
	/* $1 owner, $2 name. Columns: special-use attributes joined with
	 * spaces (as in mailbox_list), whether the name has inferiors. */
	{ "mailbox_attributes",
	  "SELECT array_to_string(m.special_use, ' '),"
	  "  EXISTS (SELECT 1 FROM mailboxes c WHERE c.owner_id = $1"
	  "   AND starts_with(c.name, $2 || '/'))"
	  " FROM mailboxes m WHERE m.owner_id = $1 AND m.name = $2" },
	{ NULL, NULL },
};

enum db_mbox_result db_mailbox_list(db *d, int64_t owner_id, bool subscriptions,
				    void (*row_cb)(void *ctx, const struct db_mailbox_row *row),
				    void *ctx, char *err, size_t errlen)
{
	char owner[24];
	const char *params[2] = { owner, subscriptions ? "t" : "f" };
	PGresult *res;

	snprintf(owner, sizeof(owner), "%lld", (long long)owner_id);
	res = PQexecPrepared(d->conn, "mailbox_list", 2, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) != 5) {
		db_err_result(err, errlen, "listing mailboxes", d->conn, res);
		PQclear(res);
		return DB_MBOX_FAILED;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		struct db_mailbox_row row = {
			.name = PQgetvalue(res, i, 0),
			.len = (size_t)PQgetlength(res, i, 0),
			.subscription = strcmp(PQgetvalue(res, i, 3), "t") == 0,
			.noselect = strcmp(PQgetvalue(res, i, 1), "t") == 0,
			.special_use = PQgetvalue(res, i, 2),
		};
		if (db_get_int64(res, i, 4, &row.mailbox_id) < 0) {
			db_errf(err, errlen, "listing mailboxes: unexpected result");
			PQclear(res);
			return DB_MBOX_FAILED;
		}
		row_cb(ctx, &row);
	}
	PQclear(res);
	return DB_MBOX_OK;
}

enum db_mbox_result db_subscribe(db *d, int64_t account_id, const char *name,
				 long max_subscriptions, char *err, size_t errlen)
{
	char account[24], max[24];
	const char *params[3] = { account, name, max };
	PGresult *res;
	enum db_mbox_result r = DB_MBOX_OK;

	snprintf(account, sizeof(account), "%lld", (long long)account_id);
	snprintf(max, sizeof(max), "%ld", max_subscriptions);
	res = PQexecPrepared(d->conn, "mailbox_subscribe", 3, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		db_err_result(err, errlen, "subscribing", d->conn, res);
		PQclear(res);
		return DB_MBOX_FAILED;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "0") == 0 && strcmp(PQgetvalue(res, 0, 1), "t") != 0)
		r = DB_MBOX_LIMIT;
	PQclear(res);
	return r;
}

enum db_mbox_result db_unsubscribe(db *d, int64_t account_id, const char *name,
				   char *err, size_t errlen)
{
	char account[24];
	const char *params[2] = { account, name };
	PGresult *res;

	snprintf(account, sizeof(account), "%lld", (long long)account_id);
	res = PQexecPrepared(d->conn, "mailbox_unsubscribe", 2, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		db_err_result(err, errlen, "unsubscribing", d->conn, res);
		PQclear(res);
		return DB_MBOX_FAILED;
	}
	PQclear(res);
	return DB_MBOX_OK;
}

enum db_mbox_result db_mailbox_attributes(db *d, int64_t owner_id, const char *name,
					  bool *children_r, char *special_use, size_t size,
					  char *err, size_t errlen)
{
	char owner[24];
	const char *params[2] = { owner, name };
	PGresult *res;
	enum db_mbox_result r = DB_MBOX_OK;

	snprintf(owner, sizeof(owner), "%lld", (long long)owner_id);
	res = PQexecPrepared(d->conn, "mailbox_attributes", 2, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) != 2) {
		db_err_result(err, errlen, "reading mailbox attributes", d->conn, res);
		PQclear(res);
		return DB_MBOX_FAILED;
	}
	if (PQntuples(res) == 0)
		r = DB_MBOX_NONEXISTENT;
	else {
		const char *v = PQgetvalue(res, 0, 0);
		size_t n = strlen(v);

		/* Cut at a whole attribute, never inside one. */
		if (n >= size) {
			n = size - 1;
			while (n > 0 && v[n] != ' ')
				n--;
		}
		memcpy(special_use, v, n);
		special_use[n] = '\0';
		*children_r = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	}
	PQclear(res);
	return r;
}
