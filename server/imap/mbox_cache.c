#include "server/imap/mbox_cache.h"
#include "server/core/buf.h"
#include "server/core/clock.h"
#include "server/core/lower_bound.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct mbox_state {
	int64_t mailbox_id;
	struct mbox_state *next;   /* in its hash bucket */
	unsigned refs;             /* sessions that have it selected */
	uint64_t idle_since_ms;    /* when refs last dropped to 0 */
	pthread_rwlock_t lock;
	bool loaded;
	uint64_t modseq;           /* complete up to here */
	uint32_t uidnext;
	struct mbox_msg *msgs;     /* ascending UIDs */
	size_t count, cap;
};

#define MBOX_CACHE_BUCKETS 1024

struct mbox_cache {
	pthread_mutex_t lock;
	struct mbox_state *buckets[MBOX_CACHE_BUCKETS];
};

struct mbox_cache *mbox_cache_new(void)
{
	struct mbox_cache *c = xcalloc(1, sizeof(*c));

	pthread_mutex_init(&c->lock, NULL);
	return c;
}

static void state_free(struct mbox_state *st)
{
	for (size_t i = 0; i < st->count; i++)
		free((char *)st->msgs[i].keywords);
	free(st->msgs);
	pthread_rwlock_destroy(&st->lock);
	free(st);
}

void mbox_cache_free(struct mbox_cache **cp)
{
	struct mbox_cache *c = *cp;

	if (c == NULL)
		return;
	for (size_t b = 0; b < MBOX_CACHE_BUCKETS; b++)
		while (c->buckets[b] != NULL) {
			struct mbox_state *st = c->buckets[b];
			c->buckets[b] = st->next;
			state_free(st);
		}
	pthread_mutex_destroy(&c->lock);
	free(c);
	*cp = NULL;
}

static size_t bucket_of(int64_t mailbox_id)
{
	return (size_t)((uint64_t)mailbox_id * 0x9e3779b97f4a7c15ull >> 54) % MBOX_CACHE_BUCKETS;
}

/* Frees the states of a bucket that nobody has selected for the grace
 * period; called with the table locked, so a bucket is swept as it is
 * used and no timer is needed. */
static void sweep_bucket(struct mbox_state **head, uint64_t now)
{
	while (*head != NULL) {
		struct mbox_state *st = *head;
		if (st->refs == 0 && now - st->idle_since_ms >= MBOX_CACHE_GRACE_MS) {
			*head = st->next;
			state_free(st);
		} else
			head = &st->next;
	}
}

struct mbox_state *mbox_cache_acquire(struct mbox_cache *c, int64_t mailbox_id)
{
	struct mbox_state **head = &c->buckets[bucket_of(mailbox_id)];
	struct mbox_state *st;

	pthread_mutex_lock(&c->lock);
	sweep_bucket(head, clock_now_ms());
	for (st = *head; st != NULL && st->mailbox_id != mailbox_id; st = st->next)
		;
	if (st == NULL) {
		st = xcalloc(1, sizeof(*st));
		st->mailbox_id = mailbox_id;
		pthread_rwlock_init(&st->lock, NULL);
		st->next = *head;
		*head = st;
	}
	st->refs++;
	pthread_mutex_unlock(&c->lock);
	return st;
}

void mbox_cache_release(struct mbox_cache *c, struct mbox_state **stp)
{
	struct mbox_state *st = *stp;

	if (st == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	if (--st->refs == 0)
		st->idle_since_ms = clock_now_ms();
	pthread_mutex_unlock(&c->lock);
	*stp = NULL;
}

void mbox_state_wrlock(struct mbox_state *st)
{
	pthread_rwlock_wrlock(&st->lock);
}

void mbox_state_rdlock(struct mbox_state *st)
{
	pthread_rwlock_rdlock(&st->lock);
}

void mbox_state_unlock(struct mbox_state *st)
{
	pthread_rwlock_unlock(&st->lock);
}

bool mbox_state_applicable(const struct mbox_state *st, uint64_t read_from, uint64_t snapshot)
{
	if (!st->loaded)
		return read_from == 0;
	return read_from <= st->modseq && snapshot >= st->modseq;
}

/* The index of the first message with a UID >= uid. */
static size_t lower_bound(const struct mbox_state *st, uint32_t uid)
{
	return lower_bound_u32(st->msgs, st->count, sizeof(*st->msgs),
			       offsetof(struct mbox_msg, uid), uid);
}

void mbox_state_apply_message(struct mbox_state *st, uint32_t uid, uint8_t flags,
			      const char *keywords, uint64_t modseq)
{
	size_t i = st->count > 0 && st->msgs[st->count - 1].uid < uid ? st->count :
		   lower_bound(st, uid);
	struct mbox_msg *m;

	if (i == st->count || st->msgs[i].uid != uid) {
		if (st->count == st->cap) {
			st->cap = st->cap ? st->cap * 2 : 256;
			st->msgs = xrealloc(st->msgs, st->cap * sizeof(*st->msgs));
		}
		memmove(&st->msgs[i + 1], &st->msgs[i], (st->count - i) * sizeof(*st->msgs));
		st->count++;
		st->msgs[i] = (struct mbox_msg){ .uid = uid };
	}
	m = &st->msgs[i];
	m->flags = flags;
	m->modseq = modseq;
	if (m->keywords == NULL ? keywords == NULL || keywords[0] == '\0' :
	    keywords != NULL && strcmp(m->keywords, keywords) == 0)
		return;
	free((char *)m->keywords);
	m->keywords = keywords != NULL && keywords[0] != '\0' ? xstrdup(keywords) : NULL;
}

void mbox_state_apply_expunge(struct mbox_state *st, uint32_t uid)
{
	size_t i = lower_bound(st, uid);

	if (i == st->count || st->msgs[i].uid != uid)
		return;
	free((char *)st->msgs[i].keywords);
	memmove(&st->msgs[i], &st->msgs[i + 1], (st->count - i - 1) * sizeof(*st->msgs));
	st->count--;
}

void mbox_state_applied(struct mbox_state *st, uint64_t snapshot, uint32_t uidnext)
{
	st->loaded = true;
	st->modseq = snapshot;
	st->uidnext = uidnext;
}

bool mbox_state_loaded(const struct mbox_state *st)
{
	return st->loaded;
}

uint64_t mbox_state_modseq(const struct mbox_state *st)
{
	return st->modseq;
}

uint32_t mbox_state_uidnext(const struct mbox_state *st)
{
	return st->uidnext;
}

const struct mbox_msg *mbox_state_messages(const struct mbox_state *st, size_t *count_r)
{
	*count_r = st->count;
	return st->msgs;
}

const struct mbox_msg *mbox_state_find(const struct mbox_state *st, uint32_t uid)
{
	size_t i = lower_bound(st, uid);

	return i < st->count && st->msgs[i].uid == uid ? &st->msgs[i] : NULL;
}

size_t mbox_state_index(const struct mbox_state *st, uint32_t uid)
{
	return lower_bound(st, uid);
}
