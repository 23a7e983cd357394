/* SEARCH of flags from the shared state (search_state.h). The program is
 * evaluated per message exactly as schema/db_search.c's SQL states it:
 * FLAGS_SET "flags & mask = mask", FLAGS_CLEAR "flags & mask = 0" on the
 * flags the reader sees (the reader's own \Seen in a per-user mailbox),
 * UIDS membership in the ranges, NOT of the AND of its children. */
#include "server/imap/search_state.h"
#include "server/core/buf.h"
#include "server/imap/view.h"

#include <stdlib.h>

bool imap_search_state_can(const struct db_search_node *n)
{
	switch (n->op) {
	case DB_SEARCH_AND:
	case DB_SEARCH_OR:
	case DB_SEARCH_NOT:
		for (size_t i = 0; i < n->nchildren; i++)
			if (!imap_search_state_can(&n->children[i]))
				return false;
		return true;
	case DB_SEARCH_TRUE:
	case DB_SEARCH_FALSE:
	case DB_SEARCH_UIDS:
	case DB_SEARCH_FLAGS_SET:
	case DB_SEARCH_FLAGS_CLEAR:
		return true;
	default:
		return false;
	}
}

/* Whether uid is in the ranges: a binary search when they are ascending
 * and disjoint (as message sets resolve), a scan otherwise. */
static bool in_ranges(const struct db_uid_ranges *r, uint32_t uid)
{
	size_t lo = 0, hi = r->count;
	bool sorted = true;

	for (size_t i = 1; i < r->count && sorted; i++)
		sorted = r->lo[i] > r->hi[i - 1];
	if (!sorted) {
		for (size_t i = 0; i < r->count; i++)
			if (uid >= r->lo[i] && uid <= r->hi[i])
				return true;
		return false;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->hi[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->count && r->lo[lo] <= uid;
}

static bool matches(const struct db_search_node *n, uint32_t uid, unsigned flags)
{
	switch (n->op) {
	case DB_SEARCH_AND:
	case DB_SEARCH_NOT:
		for (size_t i = 0; i < n->nchildren; i++)
			if (!matches(&n->children[i], uid, flags))
				return n->op == DB_SEARCH_NOT;
		return n->op == DB_SEARCH_AND;
	case DB_SEARCH_OR:
		for (size_t i = 0; i < n->nchildren; i++)
			if (matches(&n->children[i], uid, flags))
				return true;
		return false;
	case DB_SEARCH_TRUE: return true;
	case DB_SEARCH_UIDS: return in_ranges(&n->ranges, uid);
	case DB_SEARCH_FLAGS_SET:
		return (flags & (unsigned)n->number) == (unsigned)n->number;
	case DB_SEARCH_FLAGS_CLEAR:
		return (flags & (unsigned)n->number) == 0;
	default:
		return false;
	}
}

struct hit {
	uint32_t uid;
	uint64_t modseq;
};

bool imap_search_state(const struct imap_view *v, uint32_t max_uid,
		       const struct db_search_node *root,
		       void (*uid_cb)(void *ctx, uint32_t uid, uint64_t modseq), void *ctx)
{
	const struct mbox_msg *msgs;
	struct hit *hits = NULL;
	size_t count, n = 0;

	if (!v->flags_cached || v->state == NULL || !imap_search_state_can(root))
		return false;
	mbox_state_rdlock(v->state);
	if (!mbox_state_loaded(v->state)) {
		mbox_state_unlock(v->state);
		return false;
	}
	msgs = mbox_state_messages(v->state, &count);
	/* The matches are copied out, so that the lock is not held while the
	 * caller builds its response. */
	hits = xmalloc((count + 1) * sizeof(*hits));
	for (size_t i = 0; i < count && msgs[i].uid <= max_uid; i++) {
		if (imap_view_msn(v, msgs[i].uid) == 0)
			continue;   /* not (yet) in this session's view */
		if (matches(root, msgs[i].uid, imap_view_reader_flags(v, &msgs[i])))
			hits[n++] = (struct hit){ msgs[i].uid, msgs[i].modseq };
	}
	mbox_state_unlock(v->state);
	for (size_t i = 0; i < n; i++)
		uid_cb(ctx, hits[i].uid, hits[i].modseq);
	free(hits);
	return true;
}
