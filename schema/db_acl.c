/* The acl table (schema/db_acl.h). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "schema/db_acl.h"
#include "schema/db_notify.h"
#include "schema/db_private.h"

const struct db_stmt db_acl_stmts[] = {
	/* The mailbox row, then one row per ACL entry (kind 1). */
	{ "mailbox_acl",
	  "WITH mb AS (SELECT id, noselect FROM mailboxes WHERE owner_id = $1 AND name = $2)"
	  " SELECT 0, id::text, noselect::int::text FROM mb"
	  " UNION ALL SELECT 1, a.identifier, a.rights FROM acl a, mb WHERE a.mailbox_id = mb.id"
	  " ORDER BY 1, 2" },
	/* The same by mailbox id, with the owner in the mailbox row. */
	{ "mailbox_acl_by_id",
	  "WITH mb AS (SELECT id, noselect, owner_id FROM mailboxes WHERE id = $1)"
	  " SELECT 0, owner_id::text, noselect::int::text FROM mb"
	  " UNION ALL SELECT 1, a.identifier, a.rights FROM acl a, mb WHERE a.mailbox_id = mb.id"
	  " ORDER BY 1, 2" },
	{ "acl_set",
	  "INSERT INTO acl (mailbox_id, identifier, rights) VALUES ($1, $2, $3)"
	  " ON CONFLICT (mailbox_id, identifier) DO UPDATE SET rights = EXCLUDED.rights" },
	{ "acl_delete", "DELETE FROM acl WHERE mailbox_id = $1 AND identifier = $2" },
	/* $1 owner: every entry on the owner's mailboxes, grouped by mailbox
	 * (acl's primary key starts with mailbox_id). */
	{ "acl_of_owner",
	  "SELECT a.mailbox_id, a.identifier, a.rights FROM acl a JOIN mailboxes m"
	  " ON m.id = a.mailbox_id WHERE m.owner_id = $1 ORDER BY 1, 2" },
	{ NULL, NULL },
};

/* Reads the result of mailbox_acl or mailbox_acl_by_id: the mailbox row
 * (its second column into *value_r), then the entries. */
static enum db_result read_acl(db *d, const char *stmt, int nparams, const char *const *params,
			       struct arena *arena, int64_t *value_r, int *noselect_r,
			       struct db_acl_row **rows_r, size_t *n_r, char *err, size_t errlen)
{
	struct db_acl_row *rows;
	PGresult *res;
	int n;

	res = PQexecPrepared(d->conn, stmt, nparams, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_err_result(err, errlen, "reading the ACL", d->conn, res);
		PQclear(res);
		return DB_FAILED;
	}
	n = PQntuples(res);
	if (n == 0 || strcmp(PQgetvalue(res, 0, 0), "0") != 0 ||
	    db_get_int64(res, 0, 1, value_r) < 0) {
		PQclear(res);
		return DB_NOT_FOUND;
	}
	*noselect_r = strcmp(PQgetvalue(res, 0, 2), "1") == 0;
	rows = arena_alloc(arena, (size_t)n * sizeof(*rows));
	for (int i = 1; i < n; i++) {
		rows[i - 1].identifier = arena_strndup(arena, PQgetvalue(res, i, 1),
						       (size_t)PQgetlength(res, i, 1));
		rows[i - 1].rights = arena_strndup(arena, PQgetvalue(res, i, 2),
						   (size_t)PQgetlength(res, i, 2));
	}
	*rows_r = rows;
	*n_r = (size_t)n - 1;
	PQclear(res);
	return DB_OK;
}

enum db_result db_mailbox_acl(db *d, int64_t owner_id, const char *name, struct arena *arena,
			      int64_t *mailbox_id_r, int *noselect_r,
			      struct db_acl_row **rows_r, size_t *n_r, char *err, size_t errlen)
{
	char owner[24];
	const char *params[2] = { owner, name };

	snprintf(owner, sizeof(owner), "%lld", (long long)owner_id);
	return read_acl(d, "mailbox_acl", 2, params, arena, mailbox_id_r, noselect_r, rows_r, n_r,
			err, errlen);
}

enum db_result db_mailbox_acl_by_id(db *d, int64_t mailbox_id, struct arena *arena,
				    int64_t *owner_id_r, int *noselect_r,
				    struct db_acl_row **rows_r, size_t *n_r, char *err, size_t errlen)
{
	char id[24];
	const char *params[1] = { id };

	snprintf(id, sizeof(id), "%lld", (long long)mailbox_id);
	return read_acl(d, "mailbox_acl_by_id", 1, params, arena, owner_id_r, noselect_r, rows_r, n_r,
			err, errlen);
}

const struct db_acl_row *db_acl_find(const struct db_acl_row *rows, size_t n,
				     const char *identifier)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i].identifier, identifier) == 0)
			return &rows[i];
	return NULL;
}

int db_acl_evaluate(struct arena *arena, const struct acl_caller *caller, bool owner,
		    const struct db_acl_row *rows, size_t n, acl_rights *rights_r, size_t *bad_r)
{
	struct acl_entry *entries = arena_alloc(arena, (n + 1) * sizeof(*entries));

	for (size_t i = 0; i < n; i++)
		entries[i] = (struct acl_entry){ rows[i].identifier, strlen(rows[i].identifier),
						 rows[i].rights, strlen(rows[i].rights) };
	return acl_evaluate(caller, owner, entries, n, rights_r, bad_r);
}

enum db_result db_acl_set(db *d, int64_t mailbox_id, const char *identifier, const char *rights,
			  char *err, size_t errlen)
{
	char id[24];
	const char *params[3] = { id, identifier, rights };
	bool remove = rights == NULL || rights[0] == '\0';
	PGresult *res;
	enum db_result r = DB_OK;

	snprintf(id, sizeof(id), "%lld", (long long)mailbox_id);
	res = PQexecPrepared(d->conn, remove ? "acl_delete" : "acl_set", remove ? 2 : 3, params,
			     NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		db_err_result(err, errlen, "changing the ACL", d->conn, res);
		r = DB_FAILED;
	}
	PQclear(res);
	/* Committed: every kairand's sessions re-read their rights on it at
	 * their next command (the change bus, schema/db_notify.h). A lost
	 * notification is not an error of the change itself. */
	if (r == DB_OK)
		(void)db_notify_acl(d, mailbox_id, NULL, 0);
	return r;
}

enum db_result db_acl_of_owner(db *d, int64_t owner_id, struct arena *arena,
			       struct db_mailbox_acl_rows **sets_r, size_t *n_r,
			       char *err, size_t errlen)
{
	struct db_mailbox_acl_rows *sets;
	struct db_acl_row *rows;
	char owner[24];
	const char *params[1] = { owner };
	PGresult *res;
	size_t nsets = 0;
	int n;

	snprintf(owner, sizeof(owner), "%lld", (long long)owner_id);
	res = PQexecPrepared(d->conn, "acl_of_owner", 1, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_err_result(err, errlen, "reading the ACLs", d->conn, res);
		PQclear(res);
		return DB_FAILED;
	}
	n = PQntuples(res);
	sets = arena_alloc(arena, ((size_t)n + 1) * sizeof(*sets));
	rows = arena_alloc(arena, ((size_t)n + 1) * sizeof(*rows));
	for (int i = 0; i < n; i++) {
		int64_t id;

		if (db_get_int64(res, i, 0, &id) < 0) {
			db_errf(err, errlen, "reading the ACLs: unexpected result");
			PQclear(res);
			return DB_FAILED;
		}
		if (nsets == 0 || sets[nsets - 1].mailbox_id != id)
			sets[nsets++] = (struct db_mailbox_acl_rows){ id, &rows[i], 0 };
		rows[i].identifier = arena_strndup(arena, PQgetvalue(res, i, 1),
						   (size_t)PQgetlength(res, i, 1));
		rows[i].rights = arena_strndup(arena, PQgetvalue(res, i, 2),
					       (size_t)PQgetlength(res, i, 2));
		sets[nsets - 1].n++;
	}
	PQclear(res);
	*sets_r = sets;
	*n_r = nsets;
	return DB_OK;
}
