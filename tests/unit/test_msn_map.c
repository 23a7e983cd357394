/* Message sequence numbers as runs (server/imap/msn_map.c) against a plain
 * array of UIDs: after every append and remove, the MSN of every UID and
 * the UID of every MSN agree with the array (RFC 3501 §2.3.1.2), and
 * remove returns the number the message had. */
#include "tests/unit/unit.h"
#include "server/imap/msn_map.h"

#include <stdlib.h>

#define MAXU 2000

static bool agrees(const struct msn_map *m, const uint32_t *uids, size_t n)
{
	if (m->count != n || msn_map_last(m) != (n ? uids[n - 1] : 0))
		return false;
	for (size_t i = 0; i < n; i++)
		if (msn_map_uid(m, (uint32_t)i + 1) != uids[i] || msn_map_msn(m, uids[i]) != i + 1)
			return false;
	return true;
}

static void test_against_array(void)
{
	struct msn_map m = { 0 };
	uint32_t uids[MAXU];
	size_t n = 0;
	uint32_t next = 1;
	unsigned seed = 7;

	for (int step = 0; step < 6000 && next < 100000; step++) {
		seed = seed * 1103515245u + 12345u;
		if (n == 0 || (seed >> 8) % 3 != 0) {
			if (n == MAXU)
				continue;
			next += (seed >> 12) % 5 == 0 ? 1 + (seed >> 16) % 4 : 0;  /* some gaps */
			msn_map_append(&m, next);
			uids[n++] = next++;
		} else {
			size_t k = (seed >> 10) % n;
			uint32_t uid = uids[k];
			CHECK(msn_map_remove(&m, uid) == k + 1);
			memmove(&uids[k], &uids[k + 1], (n - k - 1) * sizeof(*uids));
			n--;
			CHECK(msn_map_remove(&m, uid) == 0);
		}
		if (!agrees(&m, uids, n)) {
			CHECK(!"map and array differ");
			break;
		}
	}
	CHECK(msn_map_msn(&m, 0) == 0 && msn_map_msn(&m, UINT32_MAX) == 0);
	msn_map_free(&m);
}

static void test_runs_stay_few(void)
{
	struct msn_map m = { 0 };

	for (uint32_t uid = 1; uid <= 100000; uid++)
		msn_map_append(&m, uid);
	for (uint32_t uid = 1000; uid <= 100000; uid += 1000)
		msn_map_remove(&m, uid);
	CHECK(m.nruns == 100 && m.count == 99900);
	CHECK(msn_map_uid(&m, 999) == 999 && msn_map_uid(&m, 1000) == 1001);
	msn_map_free(&m);
}

int main(void)
{
	UNIT_RUN(test_against_array);
	UNIT_RUN(test_runs_stay_few);
	return unit_report("test_msn_map");
}
