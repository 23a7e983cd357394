/* The caller's RFC 4314 rights on a mailbox, and the one place a command
 * asks for them: load the mailbox's ACL, evaluate it with acl/ for the
 * session's user and LDAP groups, and answer a denial the way §4 and
 * DESIGN.md require (NO [NONEXISTENT] when the caller may not even know
 * the mailbox exists, else NO [NOPERM]). */
#ifndef KAIRAN_IMAP_RIGHTS_H
#define KAIRAN_IMAP_RIGHTS_H

#include <stdbool.h>
#include <stdint.h>

#include "acl/acl.h"
#include "acl/command_rights.h"
#include "acl/evaluate.h"
#include "server/imap/namespace.h"
#include "server/imap/session.h"

struct db_acl_row;

struct imap_mailbox_acl {
	struct imap_ns_name where; /* the name as the client gave it, split */
	/* The owner, also when the mailbox does not exist; 0 when the name
	 * names no owner ("Shared/nobody", "Other Users" alone, or the
	 * caller under "Other Users/", where it has its personal names). */
	int64_t owner_id;
	/* The owner's login when the owner is a person (the caller, or the
	 * "<login>" of "Other Users/<login>"); NULL for a shared account,
	 * which has no implicit rights worth showing, and when unknown. */
	const char *owner_login;
	/* The mailbox's name in its owner's namespace, what schema/ takes;
	 * NULL when it does not exist. */
	const char *store_name;
	bool exists;              /* false: no such mailbox (rights then 0) */
	bool noselect;            /* a \Noselect placeholder */
	int64_t mailbox_id;
	acl_rights rights;        /* the caller's effective rights */
	struct db_acl_row *rows;  /* the stored entries, in the command arena */
	size_t nrows;
};

/* Refreshes the session's group list through the directory's TTL cache.
 * false (with NO [UNAVAILABLE] answered) when the directory cannot say:
 * rights are never computed from memberships that may have been revoked. */
bool imap_rights_groups(struct imap_session *s, struct imap_backend *be);

/* Resolves a client name (UTF-8, from imap_mailbox_arg) in whichever
 * namespace it is, loads the mailbox's ACL and evaluates it; one round
 * trip. false (NO [UNAVAILABLE] answered) on a store or directory
 * failure. */
bool imap_mailbox_acl(struct imap_session *s, struct imap_backend *be, const char *name,
		      struct imap_mailbox_acl *acl);

/* The same for the selected mailbox, by its id (a RENAME elsewhere does
 * not lose it). */
bool imap_mailbox_acl_by_id(struct imap_session *s, struct imap_backend *be, int64_t mailbox_id,
			    struct imap_mailbox_acl *acl);

/* Checks op against the rights; answers the denial itself. A mailbox that
 * does not exist is the caller's business (it answers NONEXISTENT,
 * TRYCREATE, ...) and is allowed here. */
bool imap_rights_allow(struct imap_session *s, enum acl_operation op,
		       const struct imap_mailbox_acl *acl);

/* Both in one: load, then check; false when answered. */
bool imap_mailbox_require(struct imap_session *s, struct imap_backend *be, const char *name,
			  enum acl_operation op, struct imap_mailbox_acl *acl);

/* The name schema/ takes for the target of APPEND, COPY or MOVE: the
 * mailbox's store name; for a personal name that does not exist, the name
 * itself, so that the store's answer becomes TRYCREATE (RFC 3501 §6.3.11).
 * Elsewhere a missing mailbox is answered NO [NONEXISTENT] here, the same
 * as one the caller may not see (never TRYCREATE, which would tell them
 * apart), and NULL returned. */
const char *imap_target_name(struct imap_session *s, const struct imap_mailbox_acl *acl);

/* The session as acl/ sees it: login, groups (as last refreshed) and the
 * admin flag, from the command arena; build it once per command. */
void imap_rights_caller(struct imap_session *s, struct acl_caller *caller);

/* The caller's rights from a mailbox's stored entries; a corrupt entry is
 * logged. */
acl_rights imap_rights_evaluate(struct imap_session *s, const struct acl_caller *caller, bool owner,
				const struct db_acl_row *rows, size_t nrows, int64_t mailbox_id);

#endif
