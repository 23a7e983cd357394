/* A caller's effective rights on one mailbox (RFC 4314 §2). Pure: no I/O, no
 * allocation; everything is passed in with explicit lengths.
 *
 * The formula. The rights of every matching positive entry are united, the
 * rights of every matching negative entry are united, and the second set is
 * taken from the first ("positive union minus negative", RFC 4314 §2). An
 * entry matches the caller when its identifier is
 *   - the caller's canonical login (exact bytes),
 *   - "group:NAME" with NAME among the caller's groups (ASCII case ignored),
 *   - "anyone", always,
 *   - "authenticated", when the caller has logged in.
 * An unauthenticated caller matches "anyone" only and is never owner or
 * admin, whatever the flags say.
 *
 * Implicit rights, Kairan's decisions (RFC 4314 §2 lets an implementation
 * force rights to always be granted to particular identifiers):
 *
 *   Owner default. Personal mailboxes are created without acl rows. When no
 *   positive entry names the owner's login, the owner's positive set is ALL
 *   rights; once such an entry exists (SETACL on oneself), that entry's
 *   rights are the owner's positive set instead. Entries for groups, anyone
 *   or authenticated never replace the default; they are united with it.
 *
 *   Owner floor. The owner always has "l" and "a" (ACL_OWNER_IMPLICIT) on
 *   their own mailboxes, added after negative rights are taken away, so no
 *   ACL can lock the owner out of seeing and repairing it. LISTRIGHTS says
 *   so (acl/modify.h) and SETACL stores them in the owner's entry.
 *
 *   Admin floor. A member of the configured admin group has "l" and "a"
 *   (ACL_ADMIN_IMPLICIT) on every mailbox, also immune to negative rights:
 *   enough to find any mailbox and inspect or fix its ACL, not to read mail.
 *   To read, an admin grants themselves "r" with SETACL, which leaves an acl
 *   row (and a log line) behind: access to mail is never silent.
 *
 *   Negative entries, including ones that name the owner or match through a
 *   group, take rights away from the owner's default or entry like anyone
 *   else's; only the two floors are out of their reach. */
#ifndef KAIRAN_ACL_EVALUATE_H
#define KAIRAN_ACL_EVALUATE_H

#include "acl/acl.h"

#define ACL_OWNER_IMPLICIT ((acl_rights)(ACL_LOOKUP | ACL_ADMIN))
#define ACL_ADMIN_IMPLICIT ((acl_rights)(ACL_LOOKUP | ACL_ADMIN))

/* A byte string with its length (LDAP values may hold any byte). */
struct acl_name {
	const char *s;
	size_t len;
};

/* Who is asking. The caller owns every pointer; nothing is kept. */
struct acl_caller {
	const char *login;            /* canonical login, as the directory returned it */
	size_t login_len;
	bool authenticated;
	const struct acl_name *groups;/* the caller's group names (cn), any order */
	size_t ngroups;
	bool admin;                   /* member of the configured admin group */
};

/* One acl row: both fields as stored, explicit lengths. */
struct acl_entry {
	const char *identifier;
	size_t identifier_len;
	const char *rights;
	size_t rights_len;
};

struct acl_identifier;

/* Whether the identifier's entry applies to the caller (the list above). */
bool acl_identifier_matches(const struct acl_identifier *id, const struct acl_caller *caller);

/* The caller's effective rights on a mailbox with the given entries; owner is
 * true when the caller owns the mailbox. Returns 0 with *rights_r set.
 *
 * Returns -1 when an entry's identifier or rights do not parse (rows are
 * validated by SETACL, so this means a corrupt row): *bad_entry_r is its
 * index (when bad_entry_r is not NULL) and *rights_r holds only the floors.
 * Failing closed matters for negative entries: skipping an unreadable
 * "-someone" row would grant what it was meant to deny. The floors keep the
 * owner and admins able to see and repair the ACL. */
int acl_evaluate(const struct acl_caller *caller, bool owner,
		 const struct acl_entry *entries, size_t nentries,
		 acl_rights *rights_r, size_t *bad_entry_r);

/* Whether a caller with these rights may learn that the mailbox exists: "l"
 * or "r". Without either, every refusal must read exactly like "no such
 * mailbox" (RFC 4314 §6; DESIGN.md, Security), so that ACLs leak no names. */
bool acl_may_know_exists(acl_rights rights);

#endif
