/* SQL fragments for the keyword registry (migrations/0009, docs/schema.md
 * "Keywords"), shared by the statements that put keywords on messages:
 * STORE (db_store.c), APPEND (db_append.c), COPY and MOVE (db_copy.c).
 *
 * Each of them, in its own single statement: computes the keywords new to
 * the mailbox (nkw), decides whether registering them keeps the mailbox
 * within the caller's cap (DB_KW_FITS), and, when it writes, registers
 * them at the modseq it writes at (DB_KW_REGISTER). The count is taken
 * from the statement's snapshot: two writers that each add different new
 * keywords at the same moment can together pass the cap by what they add
 * (docs/schema.md); the next writer sees the registry full. */
#ifndef KAIRAN_SCHEMA_DB_KEYWORDS_SQL_H
#define KAIRAN_SCHEMA_DB_KEYWORDS_SQL_H

/* The registry's key of keyword k (the table's CHECK computes the same). */
#define DB_KW_DIGEST(k) "sha256(convert_to(" k ", 'UTF8'))"

/* The keywords u.k of the FROM list from (which must name them u(k)) that
 * mailbox mbox has not registered, once each: columns k, d (the digest). */
#define DB_KW_NEW(from, mbox) \
	"SELECT DISTINCT u.k, " DB_KW_DIGEST("u.k") " AS d FROM " from \
	" WHERE NOT EXISTS (SELECT 1 FROM mailbox_keywords r WHERE r.mailbox_id = " mbox \
	"   AND r.digest = " DB_KW_DIGEST("u.k") ")"

/* One row, column ok: registering the rows of nkw keeps mailbox mbox at
 * or below cap keywords (always true when there are none to register, so
 * a full registry never stops the keywords it has). */
#define DB_KW_FITS(nkw, mbox, cap) \
	"SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM " nkw ") THEN true" \
	" ELSE (SELECT count(*) FROM mailbox_keywords WHERE mailbox_id = " mbox ")" \
	"   + (SELECT count(*) FROM " nkw ") <= " cap "::bigint END AS ok"

/* Registers the rows of nkw for mailbox id_expr at modseq modseq_expr,
 * both read from the FROM list from (which yields no row, and so registers
 * nothing, when the statement wrote nothing), where cond holds. A keyword
 * a concurrent writer registered after this statement's snapshot is
 * skipped, not an error. */
#define DB_KW_REGISTER(nkw, from, id_expr, modseq_expr, cond) \
	"INSERT INTO mailbox_keywords (mailbox_id, digest, keyword, modseq)" \
	" SELECT " id_expr ", " nkw ".d, " nkw ".k, " modseq_expr \
	" FROM " nkw ", " from " WHERE " cond \
	" ON CONFLICT (mailbox_id, digest) DO NOTHING"

/* The keywords of the text[] expression arr without those in nkw: what a
 * message keeps when its new keywords do not fit. */
#define DB_KW_WITHOUT_NEW(arr, nkw) \
	"ARRAY(SELECT x FROM unnest(" arr ") x WHERE x NOT IN (SELECT k FROM " nkw "))"

#endif
