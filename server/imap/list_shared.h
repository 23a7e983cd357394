/* The "Other Users/" and "Shared/" part of LIST and LSUB: other owners'
 * mailboxes on which the caller has "l" (RFC 4314 §4), read with one
 * indexed query (schema/db_shared.h) and evaluated with the caller's
 * groups; and the one-time subscription of newly visible ones
 * (auto_subscribe_shared, docs/acl.md). */
#ifndef KAIRAN_IMAP_LIST_SHARED_H
#define KAIRAN_IMAP_LIST_SHARED_H

#include <stdbool.h>

#include "acl/acl.h"
#include "schema/db_mailbox.h"
#include "server/imap/result.h"
#include "server/imap/session.h"

/* Hands each visible mailbox to row_cb as a mailbox row under its client
 * name, with the caller's rights on it, and each subscription it has just
 * made as a subscription row (rights 0).
 * false with NO [UNAVAILABLE] in *res_r when the directory or the store
 * fails. */
bool imap_list_shared(struct imap_session *s, struct imap_backend *be,
		      void (*row_cb)(void *ctx, const struct db_mailbox_row *row,
				     acl_rights rights), void *ctx,
		      struct imap_result *res_r);

struct imap_list_entries;
/* Every name the caller may see, their own and other owners' (those with
 * rights_known set), as a built tree (list_tree.h), and with
 * subscriptions the names subscribed in *subs (unsorted); cmd_list.c.
 * false with NO [UNAVAILABLE] in *res_r when the store or directory
 * fails. */
bool imap_list_collect(struct imap_session *s, struct imap_backend *be, bool subscriptions,
		       struct imap_list_entries *boxes, struct imap_list_entries *subs,
		       struct imap_result *res_r);

#endif
