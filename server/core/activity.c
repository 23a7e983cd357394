#include "server/core/activity.h"
#include "server/core/clock.h"

#include <stddef.h>

void activity_init(struct activity *a)
{
	atomic_init(&a->running, 0);
	atomic_init(&a->last_end_ms, clock_now_ms());
}

void activity_begin(struct activity *a)
{
	if (a != NULL)
		atomic_fetch_add(&a->running, 1);
}

void activity_end(struct activity *a)
{
	if (a == NULL)
		return;
	/* The end time first: a reader that sees running drop to 0 then sees
	 * this end (both sequentially consistent). */
	atomic_store(&a->last_end_ms, clock_now_ms());
	atomic_fetch_sub(&a->running, 1);
}

uint64_t activity_quiet_wait(struct activity *a, uint64_t quiet_ms)
{
	uint64_t now, last;

	if (atomic_load(&a->running) > 0)
		return quiet_ms;
	last = atomic_load(&a->last_end_ms);
	now = clock_now_ms();
	if (now >= last + quiet_ms)
		return 0;
	return last + quiet_ms - now;
}
