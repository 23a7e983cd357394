/* Binary search over arrays sorted by a 32-bit key (UIDs, mostly). */
#ifndef KAIRAN_CORE_LOWER_BOUND_H
#define KAIRAN_CORE_LOWER_BOUND_H

#include <stddef.h>
#include <stdint.h>

/* The index of the first of the n elements at base (each size bytes,
 * ascending by the uint32_t at byte offset `offset` of each) whose key is
 * at least key; n when there is none. */
size_t lower_bound_u32(const void *base, size_t n, size_t size, size_t offset, uint32_t key);

#endif
