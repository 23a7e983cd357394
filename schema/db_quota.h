/* RFC 9208 quotas in the store (migrations/0018): a quota root is an
 * owner account, its usage the sum of its mailboxes' counters, its limits
 * the quotas rows. Results as in schema/db_message.h. */
#ifndef KAIRAN_SCHEMA_DB_QUOTA_H
#define KAIRAN_SCHEMA_DB_QUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema/db_message.h"

/* A stored limit: no row (kairan.conf's default applies), a row without a
 * limit (explicitly unlimited), or a limit. */
#define DB_QUOTA_DEFAULT (-1)
#define DB_QUOTA_NONE    (-2)

enum db_quota_resource {
	DB_QUOTA_STORAGE,   /* units of 1024 octets, as RFC 9208 §5.1 counts */
	DB_QUOTA_MESSAGE,
	DB_QUOTA_NRESOURCES,
};

struct db_quota {
	bool shared;                             /* the owner is a shared account */
	uint64_t messages, bytes;                /* usage, exact */
	int64_t limit[DB_QUOTA_NRESOURCES];      /* >= 0, DB_QUOTA_DEFAULT or DB_QUOTA_NONE */
	bool from_directory[DB_QUOTA_NRESOURCES]; /* the limit came from ldap_quota_attribute */
};

/* The usage and stored limits of owner_id's root, one round trip.
 * DB_NOT_FOUND when there is no such account. */
enum db_result db_quota_get(db *d, int64_t owner_id, struct db_quota *q, char *err, size_t errlen);

/* Sets the stored limit of each resource whose entry in limit[] is not
 * NULL: *limit >= 0, DB_QUOTA_NONE, or DB_QUOTA_DEFAULT (the row goes).
 * One statement, so SETQUOTA's resources change together. */
enum db_result db_quota_set(db *d, int64_t owner_id, const int64_t *const limit[DB_QUOTA_NRESOURCES],
			    char *err, size_t errlen);

/* The limits the directory gives owner_id (ldap_quota_attribute), at
 * login: limit[r] >= 0 sets r unless an admin set it, < 0 takes back a
 * limit the directory had set. */
enum db_result db_quota_set_directory(db *d, int64_t owner_id,
				      const int64_t limit[DB_QUOTA_NRESOURCES], char *err,
				      size_t errlen);

/* kairanctl quota recalc: recounts the counters of owner_id's mailboxes
 * (0: every mailbox) from their messages, in a transaction that first
 * locks the mailbox rows, so that no writer's change is lost. *fixed_r:
 * the mailboxes whose counters were wrong. */
enum db_result db_quota_recalc(db *d, int64_t owner_id, uint64_t *fixed_r, char *err, size_t errlen);

/* COPY and MOVE: the number and total size of the messages of mailbox_id
 * in set, and the mailbox's owner. DB_NOT_FOUND when it is gone. */
enum db_result db_quota_selection(db *d, int64_t mailbox_id, const struct db_uid_ranges *set,
				  int64_t *owner_r, uint64_t *messages_r, uint64_t *bytes_r,
				  char *err, size_t errlen);

/* The resource's name in the protocol ("STORAGE", "MESSAGE"). */
const char *db_quota_resource_name(enum db_quota_resource r);

#endif
