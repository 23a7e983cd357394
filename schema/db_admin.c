/* kairanctl's statements (schema/db_admin.h). */
#include <stdio.h>
#include <string.h>

#include "schema/db_admin.h"
#include "schema/db_private.h"

const struct db_stmt db_admin_stmts[] = {
	{ "admin_account", "SELECT id, kind = 'shared' FROM accounts WHERE login = $1" },
	/* As account_provision: the NOT EXISTS keeps a re-run from drawing an
	 * id, and "old" is the row as it was before this statement, so exactly
	 * one of the two branches answers, unless a concurrent INSERT of the
	 * same login committed in between (then neither does: try again). */
	{ "admin_shared_account",
	  "WITH ins AS (INSERT INTO accounts (login, kind) SELECT $1, 'shared'"
	  "  WHERE NOT EXISTS (SELECT 1 FROM accounts WHERE login = $1)"
	  "  ON CONFLICT (login) DO NOTHING RETURNING id, kind)"
	  " SELECT id, kind, true FROM ins"
	  " UNION ALL SELECT id, kind, false FROM accounts WHERE login = $1" },
	/* $2 NULL keeps the \Seen mode of an existing INBOX. The INSERT runs
	 * only when there is none, so a re-run draws no UIDVALIDITY. */
	{ "admin_shared_inbox",
	  "WITH cur AS (SELECT id FROM mailboxes WHERE owner_id = $1 AND name = 'INBOX'),"
	  " upd AS (UPDATE mailboxes m SET seen_per_user = $2::boolean, seen_fixed = true"
	  "  FROM cur WHERE m.id = cur.id AND $2::boolean IS NOT NULL),"
	  " ins AS (INSERT INTO mailboxes (owner_id, name, seen_per_user, seen_fixed)"
	  "  SELECT $1, 'INBOX', coalesce($2::boolean, true), $2::boolean IS NOT NULL"
	  "  WHERE NOT EXISTS (SELECT 1 FROM cur) RETURNING id)"
	  " SELECT id FROM cur UNION ALL SELECT id FROM ins" },
	{ "admin_mailbox_lock", "SELECT 1 FROM mailboxes WHERE id = $1 FOR UPDATE" },
	/* $1 an account, or 0 for every shared account. One row per ACL entry,
	 * or per mailbox without entries, or per account without mailboxes. */
	{ "admin_mailboxes",
	  "SELECT a.login, a.kind = 'shared', m.id, m.name, m.shared_name, m.noselect,"
	  "  m.seen_per_user, m.seen_fixed, e.identifier, e.rights"
	  " FROM accounts a LEFT JOIN mailboxes m ON m.owner_id = a.id"
	  "  LEFT JOIN acl e ON e.mailbox_id = m.id"
	  " WHERE a.id = $1 OR ($1 = 0 AND a.kind = 'shared')"
	  " ORDER BY a.login COLLATE \"C\", m.shared_name, e.identifier COLLATE \"C\"" },
	{ NULL, NULL },
};

enum db_result db_admin_tx(db *d, enum db_tx what, char *err, size_t errlen)
{
	static const char *const sql[] = { "BEGIN", "COMMIT", "ROLLBACK" };

	return db_exec(d->conn, sql[what], err, errlen) < 0 ? DB_FAILED : DB_OK;
}

enum db_result db_admin_account(db *d, const char *login, struct db_admin_account *acc_r,
				char *err, size_t errlen)
{
	const char *params[1] = { login };
	PGresult *res = db_run(d, "admin_account", 1, params, true, "reading the account", err, errlen);
	enum db_result r = DB_NOT_FOUND;

	if (res == NULL)
		return DB_FAILED;
	if (PQntuples(res) == 1 && db_get_int64(res, 0, 0, &acc_r->id) == 0) {
		acc_r->shared = PQgetvalue(res, 0, 1)[0] == 't';
		r = DB_OK;
	}
	PQclear(res);
	return r;
}

enum db_result db_admin_shared_account(db *d, const char *login, int64_t *account_id_r,
				       bool *created_r, char *err, size_t errlen)
{
	const char *params[1] = { login };

	for (int attempt = 0; attempt < 2; attempt++) {
		PGresult *res = db_run(d, "admin_shared_account", 1, params, true,
				    "creating the shared account", err, errlen);
		enum db_result r = DB_OK;

		if (res == NULL)
			return DB_FAILED;
		if (PQntuples(res) == 0) {
			PQclear(res);
			continue;
		}
		if (db_get_int64(res, 0, 0, account_id_r) < 0) {
			db_errf(err, errlen, "creating the shared account: invalid account id");
			r = DB_FAILED;
		} else if (strcmp(PQgetvalue(res, 0, 1), "shared") != 0) {
			r = DB_NOT_FOUND;
		}
		*created_r = PQgetvalue(res, 0, 2)[0] == 't';
		PQclear(res);
		return r;
	}
	db_errf(err, errlen, "creating the shared account: the account row did not appear");
	return DB_FAILED;
}

enum db_result db_admin_shared_inbox(db *d, int64_t account_id, int seen_per_user,
				     int64_t *mailbox_id_r, char *err, size_t errlen)
{
	char id[24];
	const char *params[2] = { id, seen_per_user < 0 ? NULL : seen_per_user ? "t" : "f" };
	PGresult *res;
	enum db_result r = DB_OK;

	snprintf(id, sizeof(id), "%lld", (long long)account_id);
	res = db_run(d, "admin_shared_inbox", 2, params, true, "creating INBOX", err, errlen);
	if (res == NULL)
		return DB_FAILED;
	if (PQntuples(res) != 1 || db_get_int64(res, 0, 0, mailbox_id_r) < 0) {
		db_errf(err, errlen, "creating INBOX: no mailbox id returned");
		r = DB_FAILED;
	}
	PQclear(res);
	return r;
}

/* db_run() for the statements whose one parameter is a mailbox id. */
static PGresult *run_id(db *d, const char *stmt, int64_t mailbox_id, bool tuples,
			const char *what, char *err, size_t errlen)
{
	char id[24];
	const char *params[1] = { id };

	snprintf(id, sizeof(id), "%lld", (long long)mailbox_id);
	return db_run(d, stmt, 1, params, tuples, what, err, errlen);
}

enum db_result db_admin_mailbox_lock(db *d, int64_t mailbox_id, char *err, size_t errlen)
{
	PGresult *res = run_id(d, "admin_mailbox_lock", mailbox_id, true, "locking the mailbox",
			       err, errlen);
	enum db_result r;

	if (res == NULL)
		return DB_FAILED;
	r = PQntuples(res) == 1 ? DB_OK : DB_NOT_FOUND;
	PQclear(res);
	return r;
}

enum db_result db_admin_mailboxes(db *d, int64_t account_id, struct arena *arena,
				  struct db_admin_mailbox **rows_r, size_t *n_r,
				  char *err, size_t errlen)
{
	char id[24];
	const char *params[1] = { id };
	struct db_admin_mailbox *rows, *mb = NULL;
	struct db_acl_row *entries;
	size_t n = 0;
	PGresult *res;
	int nt;

	snprintf(id, sizeof(id), "%lld", (long long)account_id);
	res = db_run(d, "admin_mailboxes", 1, params, true, "listing mailboxes", err, errlen);
	if (res == NULL)
		return DB_FAILED;
	nt = PQntuples(res);
	rows = arena_alloc(arena, ((size_t)nt + 1) * sizeof(*rows));
	entries = arena_alloc(arena, ((size_t)nt + 1) * sizeof(*entries));
	for (int i = 0; i < nt; i++) {
		int64_t mailbox_id = 0;

		/* NULL (no mailbox) reads as 0; rows come grouped by mailbox. */
		(void)db_get_int64(res, i, 2, &mailbox_id);
		if (mb == NULL || mb->mailbox_id != mailbox_id || mailbox_id == 0) {
			mb = &rows[n++];
			*mb = (struct db_admin_mailbox){
				.owner_login = db_get_text(arena, res, i, 0),
				.owner_shared = PQgetvalue(res, i, 1)[0] == 't',
				.mailbox_id = mailbox_id,
				.name = db_get_text(arena, res, i, 3),
				.shared_name = db_get_text(arena, res, i, 4),
				.noselect = PQgetvalue(res, i, 5)[0] == 't',
				.seen_per_user = PQgetvalue(res, i, 6)[0] == 't',
				.seen_fixed = PQgetvalue(res, i, 7)[0] == 't',
				.acl = &entries[i],
			};
		}
		if (PQgetisnull(res, i, 8))
			continue;
		entries[i].identifier = db_get_text(arena, res, i, 8);
		entries[i].rights = db_get_text(arena, res, i, 9);
		mb->nacl++;
	}
	PQclear(res);
	*rows_r = rows;
	*n_r = n;
	return DB_OK;
}
