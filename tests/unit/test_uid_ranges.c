/* The UID range set (server/imap/uid_ranges.c) against a plain bitmap of
 * the first 300 UIDs: after every add and remove the set holds exactly the
 * bitmap's UIDs, and its ranges stay sorted, disjoint and non-adjacent.
 * The multirange parser against the texts PostgreSQL writes. */
#include "tests/unit/unit.h"
#include "server/imap/uid_ranges.h"

#include <stdlib.h>

#define N 300

static bool well_formed(const struct uid_ranges *s)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->r[i].lo > s->r[i].hi)
			return false;
		if (i > 0 && s->r[i - 1].hi + 1 >= s->r[i].lo)
			return false;
	}
	return true;
}

static bool agrees(const struct uid_ranges *s, const bool *bits)
{
	for (uint32_t uid = 1; uid < N; uid++)
		if (uid_ranges_has(s, uid) != bits[uid])
			return false;
	return well_formed(s);
}

static void test_against_bitmap(void)
{
	struct uid_ranges s = { 0 };
	bool bits[N] = { false };
	unsigned seed = 12345;

	for (int step = 0; step < 20000; step++) {
		uint32_t uid;
		seed = seed * 1103515245u + 12345u;
		uid = 1 + (seed >> 8) % (N - 1);
		if ((seed >> 4) & 1) {
			uid_ranges_add(&s, uid);
			bits[uid] = true;
		} else {
			uid_ranges_remove(&s, uid);
			bits[uid] = false;
		}
		if (!agrees(&s, bits)) {
			CHECK(!"set and bitmap differ");
			break;
		}
	}
	uid_ranges_free(&s);
}

static void test_edges(void)
{
	struct uid_ranges s = { 0 };

	uid_ranges_add(&s, UINT32_MAX);
	uid_ranges_add(&s, UINT32_MAX - 1);
	CHECK(s.n == 1 && s.r[0].lo == UINT32_MAX - 1 && s.r[0].hi == UINT32_MAX);
	uid_ranges_add(&s, 1);
	uid_ranges_remove(&s, 2);          /* not there */
	CHECK(s.n == 2 && uid_ranges_has(&s, 1) && !uid_ranges_has(&s, 2));
	uid_ranges_free(&s);
}

static void test_parse(void)
{
	struct uid_ranges s = { 0 };

	CHECK(uid_ranges_parse_multirange(&s, "{}") == 0 && s.n == 0);
	CHECK(uid_ranges_parse_multirange(&s, "{[1,5),[7,8)}") == 0);
	CHECK(s.n == 2 && s.r[0].lo == 1 && s.r[0].hi == 4 && s.r[1].lo == 7 && s.r[1].hi == 7);
	/* Unbounded and out-of-range ends are clipped to the UID space. */
	CHECK(uid_ranges_parse_multirange(&s, "{(,3),[10,)}") == 0);
	CHECK(s.n == 2 && s.r[0].lo == 1 && s.r[0].hi == 2 && s.r[1].lo == 10 &&
	      s.r[1].hi == UINT32_MAX);
	CHECK(uid_ranges_parse_multirange(&s, "{[-5,0)}") == 0 && s.n == 0);
	CHECK(uid_ranges_parse_multirange(&s, "{[4294967290,99999999999)}") == 0);
	CHECK(s.n == 1 && s.r[0].lo == 4294967290u && s.r[0].hi == UINT32_MAX);
	/* Malformed text leaves the set empty. */
	CHECK(uid_ranges_parse_multirange(&s, "{[1,5)") == -1 && s.n == 0);
	CHECK(uid_ranges_parse_multirange(&s, "[1,5)") == -1);
	CHECK(uid_ranges_parse_multirange(&s, "{[1;5)}") == -1);
	CHECK(uid_ranges_parse_multirange(&s, "{[1,5)} ") == -1);
	uid_ranges_free(&s);
}

int main(void)
{
	UNIT_RUN(test_against_bitmap);
	UNIT_RUN(test_edges);
	UNIT_RUN(test_parse);
	return unit_report("test_uid_ranges");
}
