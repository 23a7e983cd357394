/* LIST's return options that add a response after each LIST response:
 * STATUS (RFC 5819) and MYRIGHTS (RFC 8440). Both need the caller's
 * rights on every listed mailbox, and STATUS the counts; both come in a
 * fixed number of round trips whatever the number of mailboxes: one for
 * the ACLs of the caller's own mailboxes (other owners' came with the
 * listing, list_shared.c), one for the status of them all
 * (db_mailbox_status_ids), instead of one STATUS per mailbox. */
#ifndef KAIRAN_IMAP_LIST_RETURN_H
#define KAIRAN_IMAP_LIST_RETURN_H

#include <stdbool.h>

#include "server/imap/list_args.h"
#include "server/imap/list_tree.h"
#include "server/imap/result.h"
#include "server/imap/session.h"

/* For the entries marked listed: the caller's rights, and the status of
 * each selectable mailbox on which the caller has what the STATUS
 * command needs ("r", RFC 4314 §4); the others get no STATUS response, as
 * RFC 5819 §2 lets a server omit it. false with NO [UNAVAILABLE] in
 * *res_r when the store fails. Nothing is read unless asked. */
bool imap_list_return_prepare(struct imap_session *s, struct imap_backend *be,
			      struct imap_list_entries *boxes, const struct imap_list_args *args, struct imap_result *res_r);

/* The caller's rights on the entries marked listed that exist and are
 * theirs (rights_known false): all of them in one round trip. false with
 * NO [UNAVAILABLE] in *res_r when the store fails. */
bool imap_list_own_rights(struct imap_session *s, struct imap_backend *be,
			  struct imap_list_entries *boxes, struct imap_result *res_r);

/* Writes the STATUS and MYRIGHTS responses that follow e's LIST response
 * (MYRIGHTS only for a mailbox that exists). */
void imap_list_return_write(struct imap_session *s, const struct imap_list_entry *e,
			    const struct imap_list_args *args);

#endif
