/* The mailbox state cache (server/imap/mbox_cache.c): applying results
 * keeps the messages exactly those of a plain oracle, in UID order; the
 * rule for which results apply (docs/architecture.md, "Design decisions",
 * 1); and the states' lifetime (shared while selected, kept for a grace
 * period, one per mailbox). */
#include "tests/unit/unit.h"
#include "server/imap/mbox_cache.h"

#include <stdlib.h>

#define N 200

static void test_apply_against_oracle(void)
{
	struct mbox_cache *c = mbox_cache_new();
	struct mbox_state *st = mbox_cache_acquire(c, 7);
	int present[N] = { 0 }, flags[N] = { 0 };
	unsigned seed = 99;
	const struct mbox_msg *m;
	size_t n;

	mbox_state_wrlock(st);
	CHECK(!mbox_state_loaded(st) && mbox_state_applicable(st, 0, 5));
	CHECK(!mbox_state_applicable(st, 3, 5));    /* a delta cannot load it */
	for (int step = 0; step < 5000; step++) {
		uint32_t uid;
		seed = seed * 1103515245u + 12345u;
		uid = 1 + (seed >> 8) % (N - 1);
		if ((seed >> 4) % 3 != 0) {
			int f = (int)(seed >> 12) & 31;
			mbox_state_apply_message(st, uid, (uint8_t)f, f & 1 ? "$A $B" : "", (uint64_t)step);
			present[uid] = 1;
			flags[uid] = f;
		} else {
			mbox_state_apply_expunge(st, uid);
			present[uid] = 0;
		}
	}
	mbox_state_applied(st, 5000, N);
	m = mbox_state_messages(st, &n);
	{
		size_t k = 0;
		for (uint32_t uid = 1; uid < N; uid++) {
			const struct mbox_msg *f = mbox_state_find(st, uid);
			if (!present[uid]) {
				CHECK(f == NULL);
				continue;
			}
			CHECK(f != NULL && f->flags == flags[uid]);
			CHECK(f != NULL && (f->keywords != NULL) == ((flags[uid] & 1) != 0));
			CHECK(k < n && m[k].uid == uid);
			k++;
		}
		CHECK(k == n);
	}
	/* Which results apply: read from at most the state's modseq, and a
	 * snapshot not older than it. */
	CHECK(mbox_state_loaded(st) && mbox_state_modseq(st) == 5000);
	CHECK(mbox_state_applicable(st, 5000, 5000));
	CHECK(mbox_state_applicable(st, 10, 6000));
	CHECK(!mbox_state_applicable(st, 5001, 6000)); /* would miss 5001 */
	CHECK(!mbox_state_applicable(st, 10, 4999));   /* older than the state */
	mbox_state_unlock(st);
	mbox_cache_release(c, &st);
	CHECK(st == NULL);
	mbox_cache_free(&c);
}

static void test_lifetime(void)
{
	struct mbox_cache *c = mbox_cache_new();
	struct mbox_state *a = mbox_cache_acquire(c, 1), *b = mbox_cache_acquire(c, 1);
	struct mbox_state *other = mbox_cache_acquire(c, 1 + 1024); /* same bucket, most likely */

	CHECK(a == b && a != other);
	mbox_state_wrlock(a);
	mbox_state_apply_message(a, 3, 0, NULL, 1);
	mbox_state_applied(a, 1, 4);
	mbox_state_unlock(a);
	mbox_cache_release(c, &a);
	mbox_cache_release(c, &b);
	/* Within the grace period the state is kept, loaded. */
	a = mbox_cache_acquire(c, 1);
	CHECK(mbox_state_loaded(a) && mbox_state_find(a, 3) != NULL);
	mbox_cache_release(c, &a);
	mbox_cache_release(c, &other);
	mbox_cache_free(&c);
}

int main(void)
{
	UNIT_RUN(test_apply_against_oracle);
	UNIT_RUN(test_lifetime);
	return unit_report("test_mbox_cache");
}
