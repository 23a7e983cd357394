/* The rights each IMAP operation needs (RFC 4314 §4), for the command table
 * to check in one place before any SQL runs. Pure: no I/O, no allocation.
 *
 * An operation is one rights check on one mailbox; a command that touches
 * two mailboxes (RENAME, MOVE) makes two checks. Rights are those of
 * acl_evaluate on the mailbox named in the comment. */
#ifndef KAIRAN_ACL_COMMAND_RIGHTS_H
#define KAIRAN_ACL_COMMAND_RIGHTS_H

#include "acl/acl.h"

enum acl_operation {
	/* No check: the zero value, for command table entries that name no
	 * operation. Needs no right. */
	ACL_OP_NONE,
	/* LIST, and the attributes LIST/LSUB report: "l" on the mailbox. A
	 * mailbox without it is left out of LIST as if it did not exist
	 * (§4), and LSUB reports a subscribed name without it as
	 * nonexistent. */
	ACL_OP_LIST,
	/* SUBSCRIBE, UNSUBSCRIBE: nothing. §4 allows requiring "l" for
	 * SUBSCRIBE, but IMAP lets a client subscribe to names that do not
	 * exist, so refusing an existing mailbox without "l" while accepting
	 * a missing one would tell the two apart. */
	ACL_OP_SUBSCRIBE,
	ACL_OP_UNSUBSCRIBE,
	/* CREATE: "k" on the nearest existing parent (§4); for a top-level
	 * name, on the namespace root (acl_namespace_root_rights). §4 also
	 * says the new mailbox SHOULD inherit the parent's ACL: the caller
	 * copies the parent's rows. The checked mailbox is one the client
	 * did not name, so the two denials of acl_check must get the same
	 * answer here, or the reply would tell whether the parent exists. */
	ACL_OP_CREATE,
	/* DELETE: "x" on the mailbox (§4). Kairan removes the messages with
	 * the mailbox, so the "r", "t", "e" that §4 mentions for servers
	 * which only delete empty mailboxes are not needed. */
	ACL_OP_DELETE,
	/* RENAME: "x" on the old name and "k" on the new name's nearest
	 * existing parent (§4): a delete there and a create here. As for
	 * CREATE, answer both denials on the target's parent alike. */
	ACL_OP_RENAME_SOURCE,
	ACL_OP_RENAME_TARGET,
	/* SELECT, EXAMINE, STATUS: "r" (§4). FETCH, SEARCH and COPY's
	 * reading of the source need nothing more once selected. */
	ACL_OP_SELECT,
	ACL_OP_EXAMINE,
	ACL_OP_STATUS,
	/* APPEND and COPY: "i" on the target (§4). The flags they set need
	 * "s", "w", "t" as STORE does; flags without their right are dropped
	 * silently, not refused (§4 lists them as optional): use
	 * acl_store_permitted on the target's rights. */
	ACL_OP_APPEND,
	ACL_OP_COPY,
	/* MOVE: COPY's "i" on the target, and on the source what the expunge
	 * half needs, "t" and "e" (RFC 6851 §4.2). */
	ACL_OP_MOVE_SOURCE,
	ACL_OP_MOVE_TARGET,
	/* EXPUNGE, UID EXPUNGE: "e" (§4). CLOSE expunges only when the
	 * caller has "e" and never fails for the lack of it (§4 lists "e"
	 * as optional for CLOSE). */
	ACL_OP_EXPUNGE,
	/* STORE: no right on its own; the flags decide (acl_store_rights). */
	ACL_OP_STORE,
	/* SETACL, DELETEACL, GETACL, LISTRIGHTS: "a" (§4). Cyrus once
	 * checked "any right" for LISTRIGHTS; that is MYRIGHTS's rule only. */
	ACL_OP_SETACL,
	ACL_OP_DELETEACL,
	ACL_OP_GETACL,
	ACL_OP_LISTRIGHTS,
	/* MYRIGHTS: any one of "l", "r", "i", "k", "x", "a" (§4, "Any"). */
	ACL_OP_MYRIGHTS,
	ACL_OP_COUNT
};

/* The rights the operation needs: all of them, or for an operation where
 * acl_required_any is true, at least one. 0 for operations that need none. */
acl_rights acl_required_for(enum acl_operation op);
bool acl_required_any(enum acl_operation op);
/* The operation's name for logs ("SELECT", "RENAME (source)"). */
const char *acl_operation_name(enum acl_operation op);

enum acl_decision {
	ACL_ALLOW,
	/* Refused, and the caller may know the mailbox exists:
	 * NO [NOPERM] (RFC 5530). */
	ACL_DENY_NOPERM,
	/* Refused, and the caller may not know the mailbox exists
	 * (acl_may_know_exists): answer exactly as for a missing mailbox. */
	ACL_DENY_NONEXISTENT,
};

/* Checks rights (acl_evaluate's result on the operation's mailbox) against
 * the operation, and says how to refuse. */
enum acl_decision acl_check(enum acl_operation op, acl_rights rights);

/* The rights a top-level CREATE checks "k" in: the root of a namespace is not
 * a mailbox and has no ACL. §4 gives the personal namespace to its owner, so
 * the owner gets ALL there and everyone else nothing; in "Other Users/" and
 * "Shared/" nobody creates top-level names over IMAP (shared accounts are
 * provisioned by the administrator), so pass owner = false there. */
acl_rights acl_namespace_root_rights(bool owner);

/* System flags as bits, the values of IMAP_FLAG_* (server/imap/store_args.h,
 * checked by tests/unit/test_acl_eval.c); acl/ does not include server code. */
#define ACL_FLAG_SEEN     1u
#define ACL_FLAG_ANSWERED 2u
#define ACL_FLAG_FLAGGED  4u
#define ACL_FLAG_DELETED  8u
#define ACL_FLAG_DRAFT    16u

/* The rights needed to change the given system flags and, when keywords is
 * true, keywords (§4): \Seen needs "s", \Deleted needs "t", every other flag
 * and every keyword "w"; a mix needs the union. For STORE FLAGS (replace),
 * APPEND and COPY pass every flag the operation may change, not only the
 * ones listed: replacing the flag list also clears the unlisted ones. */
acl_rights acl_store_rights(unsigned system_flags, bool keywords);

/* Which of the requested changes rights allow: the permitted system flags in
 * *system_flags_r, whether keywords may change in *keywords_r. §4: a STORE
 * SHOULD NOT fail when the caller may change at least one of the flags it
 * names, because deployed clients handle a tagged NO to STORE badly; the
 * forbidden flags are left as they are. Returns false only when something
 * was requested and none of it is permitted: answer NO [NOPERM] then. */
bool acl_store_permitted(acl_rights rights, unsigned system_flags, bool keywords,
			 unsigned *system_flags_r, bool *keywords_r);

/* Whether a FETCH of a body section may set \Seen implicitly: only with "s".
 * Without it the FETCH still succeeds and \Seen is simply not set (§4). */
bool acl_fetch_may_set_seen(acl_rights rights);

#endif
