/* Team addresses (migrations/0016, docs/delivery.md "Team addresses"):
 * which shared account receives mail for an address, and the writes of
 * kairanctl shared address, shared create --address and shared sync.
 *
 * Addresses are passed normalised (server/core/address.h); the table's
 * CHECK refuses any other form. Results as in schema/db_message.h: DB_OK,
 * DB_NOT_FOUND, DB_FAILED (err set). */
#ifndef KAIRAN_SCHEMA_DB_TEAM_H
#define KAIRAN_SCHEMA_DB_TEAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema/db_message.h"
#include "server/core/arena.h"

/* The shared account that receives mail for address: *account_id_r and its
 * login (truncated to login_size, which DIR_LOGIN_MAX + 1 always fits).
 * DB_NOT_FOUND when no team has the address. One index look-up. */
enum db_result db_team_address_find(db *d, const char *address, int64_t *account_id_r,
				    char *login_r, size_t login_size, char *err, size_t errlen);

/* Gives address to the shared account account_id (origin 'directory' when
 * from_directory, else 'admin'). DB_OK with *added_r true when the row is
 * new, false when the account had it already; DB_NOT_FOUND when another
 * account holds it (its login in *holder_r, from arena: nothing changed).
 * DB_FAILED also when account_id is not a shared account. */
enum db_result db_team_address_add(db *d, int64_t account_id, const char *address,
				   bool from_directory, struct arena *arena, bool *added_r,
				   const char **holder_r, char *err, size_t errlen);

/* Takes address from account_id; DB_NOT_FOUND when the account does not
 * have it. */
enum db_result db_team_address_remove(db *d, int64_t account_id, const char *address,
				      char *err, size_t errlen);

struct db_team_address {
	const char *login;     /* the shared account */
	const char *address;
	bool from_directory;   /* origin 'directory' */
};

/* The addresses of account_id, or with 0 of every shared account, ordered
 * by login then address (bytewise). From arena. */
enum db_result db_team_addresses(db *d, int64_t account_id, struct arena *arena,
				 struct db_team_address **rows_r, size_t *n_r,
				 char *err, size_t errlen);

/* What db_team_provision did, for the caller's report. */
struct db_team_provision {
	int64_t account_id;
	bool created;          /* the shared account and its INBOX are new */
	bool granted;          /* the group entry was added (there was none) */
	bool address_added;    /* the address was added (the account had not had it) */
	const char *holder;    /* DB_NOT_FOUND: who holds the address, or NULL when
				* the name is a person's account; from arena */
};

/* A team from the directory (docs/acl.md, "A team run from LDAP"), in
 * one transaction of its own: the shared account name and its INBOX
 * unless they exist, the ACL entry group_ident = rights on that INBOX
 * unless the INBOX has an entry for group_ident already (an admin's
 * change is never undone), and address (origin 'directory') unless the
 * account has it. Nothing is ever removed. DB_NOT_FOUND, with nothing
 * written, when name is a person's account or another account holds the
 * address (r->holder). Meant to be called again and again: a run that
 * finds everything in place writes nothing. A concurrent provision of the
 * same team is waited for, then found. */
enum db_result db_team_provision(db *d, const char *name, const char *group_ident,
				 const char *rights, const char *address, struct arena *arena,
				 struct db_team_provision *r, char *err, size_t errlen);

#endif
