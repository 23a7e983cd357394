/* Mailboxes as names: creating, deleting, renaming, listing, subscribing
 * and STATUS (RFC 3501 §6.3). Typed C over the prepared statements of
 * schema/db_mailbox.c (the hierarchy), db_mailbox_list.c (listing and
 * subscriptions) and db_mailbox_status.c.
 *
 * Names are the store's: UTF-8, '/' between levels, INBOX spelled
 * "INBOX", validated by the caller (server/imap/mailbox_name.c). Every
 * function is one statement, so one round trip and one transaction. */
#ifndef KAIRAN_SCHEMA_DB_MAILBOX_H
#define KAIRAN_SCHEMA_DB_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema/db.h"
#include "server/core/arena.h"

enum db_mbox_result {
	DB_MBOX_OK = 0,
	DB_MBOX_FAILED = -1,        /* err set; a broken connection is repaired by db_ensure */
	DB_MBOX_NONEXISTENT = 1,    /* no mailbox of that name */
	DB_MBOX_EXISTS,             /* the name (or one below it) is taken */
	DB_MBOX_NOSELECT,           /* a \Noselect placeholder where a mailbox is needed */
	DB_MBOX_HAS_CHILDREN,       /* DELETE of a \Noselect name that has inferiors */
	DB_MBOX_LIMIT,              /* the account holds its maximum already */
};

/* CREATE (RFC 3501 §6.3.3): creates name and every missing superior level
 * as ordinary selectable mailboxes, each with a fresh UIDVALIDITY from the
 * global sequence. A \Noselect placeholder of that name becomes selectable
 * again, with a fresh UIDVALIDITY (its old messages were removed when it
 * was deleted). DB_MBOX_EXISTS if it exists and is selectable;
 * DB_MBOX_LIMIT if the owner has max_mailboxes or more (checked before the
 * insert, so concurrent CREATEs may overshoot by a few). *uidvalidity_r is
 * the new mailbox's.
 *
 * RFC 4314 §4: a new mailbox SHOULD inherit its parent's ACL. inherit_from
 * (0: none) is the mailbox whose entries are copied to the new mailbox and
 * to any superior level created with it, and whose \Seen mode
 * (seen_per_user) the new mailbox takes, so that a folder created inside
 * a team's mailbox is the team's too. A revived \Noselect placeholder
 * keeps its own entries.
 *
 * special_use (RFC 6154 §3, CREATE ... USE): the nspecial_use attributes
 * (such as \Sent) given to the new mailbox (a revived placeholder keeps its own
 * when none are given); validated by the caller. */
enum db_mbox_result db_mailbox_create(db *d, int64_t owner_id, const char *name,
				      int64_t inherit_from, const char *const *special_use,
				      size_t nspecial_use, long max_mailboxes, uint32_t *uidvalidity_r,
				      int64_t *mailbox_id_r, char *err, size_t errlen);

/* DELETE (§6.3.4). Without inferiors the row goes, and with it (ON DELETE
 * CASCADE) its messages, expunges, seen state and ACL. With inferiors the
 * row stays, same id, as a \Noselect placeholder: its messages are removed
 * and recorded in expunges at a new modseq, so a session that has it
 * selected learns they vanished. DB_MBOX_HAS_CHILDREN when it already is a
 * placeholder and has inferiors; DB_MBOX_NONEXISTENT when there is no such
 * name. The caller refuses INBOX before calling. */
enum db_mbox_result db_mailbox_delete(db *d, int64_t owner_id, const char *name,
				      char *err, size_t errlen);

/* RENAME (§6.3.5). The mailbox and all its inferiors are renamed in one
 * UPDATE; missing superior levels of the new name are created; the
 * subscriptions of the renamed names follow them. UIDVALIDITY is kept: it
 * comes from a global sequence, so no other mailbox ever had it.
 * DB_MBOX_NONEXISTENT when from does not exist, DB_MBOX_EXISTS when to or
 * a name below it exists. The caller refuses renaming a name to itself or
 * below itself, and to INBOX.
 *
 * from == "INBOX" is special (§6.3.5): a new mailbox named to receives all
 * of INBOX's messages, with their UIDs (it starts at INBOX's uidnext, and
 * has a new UIDVALIDITY); INBOX stays, empty, with its UIDVALIDITY and
 * uidnext, so its UIDs are never reused; its inferiors do not move. The
 * moved messages are recorded as expunged from INBOX. */
enum db_mbox_result db_mailbox_rename(db *d, int64_t owner_id, const char *from,
				      const char *to, char *err, size_t errlen);

/* One name for LIST/LSUB: a mailbox row, or a subscription. */
struct db_mailbox_row {
	const char *name;           /* valid during the callback only */
	size_t len;
	bool subscription;          /* a subscriptions row; the fields below are unset */
	bool noselect;
	const char *special_use;    /* RFC 6154 attributes, space-separated; "" if none */
	int64_t mailbox_id;         /* the mailboxes row; 0 for a subscription */
};

/* Every mailbox of owner_id, and with subscriptions also every name the
 * account subscribed, in no particular order: the caller matches patterns
 * and sorts. One round trip; the result is bounded by the per-account
 * limits on mailboxes and subscriptions. */
enum db_mbox_result db_mailbox_list(db *d, int64_t owner_id, bool subscriptions,
				    void (*row_cb)(void *ctx, const struct db_mailbox_row *row),
				    void *ctx, char *err, size_t errlen);

/* The LIST attributes of one mailbox of owner_id (RFC 9051 §6.3.2: SELECT
 * answers a LIST response): its RFC 6154 attributes, space-separated, into
 * special_use (cut at the last whole attribute that fits in size, >= 1),
 * and whether it has inferiors. One round trip. DB_MBOX_NONEXISTENT when
 * there is no such mailbox. */
enum db_mbox_result db_mailbox_attributes(db *d, int64_t owner_id, const char *name,
					  bool *children_r, char *special_use, size_t size,
					  char *err, size_t errlen);

/* SUBSCRIBE (§6.3.6): the name need not exist. Subscribing twice is fine.
 * DB_MBOX_LIMIT when the account has max_subscriptions already. */
enum db_mbox_result db_subscribe(db *d, int64_t account_id, const char *name,
				 long max_subscriptions, char *err, size_t errlen);
/* UNSUBSCRIBE (§6.3.7): DB_MBOX_OK also when name was not subscribed
 * (RFC 9051 §6.3.8). */
enum db_mbox_result db_unsubscribe(db *d, int64_t account_id, const char *name,
				   char *err, size_t errlen);

/* STATUS (§6.3.10, RFC 9051 §6.3.11). */
struct db_mailbox_status {
	uint32_t messages;
	uint32_t recent;            /* UIDs at or above recent_uid: not yet claimed by a SELECT */
	uint32_t unseen;            /* without \Seen for the reader (per-user or common) */
	uint32_t deleted;           /* with \Deleted */
	uint64_t uidnext;
	uint32_t uidvalidity;
	uint64_t highestmodseq;
	uint64_t size;              /* sum of RFC822.SIZE (the usage counter) */
	/* RFC 9208 §4.2 DELETED-STORAGE: the sum of RFC822.SIZE of the
	 * messages with \Deleted, in octets; only with want_size, which
	 * asks for it (the name is older than the counter). */
	uint64_t deleted_storage;
	int64_t mailbox_id;         /* the mailboxes row (RFC 8474 MAILBOXID) */
};
/* STATUS of owner_id's mailbox name as reader_id (the logged-in account)
 * sees it: UNSEEN counts what reader_id has not seen (its seen row in a
 * mailbox with per-user \Seen, the stored flag otherwise). One round trip.
 * The size needs the messages rows and is computed only when asked.
 * DB_MBOX_NONEXISTENT, or DB_MBOX_NOSELECT for a placeholder. */
enum db_mbox_result db_mailbox_status(db *d, int64_t reader_id, int64_t owner_id, const char *name,
				      bool want_size, struct db_mailbox_status *st,
				      char *err, size_t errlen);

/* LIST-STATUS (RFC 5819): the status of many mailboxes, by id, in one
 * round trip, as reader_id sees them (UNSEEN as above). The caller has
 * checked the reader's right to each ("r"). Ids that name no selectable
 * mailbox (deleted meanwhile, a placeholder) have no row. Rows in arena,
 * in no particular order. 0, or -1 with err. */
struct db_mailbox_status_row {
	int64_t mailbox_id;
	struct db_mailbox_status status;
};
int db_mailbox_status_ids(db *d, int64_t reader_id, const int64_t *ids, size_t n, bool want_size,
			  struct arena *arena, struct db_mailbox_status_row **rows_r, size_t *n_r,
			  char *err, size_t errlen);

#endif
