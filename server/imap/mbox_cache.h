/* The mailbox state cache (docs/architecture.md, "Design decisions", 1):
 * one struct mbox_state per mailbox that a session of this process has
 * selected, shared by all of them, holding what every reader sees alike:
 * the messages in UID order with their shared system flags, keywords and
 * modseq, and the modseq up to which they are complete.
 *
 * PostgreSQL stays the truth. The state is only ever changed by applying
 * the result of one statement that read every change since a modseq no
 * higher than the state's own (mbox_state_apply_*): after it, the state is
 * exactly the mailbox as that statement's snapshot saw it. A result from an
 * older snapshot than the state's is not applied. Writers never patch the
 * state: their changes arrive with the next reader's statement.
 *
 * Private state (a reader's own \Seen in a per-user mailbox) is never
 * here; the session keeps it (view.c).
 *
 * Thread safety: the cache's table has a mutex; each state a rwlock.
 * Readers hold the read lock while they look at messages (mbox_state_rdlock
 * ... unlock); applying holds the write lock. Nothing holds a lock across a
 * PostgreSQL round trip. */
#ifndef KAIRAN_IMAP_MBOX_CACHE_H
#define KAIRAN_IMAP_MBOX_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mbox_cache;
struct mbox_state;

struct mbox_msg {
	uint32_t uid;
	uint8_t flags;            /* the stored system flags (enum db_flag bits) */
	uint64_t modseq;
	const char *keywords;     /* space-separated, owned by the state; NULL: none */
};

/* A state no session has selected is kept this long, so that a client
 * selecting the mailbox again (or the next one of a team) finds it warm. */
#define MBOX_CACHE_GRACE_MS (60 * 1000)

struct mbox_cache *mbox_cache_new(void);
void mbox_cache_free(struct mbox_cache **c);

/* The state of mailbox_id, created empty (not loaded) when absent; counted
 * until released. Never NULL. */
struct mbox_state *mbox_cache_acquire(struct mbox_cache *c, int64_t mailbox_id);
void mbox_cache_release(struct mbox_cache *c, struct mbox_state **st);

/* Applying one statement's result, under the write lock. The result may
 * be applied when the statement read every change since a modseq no
 * higher than the state's (read_from; 0 reads everything, which is how an
 * empty state is loaded) and its snapshot is not older than the state's:
 * mbox_state_applicable says. Messages come in any order and carry their
 * current values; an expunged UID is removed. applied records the
 * snapshot (the mailbox's highestmodseq and uidnext in it). */
void mbox_state_wrlock(struct mbox_state *st);
bool mbox_state_applicable(const struct mbox_state *st, uint64_t read_from, uint64_t snapshot);
void mbox_state_apply_message(struct mbox_state *st, uint32_t uid, uint8_t flags,
			      const char *keywords, uint64_t modseq);
void mbox_state_apply_expunge(struct mbox_state *st, uint32_t uid);
void mbox_state_applied(struct mbox_state *st, uint64_t snapshot, uint32_t uidnext);
void mbox_state_unlock(struct mbox_state *st);

void mbox_state_rdlock(struct mbox_state *st);
/* Under either lock: whether the state holds the mailbox completely, up to
 * which modseq, and its messages (ascending UIDs). */
bool mbox_state_loaded(const struct mbox_state *st);
uint64_t mbox_state_modseq(const struct mbox_state *st);
uint32_t mbox_state_uidnext(const struct mbox_state *st);
const struct mbox_msg *mbox_state_messages(const struct mbox_state *st, size_t *count_r);
/* The index of the first message with a UID at or above uid. */
size_t mbox_state_index(const struct mbox_state *st, uint32_t uid);
/* The message with that UID, NULL if the state has none. */
const struct mbox_msg *mbox_state_find(const struct mbox_state *st, uint32_t uid);

#endif
