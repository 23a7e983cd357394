/* Delivery (LMTP, kairanctl deliver): one message into the mailboxes of
 * several recipients in one transaction (docs/delivery.md, "One stored
 * copy"). */
#ifndef KAIRAN_SCHEMA_DB_DELIVER_H
#define KAIRAN_SCHEMA_DB_DELIVER_H

#include <stddef.h>
#include <stdint.h>

#include "schema/db.h"
#include "schema/db_message.h"

struct db_deliver_target {
	int64_t owner_id;
	const char *mailbox;    /* in the owner's namespace; NULL: INBOX */
};

enum db_delivery {
	DB_DELIVERY_STORED,     /* a new entry in mailbox_id */
	DB_DELIVERY_DUPLICATE,  /* delivered there within the window: not stored again */
	DB_DELIVERY_NO_MAILBOX, /* neither the mailbox nor the owner's INBOX can take mail */
	DB_DELIVERY_FAILED,     /* the mailbox has no UID left, or it vanished meanwhile */
};

struct db_deliver_result {
	enum db_delivery outcome;
	int64_t mailbox_id;     /* STORED, DUPLICATE: where (for the change bus) */
};

/* Stores m once (one content row, found by its SHA-256 if already there)
 * and gives each target an entry, flags empty, in its mailbox, or in its
 * owner's INBOX when that mailbox does not exist or is \Noselect. One
 * transaction: the mailbox rows are locked in ascending id order, so
 * deliveries with overlapping targets never deadlock. A target named twice
 * gets one entry. With dup_window_s > 0, a target whose mailbox received
 * the same bytes less than dup_window_s ago is DUPLICATE (migrations/0019).
 * DB_OK with results[i] for each target, or DB_FAILED (nothing stored, err
 * set). m->flags and m->keywords_array are not used. */
enum db_result db_deliver(db *d, const struct db_append_msg *m,
			  const struct db_deliver_target *targets, size_t n, long dup_window_s,
			  struct db_deliver_result *results, char *err, size_t errlen);

/* kairanctl gc: deletes the duplicate records older than window_s seconds;
 * a database without migrations/0019 has none. 0, or -1 with err. */
int db_prune_delivery_duplicates(const char *dsn, long window_s, FILE *out, char *err,
				 size_t errlen);

#endif
