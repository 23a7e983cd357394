/* A reader's private modseqs (migrations/0011): for each UID, the modseq
 * of the reader's newest private change (\Seen in a per-user mailbox) that
 * touched it, as sorted, disjoint spans of UIDs sharing one modseq. Built
 * from the reader's change log in any order (a session learns its own
 * changes before those its other sessions made just before): each UID
 * keeps the highest modseq it was given. A reader who marks messages read
 * one by one makes one span per message, one who marks a folder read
 * makes one.
 * Pure; the spans are malloc'ed. */
#ifndef KAIRAN_IMAP_MODSEQ_MAP_H
#define KAIRAN_IMAP_MODSEQ_MAP_H

#include <stddef.h>
#include <stdint.h>

struct modseq_span {
	uint32_t lo, hi;      /* inclusive */
	uint64_t modseq;
};

struct modseq_map {
	struct modseq_span *s;
	size_t n, cap;
};

void modseq_map_free(struct modseq_map *m);
/* UIDs lo..hi (lo <= hi) were changed at modseq. */
void modseq_map_raise(struct modseq_map *m, uint32_t lo, uint32_t hi, uint64_t modseq);
/* The UID's private modseq, 0 when the reader never changed it. */
uint64_t modseq_map_get(const struct modseq_map *m, uint32_t uid);

#endif
