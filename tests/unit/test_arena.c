/* The command arena (server/core/arena.h): growing arrays in it. */
#include "tests/unit/unit.h"
#include "server/core/arena.h"

#include <stdint.h>

static void test_grow_keeps_elements(void)
{
	struct arena a;
	uint32_t *items = NULL;
	size_t n = 0, cap = 0;
	int same = 1;

	arena_init(&a);
	for (uint32_t i = 0; i < 1000; i++) {
		items = arena_grow(&a, items, n, &cap, sizeof(*items));
		items[n++] = i * 7;
	}
	for (uint32_t i = 0; i < 1000; i++)
		same &= items[i] == i * 7;
	CHECK(same);
	CHECK(cap == 1024);
	/* Doubling: what the arena handed out stays under three times the
	 * final array (16 + 32 + ... + 1024 elements). */
	CHECK(a.total < 3 * 1024 * sizeof(*items));
	arena_free(&a);
}

static void test_grow_only_when_full(void)
{
	struct arena a;
	char *items = NULL, *again;
	size_t cap = 0;

	arena_init(&a);
	items = arena_grow(&a, items, 0, &cap, 1);
	CHECK(items != NULL && cap == 16);
	again = arena_grow(&a, items, 15, &cap, 1);
	CHECK(again == items && cap == 16);
	again = arena_grow(&a, items, 16, &cap, 1);
	CHECK(again != items && cap == 32);
	arena_free(&a);
}

int main(void)
{
	UNIT_RUN(test_grow_keeps_elements);
	UNIT_RUN(test_grow_only_when_full);
	return unit_report("test_arena");
}
