/* The store-activity tracker the search indexer waits on
 * (server/core/activity.h). */
#include "tests/unit/unit.h"
#include "server/core/activity.h"

#include <time.h>

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void test_not_quiet_right_after_start(void)
{
	struct activity a;

	activity_init(&a);
	CHECK(activity_quiet_wait(&a, 10000) > 9000);
	CHECK(activity_quiet_wait(&a, 0) == 0);
	sleep_ms(30);
	CHECK(activity_quiet_wait(&a, 20) == 0);
}

static void test_running_commands(void)
{
	struct activity a;

	activity_init(&a);
	sleep_ms(30);
	activity_begin(&a);
	activity_begin(&a);
	/* Running: the whole quiet period lies ahead, however old the last end. */
	CHECK(activity_quiet_wait(&a, 20) == 20);
	CHECK(activity_quiet_wait(&a, 0) == 0);
	activity_end(&a);
	CHECK(activity_quiet_wait(&a, 20) == 20);
	activity_end(&a);
	CHECK(activity_quiet_wait(&a, 5000) > 4000);
	CHECK(activity_quiet_wait(&a, 5000) <= 5000);
	sleep_ms(30);
	CHECK(activity_quiet_wait(&a, 20) == 0);
}

/* NULL means "not tracked": the calls touch no tracker, so one that is
 * quiet stays quiet through them. */
static void test_null_is_not_tracked(void)
{
	struct activity a;

	activity_init(&a);
	sleep_ms(30);
	activity_begin(NULL);
	CHECK(activity_quiet_wait(&a, 20) == 0);
	activity_end(NULL);
	CHECK(activity_quiet_wait(&a, 20) == 0);
}

int main(void)
{
	UNIT_RUN(test_not_quiet_right_after_start);
	UNIT_RUN(test_running_commands);
	UNIT_RUN(test_null_is_not_tracked);
	return unit_report("test_activity");
}
