/* Opening a mailbox and following its changes (schema/db_message.h). */
#include <stdlib.h>
#include <string.h>

#include "schema/db_acl.h"
#include "schema/db_message.h"
#include "schema/db_private.h"
#include "schema/db_ranges.h"
#include "schema/db_seen_sql.h"

/* Claiming \Recent (migrations/0010): the claimer of mailbox `id` moves
 * mailbox_recent's bound to `uidnext` (both columns of CTE `l`) and gets the
 * old bound back as c.old. The row is locked (o) only when there is
 * something to claim, so sessions that find nothing new never wait and
 * never write; two that both find new mail serialise on that row alone, and
 * the second, re-reading the bound after the first committed, finds
 * nothing left. Deliveries never touch the row.
 *
 * A claim is the statement's only write, and it commits without waiting
 * for its WAL to reach the disk (synchronous_commit off for this
 * transaction alone): a claim holds the row until its commit, and every
 * session of a busy team folder claims in turn. What a crash of
 * PostgreSQL can take back is a claim of the last moments, after which a
 * second session may see those messages as \Recent too, as RFC 3501
 * §2.3.2 prefers when it cannot tell; nothing a client stored depends on
 * it (docs/tuning.md). */
#define CLAIM_RECENT(when) \
	" o AS (SELECT recent_uid FROM mailbox_recent WHERE " when \
	"   AND mailbox_id = (SELECT id FROM l) AND recent_uid < (SELECT uidnext FROM l) FOR UPDATE)," \
	" c AS (UPDATE mailbox_recent r SET recent_uid = l.uidnext FROM l, o" \
	"   WHERE r.mailbox_id = l.id AND r.recent_uid < l.uidnext" \
	"   RETURNING o.recent_uid AS old, set_config('synchronous_commit', 'off', true))"

/* Everything a session needs of its selected mailbox, in one round trip,
 * at SELECT and before each command on it (docs/architecture.md, "The
 * pipeline"). Parameters: $1 the mailbox, $2 messages changed since (0: all
 * of them, which is how SELECT loads a cold cache), $3 expunges since (NULL:
 * none), $4 the reader, $5 claim \Recent, $6 with the ACL, $7 keywords
 * registered since, $8 with the reader's seen set, $9 the reader's private
 * changes since (NULL: none). Rows by kind:
 *   0  the mailbox: highestmodseq (the counter, migrations/0011), uidnext,
 *      owner, the old \Recent bound when $5 claimed something (without
 *      $5: the current bound, read without a lock: EXAMINE counts
 *      \Recent without taking it), uidvalidity; seen_per_user, and the reader's seen UIDs (a
 *      multirange) when \Seen is per user and $8 asked for them or a
 *      private change after $9 changed them; shared_modseq, and the
 *      reader's private modseq and pruned floor;
 *   1  a new or changed message: uid, modseq, the flags reader $4 sees, the
 *      stored flags (which the shared cache keeps), keywords;
 *   2  an expunge: uid, modseq;
 *   3  an ACL entry (RFC 4314 §4: a right revoked while the mailbox is
 *      open takes effect at the next command);
 *   4  a keyword registered since $7 (one probe of
 *      mailbox_keywords_modseq_idx, which mostly finds nothing), by
 *      modseq and then by name, so that FLAGS lists the keywords one
 *      STORE registered in the same order in every session;
 *   5  a private change of the reader's after $9: modseq, the UIDs;
 *   6  with the seen set, each of the reader's private keywords
 *      (migrations/0013): keyword, UIDs.
 * Messages come from the (mailbox_id, modseq) index; with $2 = 0 from the
 * primary key, in UID order. */
#define SEEN_OF_READER "FROM seen WHERE account_id = $4 AND mailbox_id = $1"
const struct db_stmt db_select_stmts[] = {
	{ "mailbox_sync",
	  "WITH l AS (SELECT id, highestmodseq, uidnext, owner_id, uidvalidity, seen_per_user,"
	  "   shared_modseq FROM mailboxes WHERE id = $1 AND NOT noselect)," CLAIM_RECENT("$5::boolean")
	  " , rd AS (SELECT uids, modseq, pruned_modseq " SEEN_OF_READER " AND (SELECT seen_per_user FROM l)),"
	  " pv AS (SELECT modseq, uids FROM seen_changes"
	  "   WHERE account_id = $4 AND mailbox_id = $1 AND modseq > $9::bigint)"
	  " SELECT 0, highestmodseq, uidnext, owner_id, CASE WHEN $5::boolean THEN (SELECT old FROM c)"
	  "   ELSE (SELECT recent_uid FROM mailbox_recent WHERE mailbox_id = $1) END,"
	  "   uidvalidity::bigint,"
	  "   seen_per_user::text,"
	  "   CASE WHEN seen_per_user AND ($8::boolean OR EXISTS (SELECT 1 FROM pv))"
	  "     THEN coalesce((SELECT uids::text FROM rd), '{}') END,"
	  "   shared_modseq, coalesce((SELECT modseq FROM rd), 0), coalesce((SELECT pruned_modseq FROM rd), 0)"
	  " FROM l"
	  " UNION ALL (SELECT 1, uid, modseq,"
	  "   " DB_SEEN_FLAGS("mm", DB_SEEN_PER_USER("$1"), DB_SEEN_SET("$4", "$1")) "::bigint,"
	  "   flags::bigint, NULL, array_to_string(keywords, ' '), NULL, NULL, NULL, NULL"
	  "   FROM mailbox_messages mm WHERE mailbox_id = $1 AND modseq > $2 ORDER BY uid)"
	  " UNION ALL SELECT 2, uid, modseq, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
	  "   FROM expunges WHERE mailbox_id = $1 AND modseq > $3"
	  " UNION ALL SELECT 3, NULL, NULL, NULL, NULL, NULL, identifier, rights, NULL, NULL, NULL"
	  "   FROM acl WHERE mailbox_id = $1 AND $6::boolean"
	  " UNION ALL SELECT 4, modseq, modseq, NULL, NULL, NULL, keyword, NULL, NULL, NULL, NULL"
	  "   FROM mailbox_keywords WHERE mailbox_id = $1 AND modseq > $7"
	  " UNION ALL SELECT 5, modseq, modseq, NULL, NULL, NULL, uids::text, NULL, NULL, NULL, NULL"
	  "   FROM pv"
	  " UNION ALL SELECT 6, NULL, NULL, NULL, NULL, NULL, keyword, uids::text, NULL, NULL, NULL"
	  "   FROM private_keywords WHERE account_id = $4 AND mailbox_id = $1"
	  "   AND (SELECT seen_per_user FROM l) AND ($8::boolean OR EXISTS (SELECT 1 FROM pv))"
	  " ORDER BY 1, 2, 7" },
	/* QRESYNC (RFC 7162 §3.2.5, §3.2.6): the UIDs within the ranges $3/$4
	 * (empty: all) expunged after modseq $2, ascending; or the single row
	 * 0 when the history after $2 may have been pruned (migrations/0011,
	 * expunged_floor). */
	{ "vanished_since",
	  "SELECT 0 FROM mailboxes WHERE id = $1 AND expunged_floor > $2"
	  " UNION ALL (SELECT uid FROM expunges e WHERE mailbox_id = $1 AND modseq > $2"
	  "   AND (cardinality($3::bigint[]) = 0 OR EXISTS (SELECT 1"
	  "     FROM unnest($3::bigint[], $4::bigint[]) r(lo, hi) WHERE e.uid BETWEEN r.lo AND r.hi))"
	  "   AND NOT EXISTS (SELECT 1 FROM mailboxes WHERE id = $1 AND expunged_floor > $2)"
	  "   ORDER BY uid)" },
	{ NULL, NULL },
};

static uint32_t clamp_u32(int64_t v)
{
	return v <= 0 ? 0 : v >= 4294967296LL ? UINT32_MAX : (uint32_t)v;
}

static char *arena_value(struct arena *arena, const PGresult *res, int row, int col)
{
	return arena_strndup(arena, PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col));
}

/* Kind 0. */
static int sync_mailbox_row(const PGresult *res, struct arena *arena,
			    struct db_sync_mailbox *m)
{
	int64_t hms, uidnext, owner, old = 0, uidvalidity, shared, private, pruned;

	if (db_get_int64(res, 0, 1, &hms) < 0 || db_get_int64(res, 0, 2, &uidnext) < 0 ||
	    db_get_int64(res, 0, 3, &owner) < 0 ||
	    (!PQgetisnull(res, 0, 4) && db_get_int64(res, 0, 4, &old) < 0) ||
	    db_get_int64(res, 0, 5, &uidvalidity) < 0 || db_get_int64(res, 0, 8, &shared) < 0 ||
	    db_get_int64(res, 0, 9, &private) < 0 || db_get_int64(res, 0, 10, &pruned) < 0)
		return -1;
	*m = (struct db_sync_mailbox){
		.highestmodseq = (uint64_t)hms,
		.uidnext = clamp_u32(uidnext),
		.owner_id = owner,
		.recent_from = clamp_u32(old),
		.uidvalidity = clamp_u32(uidvalidity),
		.seen_per_user = strcmp(PQgetvalue(res, 0, 6), "true") == 0,
		.seen_set = PQgetisnull(res, 0, 7) ? NULL : arena_value(arena, res, 0, 7),
		.shared_modseq = (uint64_t)shared,
		.private_modseq = (uint64_t)private,
		.pruned_modseq = (uint64_t)pruned,
	};
	return 0;
}

/* One row of kind 1 to 6 to the callbacks, or an ACL entry to acl. */
static int sync_row(const PGresult *res, int i, const struct db_changes_cb *cb,
		    struct db_sync_acl *acl, struct arena *arena)
{
	int64_t kind, a = 0, b = 0, c = 0, d = 0;

	if (db_get_int64(res, i, 0, &kind) < 0)
		return -1;
	if (kind == 3) {
		acl->rows[acl->nrows].identifier = arena_value(arena, res, i, 6);
		acl->rows[acl->nrows].rights = arena_value(arena, res, i, 7);
		acl->nrows++;
		return 0;
	}
	if (kind == 4) {
		cb->keyword(cb->ctx, PQgetvalue(res, i, 6));
		return 0;
	}
	if (kind == 6) {
		cb->private_keyword(cb->ctx, PQgetvalue(res, i, 6), PQgetvalue(res, i, 7));
		return 0;
	}
	if (kind == 5) {
		if (db_get_int64(res, i, 1, &a) < 0)
			return -1;
		cb->private_change(cb->ctx, (uint64_t)a, PQgetvalue(res, i, 6));
		return 0;
	}
	if (db_get_int64(res, i, 1, &a) < 0 || db_get_int64(res, i, 2, &b) < 0 ||
	    (kind == 1 && (db_get_int64(res, i, 3, &c) < 0 || db_get_int64(res, i, 4, &d) < 0)))
		return -1;
	if (kind == 1)
		cb->message(cb->ctx, clamp_u32(a), (unsigned)c, (unsigned)d, PQgetvalue(res, i, 6),
			    (uint64_t)b);
	else
		cb->expunged(cb->ctx, clamp_u32(a), (uint64_t)b);
	return 0;
}

enum db_result db_mailbox_sync(db *d, int64_t reader_id, int64_t mailbox_id,
			       const struct db_sync_request *req, const struct db_changes_cb *cb,
			       struct arena *arena, struct db_sync_acl *acl_r, char *err, size_t errlen)
{
	char id[24], ms[24], ems[24], kms[24], reader[24], pms[24];
	const char *params[9] = { id, ms, req->expunges ? ems : NULL, reader,
				  req->claim_recent ? "true" : "false",
				  acl_r != NULL ? "true" : "false", kms,
				  req->seen_set ? "true" : "false", req->private_changes ? pms : NULL };
	struct db_sync_acl ignored;
	struct db_sync_acl *acl = acl_r != NULL ? acl_r : &ignored;
	struct db_sync_mailbox m;
	PGresult *res;
	int n;

	snprintf(id, sizeof(id), "%lld", (long long)mailbox_id);
	snprintf(ms, sizeof(ms), "%llu", (unsigned long long)req->modseq);
	snprintf(ems, sizeof(ems), "%llu", (unsigned long long)req->expunge_modseq);
	snprintf(kms, sizeof(kms), "%llu", (unsigned long long)req->keyword_modseq);
	snprintf(reader, sizeof(reader), "%lld", (long long)reader_id);
	snprintf(pms, sizeof(pms), "%llu", (unsigned long long)req->private_modseq);
	res = PQexecPrepared(d->conn, "mailbox_sync", 9, params, NULL, NULL, 0);
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
	if (sync_mailbox_row(res, arena, &m) < 0)
		goto bad;
	acl->owner_id = m.owner_id;
	cb->mailbox(cb->ctx, &m);
	for (int i = 1; i < n; i++)
		if (sync_row(res, i, cb, acl, arena) < 0)
			goto bad;
	PQclear(res);
	return DB_OK;
bad:
	db_errf(err, errlen, "reading mailbox changes: unexpected result");
	PQclear(res);
	return DB_FAILED;
}

enum db_result db_vanished_since(db *d, int64_t mailbox_id, uint64_t modseq,
				 const struct db_uid_ranges *ranges, bool *pruned_r,
				 void (*uid_cb)(void *ctx, uint32_t uid), void *ctx,
				 char *err, size_t errlen)
{
	static const struct db_uid_ranges all = { NULL, NULL, 0 };
	char id[24], ms[24];
	struct buf lo, hi;
	const char *params[4] = { id, ms, NULL, NULL };
	PGresult *res;
	enum db_result r = DB_OK;

	buf_init(&lo);
	buf_init(&hi);
	db_ranges_params(ranges != NULL ? ranges : &all, &lo, &hi);
	params[2] = (const char *)lo.data;
	params[3] = (const char *)hi.data;
	snprintf(id, sizeof(id), "%lld", (long long)mailbox_id);
	snprintf(ms, sizeof(ms), "%llu", (unsigned long long)modseq);
	res = PQexecPrepared(d->conn, "vanished_since", 4, params, NULL, NULL, 0);
	buf_free(&lo);
	buf_free(&hi);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_err_result(err, errlen, "reading expunged UIDs", d->conn, res);
		PQclear(res);
		return DB_FAILED;
	}
	*pruned_r = false;
	for (int i = 0; i < PQntuples(res); i++) {
		int64_t uid;
		if (db_get_int64(res, i, 0, &uid) < 0) {
			db_errf(err, errlen, "reading expunged UIDs: unexpected result");
			r = DB_FAILED;
			break;
		}
		if (uid == 0)
			*pruned_r = true;
		else
			uid_cb(ctx, clamp_u32(uid));
	}
	PQclear(res);
	return r;
}
