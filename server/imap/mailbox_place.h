/* Names being made and the store's answers about names, shared by CREATE,
 * RENAME (cmd_mailbox.c), SUBSCRIBE and STATUS: where a new name goes and
 * whether the caller may put it there (RFC 3501 §6.3.3, RFC 4314 §4), and
 * the one mapping of a db_mbox_result to the command's result. Nothing
 * here writes a response. */
#ifndef KAIRAN_IMAP_MAILBOX_PLACE_H
#define KAIRAN_IMAP_MAILBOX_PLACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acl/command_rights.h"
#include "schema/db_mailbox.h"
#include "server/imap/result.h"
#include "server/imap/session.h"

struct imap_new_place {
	int64_t owner;          /* the account the new name belongs to */
	const char *store_name; /* the name in the owner's namespace, in the arena */
	int64_t parent;         /* the existing parent, whose ACL CREATE copies; 0 if none */
};

/* The part of the check that needs no store, for the check step: a name
 * with a "." or ".." level (imap_mailbox_name_creatable), a personal name
 * that would hide a namespace ("Shared"), or the root of a namespace or of
 * an owner ("Other Users/bob"), can never be created.
 * false with NO [CANNOT] in *res_r. name is UTF-8, from imap_mailbox_arg. */
bool imap_new_name_check(struct imap_session *s, const char *name, size_t len,
			 struct imap_result *res_r);

/* Where a new name (CREATE, RENAME's target; op says which) goes, after
 * RFC 4314 §4's check of "k" on its parent; one round trip. false with
 * the refusal in *res_r (or NO [UNAVAILABLE]). */
bool imap_new_name_place(struct imap_session *s, struct imap_backend *be, const char *name,
			 size_t len, enum acl_operation op, struct imap_new_place *to,
			 struct imap_result *res_r);

/* The store's answer about a mailbox or subscription as the command's
 * result: OK "<COMMAND> completed", or the refusal with its RFC 5530 code,
 * or NO [UNAVAILABLE] with "<what>: <err>" for the log. */
struct imap_result imap_mailbox_result(struct imap_session *s, enum db_mbox_result r,
				       const char *what, const char *err);

#endif
