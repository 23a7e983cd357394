/* The selected-mailbox part of the store: opening a mailbox, learning what
 * changed, reading and changing messages. Typed C over the prepared
 * statements of schema/db_select.c, db_fetch.c, db_store.c, db_append.c.
 *
 * UID sets travel as arrays of inclusive ranges (lo[i]..hi[i]), sorted and
 * not overlapping: one statement serves any set, with one index range scan
 * per range, instead of one query per message.
 *
 * Results are DB_OK, DB_NOT_FOUND (no such mailbox, or not selectable) or
 * DB_FAILED (err set; a broken connection is repaired by the next
 * db_ensure).
 *
 * \Seen: every function that reads or writes flags takes reader_id, the
 * logged-in account (never assumed to be the mailbox's owner: a shared
 * mailbox has many readers), as its second argument. In a mailbox with
 * seen_per_user the reader's \Seen is its row in the seen table and the
 * stored 1 bit is ignored; elsewhere the stored bit is everyone's \Seen.
 * "Flags" below always means the flags as the reader sees them. */
#ifndef KAIRAN_SCHEMA_DB_MESSAGE_H
#define KAIRAN_SCHEMA_DB_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema/db.h"

enum db_result {
	DB_OK = 0,
	DB_NOT_FOUND = 1,
	DB_TIMEOUT = 2,     /* the statement ran into its time limit */
	DB_LIMIT = 3,       /* the mailbox's keyword registry cannot take the new keywords */
	DB_FAILED = -1,
};

struct db_uid_ranges {
	const uint32_t *lo, *hi;
	size_t count;
};

/* What changed in a mailbox since a modseq, what a session needs of its
 * selected mailbox, in one round trip (db_mailbox_sync): at SELECT, where
 * it also loads the process's state cache, and before every command on
 * the mailbox. */
struct db_sync_mailbox {
	uint64_t highestmodseq;   /* the statement's snapshot */
	uint32_t uidnext;
	int64_t owner_id;
	/* The first UID this caller claimed as \Recent (the claim runs to
	 * uidnext), 0 when it claimed nothing. The claim takes the mailbox's
	 * mailbox_recent row (migrations/0010), never the mailbox row, and
	 * only when there is something to claim, so two sessions never both
	 * get a message as \Recent and readers never queue behind writers. */
	uint32_t recent_from;
	uint32_t uidvalidity;
	bool seen_per_user;
	/* With seen_set asked for in a per-user mailbox: the reader's seen
	 * UIDs as PostgreSQL's int8multirange text ("{[1,5),[7,8)}"), in the
	 * arena; otherwise NULL. */
	const char *seen_set;
	/* RFC 7162 for this reader (migrations/0011): the highest modseq of a
	 * shared change, the highest of the reader's private changes, and the
	 * floor below which its private log was pruned. The reader's
	 * HIGHESTMODSEQ is the greater of the first two. */
	uint64_t shared_modseq, private_modseq, pruned_modseq;
};

/* Rows in this order: the mailbox, new and changed messages in UID order
 * (with the flags reader_id sees and the stored flags), expunges, keywords
 * registered since, then the reader's private changes (\Seen in a
 * per-user mailbox) in modseq order: the modseq and the UIDs it changed,
 * as int8multirange text. Another reader's private change is never
 * reported. */
struct db_changes_cb {
	void *ctx;
	void (*mailbox)(void *ctx, const struct db_sync_mailbox *m);
	void (*message)(void *ctx, uint32_t uid, unsigned flags, unsigned stored_flags,
			const char *keywords, uint64_t modseq);
	void (*expunged)(void *ctx, uint32_t uid, uint64_t modseq);
	void (*keyword)(void *ctx, const char *keyword);
	void (*private_change)(void *ctx, uint64_t modseq, const char *uids);
	/* With a seen set: each of the reader's private keywords (all of
	 * them: a seen set means "replace the reader's private state"). */
	void (*private_keyword)(void *ctx, const char *keyword, const char *uids);
};

struct db_sync_request {
	uint64_t modseq;          /* messages changed above this; 0: every message */
	bool expunges;            /* report expunges ... */
	uint64_t expunge_modseq;  /* ... above this */
	uint64_t keyword_modseq;  /* keywords registered above this */
	bool claim_recent;        /* a read-write session claims new messages as \Recent */
	bool seen_set;            /* the reader's seen set of a per-user mailbox (SELECT) */
	bool private_changes;     /* report the reader's private changes ... */
	uint64_t private_modseq;  /* ... above this (with the new seen set if any) */
};

struct arena;
struct db_acl_row;
/* The selected mailbox's owner and ACL entries (in the arena). */
struct db_sync_acl {
	int64_t owner_id;
	struct db_acl_row *rows;
	size_t nrows;
};

/* With acl_r, the ACL entries too. DB_NOT_FOUND when the mailbox is gone
 * or became a \Noselect placeholder. */
enum db_result db_mailbox_sync(db *d, int64_t reader_id, int64_t mailbox_id,
			       const struct db_sync_request *req, const struct db_changes_cb *cb,
			       struct arena *arena, struct db_sync_acl *acl_r, char *err, size_t errlen);

/* QRESYNC: the UIDs within ranges (NULL: all) expunged after modseq, to
 * uid_cb in ascending order; *pruned_r instead when the history after
 * modseq may have been pruned (then no UID is reported, and the caller
 * works out what vanished from what exists). */
enum db_result db_vanished_since(db *d, int64_t mailbox_id, uint64_t modseq,
				 const struct db_uid_ranges *ranges, bool *pruned_r,
				 void (*uid_cb)(void *ctx, uint32_t uid), void *ctx,
				 char *err, size_t errlen);

/* FETCH: the columns a request needs, row by row in UID order. Only the
 * columns asked for are read (raw is never detoasted for a FLAGS fetch). */
enum db_fetch_column {
	DB_FETCH_ENVELOPE = 1 << 0,
	DB_FETCH_BODY = 1 << 1,
	DB_FETCH_BODYSTRUCTURE = 1 << 2,
	DB_FETCH_RAW = 1 << 3,
	DB_FETCH_PARTS = 1 << 4,
	DB_FETCH_CONTENT = 1 << 5,  /* the messages row at all (any of the above, or the size) */
	DB_FETCH_PREVIEW = 1 << 6,  /* messages.preview (RFC 8970; NULL: not computed yet) */
	/* raw too for rows whose preview is NULL, so that the caller can
	 * compute it (with DB_FETCH_PREVIEW; raw is read for those rows only) */
	DB_FETCH_PREVIEW_RAW = 1 << 7,
	/* the message's own header alone as raw (its length from the part
	 * map), for rows DB_FETCH_RAW and DB_FETCH_PREVIEW_RAW do not read
	 * whole: raw_len < size then */
	DB_FETCH_HEADER = 1 << 8,
};
struct db_message_row {
	uint32_t uid;
	unsigned flags;
	const char *keywords;            /* space-separated */
	int64_t internaldate;            /* UTC seconds */
	uint64_t size;
	uint64_t modseq;
	const char *envelope, *body, *bodystructure, *raw, *parts;   /* NULL when not asked */
	size_t envelope_len, body_len, bodystructure_len, raw_len, parts_len;
	int64_t message_id;              /* the content's messages.id (EMAILID) */
	const char *preview;             /* NULL when not asked or not computed */
	size_t preview_len;
	/* When the message was saved into the mailbox (migrations/0017),
	 * UTC seconds; saved_known false for rows older than that. */
	int64_t saved_at;
	bool saved_known;
};
/* Streams the rows of the UIDs in ranges: the callback gets each row as it
 * arrives (libpq single-row mode), so memory holds one message at a time.
 * row->flags are reader_id's. A non-zero return from the callback stops the
 * query (the caller's client went away). */
enum db_result db_fetch_messages(db *d, int64_t reader_id, int64_t mailbox_id,
				 const struct db_uid_ranges *ranges, unsigned columns,
				 int (*row_cb)(void *ctx, const struct db_message_row *row), void *ctx,
				 char *err, size_t errlen);

/* Stores the previews computed at FETCH time for messages stored before
 * migrations/0015 (only where none is stored yet), n of them in one
 * statement. Each preview is NUL-terminated UTF-8. */
enum db_result db_message_set_previews(db *d, const int64_t *message_ids, char *const *previews,
				       size_t n, char *err, size_t errlen);

/* CATENATE (RFC 4469): message uid of mailbox_id as cb sees it (valid
 * during the call only), with the mailbox's UIDVALIDITY; DB_NOT_FOUND
 * when there is no such message. The caller has checked the rights. */
struct db_url_message {
	uint32_t uidvalidity;
	const char *raw, *parts;
	size_t raw_len, parts_len;
};
enum db_result db_url_message(db *d, int64_t mailbox_id, uint32_t uid,
			      void (*cb)(void *ctx, const struct db_url_message *m), void *ctx,
			      char *err, size_t errlen);

/* STORE. mode: 0 replace, 1 add, 2 remove. keywords: text[] literal of the
 * keywords ("{a,b}"). Every message of the set is reported to row_cb (in
 * UID order) with its flags as reader_id now sees them. A change takes one
 * new modseq for the whole statement; a STORE that changes nothing takes
 * none. Keywords new to the mailbox are registered at that modseq
 * (migrations/0009); when they would take its registry past max_keywords,
 * nothing is changed, no row is reported, and the result is DB_LIMIT.
 *
 * In a per-user mailbox \Seen is the reader's (migrations/0011): a change
 * of \Seen alone is private (the message row and shared_modseq stay; the
 * reader's seen row and change log take it), a change of anything else is
 * shared. Other readers' rows are never touched. The implicit \Seen of
 * FETCH BODY[] goes through here too (mode 1, DB_FLAG_SEEN).
 *
 * unchangedsince (RFC 7162 §3.1.3; DB_NO_UNCHANGEDSINCE for none): a
 * message whose MODSEQ for the reader is above it is not changed and is
 * reported modified. One round trip. */
#define DB_NO_UNCHANGEDSINCE UINT64_MAX
struct db_stored_row {
	uint32_t uid;
	unsigned flags;
	const char *keywords;     /* space-separated */
	bool changed;             /* by this statement, for the reader */
	bool shared;              /* ... for every reader (stored flags, keywords) */
	bool modified;            /* failed UNCHANGEDSINCE: left alone */
	/* changed: the statement's modseq; otherwise the message row's
	 * (shared) modseq, which the reader's own log may exceed. */
	uint64_t modseq;
};
enum db_result db_store_flags(db *d, int64_t reader_id, int64_t mailbox_id,
			      const struct db_uid_ranges *ranges, int mode, unsigned flags,
			      const char *keywords_array, long max_keywords, uint64_t unchangedsince,
			      void (*row_cb)(void *ctx, const struct db_stored_row *row),
			      void *ctx, char *err, size_t errlen);

/* Private keywords (migrations/0013): in a mailbox with per-user \Seen,
 * changes reader_id's own keywords of the messages of ranges: mode 0
 * (replace: the named ones are set, every other known one is cleared), 1
 * (add), 2 (remove) of named_array (a text[] literal), among known_array
 * (every private keyword, text[]); the UIDs of frozen_multirange ("{}":
 * none) are left alone. A change is private (migrations/0011): one new
 * modseq, the reader's seen row and change log. cb->keyword gets each
 * changed keyword's new UIDs (int8multirange text), then cb->changed the
 * modseq and the UIDs whose keywords changed; nothing when nothing
 * changed or the mailbox keeps a common \Seen. One round trip. */
struct db_private_keywords_cb {
	void *ctx;
	void (*keyword)(void *ctx, const char *keyword, const char *uids);
	void (*changed)(void *ctx, uint64_t modseq, const char *uids);
};
enum db_result db_store_private_keywords(db *d, int64_t reader_id, int64_t mailbox_id,
					 const struct db_uid_ranges *ranges, int mode,
					 const char *named_array, const char *known_array,
					 const char *frozen_multirange,
					 const struct db_private_keywords_cb *cb,
					 char *err, size_t errlen);

/* EXPUNGE / UID EXPUNGE: removes the messages with \Deleted (within ranges
 * when given) and records them in expunges, in one transaction. uid_cb gets
 * each removed UID in ascending order. */
enum db_result db_expunge(db *d, int64_t mailbox_id, const struct db_uid_ranges *ranges,
			  void (*uid_cb)(void *ctx, uint32_t uid, uint64_t modseq), void *ctx,
			  char *err, size_t errlen);

/* APPEND: one message. The content is stored once per distinct SHA-256
 * (computed by PostgreSQL), the UID allocated under the mailbox row lock. */
struct spool;
struct db_append_msg {
	/* The raw bytes: raw_len of them at raw, or, when raw_spool is set,
	 * in that spool (server/core/spool.h), which the store streams to
	 * PostgreSQL in chunks (schema/db_append_big.c); then raw is only
	 * set while the message is analysed. */
	const char *raw;
	size_t raw_len;
	struct spool *raw_spool;
	unsigned flags;
	const char *keywords_array;     /* "{...}" */
	int64_t internaldate;           /* UTC seconds */
	/* Precomputed by server/mime (may be NULL: computed later). */
	const char *envelope, *body, *bodystructure, *parts;
	size_t envelope_len, body_len, bodystructure_len, parts_len;
	int mime_version;
	/* For SEARCH (migration 0003): "name:value" strings with lower-case
	 * names and decoded values, the decoded body text, and the Date:
	 * field's calendar date in days since 1970-01-01 (INT64_MIN: none). */
	char **header_fields;
	size_t nheader_fields;
	const char *body_text;
	size_t body_text_len;
	int64_t sent_days;
	/* The header as a reader sees it, for SEARCH TEXT: "Name: value" lines
	 * (names as sent, values decoded). */
	const char *header_text;
	/* RFC 8970 FETCH PREVIEW (migrations/0015): NUL-terminated UTF-8,
	 * "" when the message has no text to preview. */
	const char *preview;
};
struct db_append_result {
	uint32_t uidvalidity;
	uint32_t uid;
	int64_t mailbox_id;     /* for the change bus (LMTP names no mailbox id) */
	bool keywords_dropped;  /* stored without its keywords new to the mailbox */
};
/* Appends n messages to owner_id's mailbox in one transaction
 * (MULTIAPPEND: all or none). results[i] gets each UID. DB_NOT_FOUND when
 * the mailbox does not exist or is \Noselect. In a per-user mailbox a
 * message's \Seen marks it seen for reader_id (the appender) only. Keywords
 * new to the mailbox are registered with the message; when they would take
 * its registry past max_keywords, the message is stored without them (its
 * other keywords stay) and keywords_dropped is set. */
enum db_result db_append(db *d, int64_t reader_id, int64_t owner_id, const char *mailbox,
			 const struct db_append_msg *msgs, size_t n, long max_keywords,
			 struct db_append_result *results, char *err, size_t errlen);

/* COPY / MOVE to the owner's mailbox dest. DB_NOT_FOUND when dest does not
 * exist (or is \Noselect). The callbacks: the destination's UIDVALIDITY,
 * then each (source UID, new UID) in source UID order, then for MOVE each
 * source UID removed, ascending. The copies carry \Seen as reader_id (the
 * copier) sees it in the source: into its seen row if dest is per-user,
 * into the stored flag otherwise; other readers' \Seen stays behind. Only
 * the system flags in keep_flags (enum db_flag bits) and, with
 * keep_keywords, the keywords are copied: those the copier may set in
 * dest (RFC 4314 §4). Keywords new to dest are registered there; when they
 * would take its registry past max_keywords, the copies go without them
 * (their other keywords stay) and keywords_dropped (which may be NULL) is
 * called once, after the copies. */
struct db_copy_cb {
	void *ctx;
	void (*destination)(void *ctx, uint32_t uidvalidity);
	void (*copied)(void *ctx, uint32_t src_uid, uint32_t dst_uid);
	void (*expunged)(void *ctx, uint32_t uid);
	void (*keywords_dropped)(void *ctx);
};
enum db_result db_copy(db *d, int64_t reader_id, int64_t mailbox_id,
		       const struct db_uid_ranges *ranges, int64_t owner_id, const char *dest, bool move,
		       unsigned keep_flags, bool keep_keywords, long max_keywords,
		       const struct db_copy_cb *cb, char *err, size_t errlen);

/* Switches a mailbox's \Seen mode and converts its state, in one
 * transaction, under the mailbox row lock (schema/db_seen.c):
 *  - to per-user (per_user true, the mailbox was common): the stored \Seen
 *    bits move into seed_account_id's seen row and are cleared, so the
 *    seed (the owner, typically) keeps what it had read and everyone else
 *    starts with nothing read;
 *  - to common (per_user false, the mailbox was per-user): a message is
 *    \Seen for everyone if any reader had seen it (the union of the seen
 *    rows), and the mailbox's seen rows are deleted; seed_account_id is
 *    not used;
 *  - to the mode it is in: nothing is converted.
 * Rows whose stored flags change get a new modseq (one new HIGHESTMODSEQ),
 * so selected sessions learn the change. fixed is stored as seen_fixed:
 * the mode was an admin's explicit choice, which db_mailbox_share_seen
 * leaves alone. DB_NOT_FOUND when there is no such mailbox. Called inside
 * a transaction of the caller's, the switch joins it (the caller commits);
 * otherwise it is a transaction of its own. */
enum db_result db_mailbox_set_seen_mode(db *d, int64_t mailbox_id, bool per_user, bool fixed,
					int64_t seed_account_id, char *err, size_t errlen);

/* For SETACL granting "r" to someone other than the owner: switches the
 * mailbox to per-user \Seen seeded with owner_id's reading state, as
 * db_mailbox_set_seen_mode(per_user, not fixed) would, but only while
 * seen_fixed is false and the mailbox is common; otherwise (an admin fixed
 * the mode, or it is per-user already) it changes nothing and returns
 * DB_OK, so calling it on every such SETACL is safe. DB_NOT_FOUND when
 * there is no such mailbox. */
enum db_result db_mailbox_share_seen(db *d, int64_t mailbox_id, int64_t owner_id,
				     char *err, size_t errlen);

#endif
