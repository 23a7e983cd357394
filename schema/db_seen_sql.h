/* SQL fragments for the reader's \Seen, shared by the statements of
 * schema/ that read or write flags (private to schema/).
 *
 * In a mailbox with seen_per_user, \Seen is kept per reader in the seen
 * table (one int8multirange of UIDs per (account, mailbox)) and the 1 bit
 * of mailbox_messages.flags means nothing; in any other mailbox that bit is
 * the truth. Every statement therefore takes the reader's account id and
 * asks "per user?" of the mailbox row in the same statement, rather than
 * trusting a mode the session remembered from SELECT: the mode may change
 * while a mailbox is selected (SETACL, kairanctl).
 *
 * The fragments are built so that a normal mailbox keeps its plans: the
 * mode and the reader's set are one-row lookups (InitPlans or joins with
 * one row), and the common case is the bare column (CASE picks one
 * branch). */
#ifndef KAIRAN_SCHEMA_DB_SEEN_SQL_H
#define KAIRAN_SCHEMA_DB_SEEN_SQL_H

/* Beware: in SQL, & and | have the same precedence and group left to
 * right, so "a & 30 | b & 1" is "((a & 30) | b) & 1": bracket them. */

/* A seen set ready to be tested row after row. A stored set of more than
 * ~2 kB (a reader with a few hundred ranges) is compressed by TOAST, and
 * every <@ on it would decompress it again: on a 20,000 message mailbox,
 * 220 ms instead of 13. The union with the empty set is a new value,
 * decompressed once. */
#define DB_SEEN_UNPACK(uids) "(" uids " + '{}'::int8multirange)"

/* Whether mailbox `mbox` keeps \Seen per user, and the reader's seen set
 * there (NULL without a row). Uncorrelated when mbox and reader are
 * parameters, so PostgreSQL evaluates each once per statement. */
#define DB_SEEN_PER_USER(mbox) "(SELECT seen_per_user FROM mailboxes WHERE id = " mbox ")"
#define DB_SEEN_SET(reader, mbox) \
	"(SELECT " DB_SEEN_UNPACK("uids") " FROM seen WHERE account_id = " reader \
	" AND mailbox_id = " mbox ")"

/* The flags of row `mm` as the reader sees them (an integer, the bits of
 * enum db_flag): in a per-user mailbox the stored flags without bit 1, plus
 * the reader's \Seen; otherwise the stored flags. */
#define DB_SEEN_FLAGS(mm, per_user, set) \
	"(CASE WHEN " per_user " THEN (" mm ".flags & 30) | coalesce(" mm ".uid <@ " set ", false)::int" \
	" ELSE " mm ".flags END)"

/* The UIDs of the aggregated rows as a multirange (NULL for no rows). */
#define DB_SEEN_RANGE_AGG(uid) "range_agg(int8range(" uid ", " uid ", '[]'))"

/* Completes "INSERT INTO seen (account_id, mailbox_id, uids) SELECT ...":
 * adds the UIDs to the reader's row, creating it if missing. Relative, so
 * that it applies to the newest version of the row. The caller has locked
 * the mailbox row first, as every writer of seen rows does, so one reader's
 * updates of one mailbox serialise there and cannot deadlock. */
#define DB_SEEN_ADD_ON_CONFLICT \
	" ON CONFLICT (account_id, mailbox_id) DO UPDATE SET uids = seen.uids + EXCLUDED.uids"

/* Reader `reader`'s HIGHESTMODSEQ in mailbox row `m` (migrations/0011):
 * the last shared change, or the reader's own last private one. */
#define DB_READER_HIGHESTMODSEQ(reader, m) \
	"greatest(" m ".shared_modseq, (SELECT s.modseq FROM seen s WHERE s.account_id = " reader \
	" AND s.mailbox_id = " m ".id AND " m ".seen_per_user))"

#endif
