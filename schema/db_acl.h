/* The acl table (RFC 4314 access control lists), typed. Rows hold the
 * identifier as the protocol writes it (a leading '-' marks negative
 * rights) and the rights letters in canonical order. */
#ifndef KAIRAN_SCHEMA_DB_ACL_H
#define KAIRAN_SCHEMA_DB_ACL_H

#include <stddef.h>
#include <stdint.h>

#include "acl/evaluate.h"
#include "schema/db_message.h"
#include "server/core/arena.h"

struct db_acl_row {
	const char *identifier;   /* NUL-terminated, in the caller's arena */
	const char *rights;
};

/* A mailbox with its ACL, in one round trip. DB_NOT_FOUND when owner_id has
 * no mailbox of that name (a \Noselect placeholder is found, with
 * *noselect_r set). Rows are allocated from arena. */
enum db_result db_mailbox_acl(db *d, int64_t owner_id, const char *name, struct arena *arena,
			      int64_t *mailbox_id_r, int *noselect_r,
			      struct db_acl_row **rows_r, size_t *n_r, char *err, size_t errlen);

/* The same for the selected mailbox, by id; *owner_id_r is its owner. */
enum db_result db_mailbox_acl_by_id(db *d, int64_t mailbox_id, struct arena *arena,
				    int64_t *owner_id_r, int *noselect_r,
				    struct db_acl_row **rows_r, size_t *n_r, char *err, size_t errlen);

/* The entries of one mailbox, as db_acl_of_owner returns them. */
struct db_mailbox_acl_rows {
	int64_t mailbox_id;
	struct db_acl_row *rows;
	size_t n;
};

/* The entries of every mailbox of owner_id that has any, in one round
 * trip, ordered by mailbox id (a mailbox without entries has no set: its
 * owner has the default rights). From arena. For LIST's MYRIGHTS and
 * STATUS return options, which need the owner's own rights too. */
enum db_result db_acl_of_owner(db *d, int64_t owner_id, struct arena *arena,
			       struct db_mailbox_acl_rows **sets_r, size_t *n_r,
			       char *err, size_t errlen);

/* The entry of identifier (exactly as stored) among rows, NULL if none. */
const struct db_acl_row *db_acl_find(const struct db_acl_row *rows, size_t n,
				     const char *identifier);

/* acl_evaluate over stored rows (their text turned into acl/'s entries,
 * from arena): 0, or -1 with *bad_r the index of a corrupt row, as
 * acl_evaluate returns them. */
int db_acl_evaluate(struct arena *arena, const struct acl_caller *caller, bool owner,
		    const struct db_acl_row *rows, size_t n, acl_rights *rights_r, size_t *bad_r);

/* Sets (rights non-empty) or removes (rights "" or NULL) one entry. */
enum db_result db_acl_set(db *d, int64_t mailbox_id, const char *identifier, const char *rights,
			  char *err, size_t errlen);

#endif
