#include "server/imap/msgset.h"
#include "server/imap/seqset.h"
#include "server/imap/view.h"

/* Far more than any real client sends; a bound on the work a hostile set
 * can cause (each range becomes one index scan). */
#define MSGSET_MAX_RANGES 100000

void imap_msgset_resolve(struct imap_session *s, const struct imap_seqset *set, bool uid,
			 struct db_uid_ranges *ranges)
{
	const struct imap_view *v = s->view;
	uint32_t max_uid = imap_view_last_uid(v), count = imap_view_count(v);
	struct imap_seqset resolved;
	uint32_t *lo, *hi;
	size_t n = 0;

	imap_seqset_resolve(&s->arena, set, uid ? max_uid : count, !uid, &resolved);
	lo = arena_alloc(&s->arena, (resolved.count + 1) * sizeof(*lo));
	hi = arena_alloc(&s->arena, (resolved.count + 1) * sizeof(*hi));
	for (size_t i = 0; i < resolved.count; i++) {
		uint32_t a = resolved.ranges[i].lo, b = resolved.ranges[i].hi;
		if (!uid) {
			/* Message numbers a..b (clamped to 1..EXISTS) are the
			 * view's UIDs of messages a..b: between those two UIDs the
			 * store holds no other message of the view (UIDs ascend
			 * with message numbers). */
			if (a == 0 || a > count)
				continue;
			a = imap_view_uid(v, a);
			b = imap_view_uid(v, b > count ? count : b);
		} else {
			/* Messages not yet announced (above the view) are left
			 * out until an EXISTS has told the client of them. */
			if (a > max_uid)
				continue;
			if (b > max_uid)
				b = max_uid;
		}
		lo[n] = a;
		hi[n] = b;
		n++;
	}
	ranges->lo = lo;
	ranges->hi = hi;
	ranges->count = n;
}

int imap_msgset(struct imap_session *s, const struct imap_arg *arg, bool uid,
		struct db_uid_ranges *ranges, const char **error_r)
{
	struct imap_seqset set;

	ranges->count = 0;
	if (arg->type != IMAP_ARG_ATOM ||
	    imap_seqset_parse(&s->arena, arg->u.str.data, arg->u.str.len, MSGSET_MAX_RANGES, &set) < 0) {
		*error_r = "Invalid sequence set";
		return -1;
	}
	if (set.saved) {
		imap_msgset_saved(s, ranges);
		return 0;
	}
	if (!uid && !imap_seqset_in_range(&set, imap_view_count(s->view))) {
		*error_r = "Invalid message sequence number";
		return -1;
	}
	imap_msgset_resolve(s, &set, uid, ranges);
	return 0;
}

void imap_msgset_saved(struct imap_session *s, struct db_uid_ranges *ranges)
{
	const struct imap_view *v = s->view;
	uint32_t *lo = arena_alloc(&s->arena, (v->nsaved + 1) * sizeof(*lo));
	uint32_t *hi = arena_alloc(&s->arena, (v->nsaved + 1) * sizeof(*hi));
	size_t n = 0;

	/* One range per run of UIDs consecutive in the view. */
	for (size_t i = 0; i < v->nsaved; i++) {
		uint32_t msn = imap_view_msn(v, v->saved[i]);
		if (msn == 0)
			continue;
		if (n > 0 && msn > 1 && imap_view_uid(v, msn - 1) == hi[n - 1])
			hi[n - 1] = v->saved[i];
		else {
			lo[n] = hi[n] = v->saved[i];
			n++;
		}
	}
	ranges->lo = lo;
	ranges->hi = hi;
	ranges->count = n;
}
