/* SEARCH → SQL (schema/db_search.h). The WHERE clause is assembled from the
 * program's nodes; every value is a numbered parameter, so the text of the
 * query is a function of the program's shape alone. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/db_private.h"
#include "schema/db_ranges.h"
#include "schema/db_search.h"
#include "schema/db_seen_sql.h"

struct sql {
	struct buf text;
	char **params;
	int nparams;
	int64_t reader_id;
	int reader_param;   /* its parameter number once a node needs it, else 0 */
	/* The mailbox of the row: "$1" when one mailbox is searched; with
	 * several (db_search_multi), the row's own, and its \Seen mode and the
	 * reader's seen set from the "box" CTE. */
	const char *mbox;
	bool multi;
};

/* Adds a parameter (copied, NUL-terminated) and returns its number. */
static int sql_param(struct sql *q, const char *value, size_t len)
{
	char *copy = xmalloc(len + 1);

	memcpy(copy, value, len);
	copy[len] = '\0';
	q->params = xrealloc(q->params, (size_t)(q->nparams + 1) * sizeof(*q->params));
	q->params[q->nparams++] = copy;
	return q->nparams;
}

static int sql_param_int(struct sql *q, int64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%lld", (long long)v);
	return sql_param(q, s, strlen(s));
}

/* Appends s with LIKE's own %, _ and \ escaped; a NUL (which text
 * cannot hold) ends it. */
static void like_escape(struct buf *b, const char *s, size_t len)
{
	for (size_t i = 0; i < len && s[i] != '\0'; i++) {
		if (s[i] == '%' || s[i] == '_' || s[i] == '\\')
			buf_append(b, "\\", 1);
		buf_append(b, &s[i], 1);
	}
}

/* The pattern "[field:]%value%", both parts matched literally.
 *
 * header_text and body_text are stored lower-cased (migrations/0007), and
 * are matched with "LIKE lower(pattern)": that is what ILIKE does, on a
 * UTF8 database, with both sides (lower() in the database's LC_CTYPE), so
 * the result is the same, but the stored text is no longer folded (copied
 * whole) for every row checked, and LIKE stops at the first match. lower()
 * leaves the escapes alone: no character folds to %, _ or \. */
static int sql_param_like(struct sql *q, const char *field, size_t field_len,
			  const char *v, size_t len)
{
	struct buf b;
	int n;

	buf_init(&b);
	if (field != NULL) {
		like_escape(&b, field, field_len);
		buf_append(&b, ":", 1);
	}
	buf_append(&b, "%", 1);
	like_escape(&b, v, len);
	buf_append(&b, "%", 1);
	n = sql_param(q, (const char *)b.data, b.len);
	buf_free(&b);
	return n;
}

static void sql_node(struct sql *q, const struct db_search_node *n);

/* Case folding beyond lower() (docs/protocol.md, "Case-insensitive
 * matching"): lower() maps each letter to its lower case, but Unicode case
 * folding also unifies two lower-case pairs that real text uses, final and
 * medial sigma (ς σ, both from Σ) and the micro sign and mu (µ μ, both
 * from Μ). The text is stored as lower() left it (migrations/0007), so a
 * pattern with one of them matches in two steps: with each of those
 * letters as "_" (any one character), which the trigram index can still
 * answer from the rest of the pattern, then exactly, both sides folded,
 * on the few rows that passed. Patterns without them (almost all) keep
 * the one LIKE. */
#define FOLD_FROM "'ςµ'"
#define FOLD_TO "'σμ'"
#define FOLD_ANY "'σςμµ', '____'"

/* Whether value holds a letter that lower() may turn into σ, ς, µ or μ:
 * Σ σ ς, Μ μ, µ. */
static bool sql_needs_fold(const char *v, size_t len)
{
	static const char *const letters[] = { "Σ", "σ", "ς", "Μ", "μ", "µ" };

	for (size_t i = 0; i < sizeof(letters) / sizeof(letters[0]); i++)
		if (memmem(v, len, letters[i], strlen(letters[i])) != NULL)
			return true;
	return false;
}

/* column LIKE the pattern of parameter p (sql_param_like), folded. */
static void sql_like(char *out, size_t size, const char *column, int p, bool fold)
{
	if (!fold)
		snprintf(out, size, "%s LIKE lower($%d)", column, p);
	else
		snprintf(out, size, "(%s LIKE translate(lower($%d), " FOLD_ANY ") AND"
			 " translate(%s, " FOLD_FROM ", " FOLD_TO ") LIKE"
			 " translate(lower($%d), " FOLD_FROM ", " FOLD_TO "))",
			 column, p, column, p);
}

/* A condition on the search text (header_text, body_text): the OR of
 * conds[0..n-1], each one column's LIKE. The text of a message is in the
 * trigram indexes only once the indexer has marked it search_ready
 * (migrations/0008), so each cond is asked of the indexed messages, where
 * the partial trigram index of its column answers it, and all of them
 * together of the waiting ones, which messages_search_backlog lists:
 *
 *   (search_ready AND c1) OR (search_ready AND c2) OR (NOT search_ready AND (c1 OR c2))
 *
 * Every arm implies the predicate of one partial index, so the planner
 * combines them in a BitmapOr and rechecks the text of the few waiting rows
 * directly. (A single "(ready AND (c1 OR c2)) OR (NOT ready AND (c1 OR
 * c2))" would not do: PostgreSQL factors the common (c1 OR c2) out of the
 * arms, and no index answers what is left.) search_ready is NOT NULL, so
 * the arms together are exactly the OR of conds, whatever has been
 * indexed. Every text key goes through here. */
static void sql_text_cond(struct sql *q, const char *const *conds, size_t n)
{
	struct buf *t = &q->text;

	buf_append(t, "(", 1);
	for (size_t i = 0; i < n; i++)
		buf_appendf(t, "(m.search_ready AND %s) OR ", conds[i]);
	buf_append_str(t, "(NOT m.search_ready AND (");
	for (size_t i = 0; i < n; i++)
		buf_appendf(t, "%s%s", i > 0 ? " OR " : "", conds[i]);
	buf_append_str(t, ")))");
}

static void sql_children(struct sql *q, const struct db_search_node *n, const char *joiner,
			 const char *empty)
{
	if (n->nchildren == 0) {
		buf_append_str(&q->text, empty);
		return;
	}
	buf_append(&q->text, "(", 1);
	for (size_t i = 0; i < n->nchildren; i++) {
		if (i > 0)
			buf_append_str(&q->text, joiner);
		sql_node(q, &n->children[i]);
	}
	buf_append(&q->text, ")", 1);
}

/* coalesce: a message without a usable Date: (sent_date NULL) matches no
 * SENT* key, and so matches NOT SENT* (SQL's NOT NULL would drop it). */
static void sql_date(struct sql *q, const char *column, const char *op, int64_t days)
{
	buf_appendf(&q->text, "coalesce(%s %s DATE '1970-01-01' + $%d::int, false)", column, op,
		    sql_param_int(q, days));
}

/* Stored text never holds NUL, so a search string with one matches nothing. */
static bool sql_has_nul(const struct db_search_node *n)
{
	return n->value != NULL && memchr(n->value, '\0', n->value_len) != NULL;
}

/* Every flag of mask set (or clear), in the old form "flags & m = m" so
 * that the planner estimates it as before (an equality on an expression:
 * few rows). With \Seen in the mask the flags are the reader's own
 * (schema/db_seen_sql.h); otherwise the stored column, as before. */
static void sql_flags(struct sql *q, int64_t mask, bool set)
{
	struct buf *t = &q->text;
	int p;

	if ((mask & DB_FLAG_SEEN) && q->multi) {
		buf_append(t, "(", 1);
		buf_append_str(t, DB_SEEN_FLAGS("mm", "box.seen_per_user", "box.seen"));
	} else if (mask & DB_FLAG_SEEN) {
		/* The reader becomes a parameter only when needed: PostgreSQL
		 * refuses a parameter whose type nothing in the query implies. */
		if (q->reader_param == 0)
			q->reader_param = sql_param_int(q, q->reader_id);
		buf_append(t, "(", 1);
		buf_appendf(t, DB_SEEN_FLAGS("mm", DB_SEEN_PER_USER("$1"), DB_SEEN_SET("$%d", "$1")),
			    q->reader_param);
	} else {
		buf_append_str(t, "(mm.flags");
	}
	p = sql_param_int(q, mask);
	if (set)
		buf_appendf(t, " & $%d::smallint = $%d::smallint)", p, p);
	else
		buf_appendf(t, " & $%d::smallint = 0)", p);
}

/* A shared keyword, compared as STORE compares them (parameter p). */
static void sql_keyword(struct sql *q, int p)
{
	buf_appendf(&q->text, "EXISTS (SELECT 1 FROM unnest(mm.keywords) k WHERE lower(k) = lower($%d))", p);
}

static void sql_node(struct sql *q, const struct db_search_node *n)
{
	struct buf *t = &q->text;
	/* INTERNALDATE's calendar date in UTC, as it is shown (+0000). */
	const char *idate = "(mm.internaldate AT TIME ZONE 'UTC')::date";
	/* The save date's, the same way; RFC 8514 §4.3: INTERNALDATE's
	 * where there is none (a row older than migrations/0017). */
	const char *sdate = "(coalesce(mm.saved_at, mm.internaldate) AT TIME ZONE 'UTC')::date";
	char conds[2][256];         /* a text key's conditions, for sql_text_cond */
	const char *const cond[2] = { conds[0], conds[1] };
	bool fold = n->value != NULL && sql_needs_fold(n->value, n->value_len);

	if ((n->op == DB_SEARCH_KEYWORD || n->op == DB_SEARCH_HEADER || n->op == DB_SEARCH_BODY ||
	     n->op == DB_SEARCH_TEXT) && sql_has_nul(n)) {
		buf_append_str(t, "FALSE");
		return;
	}
	switch (n->op) {
	case DB_SEARCH_AND: sql_children(q, n, " AND ", "TRUE"); return;
	case DB_SEARCH_OR: sql_children(q, n, " OR ", "FALSE"); return;
	case DB_SEARCH_NOT:
		buf_append_str(t, "NOT ");
		sql_children(q, n, " AND ", "TRUE");
		return;
	case DB_SEARCH_TRUE: buf_append_str(t, "TRUE"); return;
	case DB_SEARCH_FALSE: buf_append_str(t, "FALSE"); return;
	case DB_SEARCH_UIDS: {
		struct buf lo, hi;
		int a, b;
		buf_init(&lo);
		buf_init(&hi);
		db_ranges_params(&n->ranges, &lo, &hi);
		a = sql_param(q, (const char *)lo.data, lo.len - 1);
		b = sql_param(q, (const char *)hi.data, hi.len - 1);
		buf_free(&lo);
		buf_free(&hi);
		buf_appendf(t, "EXISTS (SELECT 1 FROM unnest($%d::bigint[], $%d::bigint[]) r(lo, hi)"
			    " WHERE mm.uid BETWEEN r.lo AND r.hi)", a, b);
		return;
	}
	case DB_SEARCH_FLAGS_SET:
	case DB_SEARCH_FLAGS_CLEAR:
		sql_flags(q, n->number, n->op == DB_SEARCH_FLAGS_SET);
		return;
	case DB_SEARCH_KEYWORD:
		sql_keyword(q, sql_param(q, n->value, strnlen(n->value, n->value_len)));
		return;
	case DB_SEARCH_PRIVATE_KEYWORD: {
		/* One InitPlan: the reader's set of the keyword. Across several
		 * mailboxes the keyword is private only in those with per-user
		 * \Seen, and shared in the others. */
		int p = sql_param(q, n->value, strnlen(n->value, n->value_len));
		if (q->reader_param == 0)
			q->reader_param = sql_param_int(q, q->reader_id);
		if (q->multi)
			buf_append_str(t, "CASE WHEN box.seen_per_user THEN ");
		buf_appendf(t, "coalesce(mm.uid <@ (SELECT p.uids FROM private_keywords p"
			    " WHERE p.account_id = $%d AND p.mailbox_id = %s AND p.keyword = $%d), false)",
			    q->reader_param, q->mbox, p);
		if (q->multi) {
			buf_append_str(t, " ELSE ");
			sql_keyword(q, p);
			buf_append_str(t, " END");
		}
		return;
	}
	case DB_SEARCH_BEFORE: sql_date(q, idate, "<", n->number); return;
	case DB_SEARCH_ON: sql_date(q, idate, "=", n->number); return;
	case DB_SEARCH_SINCE: sql_date(q, idate, ">=", n->number); return;
	case DB_SEARCH_SENTBEFORE: sql_date(q, "m.sent_date", "<", n->number); return;
	case DB_SEARCH_SENTON: sql_date(q, "m.sent_date", "=", n->number); return;
	case DB_SEARCH_SENTSINCE: sql_date(q, "m.sent_date", ">=", n->number); return;
	case DB_SEARCH_LARGER:
		buf_appendf(t, "(m.size > $%d::bigint)", sql_param_int(q, n->number));
		return;
	case DB_SEARCH_SMALLER:
		buf_appendf(t, "(m.size < $%d::bigint)", sql_param_int(q, n->number));
		return;
	case DB_SEARCH_HEADER: {
		/* "name:%value%" against each field, the name matched literally;
		 * with a value, the trigram index on header_text narrows the
		 * candidates first. An empty value only asks for the field. */
		int fp = sql_param_like(q, n->field, n->field_len < 256 ? n->field_len : 256,
					n->value, n->value_len);
		buf_append_str(t, "(");
		if (n->value_len > 0) {
			sql_like(conds[0], sizeof(conds[0]), "m.header_text",
				 sql_param_like(q, NULL, 0, n->value, n->value_len), fold);
			sql_text_cond(q, cond, 1);
			buf_append_str(t, " AND ");
		}
		if (fold)
			buf_appendf(t, "EXISTS (SELECT 1 FROM unnest(m.header_fields) h WHERE"
				    " translate(lower(h), " FOLD_FROM ", " FOLD_TO ") LIKE"
				    " translate(lower($%d), " FOLD_FROM ", " FOLD_TO ")))", fp);
		else
			buf_appendf(t, "EXISTS (SELECT 1 FROM unnest(m.header_fields) h WHERE h ILIKE $%d))",
				    fp);
		return;
	}
	case DB_SEARCH_BODY:
		sql_like(conds[0], sizeof(conds[0]), "m.body_text",
			 sql_param_like(q, NULL, 0, n->value, n->value_len), fold);
		sql_text_cond(q, cond, 1);
		return;
	case DB_SEARCH_TEXT: {
		/* The header first: it is short, and a match there spares
		 * decompressing and scanning the body. */
		int p = sql_param_like(q, NULL, 0, n->value, n->value_len);
		sql_like(conds[0], sizeof(conds[0]), "m.header_text", p, fold);
		sql_like(conds[1], sizeof(conds[1]), "m.body_text", p, fold);
		sql_text_cond(q, cond, 2);
		return;
	}
	case DB_SEARCH_OLDER:
		buf_appendf(t, "(mm.internaldate <= now() - make_interval(secs => $%d::bigint))",
			    sql_param_int(q, n->number));
		return;
	case DB_SEARCH_YOUNGER:
		buf_appendf(t, "(mm.internaldate > now() - make_interval(secs => $%d::bigint))",
			    sql_param_int(q, n->number));
		return;
	case DB_SEARCH_MESSAGE_ID:
		buf_appendf(t, "(mm.message_id = $%d::bigint)", sql_param_int(q, n->number));
		return;
	case DB_SEARCH_SAVEDBEFORE: sql_date(q, sdate, "<", n->number); return;
	case DB_SEARCH_SAVEDON: sql_date(q, sdate, "=", n->number); return;
	case DB_SEARCH_SAVEDSINCE: sql_date(q, sdate, ">=", n->number); return;
	case DB_SEARCH_SAVED_KNOWN: buf_append_str(t, "(mm.saved_at IS NOT NULL)"); return;
	case DB_SEARCH_MODSEQ: {
		/* The reader's MODSEQ (migrations/0011): the shared one, the
		 * reader's own later changes (their UIDs, one InitPlan), or the
		 * floor of its pruned log. */
		int p = sql_param_int(q, n->number);
		if (q->reader_param == 0)
			q->reader_param = sql_param_int(q, q->reader_id);
		buf_appendf(t, "(mm.modseq >= $%d::bigint"
			    " OR coalesce(mm.uid <@ (SELECT range_agg(c.uids) FROM seen_changes c"
			    "   WHERE c.account_id = $%d AND c.mailbox_id = %s AND c.modseq >= $%d::bigint), false)"
			    " OR coalesce((SELECT s.pruned_modseq >= $%d::bigint FROM seen s"
			    "   WHERE s.account_id = $%d AND s.mailbox_id = %s), false))",
			    p, q->reader_param, q->mbox, p, p, q->reader_param, q->mbox);
		return;
	}
	}
}

/* The settings of a search's own transaction (SET LOCAL through
 * set_config): $1 its statement_timeout; $2 whether it reads message text
 * (sql_reads_text), which makes the parallel costs 0. The planner prices a
 * LIKE over a message's text at one cpu_operator_cost, however long the
 * text, so it keeps a search that rechecks thousands of bodies in one
 * process, where parallel workers (max_parallel_workers_per_gather, 2 by
 * default) share that work: ~260 -> ~200 ms for the statement of TEXT of a
 * common word in 100,000 messages on two busy cores. Free workers are what
 * decides: a search that gets none runs alone as before. Searches of flags,
 * dates and header fields keep the server's costs: their plans do not
 * gain, and on a loaded machine a worker only competes for the cores.
 * JIT, which starts once a plan's estimated cost passes jit_above_cost
 * (100,000; that TEXT search is ~46,000 for 100,000 messages), only adds
 * its compile time here: the time goes to reading text, not to evaluating
 * expressions; forced on, it made BODY and UNSEEN of the 100,000-message
 * benchmark 7-25 ms slower and TEXT no faster (tests/bench/results-search.md). */
const struct db_stmt db_search_stmts[] = {
	{ "search_settings",
	  "SELECT set_config('statement_timeout', $1, true), set_config('jit', 'off', true),"
	  /* A search is one statement built for its own criteria: planned
	   * with its values (schema/db_conn.c makes generic plans the rule). */
	  " set_config('plan_cache_mode', 'force_custom_plan', true),"
	  " set_config('parallel_setup_cost', CASE WHEN $2::bool THEN '0'"
	  "   ELSE current_setting('parallel_setup_cost') END, true),"
	  " set_config('parallel_tuple_cost', CASE WHEN $2::bool THEN '0'"
	  "   ELSE current_setting('parallel_tuple_cost') END, true)" },
	{ NULL, NULL },
};

/* Whether the program matches BODY or TEXT: rechecks message bodies. */
static bool sql_reads_text(const struct db_search_node *n)
{
	if (n->op == DB_SEARCH_BODY || n->op == DB_SEARCH_TEXT)
		return true;
	for (size_t i = 0; i < n->nchildren; i++)
		if (sql_reads_text(&n->children[i]))
			return true;
	return false;
}

/* Reads one pipelined statement's results; the first failure is kept. */
static ExecStatusType pipeline_result(PGconn *conn, PGresult **keep, char *sqlstate, size_t sslen)
{
	ExecStatusType worst = PGRES_COMMAND_OK;
	PGresult *res;

	while ((res = PQgetResult(conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_FATAL_ERROR && sqlstate[0] == '\0') {
			const char *code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
			snprintf(sqlstate, sslen, "%s", code != NULL ? code : "");
		}
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
			worst = st;
		if (keep != NULL && st == PGRES_TUPLES_OK && *keep == NULL)
			*keep = res;
		else if (keep != NULL && st == PGRES_FATAL_ERROR && *keep == NULL)
			*keep = res;
		else
			PQclear(res);
	}
	return worst;
}

static void sql_free(struct sql *q)
{
	for (int i = 0; i < q->nparams; i++)
		free(q->params[i]);
	free(q->params);
	buf_free(&q->text);
}

/* Runs the query of q (NUL-terminated text) in a transaction of its own
 * with its own settings (search_settings), so that no search can hold a
 * worker longer than the configured bound; one round trip. DB_OK with
 * the rows in *res_r (the caller clears it), DB_TIMEOUT or DB_FAILED. */
static enum db_result search_exec(db *d, struct sql *q, bool reads_text, long timeout_ms,
				  PGresult **res_r, char *err, size_t errlen)
{
	enum db_result r = DB_OK;
	PGresult *res = NULL, *sync;
	char timeout[24], sqlstate[8] = "";
	const char *settings[2] = { timeout, reads_text ? "true" : "false" };
	bool sent;

	snprintf(timeout, sizeof(timeout), "%ld", timeout_ms);
	sent = PQenterPipelineMode(d->conn) &&
	       PQsendQueryParams(d->conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) &&
	       PQsendQueryPrepared(d->conn, "search_settings", 2, settings, NULL, NULL, 0) &&
	       PQsendQueryParams(d->conn, (const char *)q->text.data, q->nparams, NULL,
				 (const char *const *)q->params, NULL, NULL, 0) &&
	       PQsendQueryParams(d->conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) &&
	       PQpipelineSync(d->conn);
	if (!sent) {
		db_err_conn(err, errlen, "searching", d->conn);
		r = DB_FAILED;
	} else {
		pipeline_result(d->conn, NULL, sqlstate, sizeof(sqlstate));          /* BEGIN */
		pipeline_result(d->conn, NULL, sqlstate, sizeof(sqlstate));          /* timeout */
		pipeline_result(d->conn, &res, sqlstate, sizeof(sqlstate));          /* search */
		pipeline_result(d->conn, NULL, sqlstate, sizeof(sqlstate));          /* COMMIT */
		sync = PQgetResult(d->conn);
		if (sync == NULL || PQresultStatus(sync) != PGRES_PIPELINE_SYNC)
			r = DB_FAILED;
		PQclear(sync);
	}
	PQexitPipelineMode(d->conn);
	if (r == DB_OK && (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)) {
		/* 57014: canceled by the statement timeout. */
		r = strcmp(sqlstate, "57014") == 0 ? DB_TIMEOUT : DB_FAILED;
		db_err_result(err, errlen, "searching", d->conn, res);
	}
	if (r != DB_OK && PQtransactionStatus(d->conn) == PQTRANS_INERROR) {
		PGresult *rb = PQexec(d->conn, "ROLLBACK");
		PQclear(rb);
	}
	if (r != DB_OK) {
		PQclear(res);
		res = NULL;
	}
	*res_r = res;
	return r;
}

enum db_result db_search(db *d, int64_t reader_id, int64_t mailbox_id, uint32_t max_uid,
			 long timeout_ms, const struct db_search_node *root,
			 void (*uid_cb)(void *ctx, uint32_t uid, uint64_t modseq), void *ctx,
			 char *err, size_t errlen)
{
	struct sql q = { .reader_id = reader_id, .mbox = "$1" };
	enum db_result r;
	PGresult *res;

	buf_init(&q.text);
	sql_param_int(&q, mailbox_id);
	sql_param_int(&q, max_uid);
	buf_append_str(&q.text, "SELECT mm.uid, mm.modseq FROM mailbox_messages mm"
		       " JOIN messages m ON m.id = mm.message_id"
		       " WHERE mm.mailbox_id = $1 AND mm.uid <= $2 AND ");
	sql_node(&q, root);
	buf_append_str(&q.text, " ORDER BY mm.uid");
	buf_append(&q.text, "", 1);
	r = search_exec(d, &q, sql_reads_text(root), timeout_ms, &res, err, errlen);
	for (int i = 0; r == DB_OK && i < PQntuples(res); i++) {
		int64_t uid, modseq;
		if (db_get_int64(res, i, 0, &uid) < 0 || db_get_int64(res, i, 1, &modseq) < 0) {
			db_errf(err, errlen, "searching: unexpected result");
			r = DB_FAILED;
			break;
		}
		uid_cb(ctx, (uint32_t)uid, (uint64_t)modseq);
	}
	PQclear(res);
	sql_free(&q);
	return r;
}

/* Several mailboxes in one statement. The "box" CTE reads each mailbox's
 * row once, with its \Seen mode and the reader's seen set made ready
 * (DB_SEEN_UNPACK) once per mailbox rather than once per message;
 * MATERIALIZED keeps it so. The messages are then those of the primary
 * key's leading column, mailbox by mailbox, and every key's condition is
 * the one a single mailbox's search uses, the row's mailbox in place of
 * $1 (sql.mbox). */
enum db_result db_search_multi(db *d, int64_t reader_id, const int64_t *mailbox_ids, size_t n,
			       long timeout_ms, const struct db_search_node *root,
			       void (*row_cb)(void *ctx, const struct db_search_match *m), void *ctx,
			       char *err, size_t errlen)
{
	struct sql q = { .reader_id = reader_id, .mbox = "mm.mailbox_id", .multi = true };
	enum db_result r;
	struct buf ids;
	PGresult *res;

	buf_init(&q.text);
	buf_init(&ids);
	db_id_array(&ids, mailbox_ids, n);
	sql_param(&q, (const char *)ids.data, ids.len - 1);   /* without its NUL */
	buf_free(&ids);
	q.reader_param = sql_param_int(&q, reader_id);
	buf_append_str(&q.text, "WITH box AS MATERIALIZED (SELECT b.id, b.uidvalidity, b.seen_per_user, "
		       DB_SEEN_SET("$2", "b.id") " AS seen"
		       " FROM mailboxes b WHERE b.id = ANY($1::bigint[]))"
		       " SELECT mm.mailbox_id, box.uidvalidity, mm.uid, mm.modseq"
		       " FROM box JOIN mailbox_messages mm ON mm.mailbox_id = box.id"
		       " JOIN messages m ON m.id = mm.message_id WHERE ");
	sql_node(&q, root);
	buf_append_str(&q.text, " ORDER BY mm.mailbox_id, mm.uid");
	buf_append(&q.text, "", 1);
	r = search_exec(d, &q, sql_reads_text(root), timeout_ms, &res, err, errlen);
	for (int i = 0; r == DB_OK && i < PQntuples(res); i++) {
		int64_t v[4];
		struct db_search_match m;
		for (int c = 0; c < 4; c++)
			if (db_get_int64(res, i, c, &v[c]) < 0)
				r = DB_FAILED;
		if (r != DB_OK) {
			db_errf(err, errlen, "searching: unexpected result");
			break;
		}
		m.mailbox_id = v[0];
		m.uidvalidity = (uint32_t)v[1];
		m.uid = (uint32_t)v[2];
		m.modseq = (uint64_t)v[3];
		row_cb(ctx, &m);
	}
	PQclear(res);
	sql_free(&q);
	return r;
}
