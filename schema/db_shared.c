/* Other owners' mailboxes (schema/db_shared.h). */
#include <stdio.h>
#include <string.h>

#include "schema/db_private.h"
#include "schema/db_shared.h"
#include "server/core/buf.h"

const struct db_stmt db_shared_stmts[] = {
	/* $1 caller, $2 the caller's identifiers, $3 cap. One row per ACL
	 * entry of each candidate, grouped by mailbox. The candidates come
	 * from acl_identifier_idx; only positive entries can open a mailbox,
	 * so the identifiers carry no '-'. */
	{ "shared_mailboxes",
	  "WITH cand AS (SELECT m.id, m.owner_id, a.kind = 'shared' AS shared, a.login,"
	  "  m.shared_name, m.noselect, array_to_string(m.special_use, ' ') AS su,"
	  "  EXISTS (SELECT 1 FROM share_offers o WHERE o.account_id = $1 AND o.mailbox_id = m.id)"
	  "   AS offered"
	  " FROM mailboxes m JOIN accounts a ON a.id = m.owner_id"
	  " WHERE m.owner_id <> $1"
	  "  AND m.id IN (SELECT mailbox_id FROM acl WHERE identifier = ANY ($2::text[]))"
	  " ORDER BY a.login, m.shared_name LIMIT $3)"
	  " SELECT c.id, c.owner_id, c.shared, c.login, c.shared_name, c.noselect, c.su, c.offered,"
	  "  e.identifier, e.rights"
	  " FROM cand c JOIN acl e ON e.mailbox_id = c.id"
	  " ORDER BY c.login, c.shared_name, c.id, e.identifier" },
	/* $1 caller, $2 mailbox ids, $3 their client names, $4 subscribe. */
	{ "shared_offer",
	  "WITH offer AS (INSERT INTO share_offers (account_id, mailbox_id)"
	  "  SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING RETURNING mailbox_id),"
	  " named AS (SELECT * FROM unnest($2::bigint[], $3::text[]) AS n(id, name))"
	  " INSERT INTO subscriptions (account_id, name)"
	  "  SELECT $1, named.name FROM named JOIN offer ON offer.mailbox_id = named.id"
	  "  WHERE $4::boolean ON CONFLICT DO NOTHING" },
	/* $1 account kind, $2 login, $3 shared_name: the mailbox row (kind
	 * 0), or only the owner (kind 2) when it has no such mailbox, then
	 * one row per ACL entry (kind 1). */
	{ "shared_mailbox_acl",
	  "WITH o AS (SELECT id FROM accounts WHERE login = $2 AND kind = $1),"
	  " mb AS (SELECT m.id, m.noselect, m.name FROM mailboxes m, o"
	  "  WHERE m.owner_id = o.id AND m.shared_name = $3)"
	  " SELECT 0, mb.id::text, mb.noselect::int::text, mb.name, o.id::text FROM mb, o"
	  " UNION ALL SELECT 2, NULL, NULL, NULL, o.id::text FROM o WHERE NOT EXISTS (SELECT 1 FROM mb)"
	  " UNION ALL SELECT 1, a.identifier, a.rights, NULL, NULL FROM acl a, mb"
	  "  WHERE a.mailbox_id = mb.id"
	  " ORDER BY 1, 2" },
	{ NULL, NULL },
};

const char *db_text_array(struct arena *arena, const char *const *v, size_t n)
{
	struct buf b;
	char *out;

	buf_init(&b);
	db_text_array_append(&b, v, n);
	out = arena_strndup(arena, (const char *)b.data, b.len - 1);   /* without the NUL */
	buf_free(&b);
	return out;
}

static const char *dup(struct arena *a, const PGresult *res, int row, int col)
{
	return arena_strndup(a, PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col));
}

static bool is_true(const PGresult *res, int row, int col)
{
	return PQgetvalue(res, row, col)[0] == 't';
}

/* Everything an ACL entry may name the caller by. */
static const char *caller_identifiers(struct arena *arena, const char *login,
				      char *const *groups, size_t ngroups)
{
	const char **ids = arena_alloc(arena, (ngroups + 3) * sizeof(*ids));
	size_t n = 0;

	ids[n++] = login;
	ids[n++] = "anyone";
	ids[n++] = "authenticated";
	for (size_t i = 0; i < ngroups; i++)
		ids[n++] = arena_printf(arena, "group:%s", groups[i]);
	return db_text_array(arena, ids, n);
}

enum db_result db_shared_mailboxes(db *d, int64_t account_id, const char *login,
				   char *const *groups, size_t ngroups, struct arena *arena,
				   struct db_shared_mailbox **rows_r, size_t *n_r,
				   char *err, size_t errlen)
{
	char account[24], cap[24];
	const char *params[3] = { account, caller_identifiers(arena, login, groups, ngroups), cap };
	struct db_shared_mailbox *rows, *cur = NULL;
	struct db_acl_row *entries;
	size_t n = 0;
	PGresult *res;
	int nt;

	snprintf(account, sizeof(account), "%lld", (long long)account_id);
	snprintf(cap, sizeof(cap), "%d", DB_SHARED_MAX_MAILBOXES);
	res = PQexecPrepared(d->conn, "shared_mailboxes", 3, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) != 10) {
		db_err_result(err, errlen, "listing shared mailboxes", d->conn, res);
		PQclear(res);
		return DB_FAILED;
	}
	nt = PQntuples(res);
	rows = arena_alloc(arena, ((size_t)nt + 1) * sizeof(*rows));
	entries = arena_alloc(arena, ((size_t)nt + 1) * sizeof(*entries));
	for (int i = 0; i < nt; i++) {
		int64_t id;

		if (db_get_int64(res, i, 0, &id) < 0)
			continue;
		if (cur == NULL || cur->mailbox_id != id) {
			cur = &rows[n++];
			memset(cur, 0, sizeof(*cur));
			cur->mailbox_id = id;
			(void)db_get_int64(res, i, 1, &cur->owner_id);
			cur->shared_owner = is_true(res, i, 2);
			cur->owner_login = dup(arena, res, i, 3);
			cur->name = dup(arena, res, i, 4);
			cur->noselect = is_true(res, i, 5);
			cur->special_use = dup(arena, res, i, 6);
			cur->offered = is_true(res, i, 7);
			cur->acl = &entries[i];
		}
		entries[i].identifier = dup(arena, res, i, 8);
		entries[i].rights = dup(arena, res, i, 9);
		cur->nacl++;
	}
	PQclear(res);
	*rows_r = rows;
	*n_r = n;
	return DB_OK;
}

enum db_result db_shared_offer(db *d, int64_t account_id, const int64_t *mailbox_ids,
			       const char *const *names, size_t n, bool subscribe,
			       char *err, size_t errlen)
{
	char account[24];
	struct arena a;
	struct buf ids;
	const char *params[4];
	enum db_result r = DB_OK;
	PGresult *res;

	if (n == 0)
		return DB_OK;
	arena_init(&a);
	buf_init(&ids);
	db_id_array(&ids, mailbox_ids, n);
	snprintf(account, sizeof(account), "%lld", (long long)account_id);
	params[0] = account;
	params[1] = (const char *)ids.data;
	params[2] = db_text_array(&a, names, n);
	params[3] = subscribe ? "t" : "f";
	res = PQexecPrepared(d->conn, "shared_offer", 4, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		db_err_result(err, errlen, "subscribing shared mailboxes", d->conn, res);
		r = DB_FAILED;
	}
	PQclear(res);
	buf_free(&ids);
	arena_free(&a);
	return r;
}

enum db_result db_shared_mailbox_acl(db *d, bool shared_owner, const char *login, const char *name,
				     struct arena *arena, int64_t *owner_id_r, int64_t *mailbox_id_r,
				     const char **store_name_r, int *noselect_r,
				     struct db_acl_row **rows_r, size_t *n_r,
				     char *err, size_t errlen)
{
	const char *params[3] = { shared_owner ? "shared" : "user", login, name };
	struct db_acl_row *rows;
	PGresult *res;
	int n;

	*owner_id_r = 0;
	res = PQexecPrepared(d->conn, "shared_mailbox_acl", 3, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) != 5) {
		db_err_result(err, errlen, "reading the ACL", d->conn, res);
		PQclear(res);
		return DB_FAILED;
	}
	n = PQntuples(res);
	if (n == 0 || db_get_int64(res, 0, 4, owner_id_r) < 0) {
		PQclear(res);
		return DB_NOT_FOUND;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "0") != 0 || db_get_int64(res, 0, 1, mailbox_id_r) < 0) {
		PQclear(res);
		return DB_NOT_FOUND;
	}
	*noselect_r = strcmp(PQgetvalue(res, 0, 2), "1") == 0;
	*store_name_r = dup(arena, res, 0, 3);
	rows = arena_alloc(arena, (size_t)n * sizeof(*rows));
	for (int i = 1; i < n; i++) {
		rows[i - 1].identifier = dup(arena, res, i, 1);
		rows[i - 1].rights = dup(arena, res, i, 2);
	}
	*rows_r = rows;
	*n_r = (size_t)n - 1;
	PQclear(res);
	return DB_OK;
}
