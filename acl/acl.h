/* RFC 4314 access rights: letters <-> bitmask. Pure: no I/O, no allocation.
 * The rest of the engine builds on this one representation, one file each:
 * acl/identifier.h (who an entry is for), acl/evaluate.h (a caller's
 * effective rights), acl/modify.h (SETACL and LISTRIGHTS) and
 * acl/command_rights.h (what each IMAP command needs). */
#ifndef KAIRAN_ACL_ACL_H
#define KAIRAN_ACL_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 4314 §2.1, in the canonical order used for output. */
enum acl_right {
	ACL_LOOKUP = 1 << 0,        /* l: mailbox is visible to LIST/LSUB */
	ACL_READ = 1 << 1,          /* r: SELECT, EXAMINE, STATUS, FETCH, SEARCH, COPY from */
	ACL_SEEN = 1 << 2,          /* s: keep \Seen across sessions */
	ACL_WRITE = 1 << 3,         /* w: flags other than \Seen and \Deleted */
	ACL_INSERT = 1 << 4,        /* i: APPEND, COPY into */
	ACL_POST = 1 << 5,          /* p: send mail to the submission address */
	ACL_CREATE = 1 << 6,        /* k: create child mailboxes */
	ACL_DELETE_MAILBOX = 1 << 7,/* x: delete or rename the mailbox */
	ACL_DELETE_MSG = 1 << 8,    /* t: set or clear \Deleted */
	ACL_EXPUNGE = 1 << 9,       /* e: EXPUNGE */
	ACL_ADMIN = 1 << 10,        /* a: SETACL, DELETEACL, GETACL, LISTRIGHTS */
};

typedef uint32_t acl_rights;

#define ACL_ALL ((acl_rights)0x7ff)

/* Parses a rights string. The obsolete "c" means "k" and "d" means "xte"
 * (RFC 4314 §2.1.1). -1 if a character is not a right. */
int acl_rights_parse(const char *s, size_t len, acl_rights *rights_r);
/* Writes the canonical letters ("lrswipkxtea" order) and a NUL; out must hold
 * at least 12 bytes. Returns the number of letters. */
size_t acl_rights_format(acl_rights rights, char *out);

/* Bytes a rights string written for a client needs: 11 letters, the
 * virtual "c" and "d", and a NUL. */
#define ACL_RIGHTS_TEXT_MAX 14

/* Writes rights for an ACL or MYRIGHTS response: the canonical letters, then
 * "c" when "k" is present and "d" when any of "x", "t", "e" is. RFC 4314
 * §2.1.1 requires both virtual rights in those responses, for RFC 2086
 * clients (newer clients ignore them). Kairan reads "c" as "k" and "d" as
 * "xte", so "c" and "d" follow from exactly those members. out must hold
 * ACL_RIGHTS_TEXT_MAX bytes; returns the number of letters. Never use this
 * form for storage: stored rights are acl_rights_format's. */
size_t acl_rights_format_response(acl_rights rights, char *out);

#endif
