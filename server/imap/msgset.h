/* Turning a command's sequence set (message numbers, or UIDs for the UID
 * commands) into the UID ranges the store takes, against the session's view
 * of the selected mailbox (RFC 3501 §6.4.8, §9 seq-number). */
#ifndef KAIRAN_IMAP_MSGSET_H
#define KAIRAN_IMAP_MSGSET_H

#include <stdbool.h>

#include "server/imap/session.h"
#include "schema/db_message.h"

/* Ranges come from the command arena and cover only messages the client
 * has been told of. A message number above EXISTS is BAD (RFC 3501 §9);
 * UIDs that do not exist are simply not there. -1 with *error_r. An empty
 * result is fine (ranges->count == 0). */
int imap_msgset(struct imap_session *s, const struct imap_arg *arg, bool uid,
		struct db_uid_ranges *ranges, const char **error_r);

struct imap_seqset;
/* A parsed set (not "$") as UID ranges of the view, without the range
 * check: numbers above EXISTS and UIDs not yet announced are dropped (what
 * SEARCH wants; imap_msgset checks first). */
void imap_msgset_resolve(struct imap_session *s, const struct imap_seqset *set, bool uid,
			 struct db_uid_ranges *ranges);

/* The saved search result ($, RFC 5182) as UID ranges, in the arena:
 * only messages still in the view (expunged ones drop out). */
void imap_msgset_saved(struct imap_session *s, struct db_uid_ranges *ranges);

#endif
