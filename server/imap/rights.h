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
#include "server/imap/session.h"

struct db_acl_row;

struct imap_mailbox_acl {
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

/* Loads and evaluates; false (NO [UNAVAILABLE] answered) on a store or
 * directory failure. */
bool imap_mailbox_acl(struct imap_session *s, struct imap_backend *be, int64_t owner_id,
		      const char *name, struct imap_mailbox_acl *acl);

/* Checks op against the rights; answers the denial itself. A mailbox that
 * does not exist is the caller's business (it answers NONEXISTENT,
 * TRYCREATE, ...) and is allowed here. */
bool imap_rights_allow(struct imap_session *s, enum acl_operation op,
		       const struct imap_mailbox_acl *acl);

/* Both in one: load, then check; false when answered. */
bool imap_mailbox_require(struct imap_session *s, struct imap_backend *be, int64_t owner_id,
			  const char *name, enum acl_operation op, struct imap_mailbox_acl *acl);

#endif
