/* The mailbox hierarchy: CREATE, DELETE, RENAME (schema/db_mailbox.h).
 *
 * Each command is one statement whose CTEs check and change everything
 * together, so it is one round trip and one transaction, and a check
 * cannot be separated from the change it guards by another session's
 * commit (what slips in between the snapshot and the write shows up as a
 * unique violation, reported as DB_MBOX_EXISTS).
 *
 * "The names below X" are selected with the range
 *     name >= X || '/' AND name < X || '0'
 * rather than LIKE X || '/%': '0' is the byte after '/', so under the
 * column's COLLATE "C" (byte order) the range holds exactly the names that
 * begin with "X/", it is served by the (owner_id, name) index, and no
 * character of X ('%', '_', '\') can act as a wildcard, so nothing needs
 * escaping. The comparisons take the column's collation (an implicit
 * non-default collation wins over the parameter's default one).
 *
 * The superior levels of a name come from its own '/' positions
 * (generate_series over the name) so callers pass just the name; levels
 * that exist are filtered out before the INSERT so that they do not draw
 * a UIDVALIDITY from the sequence for nothing. Their ON CONFLICT names no
 * index on purpose: two CREATEs adding the same superior at once collide
 * on (owner_id, name) and on (owner_id, shared_name) (migration 0006), and
 * only a conflict on an arbiter index is skipped; on the other it would be
 * an error, and a CREATE that should succeed would fail. */
#include <stdio.h>
#include <string.h>

#include "schema/db_mailbox.h"
#include "schema/db_private.h"
#include "schema/db_shared.h"   /* db_text_array */

#define BELOW(x) "(name >= " x " || '/' AND name < " x " || '0')"

#define SUPERIORS_OF(x, gate) \
	" INSERT INTO mailboxes (owner_id, name)" \
	"  SELECT $1, left(" x ", p - 1) FROM " gate ", generate_series(2, length(" x ")) AS p" \
	"  WHERE substr(" x ", p, 1) = '/' AND NOT EXISTS (SELECT 1 FROM mailboxes s" \
	"   WHERE s.owner_id = $1 AND s.name = left(" x ", p - 1))" \
	"  ON CONFLICT DO NOTHING"

const struct db_stmt db_mailbox_stmts[] = {
	/* $1 owner, $2 name, $3 the account's mailbox limit, $4 the mailbox
	 * whose ACL and \Seen mode the new one inherits (0: none). Columns:
	 * the count before, the new UIDVALIDITY (NULL if nothing was
	 * created), whether a selectable mailbox of that name exists, the
	 * new mailbox's id. */
	{ "mailbox_create",
	  "WITH cnt AS (SELECT count(*) AS n FROM mailboxes WHERE owner_id = $1),"
	  " ok AS (SELECT 1 FROM cnt WHERE n < $3),"
	  " sup AS (" SUPERIORS_OF("$2", "ok") " RETURNING id),"
	  " box AS (INSERT INTO mailboxes AS m (owner_id, name, seen_per_user, special_use)"
	  "  SELECT $1, $2, coalesce((SELECT seen_per_user FROM mailboxes WHERE id = $4), false),"
	  "   $5::text[]"
	  "  FROM ok"
	  "  ON CONFLICT (owner_id, name) DO UPDATE"
	  "   SET noselect = false, uidvalidity = EXCLUDED.uidvalidity,"
	  "    special_use = CASE WHEN cardinality($5::text[]) > 0 THEN $5::text[]"
	  "     ELSE m.special_use END WHERE m.noselect"
	  "  RETURNING m.id, m.uidvalidity),"
	  " inherit AS (INSERT INTO acl (mailbox_id, identifier, rights)"
	  "  SELECT n.id, a.identifier, a.rights"
	  "  FROM (SELECT id FROM box UNION ALL SELECT id FROM sup) n, acl a WHERE a.mailbox_id = $4"
	  "  ON CONFLICT DO NOTHING)"
	  " SELECT (SELECT n FROM cnt), (SELECT uidvalidity FROM box),"
	  "  EXISTS (SELECT 1 FROM mailboxes WHERE owner_id = $1 AND name = $2 AND NOT noselect),"
	  "  (SELECT id FROM box)" },

	/* $1 owner, $2 name. The row is locked first, so a concurrent
	 * APPEND either finishes before (and its message is deleted too) or
	 * waits and then finds no mailbox. Columns: noselect, has inferiors
	 * (no row: no such mailbox). */
	{ "mailbox_delete",
	  "WITH t AS (SELECT id, noselect, EXISTS (SELECT 1 FROM mailboxes"
	  "   WHERE owner_id = $1 AND " BELOW("$2") ") AS kids"
	  "  FROM mailboxes WHERE owner_id = $1 AND name = $2 FOR UPDATE),"
	  " gone AS (DELETE FROM mailboxes WHERE id IN (SELECT id FROM t WHERE NOT kids)),"
	  " mark AS (UPDATE mailboxes m SET noselect = true, highestmodseq = m.highestmodseq + 1,"
	  "  shared_modseq = m.highestmodseq + 1"
	  "  FROM t WHERE m.id = t.id AND t.kids AND NOT t.noselect"
	  "  RETURNING m.id, m.highestmodseq),"
	  " exp AS (INSERT INTO expunges (mailbox_id, uid, modseq)"
	  "  SELECT mark.id, mm.uid, mark.highestmodseq"
	  "  FROM mark JOIN mailbox_messages mm ON mm.mailbox_id = mark.id),"
	  " emptied AS (DELETE FROM mailbox_messages mm USING mark WHERE mm.mailbox_id = mark.id),"
	  /* A placeholder has no messages, so no keywords (migrations/0009):
	   * a mailbox CREATEd in its place starts with none. */
	  " kw_gone AS (DELETE FROM mailbox_keywords k USING mark WHERE k.mailbox_id = mark.id)"
	  " SELECT noselect, kids FROM t" },

	/* $1 owner, $2 from, $3 to. Columns: source found, names taken in
	 * the target's hierarchy, rows renamed. */
	{ "mailbox_rename",
	  "WITH src AS (SELECT id FROM mailboxes WHERE owner_id = $1 AND name = $2 FOR UPDATE),"
	  " clash AS (SELECT count(*) AS n FROM mailboxes"
	  "  WHERE owner_id = $1 AND (name = $3 OR " BELOW("$3") ")),"
	  " go AS (SELECT 1 FROM src, clash WHERE clash.n = 0),"
	  " sup AS (" SUPERIORS_OF("$3", "go") "),"
	  " moved AS (UPDATE mailboxes SET name = $3 || substr(name, length($2) + 1)"
	  "  WHERE owner_id = $1 AND EXISTS (SELECT 1 FROM go)"
	  "   AND (name = $2 OR " BELOW("$2") ") RETURNING id),"
	  /* Subscriptions are names, not references (0001_initial.sql), so
	   * they are moved explicitly; a name already subscribed under the
	   * new spelling stays as it is. */
	  " sub_new AS (INSERT INTO subscriptions (account_id, name)"
	  "  SELECT $1, $3 || substr(name, length($2) + 1) FROM subscriptions"
	  "  WHERE account_id = $1 AND EXISTS (SELECT 1 FROM go)"
	  "   AND (name = $2 OR " BELOW("$2") ")"
	  "  ON CONFLICT DO NOTHING),"
	  " sub_old AS (DELETE FROM subscriptions WHERE account_id = $1"
	  "  AND EXISTS (SELECT 1 FROM go) AND (name = $2 OR " BELOW("$2") "))"
	  " SELECT (SELECT count(*) FROM src), (SELECT n FROM clash), (SELECT count(*) FROM moved)" },

	/* $1 owner, $2 to. INBOX's row is locked by the UPDATE that gives it
	 * the modseq of the expunges, so concurrent deliveries serialise
	 * with the move; what they add after this statement's snapshot stays
	 * in INBOX. The new mailbox continues INBOX's UID space, so the moved
	 * messages keep their UIDs, modseqs and flags. Columns: names taken
	 * in the target's hierarchy, INBOX found (whatever the clash). */
	{ "mailbox_rename_inbox",
	  "WITH clash AS (SELECT count(*) AS n FROM mailboxes"
	  "  WHERE owner_id = $1 AND (name = $2 OR " BELOW("$2") ")),"
	  " inbox AS (UPDATE mailboxes m SET highestmodseq = m.highestmodseq + 1,"
	  "  shared_modseq = m.highestmodseq + 1 FROM clash"
	  "  WHERE m.owner_id = $1 AND m.name = 'INBOX' AND clash.n = 0"
	  "  RETURNING m.id, m.uidnext, m.highestmodseq, m.seen_per_user),"
	  " sup AS (" SUPERIORS_OF("$2", "inbox") "),"
	  " nbox AS (INSERT INTO mailboxes"
	  "   (owner_id, name, uidnext, highestmodseq, shared_modseq, seen_per_user)"
	  "  SELECT $1, $2, uidnext, highestmodseq, highestmodseq, seen_per_user FROM inbox"
	  "  RETURNING id),"
	  " exp AS (INSERT INTO expunges (mailbox_id, uid, modseq)"
	  "  SELECT inbox.id, mm.uid, inbox.highestmodseq"
	  "  FROM inbox JOIN mailbox_messages mm ON mm.mailbox_id = inbox.id),"
	  " moved AS (UPDATE mailbox_messages mm SET mailbox_id = nbox.id FROM inbox, nbox"
	  "  WHERE mm.mailbox_id = inbox.id),"
	  " seen_moved AS (UPDATE seen SET mailbox_id = nbox.id FROM inbox, nbox"
	  "  WHERE seen.mailbox_id = inbox.id),"
	  /* The moved messages' keywords go with them (migrations/0009), at
	   * their modseqs, which nbox's highestmodseq covers; INBOX keeps its
	   * own, as it keeps keywords whose messages are expunged. */
	  " kw_copied AS (INSERT INTO mailbox_keywords (mailbox_id, digest, keyword, modseq)"
	  "  SELECT nbox.id, k.digest, k.keyword, k.modseq FROM inbox, nbox, mailbox_keywords k"
	  "  WHERE k.mailbox_id = inbox.id)"
	  " SELECT (SELECT n FROM clash),"
	  "  (SELECT count(*) FROM mailboxes WHERE owner_id = $1 AND name = 'INBOX')" },
	{ NULL, NULL },
};

/* 23505: a name taken between this statement's snapshot and its write. */
static bool unique_violation(const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return state != NULL && strcmp(state, "23505") == 0;
}

/* Runs a statement expected to return exactly one row. */
static enum db_mbox_result run_one(db *d, const char *stmt, const char *what, int n,
				   const char *const *params, PGresult **res_r,
				   char *err, size_t errlen)
{
	PGresult *res = PQexecPrepared(d->conn, stmt, n, params, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		enum db_mbox_result r = unique_violation(res) ? DB_MBOX_EXISTS : DB_MBOX_FAILED;

		if (r == DB_MBOX_FAILED)
			db_err_result(err, errlen, what, d->conn, res);
		PQclear(res);
		return r;
	}
	*res_r = res;
	return DB_MBOX_OK;
}

enum db_mbox_result db_mailbox_create(db *d, int64_t owner_id, const char *name,
				      int64_t inherit_from, const char *const *special_use,
				      size_t nspecial_use, long max_mailboxes, uint32_t *uidvalidity_r,
				      int64_t *mailbox_id_r, char *err, size_t errlen)
{
	char owner[24], max[24], parent[24];
	const char *params[5] = { owner, name, max, parent, NULL };
	PGresult *res;
	enum db_mbox_result r;
	int64_t count, uidvalidity;
	struct arena a;

	snprintf(owner, sizeof(owner), "%lld", (long long)owner_id);
	snprintf(max, sizeof(max), "%ld", max_mailboxes);
	snprintf(parent, sizeof(parent), "%lld", (long long)inherit_from);
	arena_init(&a);
	params[4] = db_text_array(&a, special_use, nspecial_use);
	r = run_one(d, "mailbox_create", "creating mailbox", 5, params, &res, err, errlen);
	arena_free(&a);
	if (r != DB_MBOX_OK)
		return r;
	if (PQntuples(res) != 1 || db_get_int64(res, 0, 0, &count) < 0) {
		db_errf(err, errlen, "creating mailbox: unexpected result");
		r = DB_MBOX_FAILED;
	} else if (!PQgetisnull(res, 0, 1)) {
		if (db_get_int64(res, 0, 1, &uidvalidity) < 0 ||
		    db_get_int64(res, 0, 3, mailbox_id_r) < 0) {
			db_errf(err, errlen, "creating mailbox: invalid uidvalidity");
			r = DB_MBOX_FAILED;
		} else
			*uidvalidity_r = (uint32_t)uidvalidity;
	} else if (strcmp(PQgetvalue(res, 0, 2), "t") == 0 || count < max_mailboxes)
		r = DB_MBOX_EXISTS;
	else
		r = DB_MBOX_LIMIT;
	PQclear(res);
	return r;
}

enum db_mbox_result db_mailbox_delete(db *d, int64_t owner_id, const char *name,
				      char *err, size_t errlen)
{
	char owner[24];
	const char *params[2] = { owner, name };
	PGresult *res;
	enum db_mbox_result r;

	snprintf(owner, sizeof(owner), "%lld", (long long)owner_id);
	r = run_one(d, "mailbox_delete", "deleting mailbox", 2, params, &res, err, errlen);
	if (r != DB_MBOX_OK)
		return r;
	if (PQntuples(res) == 0)
		r = DB_MBOX_NONEXISTENT;
	else if (strcmp(PQgetvalue(res, 0, 0), "t") == 0 && strcmp(PQgetvalue(res, 0, 1), "t") == 0)
		r = DB_MBOX_HAS_CHILDREN;   /* §6.3.4: an error, nothing was changed */
	PQclear(res);
	return r;
}

enum db_mbox_result db_mailbox_rename(db *d, int64_t owner_id, const char *from,
				      const char *to, char *err, size_t errlen)
{
	char owner[24];
	const char *params[3] = { owner, from, to };
	bool inbox = strcmp(from, "INBOX") == 0;
	PGresult *res;
	enum db_mbox_result r;
	int64_t found, clash;

	snprintf(owner, sizeof(owner), "%lld", (long long)owner_id);
	if (inbox) {
		params[1] = to;
		r = run_one(d, "mailbox_rename_inbox", "renaming INBOX", 2, params, &res, err, errlen);
	} else
		r = run_one(d, "mailbox_rename", "renaming mailbox", 3, params, &res, err, errlen);
	if (r != DB_MBOX_OK)
		return r;
	if (PQntuples(res) != 1 || db_get_int64(res, 0, inbox ? 1 : 0, &found) < 0 ||
	    db_get_int64(res, 0, inbox ? 0 : 1, &clash) < 0) {
		db_errf(err, errlen, "renaming mailbox: unexpected result");
		r = DB_MBOX_FAILED;
	} else if (found == 0)
		r = DB_MBOX_NONEXISTENT;
	else if (clash > 0)
		r = DB_MBOX_EXISTS;
	PQclear(res);
	return r;
}
