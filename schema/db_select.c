/* Opening a mailbox and following its changes (schema/db_message.h). */
#include <stdlib.h>
#include <string.h>

#include "schema/db_acl.h"
#include "schema/db_message.h"
#include "schema/db_private.h"
#include "schema/db_seen_sql.h"

/* The reader's ($3) first unseen message in a per-user mailbox: the first
 * message in each gap of the reader's seen set (one index probe per gap),
 * the smallest of those. A reader who has read the first 99,999 of 100,000
 * messages has one gap, so this costs a probe, not a scan of what was read.
 * Unbounded ends of a gap (NULL) are the ends of the UID space. */
#define FIRST_UNSEEN_PER_USER \
	" (SELECT min(f.uid) FROM unnest('{(,)}'::int8multirange" \
	"   - coalesce((SELECT uids FROM seen WHERE account_id = $3 AND mailbox_id = l.id), '{}')) g(r)," \
	"   LATERAL (SELECT uid FROM mailbox_messages WHERE mailbox_id = l.id" \
	"     AND uid >= coalesce(lower(g.r), 1) AND uid < coalesce(upper(g.r), 4294967296)" \
	"     ORDER BY uid LIMIT 1) f)"

/* Claiming \Recent (migrations/0010): the claimer of mailbox `id` moves
 * mailbox_recent's bound to `uidnext` (both columns of CTE `l`) and gets the
 * old bound back as c.old. The row is locked (o) only when there is
 * something to claim, so sessions that find nothing new never wait and
 * never write; two that both find new mail serialise on that row alone, and
 * the second, re-reading the bound after the first committed, finds
 * nothing left. Deliveries never touch the row. */
#define CLAIM_RECENT(when) \
	" o AS (SELECT recent_uid FROM mailbox_recent WHERE " when \
	"   AND mailbox_id = (SELECT id FROM l) AND recent_uid < (SELECT uidnext FROM l) FOR UPDATE)," \
	" c AS (UPDATE mailbox_recent r SET recent_uid = l.uidnext FROM l, o" \
	"   WHERE r.mailbox_id = l.id AND r.recent_uid < l.uidnext RETURNING o.recent_uid AS old)"

/* The UID list comes from the statement's snapshot, as does uidnext: every
 * UID below it is in the list, so the claimed range [old, uidnext) holds
 * exactly messages this session is told of. */
#define OPEN_COLUMNS \
	" l.id, l.uidvalidity, l.uidnext, l.highestmodseq, coalesce((SELECT old FROM c), l.uidnext)," \
	" (SELECT coalesce(array_to_string(array_agg(uid), ' '), '') FROM" \
	"    (SELECT uid FROM mailbox_messages WHERE mailbox_id = l.id ORDER BY uid) u)," \
	" CASE WHEN l.seen_per_user THEN" FIRST_UNSEEN_PER_USER \
	" ELSE (SELECT min(uid) FROM mailbox_messages WHERE mailbox_id = l.id AND flags & 1 = 0) END," \
	" (SELECT coalesce(string_agg(keyword, ' ' ORDER BY modseq, keyword), '')" \
	"    FROM mailbox_keywords WHERE mailbox_id = l.id)"

#define OPEN_MAILBOX \
	"WITH l AS (SELECT id, uidvalidity, uidnext, highestmodseq, seen_per_user" \
	"   FROM mailboxes WHERE owner_id = $1 AND name = $2 AND NOT noselect),"

/* The UID list is aggregated from an index-ordered scan (no sort), the
 * first unseen message (of a common mailbox) comes from a partial index
 * (migration 0005) and the keywords from the mailbox's registry (0009,
 * in the order they were registered), so SELECT reads little beyond the
 * UIDs themselves. EXAMINE claims nothing. */
const struct db_stmt db_select_stmts[] = {
	{ "mailbox_open_claim", OPEN_MAILBOX CLAIM_RECENT("true") " SELECT" OPEN_COLUMNS " FROM l" },
	{ "mailbox_open_peek", OPEN_MAILBOX CLAIM_RECENT("false") " SELECT" OPEN_COLUMNS " FROM l" },
	/* What a selected session needs before each command, in one round
	 * trip: kind 0, the mailbox (highestmodseq, uidnext, owner, and the
	 * old bound when $5 claimed \Recent); 1, a new or changed message,
	 * with the flags reader $4 sees; 2, an expunge; 3, with $6, the ACL
	 * entries, so that the caller's rights are current (RFC 4314 §4: a
	 * right revoked while the mailbox is open takes effect at once); 4, a
	 * keyword registered since (one probe of mailbox_keywords_modseq_idx,
	 * which mostly finds nothing). */
	{ "mailbox_sync",
	  "WITH l AS (SELECT id, highestmodseq, uidnext, owner_id FROM mailboxes"
	  "   WHERE id = $1 AND NOT noselect)," CLAIM_RECENT("$5::boolean")
	  " SELECT 0, highestmodseq, uidnext, owner_id, (SELECT old FROM c), NULL, NULL FROM l"
	  " UNION ALL (SELECT 1, uid, modseq,"
	  "   " DB_SEEN_FLAGS("mm", DB_SEEN_PER_USER("$1"), DB_SEEN_SET("$4", "$1")) "::bigint, NULL,"
	  "   array_to_string(keywords, ' '), NULL"
	  "   FROM mailbox_messages mm WHERE mailbox_id = $1 AND modseq > $2 ORDER BY uid)"
	  " UNION ALL SELECT 2, uid, modseq, NULL, NULL, NULL, NULL"
	  "   FROM expunges WHERE mailbox_id = $1 AND modseq > $3"
	  " UNION ALL SELECT 3, NULL, NULL, NULL, NULL, identifier, rights"
	  "   FROM acl WHERE mailbox_id = $1 AND $6::boolean"
	  " UNION ALL SELECT 4, modseq, modseq, NULL, NULL, keyword, NULL"
	  "   FROM mailbox_keywords WHERE mailbox_id = $1 AND modseq > $2"
	  " ORDER BY 1, 2" },
	{ NULL, NULL },
};

static int get_u32(const PGresult *res, int row, int col, uint32_t *v)
{
	int64_t x;

	if (db_get_int64(res, row, col, &x) < 0 || x < 0 || x > 4294967296LL)
		return -1;
	*v = x == 4294967296LL ? UINT32_MAX : (uint32_t)x;
	return 0;
}

/* "1 2 3" → array; the list was written by string_agg, so it is trusted
 * to be well-formed, but still parsed strictly. */
static int parse_uid_list(const char *s, uint32_t **uids_r, size_t *count_r)
{
	size_t n = 0, cap = 0;
	uint32_t *uids = NULL;

	while (*s != '\0') {
		char *end;
		unsigned long v = strtoul(s, &end, 10);
		if (end == s || v == 0 || v > UINT32_MAX) {
			free(uids);
			return -1;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			uids = realloc(uids, cap * sizeof(*uids));
			if (uids == NULL)
				return -1;
		}
		uids[n++] = (uint32_t)v;
		s = *end == ' ' ? end + 1 : end;
	}
	*uids_r = uids;
	*count_r = n;
	return 0;
}

enum db_result db_mailbox_open(db *d, int64_t reader_id, int64_t owner_id, const char *name,
			       bool claim_recent, struct db_selected *r, char *err, size_t errlen)
{
	char owner[24], reader[24];
	const char *params[3] = { owner, name, reader };
	PGresult *res;
	int64_t hms;

	memset(r, 0, sizeof(*r));
	snprintf(owner, sizeof(owner), "%lld", (long long)owner_id);
	snprintf(reader, sizeof(reader), "%lld", (long long)reader_id);
	res = PQexecPrepared(d->conn, claim_recent ? "mailbox_open_claim" : "mailbox_open_peek",
			     3, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_err_result(err, errlen, "opening mailbox", d->conn, res);
		PQclear(res);
		return DB_FAILED;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		return DB_NOT_FOUND;
	}
	if (db_get_int64(res, 0, 0, &r->mailbox_id) < 0 || get_u32(res, 0, 1, &r->uidvalidity) < 0 ||
	    get_u32(res, 0, 2, &r->uidnext) < 0 || db_get_int64(res, 0, 3, &hms) < 0 ||
	    get_u32(res, 0, 4, &r->recent_from) < 0 ||
	    parse_uid_list(PQgetvalue(res, 0, 5), &r->uids, &r->count) < 0 ||
	    (!PQgetisnull(res, 0, 6) && get_u32(res, 0, 6, &r->first_unseen) < 0)) {
		db_errf(err, errlen, "opening mailbox: unexpected result");
		PQclear(res);
		db_selected_free(r);
		return DB_FAILED;
	}
	r->highestmodseq = (uint64_t)hms;
	r->keywords = strdup(PQgetvalue(res, 0, 7));
	PQclear(res);
	if (r->keywords == NULL) {
		db_selected_free(r);
		db_errf(err, errlen, "out of memory");
		return DB_FAILED;
	}
	return DB_OK;
}

void db_selected_free(struct db_selected *r)
{
	free(r->uids);
	free(r->keywords);
	r->uids = NULL;
	r->keywords = NULL;
	r->count = 0;
}

/* One row of mailbox_sync to the callbacks, or an ACL entry to acl. */
static int sync_row(const PGresult *res, int i, const struct db_changes_cb *cb,
		    struct db_sync_acl *acl, struct arena *arena)
{
	int64_t kind, a = 0, b = 0, c = 0, old = 0;

	if (db_get_int64(res, i, 0, &kind) < 0)
		return -1;
	if (kind == 4) {
		cb->keyword(cb->ctx, PQgetvalue(res, i, 5));
		return 0;
	}
	if (kind == 3) {
		acl->rows[acl->nrows].identifier = arena_strndup(arena, PQgetvalue(res, i, 5),
								 (size_t)PQgetlength(res, i, 5));
		acl->rows[acl->nrows].rights = arena_strndup(arena, PQgetvalue(res, i, 6),
							     (size_t)PQgetlength(res, i, 6));
		acl->nrows++;
		return 0;
	}
	if (db_get_int64(res, i, 1, &a) < 0 || db_get_int64(res, i, 2, &b) < 0 ||
	    (kind != 2 && db_get_int64(res, i, 3, &c) < 0) ||
	    (kind == 0 && !PQgetisnull(res, i, 4) && db_get_int64(res, i, 4, &old) < 0))
		return -1;
	if (kind == 0) {
		acl->owner_id = c;
		cb->mailbox(cb->ctx, (uint64_t)a, b >= 4294967296LL ? UINT32_MAX : (uint32_t)b,
			    old > 0 && old < 4294967296LL ? (uint32_t)old : 0);
	} else if (kind == 1)
		cb->message(cb->ctx, (uint32_t)a, (unsigned)c, PQgetvalue(res, i, 5), (uint64_t)b);
	else
		cb->expunged(cb->ctx, (uint32_t)a, (uint64_t)b);
	return 0;
}

enum db_result db_mailbox_sync(db *d, int64_t reader_id, int64_t mailbox_id,
			       const struct db_sync_request *req, const struct db_changes_cb *cb,
			       struct arena *arena, struct db_sync_acl *acl_r, char *err, size_t errlen)
{
	char id[24], ms[24], ems[24], reader[24];
	const char *params[6] = { id, ms, ems, reader, req->claim_recent ? "true" : "false",
				  acl_r != NULL ? "true" : "false" };
	struct db_sync_acl ignored;
	struct db_sync_acl *acl = acl_r != NULL ? acl_r : &ignored;
	PGresult *res;
	int n;

	snprintf(id, sizeof(id), "%lld", (long long)mailbox_id);
	snprintf(ms, sizeof(ms), "%llu", (unsigned long long)req->modseq);
	snprintf(ems, sizeof(ems), "%llu", (unsigned long long)req->expunge_modseq);
	snprintf(reader, sizeof(reader), "%lld", (long long)reader_id);
	res = PQexecPrepared(d->conn, "mailbox_sync", 6, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_err_result(err, errlen, "reading mailbox changes", d->conn, res);
		PQclear(res);
		return DB_FAILED;
	}
	n = PQntuples(res);
	/* No mailbox row first: deleted, or turned into a \Noselect
	 * placeholder by a DELETE of a mailbox with children. */
	if (n == 0 || strcmp(PQgetvalue(res, 0, 0), "0") != 0) {
		PQclear(res);
		return DB_NOT_FOUND;
	}
	memset(acl, 0, sizeof(*acl));
	acl->rows = arena_alloc(arena, (size_t)n * sizeof(*acl->rows));
	for (int i = 0; i < n; i++)
		if (sync_row(res, i, cb, acl, arena) < 0) {
			db_errf(err, errlen, "reading mailbox changes: unexpected result");
			PQclear(res);
			return DB_FAILED;
		}
	PQclear(res);
	return DB_OK;
}
