/* A session's message sequence numbers (RFC 3501 §2.3.1.2): the UIDs of
 * its view in ascending order, kept as runs of consecutive UIDs with the
 * number of messages before each run. APPEND and delivery allocate UIDs
 * consecutively, so a folder of 100,000 messages with a few hundred holes
 * is a few hundred runs: a few kilobytes per session rather than 400 KB,
 * however many sessions have it selected (the shared mailbox state holds
 * the per-message data, mbox_cache.h). Pure; malloc'ed. */
#ifndef KAIRAN_IMAP_MSN_MAP_H
#define KAIRAN_IMAP_MSN_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "server/imap/uid_ranges.h"

struct msn_map {
	struct imap_uid_range *runs;  /* ascending, disjoint, non-adjacent */
	uint32_t *before;             /* messages in the runs before runs[i] */
	size_t nruns, cap;
	uint32_t count;               /* messages */
};

void msn_map_free(struct msn_map *m);
/* 0 when the UID is not in the map. */
uint32_t msn_map_msn(const struct msn_map *m, uint32_t uid);
/* The UID of message msn, 1 <= msn <= count. */
uint32_t msn_map_uid(const struct msn_map *m, uint32_t msn);
/* The highest UID, 0 when empty. */
uint32_t msn_map_last(const struct msn_map *m);
/* Adds a UID above every UID of the map (a message announced by EXISTS). */
void msn_map_append(struct msn_map *m, uint32_t uid);
/* Removes a UID (an expunge reported); returns its MSN, 0 if absent. */
uint32_t msn_map_remove(struct msn_map *m, uint32_t uid);

#endif
