/* Other owners' mailboxes: the "Other Users/" and "Shared/" namespaces
 * (DESIGN.md "Namespaces and shared folders"). Names here are the
 * mailboxes.shared_name form of migration 0006: the owner's INBOX is "",
 * "INBOX/X" is "X", other names are unchanged.
 *
 * Which of them the caller may see is decided by acl/ in kairand (negative
 * rights, groups, the admin group); the store only narrows the candidates,
 * in one query over the acl(identifier) index: every mailbox of another
 * owner with an entry naming one of the caller's identifiers. */
#ifndef KAIRAN_SCHEMA_DB_SHARED_H
#define KAIRAN_SCHEMA_DB_SHARED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema/db_acl.h"
#include "schema/db_message.h"
#include "server/core/arena.h"

/* Candidates are capped: the LIST of one session stays bounded whatever
 * the ACLs of the whole site say ("anyone" on a million mailboxes). */
#define DB_SHARED_MAX_MAILBOXES 10000

struct db_shared_mailbox {
	int64_t mailbox_id;
	int64_t owner_id;
	bool shared_owner;          /* accounts.kind 'shared': "Shared/", else "Other Users/" */
	const char *owner_login;
	const char *name;           /* shared_name; "" for the owner's INBOX */
	bool noselect;
	const char *special_use;    /* space-separated; "" if none */
	bool offered;               /* a share_offers row exists for the caller */
	struct db_acl_row *acl;     /* the mailbox's whole ACL */
	size_t nacl;
};

/* Every mailbox not owned by account_id whose ACL has a positive entry for
 * one of the identifiers that can name the caller (login, "anyone",
 * "authenticated", "group:NAME" for each of groups), with its whole ACL.
 * Ordered by owner login and name. One round trip; everything is
 * allocated from arena. */
enum db_result db_shared_mailboxes(db *d, int64_t account_id, const char *login,
				   char *const *groups, size_t ngroups, struct arena *arena,
				   struct db_shared_mailbox **rows_r, size_t *n_r,
				   char *err, size_t errlen);

/* Records that account_id has been offered the mailboxes (share_offers)
 * and, with subscribe, subscribes it to names[i] (the client's names,
 * "Other Users/alice/Projects"), unless it was offered before. One round
 * trip for all of them. */
enum db_result db_shared_offer(db *d, int64_t account_id, const int64_t *mailbox_ids,
			       const char *const *names, size_t n, bool subscribe,
			       char *err, size_t errlen);

/* The owner and mailbox behind a name in another owner's namespace:
 * shared_owner selects the account kind ("Shared/" or "Other Users/"),
 * login the account and name the shared_name. *owner_id_r is set when the
 * account exists (else DB_NOT_FOUND with *owner_id_r 0); the mailbox
 * fields as db_mailbox_acl, plus its name in the owner's own namespace in
 * *store_name_r (arena). DB_NOT_FOUND when either is missing. */
enum db_result db_shared_mailbox_acl(db *d, bool shared_owner, const char *login, const char *name,
				     struct arena *arena, int64_t *owner_id_r, int64_t *mailbox_id_r,
				     const char **store_name_r, int *noselect_r,
				     struct db_acl_row **rows_r, size_t *n_r,
				     char *err, size_t errlen);

/* A PostgreSQL text[] literal of n strings, each quoted and escaped, from
 * arena: safe for any bytes but NUL. */
const char *db_text_array(struct arena *arena, const char *const *v, size_t n);

#endif
