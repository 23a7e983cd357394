/* A set of UIDs as sorted, disjoint, non-adjacent inclusive ranges: a
 * reader's \Seen in a per-user mailbox, which is typically a handful of
 * ranges however many messages were read (the store keeps it the same
 * way, migrations/0001 "seen"). Pure; the ranges are malloc'ed. */
#ifndef KAIRAN_IMAP_UID_RANGES_H
#define KAIRAN_IMAP_UID_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct imap_uid_range { uint32_t lo, hi; };   /* inclusive */

struct uid_ranges {
	struct imap_uid_range *r;
	size_t n, cap;
};

void uid_ranges_free(struct uid_ranges *s);
bool uid_ranges_has(const struct uid_ranges *s, uint32_t uid);
void uid_ranges_add(struct uid_ranges *s, uint32_t uid);
void uid_ranges_remove(struct uid_ranges *s, uint32_t uid);
/* Parses PostgreSQL's int8multirange text, "{}" or "{[1,5),[7,8)}" (half
 * open, as PostgreSQL writes integer ranges), into s (emptied first).
 * Bounds outside 1..2^32 are clipped. -1 on malformed text (s empty). */
int uid_ranges_parse_multirange(struct uid_ranges *s, const char *text);

#endif
