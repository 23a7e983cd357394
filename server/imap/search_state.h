/* SEARCH of flags answered from the process's shared state of the
 * selected mailbox (docs/architecture.md, "Design decisions", 1): a
 * program made only of system flags (SEEN, UNSEEN, FLAGGED, DELETED ...,
 * also NEW and OLD through \Recent's UIDs), message sets, ALL, AND, OR
 * and NOT needs nothing the state does not hold, so it costs no SQL: the
 * 2,409 UNSEEN of 30,000 messages took ~10 ms through PostgreSQL against
 * Dovecot's ~1 ms from its index (issue 15). Anything else (text, dates,
 * sizes, keywords, MODSEQ) goes to the store as before. */
#ifndef KAIRAN_IMAP_SEARCH_STATE_H
#define KAIRAN_IMAP_SEARCH_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "schema/db_search.h"

struct imap_view;

/* Whether every node of the program can be evaluated on the state. */
bool imap_search_state_can(const struct db_search_node *root);

/* Calls uid_cb, in ascending UID order, for every message of the view up
 * to max_uid that matches root, with the flags this reader sees and the
 * message's shared modseq, as db_search would. false (and no call) when
 * the state cannot answer: flags not cached for this session (the \Seen
 * mode changed under it), or the state not loaded. */
bool imap_search_state(const struct imap_view *v, uint32_t max_uid,
		       const struct db_search_node *root,
		       void (*uid_cb)(void *ctx, uint32_t uid, uint64_t modseq), void *ctx);

#endif
