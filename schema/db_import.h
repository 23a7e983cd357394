/* kairanctl import's side of the store (migrations/0020, docs/migration.md):
 * a target mailbox that may take the source's UIDVALIDITY, the source ids
 * already imported, and a batch of messages stored through APPEND's own
 * statement (schema/db_append.c) together with their source ids, in one
 * transaction and one round trip.
 *
 * Results as in schema/db_message.h: DB_OK, DB_NOT_FOUND, DB_FAILED (err
 * set). */
#ifndef KAIRAN_SCHEMA_DB_IMPORT_H
#define KAIRAN_SCHEMA_DB_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema/db_message.h"
#include "server/core/arena.h"

struct db_import_mailbox {
	int64_t mailbox_id;
	uint32_t uidvalidity;
	uint64_t uidnext;
	bool noselect;
};

/* owner_id's mailbox name, which the caller has created if it was missing.
 * When it has never held a message (uidnext 1) and src_uidvalidity is not
 * 0, it takes src_uidvalidity first, so that the source's UIDs stay valid
 * for the clients that cached them. DB_NOT_FOUND when there is no such
 * mailbox. */
enum db_result db_import_mailbox(db *d, int64_t owner_id, const char *name,
				 uint32_t src_uidvalidity, struct db_import_mailbox *mb_r,
				 char *err, size_t errlen);

/* Every source id recorded for mailbox_id, sorted bytewise (strcmp), in
 * arena. */
enum db_result db_import_known(db *d, int64_t mailbox_id, struct arena *arena,
			       const char ***ids_r, size_t *n_r, char *err, size_t errlen);

/* One message of a batch: what APPEND stores, the source's id of it, and
 * the UID it should get (0: the next one). A UID is given only when it is
 * not below the mailbox's uidnext; otherwise the message takes the next. */
struct db_import_msg {
	struct db_append_msg m;
	const char *source;
	uint32_t uid;
};

/* Stores the n messages in owner_id's mailbox name, each with its source
 * id, all or none, in one transaction and one round trip (pipeline mode).
 * uids_r[i] is the UID each got. A source id recorded already fails the
 * batch (the caller skips those it knows). */
enum db_result db_import_batch(db *d, int64_t owner_id, const char *name,
			       const struct db_import_msg *msgs, size_t n, long max_keywords,
			       uint32_t *uids_r, char *err, size_t errlen);

/* Raises the mailbox's uidnext to at least uidnext (the source's next
 * UID), so that no new message takes a UID the source would have given. */
enum db_result db_import_uidnext(db *d, int64_t mailbox_id, uint64_t uidnext,
				 char *err, size_t errlen);

#endif
