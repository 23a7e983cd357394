/* The caller's RFC 4314 rights on a mailbox, and the one place a command
 * asks for them: load the mailbox's ACL, evaluate it with acl/ for the
 * session's user and LDAP groups, and phrase a denial the way §4 and
 * DESIGN.md require (NO [NONEXISTENT] when the caller may not even know
 * the mailbox exists, else NO [NOPERM]). Nothing here writes a response:
 * failures come back as a struct imap_result for the command boundary. */
#ifndef KAIRAN_IMAP_RIGHTS_H
#define KAIRAN_IMAP_RIGHTS_H

#include <stdbool.h>
#include <stdint.h>

#include "acl/acl.h"
#include "acl/command_rights.h"
#include "acl/evaluate.h"
#include "server/imap/namespace.h"
#include "server/imap/result.h"
#include "server/imap/session.h"

struct db_acl_row;

struct imap_mailbox_acl {
	const char *name;          /* the client's name, UTF-8 */
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
 * false (with NO [UNAVAILABLE] in *res_r) when the directory cannot say:
 * rights are never computed from memberships that may have been revoked. */
bool imap_rights_refresh_groups(struct imap_session *s, struct imap_backend *be,
				struct imap_result *res_r);

/* Resolves a client name (UTF-8, from imap_mailbox_arg) in whichever
 * namespace it is, loads the mailbox's ACL and evaluates it; one round
 * trip. false (NO [UNAVAILABLE] in *res_r) on a store or directory
 * failure; a missing mailbox is not a failure (acl->exists says). */
bool imap_mailbox_resolve(struct imap_session *s, struct imap_backend *be, const char *name,
			  struct imap_mailbox_acl *acl, struct imap_result *res_r);

/* Checks op against rights. false with the refusal in *res_r: NO
 * [NONEXISTENT] "No such mailbox" when the caller may not know the mailbox
 * exists (RFC 4314 §4), else NO [NOPERM] naming the rights that are
 * missing ("SELECT in Shared/sales needs the r right"); shown is the name
 * as the client sent it (or NULL for "the selected mailbox"). */
bool imap_rights_check(struct imap_session *s, enum acl_operation op, acl_rights rights,
		       const char *shown, struct imap_result *res_r);

/* "the r right", "the t and e rights", with any "one of the l, r or a
 * rights": the text of a refusal, in the arena. */
const char *imap_rights_needed_text(struct imap_session *s, acl_rights missing, bool any);

/* The name schema/ takes for the target of APPEND, COPY or MOVE: the
 * mailbox's store name; for a personal name that does not exist, the name
 * itself, so that the store's answer becomes TRYCREATE (RFC 3501 §6.3.11).
 * Elsewhere a missing mailbox is NO [NONEXISTENT], the same as one the
 * caller may not see (never TRYCREATE, which would tell them apart), and
 * NULL is returned with that in *res_r. */
const char *imap_target_store_name(struct imap_session *s, const struct imap_mailbox_acl *acl,
				   struct imap_result *res_r);

/* The session as acl/ sees it: login, groups (as last refreshed) and the
 * admin flag, from the command arena; build it once per command. */
void imap_rights_caller(struct imap_session *s, struct acl_caller *caller);

/* The caller's rights from a mailbox's stored entries; a corrupt entry is
 * logged. */
acl_rights imap_rights_evaluate(struct imap_session *s, const struct acl_caller *caller, bool owner,
				const struct db_acl_row *rows, size_t nrows, int64_t mailbox_id);

#endif
