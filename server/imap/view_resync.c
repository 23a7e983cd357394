/* QRESYNC (RFC 7162 §3.2): telling a client that comes back knowing the
 * mailbox up to a modseq what vanished since, from the expunge history, or
 * when that was pruned, from what exists now (the RFC's fallback, §3.2.5.2:
 * every UID the client may know that is not in the mailbox). */
#include "server/imap/view.h"
#include "server/imap/seqset.h"
#include "schema/db_message.h"

#include <string.h>

struct vanished {
	struct imap_session *s;
	struct imap_seq_range *r;   /* ascending, in the arena */
	size_t n, cap;
};

static void add_range(struct vanished *v, uint32_t lo, uint32_t hi)
{
	if (v->n > 0 && v->r[v->n - 1].hi + 1 == lo) {
		v->r[v->n - 1].hi = hi;
		return;
	}
	v->r = arena_grow(&v->s->arena, v->r, v->n, &v->cap, sizeof(*v->r));
	v->r[v->n++] = (struct imap_seq_range){ lo, hi };
}

static void add_uid(void *ctx, uint32_t uid)
{
	add_range(ctx, uid, uid);
}

/* The first message number whose UID is at least uid (count + 1: none). */
static uint32_t first_msn_from(const struct imap_view *view, uint32_t uid)
{
	uint32_t lo = 1, hi = imap_view_count(view) + 1;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (imap_view_uid(view, mid) < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The UIDs of lo..hi (below uidnext) that are not in the view. */
static void add_missing(struct vanished *v, const struct imap_view *view, uint32_t lo, uint32_t hi)
{
	uint32_t count = imap_view_count(view), msn = first_msn_from(view, lo);
	uint64_t at = lo;

	if (view->uidnext == 0 || hi >= view->uidnext)
		hi = view->uidnext > 0 ? view->uidnext - 1 : 0;
	for (; at <= hi && msn <= count; msn++) {
		uint32_t uid = imap_view_uid(view, msn);
		if (uid > hi)
			break;
		if (at < uid)
			add_range(v, (uint32_t)at, uid - 1);
		at = (uint64_t)uid + 1;
	}
	if (at <= hi)
		add_range(v, (uint32_t)at, hi);
}

bool imap_report_vanished_since(struct imap_session *s, struct imap_backend *be,
				const struct db_uid_ranges *ranges, uint64_t modseq,
				struct imap_result *res_r)
{
	struct vanished v = { .s = s };
	bool pruned = false;
	char err[256];

	if (db_vanished_since(be->db, s->view->mailbox_id, modseq, ranges, &pruned, add_uid, &v,
			      err, sizeof(err)) == DB_FAILED) {
		*res_r = imap_store_failed(s, "reading expunged UIDs", err);
		return false;
	}
	if (pruned) {
		if (ranges == NULL)
			add_missing(&v, s->view, 1, UINT32_MAX);
		else
			for (size_t i = 0; i < ranges->count; i++)
				add_missing(&v, s->view, ranges->lo[i], ranges->hi[i]);
	}
	if (v.n == 0)
		return true;
	buf_append_str(&s->out, "* VANISHED (EARLIER) ");
	imap_seqset_format(&(struct imap_seqset){ .ranges = v.r, .count = v.n }, &s->out);
	buf_append(&s->out, "\r\n", 2);
	return true;
}
