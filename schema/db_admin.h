/* What kairanctl asks of the store beyond the IMAP commands' functions:
 * accounts by login, shared accounts and their INBOX, every mailbox of an
 * account (or of all shared accounts) with its ACL, and an explicit
 * transaction so that a command's several changes commit together.
 *
 * Results as in schema/db_message.h: DB_OK, DB_NOT_FOUND, DB_FAILED (err
 * set). Everything returned is allocated from the caller's arena. */
#ifndef KAIRAN_SCHEMA_DB_ADMIN_H
#define KAIRAN_SCHEMA_DB_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema/db_acl.h"
#include "schema/db_message.h"
#include "server/core/arena.h"

enum db_tx {
	DB_TX_BEGIN,
	DB_TX_COMMIT,
	DB_TX_ROLLBACK,
};

/* BEGIN, COMMIT or ROLLBACK on the connection. A command that fails between
 * BEGIN and COMMIT rolls back (db_ensure would, too, before the next one). */
enum db_result db_admin_tx(db *d, enum db_tx what, char *err, size_t errlen);

struct db_admin_account {
	int64_t id;
	bool shared;                /* accounts.kind 'shared' */
};

/* The account whose login is exactly login; DB_NOT_FOUND if none. */
enum db_result db_admin_account(db *d, const char *login, struct db_admin_account *acc_r,
				char *err, size_t errlen);

/* Creates the shared account login unless it exists. *created_r says
 * which; DB_NOT_FOUND (nothing written) when login belongs to a person
 * (kind 'user'), whose mailboxes a shared account must never take over. */
enum db_result db_admin_shared_account(db *d, const char *login, int64_t *account_id_r,
				       bool *created_r, char *err, size_t errlen);

/* Creates the account's INBOX unless it exists, and returns its id.
 * seen_per_user < 0 leaves the \Seen mode as it is (true for a new INBOX,
 * the default of mailboxes that are shared, migration 0006); 0 or 1 sets
 * it and marks it seen_fixed, so that sharing never changes it again. */
enum db_result db_admin_shared_inbox(db *d, int64_t account_id, int seen_per_user,
				     int64_t *mailbox_id_r, char *err, size_t errlen);

/* Locks the mailbox row until the end of the transaction, so that two
 * kairanctl changes of one ACL do not interleave their read and write.
 * DB_NOT_FOUND when the mailbox is gone. */
enum db_result db_admin_mailbox_lock(db *d, int64_t mailbox_id, char *err, size_t errlen);

struct db_admin_mailbox {
	const char *owner_login;
	bool owner_shared;
	int64_t mailbox_id;         /* 0: the account has no mailbox at all */
	const char *name;           /* in the owner's namespace ("INBOX/X") */
	const char *shared_name;    /* as others see it below the owner ("X") */
	bool noselect;
	bool seen_per_user;
	bool seen_fixed;
	struct db_acl_row *acl;     /* the stored entries, by identifier */
	size_t nacl;
};

/* Every mailbox of account_id, or with account_id 0 of every shared
 * account, with its ACL: ordered by owner login and shared_name (bytewise),
 * so an owner's INBOX comes first. An account without mailboxes appears
 * once, with mailbox_id 0. */
enum db_result db_admin_mailboxes(db *d, int64_t account_id, struct arena *arena,
				  struct db_admin_mailbox **rows_r, size_t *n_r,
				  char *err, size_t errlen);

#endif
