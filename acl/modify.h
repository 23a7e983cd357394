/* Changing an ACL entry (SETACL, RFC 4314 §3.1) and what may be granted to an
 * identifier (LISTRIGHTS, §3.4 and §3.7). Pure: no I/O, no allocation.
 *
 * Kairan ties no rights together: every right can be granted or refused on
 * its own, so a SETACL never has to round a request to a tied set (RFC 4314
 * §2). Rights Kairan does not know, the digits of §2 included, make SETACL
 * fail with BAD, as §3.1 requires ("MUST NOT silently ignore"). */
#ifndef KAIRAN_ACL_MODIFY_H
#define KAIRAN_ACL_MODIFY_H

#include "acl/acl.h"

struct acl_identifier;

enum acl_change_mode {
	ACL_CHANGE_REPLACE,  /* "lrs": the entry becomes exactly these */
	ACL_CHANGE_ADD,      /* "+lrs" */
	ACL_CHANGE_REMOVE,   /* "-lrs" */
};

struct acl_change {
	enum acl_change_mode mode;
	acl_rights rights;
};

/* Parses SETACL's third argument s[0..len): an optional "+" or "-", then
 * rights letters, the obsolete "c" and "d" mapped as acl_rights_parse does
 * (RFC 4314 §2.1.1). "", "+" and "-" are valid (replace with nothing, add
 * nothing, remove nothing). Returns -1 for anything else (an unknown or
 * uppercase letter, a digit, a second sign, NUL): the command answers BAD. */
int acl_change_parse(const char *s, size_t len, struct acl_change *change_r);

/* The rights to store for an identifier after a change.
 *
 * stored is the entry's current rights, or NULL when the mailbox has no
 * entry for the identifier. names_owner is true when the identifier is the
 * mailbox owner's login (acl_identifier_is_user with the owner's login).
 *
 * For the owner, a missing entry stands for ALL rights (acl/evaluate.h), so
 * that is what "+w" adds to and "-w" removes from; otherwise a missing entry
 * is no rights. The owner's result always includes ACL_OWNER_IMPLICIT: those
 * are granted whatever is stored, and storing them keeps the owner's row
 * non-empty. An empty row would be deleted, and a deleted row would bring
 * back the ALL default, turning "SETACL INBOX alice """ into "grant all".
 *
 * A result of 0 means "delete the entry" (acl rows are never stored empty,
 * migrations/0001_initial.sql); it is never returned for the owner. Store a
 * non-zero result with acl_rights_format (canonical letters, no "c"/"d"). */
acl_rights acl_change_apply(const struct acl_change *change, const acl_rights *stored,
			    bool names_owner);

/* LISTRIGHTS for an identifier: the rights it is always granted, and the
 * rights it may be granted, each one its own group (none are tied). */
struct acl_listrights {
	acl_rights required;
	acl_rights optional;
};

/* names_owner as for acl_change_apply. The owner is always granted
 * ACL_OWNER_IMPLICIT, so those are required and the rest optional; every
 * other identifier, negative ones included (even "-<owner>", which cannot
 * take the implicit rights away), has nothing required and everything
 * optional. The admin floor is not listed: it belongs to a group
 * membership, not to an identifier. */
void acl_listrights(bool names_owner, struct acl_listrights *lr_r);

/* Bytes acl_listrights_format needs at most. */
#define ACL_LISTRIGHTS_TEXT_MAX 40

/* Writes the part of the LISTRIGHTS response after the identifier (RFC 4314
 * §3.7) and a NUL into out[0..size): the required rights as one atom ("" if
 * none), then every optional right as a separate atom, the virtual "c" and
 * "d" included when their members are optional (§2.1.1), as in the §3.4
 * example:
 *
 *   owner:  la r s w i p k x t e c d
 *   others: "" l r s w i p k x t e c d a
 *
 * This is the form Dovecot and Cyrus send for untied rights, so clients
 * already parse it. No right appears twice (§3.7). Returns the length, or 0
 * if out is too small. */
size_t acl_listrights_format(const struct acl_listrights *lr, char *out, size_t size);

#endif
