/* The private modseq map (server/imap/modseq_map.c) against a plain array
 * of the first 300 UIDs: after every raise, in any modseq order, each UID
 * has the highest modseq it was given, and the spans stay sorted and
 * disjoint. */
#include "tests/unit/unit.h"
#include "server/imap/modseq_map.h"

#include <stdbool.h>

#define N 300

static bool agrees(const struct modseq_map *m, const uint64_t *want)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->s[i].lo > m->s[i].hi || (i > 0 && m->s[i - 1].hi >= m->s[i].lo))
			return false;
	for (uint32_t uid = 1; uid < N; uid++)
		if (modseq_map_get(m, uid) != want[uid])
			return false;
	return true;
}

static void test_against_array(void)
{
	struct modseq_map m = { 0 };
	uint64_t want[N] = { 0 };
	unsigned seed = 4242;

	for (int step = 0; step < 5000; step++) {
		uint32_t lo, hi;
		uint64_t modseq = 1 + (uint64_t)step;
		seed = seed * 1103515245u + 12345u;
		lo = 1 + (seed >> 8) % (N - 1);
		seed = seed * 1103515245u + 12345u;
		hi = lo + (seed >> 8) % ((seed >> 20) & 1 ? 3 : 40);
		if (hi >= N)
			hi = N - 1;
		/* Mostly increasing, sometimes an older change learned late. */
		if (((seed >> 12) & 7) == 0)
			modseq = modseq / 2 + 1;
		modseq_map_raise(&m, lo, hi, modseq);
		for (uint32_t u = lo; u <= hi; u++)
			if (want[u] < modseq)
				want[u] = modseq;
		if (!agrees(&m, want)) {
			CHECK(!"map and array differ");
			break;
		}
	}
	modseq_map_free(&m);
}

static void test_edges(void)
{
	struct modseq_map m = { 0 };

	CHECK(modseq_map_get(&m, 1) == 0);
	modseq_map_raise(&m, UINT32_MAX, UINT32_MAX, 7);
	modseq_map_raise(&m, 1, 1, 8);
	CHECK(modseq_map_get(&m, UINT32_MAX) == 7 && modseq_map_get(&m, 1) == 8);
	CHECK(modseq_map_get(&m, 2) == 0 && m.n == 2);
	/* A newer span covering everything replaces all. */
	modseq_map_raise(&m, 1, UINT32_MAX, 9);
	CHECK(m.n == 1 && modseq_map_get(&m, 12345) == 9);
	/* An older one changes nothing. */
	modseq_map_raise(&m, 5, 500, 3);
	CHECK(m.n == 1 && modseq_map_get(&m, 100) == 9);
	/* A hole punched in the middle splits it. */
	modseq_map_raise(&m, 10, 20, 10);
	CHECK(m.n == 3 && modseq_map_get(&m, 9) == 9 && modseq_map_get(&m, 10) == 10 &&
	      modseq_map_get(&m, 20) == 10 && modseq_map_get(&m, 21) == 9);
	modseq_map_free(&m);
}

int main(void)
{
	UNIT_RUN(test_against_array);
	UNIT_RUN(test_edges);
	return unit_report("test_modseq_map");
}
