#include "server/core/lower_bound.h"

#include <string.h>

size_t lower_bound_u32(const void *base, size_t n, size_t size, size_t offset, uint32_t key)
{
	const unsigned char *p = base;
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t k;
		memcpy(&k, p + mid * size + offset, sizeof(k));
		if (k < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
