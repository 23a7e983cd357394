/* Team addresses and teams from the directory (schema/db_team.h). */
#include <stdio.h>
#include <string.h>

#include "schema/db_admin.h"
#include "schema/db_notify.h"
#include "schema/db_private.h"
#include "schema/db_team.h"

const struct db_stmt db_team_stmts[] = {
	{ "team_address_find",
	  "SELECT s.account_id, a.login FROM shared_addresses s JOIN accounts a ON a.id = s.account_id"
	  " WHERE s.address = $1 AND a.kind = 'shared'" },
	/* One of the two branches answers: the inserted row, or (a conflict)
	 * the row as it was before this statement, with its holder. No row:
	 * $2 is not a shared account, or a concurrent insert of the address
	 * has not committed yet. */
	{ "team_address_add",
	  "WITH ins AS (INSERT INTO shared_addresses (address, account_id, origin)"
	  "  SELECT $1, id, $3 FROM accounts WHERE id = $2 AND kind = 'shared'"
	  "  ON CONFLICT (address) DO NOTHING RETURNING account_id)"
	  " SELECT true, ins.account_id, '' FROM ins"
	  " UNION ALL SELECT false, s.account_id, a.login FROM shared_addresses s"
	  "  JOIN accounts a ON a.id = s.account_id WHERE s.address = $1" },
	{ "team_address_remove",
	  "DELETE FROM shared_addresses WHERE address = $1 AND account_id = $2" },
	{ "team_addresses",
	  "SELECT a.login, s.address, s.origin = 'directory' FROM shared_addresses s"
	  " JOIN accounts a ON a.id = s.account_id WHERE $1 = 0 OR s.account_id = $1"
	  " ORDER BY a.login COLLATE \"C\", s.address" },
	/* The team's group entry, unless the INBOX has one for that
	 * identifier: an admin who changed or narrowed it keeps the change. */
	{ "team_grant",
	  "INSERT INTO acl (mailbox_id, identifier, rights) VALUES ($1, $2, $3)"
	  " ON CONFLICT (mailbox_id, identifier) DO NOTHING RETURNING 1" },
	{ NULL, NULL },
};

static void int64_text(char buf[24], int64_t v)
{
	snprintf(buf, 24, "%lld", (long long)v);
}

enum db_result db_team_address_find(db *d, const char *address, int64_t *account_id_r,
				    char *login_r, size_t login_size, char *err, size_t errlen)
{
	const char *params[1] = { address };
	PGresult *res = db_run(d, "team_address_find", 1, params, true, "finding a team address",
			       err, errlen);
	enum db_result r = DB_NOT_FOUND;

	if (res == NULL)
		return DB_FAILED;
	if (PQntuples(res) == 1) {
		if (db_get_int64(res, 0, 0, account_id_r) < 0) {
			db_errf(err, errlen, "finding a team address: invalid account id");
			r = DB_FAILED;
		} else {
			snprintf(login_r, login_size, "%s", PQgetvalue(res, 0, 1));
			r = DB_OK;
		}
	}
	PQclear(res);
	return r;
}

enum db_result db_team_address_add(db *d, int64_t account_id, const char *address,
				   bool from_directory, struct arena *arena, bool *added_r,
				   const char **holder_r, char *err, size_t errlen)
{
	char id[24];
	const char *params[3] = { address, id, from_directory ? "directory" : "admin" };
	enum db_result r = DB_OK;
	int64_t holder = 0;
	PGresult *res;

	int64_text(id, account_id);
	*added_r = false;
	*holder_r = NULL;
	res = db_run(d, "team_address_add", 3, params, true, "adding a team address", err, errlen);
	if (res == NULL)
		return DB_FAILED;
	if (PQntuples(res) != 1 || db_get_int64(res, 0, 1, &holder) < 0) {
		db_errf(err, errlen, "adding a team address: not a shared account, or a "
			"concurrent change: try again");
		r = DB_FAILED;
	} else if (PQgetvalue(res, 0, 0)[0] == 't') {
		*added_r = true;
	} else if (holder != account_id) {
		*holder_r = db_get_text(arena, res, 0, 2);
		r = DB_NOT_FOUND;
	}
	PQclear(res);
	return r;
}

enum db_result db_team_address_remove(db *d, int64_t account_id, const char *address,
				      char *err, size_t errlen)
{
	char id[24];
	const char *params[2] = { address, id };
	PGresult *res;
	enum db_result r;

	int64_text(id, account_id);
	res = db_run(d, "team_address_remove", 2, params, false, "removing a team address", err,
		     errlen);
	if (res == NULL)
		return DB_FAILED;
	r = strcmp(PQcmdTuples(res), "0") == 0 ? DB_NOT_FOUND : DB_OK;
	PQclear(res);
	return r;
}

enum db_result db_team_addresses(db *d, int64_t account_id, struct arena *arena,
				 struct db_team_address **rows_r, size_t *n_r,
				 char *err, size_t errlen)
{
	char id[24];
	const char *params[1] = { id };
	struct db_team_address *rows;
	PGresult *res;
	int n;

	int64_text(id, account_id);
	res = db_run(d, "team_addresses", 1, params, true, "listing team addresses", err, errlen);
	if (res == NULL)
		return DB_FAILED;
	n = PQntuples(res);
	rows = arena_alloc(arena, ((size_t)n + 1) * sizeof(*rows));
	for (int i = 0; i < n; i++)
		rows[i] = (struct db_team_address){
			.login = db_get_text(arena, res, i, 0),
			.address = db_get_text(arena, res, i, 1),
			.from_directory = PQgetvalue(res, i, 2)[0] == 't',
		};
	PQclear(res);
	*rows_r = rows;
	*n_r = (size_t)n;
	return DB_OK;
}

/* The team's group entry on its INBOX, unless there is one. */
static enum db_result grant(db *d, int64_t mailbox_id, const char *ident, const char *rights,
			    bool *granted_r, char *err, size_t errlen)
{
	char id[24];
	const char *params[3] = { id, ident, rights };
	PGresult *res;

	int64_text(id, mailbox_id);
	res = db_run(d, "team_grant", 3, params, true, "granting the team", err, errlen);
	if (res == NULL)
		return DB_FAILED;
	*granted_r = PQntuples(res) == 1;
	PQclear(res);
	return DB_OK;
}

/* The steps of db_team_provision, inside its transaction. */
static enum db_result provision(db *d, const char *name, const char *group_ident,
				const char *rights, const char *address, struct arena *arena,
				struct db_team_provision *r, int64_t *mailbox_id_r,
				char *err, size_t errlen)
{
	enum db_result res;

	res = db_admin_shared_account(d, name, &r->account_id, &r->created, err, errlen);
	if (res != DB_OK)
		return res;   /* DB_NOT_FOUND: a person's account */
	res = db_team_address_add(d, r->account_id, address, true, arena, &r->address_added,
				  &r->holder, err, errlen);
	if (res != DB_OK)
		return res;
	res = db_admin_shared_inbox(d, r->account_id, -1, mailbox_id_r, err, errlen);
	if (res != DB_OK)
		return res;
	return grant(d, *mailbox_id_r, group_ident, rights, &r->granted, err, errlen);
}

enum db_result db_team_provision(db *d, const char *name, const char *group_ident,
				 const char *rights, const char *address, struct arena *arena,
				 struct db_team_provision *r, char *err, size_t errlen)
{
	int64_t mailbox_id = 0;
	enum db_result res;

	*r = (struct db_team_provision){ 0 };
	if (db_admin_tx(d, DB_TX_BEGIN, err, errlen) != DB_OK)
		return DB_FAILED;
	res = provision(d, name, group_ident, rights, address, arena, r, &mailbox_id, err, errlen);
	if (res != DB_OK) {
		(void)db_admin_tx(d, DB_TX_ROLLBACK, NULL, 0);
		*r = (struct db_team_provision){ .holder = r->holder };
		return res;
	}
	if (db_admin_tx(d, DB_TX_COMMIT, err, errlen) != DB_OK)
		return DB_FAILED;
	/* Sessions re-read their rights at their next command. A lost
	 * notification is not an error of the change itself. */
	if (r->granted)
		(void)db_notify_acl(d, mailbox_id, NULL, 0);
	return DB_OK;
}
