/* Opening the selected mailbox and following its changes: the one
 * statement (db_mailbox_sync) that SELECT and every command on the mailbox
 * run, its rows applied to the process's shared state (mbox_cache.h) and
 * to the session's view, and the responses that tell the client.
 *
 * The shared state and the session each have a modseq: the state's is how
 * far it is complete, the session's how far the client was told. The
 * statement reads from the lower of the two, so one result brings the
 * state up to date (when it applies: mbox_state_applicable) and tells the
 * session what is new to it. */
#include "server/imap/view.h"
#include "server/imap/rights.h"
#include "server/bus/bus.h"
#include "schema/db_message.h"

#include <stdlib.h>
#include <string.h>

struct sync_flags {
	uint32_t uid;
	unsigned flags;
	char *keywords;
	uint64_t modseq;
};

/* What one statement brought, applied in the order RFC 3501 wants:
 * expunges first (they renumber), then flag changes, then the new EXISTS
 * count. */
struct sync_state {
	struct imap_session *s;
	struct imap_view *v;
	bool opening;               /* SELECT: only the state is built from the rows */
	bool allow_expunge;
	bool locked;                /* holds the state's write lock */
	bool apply;                 /* the result applies to the shared state */
	uint64_t read_from;         /* the statement read messages changed above this */
	uint64_t private_from;      /* the reader's private changes told up to here */
	struct db_sync_mailbox m;
	uint32_t *expunged;
	size_t nexpunged;
	struct sync_flags *changed; /* flag changes, reported after the expunges */
	size_t nchanged;
	uint32_t *new_uids;
	size_t nnew;
	uint32_t *private_uids;     /* the reader's \Seen changed by its other sessions */
	size_t nprivate;
	bool new_keywords;
	bool seen_bad;              /* the reader's seen set could not be read */
};

/* The first row: from here to the end of the result the state is locked,
 * so that no older result can be applied in between. */
static void sync_mailbox(void *ctx, const struct db_sync_mailbox *m)
{
	struct sync_state *st = ctx;

	st->m = *m;
	st->v->shared_modseq = m->shared_modseq;
	st->v->private_modseq = m->private_modseq;
	st->v->pruned_modseq = m->pruned_modseq;
	if (m->seen_set != NULL && uid_ranges_parse_multirange(&st->v->seen, m->seen_set) < 0)
		st->seen_bad = true;
	if (m->seen_set != NULL)
		imap_view_private_keywords_clear(st->v);   /* kind 6 rows follow */
	mbox_state_wrlock(st->v->state);
	st->locked = true;
	st->apply = mbox_state_applicable(st->v->state, st->read_from, m->highestmodseq);
}

/* Whether a row is news to the session (the statement may have read
 * further back, for the shared state). */
static bool news(const struct sync_state *st, uint64_t modseq)
{
	return !st->opening && modseq > st->v->modseq;
}

static void sync_message(void *ctx, uint32_t uid, unsigned flags, unsigned stored_flags,
			 const char *keywords, uint64_t modseq)
{
	struct sync_state *st = ctx;
	struct imap_view *v = st->v;

	if (st->apply)
		mbox_state_apply_message(v->state, uid, (uint8_t)stored_flags, keywords, modseq);
	if (!news(st, modseq))
		return;
	imap_view_own_flags(v, uid, flags);
	if (imap_view_learn_keywords(v, keywords))
		st->new_keywords = true;
	if (uid > imap_view_last_uid(v)) {
		st->new_uids = xrealloc(st->new_uids, (st->nnew + 1) * sizeof(uint32_t));
		st->new_uids[st->nnew++] = uid;
		return;
	}
	if (imap_view_is_own_change(v, modseq) || imap_view_msn(v, uid) == 0)
		return;
	st->changed = xrealloc(st->changed, (st->nchanged + 1) * sizeof(*st->changed));
	st->changed[st->nchanged].uid = uid;
	st->changed[st->nchanged].flags = flags;
	st->changed[st->nchanged].keywords = xstrdup(keywords);
	st->changed[st->nchanged].modseq = modseq;
	st->nchanged++;
}

static void sync_private_keyword(void *ctx, const char *keyword, const char *uids)
{
	struct sync_state *st = ctx;

	imap_view_private_keyword_set(st->v, keyword, uids);
}

/* A private change of the reader's own (its \Seen, changed by another of
 * its sessions): into the reader's modseqs, and reported for the messages
 * of the view it touched unless this session made it. */
static void sync_private(void *ctx, uint64_t modseq, const char *uids)
{
	struct sync_state *st = ctx;
	struct imap_view *v = st->v;
	struct uid_ranges r = { 0 };
	const struct mbox_msg *msgs;
	size_t n;

	if (uid_ranges_parse_multirange(&r, uids) < 0)
		return;
	imap_view_private_change(v, modseq, &r);
	if (st->opening || modseq <= st->private_from || imap_view_is_own_change(v, modseq)) {
		uid_ranges_free(&r);
		return;
	}
	msgs = mbox_state_messages(v->state, &n);   /* under the write lock */
	for (size_t k = 0; k < r.n; k++)
		for (size_t i = mbox_state_index(v->state, r.r[k].lo); i < n && msgs[i].uid <= r.r[k].hi; i++) {
			if (imap_view_msn(v, msgs[i].uid) == 0)
				continue;
			st->private_uids = xrealloc(st->private_uids, (st->nprivate + 1) * sizeof(uint32_t));
			st->private_uids[st->nprivate++] = msgs[i].uid;
		}
	uid_ranges_free(&r);
}

/* A keyword registered since the last poll, possibly on no message this
 * poll reports (a STORE that another command then undid, a keyword only
 * on messages this session does not see yet): announced all the same, so
 * that the FLAGS list follows the mailbox's registry. */
static void sync_keyword(void *ctx, const char *keyword)
{
	struct sync_state *st = ctx;

	if (imap_view_learn_keywords(st->v, keyword))
		st->new_keywords = !st->opening;
}

static void sync_expunged(void *ctx, uint32_t uid, uint64_t modseq)
{
	struct sync_state *st = ctx;

	if (st->apply)
		mbox_state_apply_expunge(st->v->state, uid);
	if (st->opening || modseq <= st->v->expunge_modseq || imap_view_msn(st->v, uid) == 0)
		return;
	if (!st->allow_expunge) {
		st->v->expunges_held = true;   /* told at the next command that may */
		return;
	}
	st->expunged = xrealloc(st->expunged, (st->nexpunged + 1) * sizeof(uint32_t));
	st->expunged[st->nexpunged++] = uid;
}

/* "* n FETCH (FLAGS ...)" for a change another session made; with
 * CONDSTORE the message's MODSEQ for this reader too (RFC 7162 §3.1.4),
 * and with QRESYNC its UID (§3.2.4). */
static void report_flags(struct imap_session *s, uint32_t uid, unsigned flags,
			 const char *keywords, uint64_t modseq)
{
	struct imap_view *v = s->view;
	uint32_t msn = imap_view_msn(v, uid);

	if (msn == 0)
		return;
	buf_appendf(&s->out, "* %u FETCH (", msn);
	if (s->qresync)
		buf_appendf(&s->out, "UID %u ", uid);
	buf_append_str(&s->out, "FLAGS ");
	imap_view_format_flags(&s->out, v, uid, flags, keywords);
	if (s->condstore)
		buf_appendf(&s->out, " MODSEQ (%llu)", (unsigned long long)imap_view_modseq(v, uid, modseq));
	buf_append(&s->out, ")\r\n", 3);
}

/* Whether a kind 1 row already reports the UID (the list is in UID order). */
static bool reported(const struct sync_state *st, uint32_t uid)
{
	size_t lo = 0, hi = st->nchanged;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (st->changed[mid].uid == uid)
			return true;
		if (st->changed[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static void sync_emit(struct sync_state *st)
{
	struct imap_session *s = st->s;
	struct imap_view *v = st->v;

	imap_view_report_expunges(s, st->expunged, st->nexpunged);
	if (st->new_keywords)
		imap_view_write_flags(s, v);
	for (size_t i = 0; i < st->nchanged; i++) {
		const struct sync_flags *f = &st->changed[i];
		report_flags(s, f->uid, f->flags, f->keywords, f->modseq);
	}
	/* Still under the state's lock: its messages are as the statement
	 * left them, or newer. */
	for (size_t i = 0; i < st->nprivate; i++) {
		const struct mbox_msg *m = mbox_state_find(v->state, st->private_uids[i]);
		if (m != NULL && !reported(st, m->uid))
			report_flags(s, m->uid, imap_view_reader_flags(v, m), m->keywords, m->modseq);
	}
	for (size_t i = 0; i < st->nnew; i++)
		imap_view_append_uid(v, st->new_uids[i]);
}

/* A claim covers [recent_from, uidnext): UIDs this session is told of in
 * this statement or was told of before (never another session's). A
 * read-only session claims nothing but counts the same range from the
 * bound as it stands (RFC 3501 §6.3.2), again at every statement: a range
 * that meets the last one extends it, so the list grows only when another
 * session claimed mail this one had not yet been told of. */
static void sync_claim(struct imap_view *v, const struct db_sync_mailbox *m)
{
	struct imap_uid_range *last = v->nrecent > 0 ? &v->recent[v->nrecent - 1] : NULL;

	if (v->no_recent || m->recent_from == 0 || m->recent_from >= m->uidnext)
		return;
	if (last != NULL && m->recent_from >= last->lo && m->recent_from <= last->hi + 1) {
		if (last->hi < m->uidnext - 1)
			last->hi = m->uidnext - 1;
		return;
	}
	v->recent = xrealloc(v->recent, (v->nrecent + 1) * sizeof(*v->recent));
	v->recent[v->nrecent].lo = m->recent_from;
	v->recent[v->nrecent].hi = m->uidnext - 1;
	v->nrecent++;
}

static void sync_state_free(struct sync_state *st)
{
	if (st->locked) {
		if (st->apply)
			mbox_state_applied(st->v->state, st->m.highestmodseq, st->m.uidnext);
		mbox_state_unlock(st->v->state);
	}
	free(st->expunged);
	free(st->new_uids);
	free(st->private_uids);
	for (size_t i = 0; i < st->nchanged; i++)
		free(st->changed[i].keywords);
	free(st->changed);
}

/* Runs the statement; the state stays locked (st->locked) when it ran. */
static enum db_result sync_run(struct imap_session *s, struct imap_backend *be,
			       struct sync_state *st, const struct db_sync_request *req,
			       struct db_sync_acl *acl_r, struct imap_result *res_r)
{
	struct db_changes_cb cb = { st, sync_mailbox, sync_message, sync_expunged, sync_keyword,
				    sync_private, sync_private_keyword };
	enum db_result r;
	char err[256];

	st->read_from = req->modseq;
	st->private_from = st->v->private_modseq;
	r = db_mailbox_sync(be->db, s->account_id, st->v->mailbox_id, req, &cb, &s->arena, acl_r,
			    err, sizeof(err));
	if (r == DB_FAILED) {
		st->apply = false;  /* a result cut short must not be recorded */
		*res_r = imap_store_failed(s, "reading the mailbox's changes", err);
	}
	return r;
}

/* Where the shared state is complete from (0: not loaded), read under its
 * lock: the statement reads from no later than this. */
static uint64_t state_modseq(struct mbox_state *state)
{
	uint64_t m;

	mbox_state_rdlock(state);
	m = mbox_state_loaded(state) ? mbox_state_modseq(state) : 0;
	mbox_state_unlock(state);
	return m;
}

/* The view as of the shared state, which is at least as new as the
 * statement's snapshot: the session's UIDs are the state's. */
static void open_from_state(struct imap_view *v, const struct sync_state *st,
			    uint32_t *first_unseen_r)
{
	size_t n;
	const struct mbox_msg *msgs = mbox_state_messages(v->state, &n);

	*first_unseen_r = 0;
	for (size_t i = 0; i < n; i++) {
		imap_view_append_uid(v, msgs[i].uid);
		if (*first_unseen_r == 0 && !(imap_view_reader_flags(v, &msgs[i]) & 1u))
			*first_unseen_r = msgs[i].uid;
	}
	v->uidnext = mbox_state_uidnext(v->state);
	if (v->uidnext < st->m.uidnext)
		v->uidnext = st->m.uidnext;
	/* Told up to the statement's snapshot: what the state holds beyond
	 * it is reported again by the next statement, harmlessly. */
	v->modseq = v->expunge_modseq = st->m.highestmodseq;
	sync_claim(v, &st->m);
}

bool imap_view_open(struct imap_session *s, struct imap_backend *be,
		    const struct imap_mailbox_acl *acl, bool readonly, uint32_t *first_unseen_r,
		    struct imap_result *res_r)
{
	struct imap_view *v = xcalloc(1, sizeof(*v));
	struct sync_state st = { .s = s, .v = v, .opening = true };
	struct db_sync_request req = { .claim_recent = !readonly && !s->imap4rev2,
				       .seen_set = true, .private_changes = s->condstore };
	enum db_result r;

	v->mailbox_id = acl->mailbox_id;
	v->name = xstrdup(acl->name);
	v->readonly = readonly;
	v->no_recent = s->imap4rev2;
	v->rights = acl->rights;
	v->cache = be->mbox_cache;
	v->state = mbox_cache_acquire(v->cache, v->mailbox_id);
	v->bus = be->bus;
	v->reader = s->account_id;
	bus_watch(v->bus, v->mailbox_id, v->reader);
	v->bus_gen = bus_generation(v->bus, v->mailbox_id, v->reader);
	v->groups_gen = s->groups_gen;
	req.modseq = state_modseq(v->state);
	req.expunges = req.modseq > 0;
	req.expunge_modseq = req.modseq;
	r = sync_run(s, be, &st, &req, NULL, res_r);
	if (r == DB_OK) {
		v->uidvalidity = st.m.uidvalidity;
		v->seen_per_user = st.m.seen_per_user;
		/* Announced in FLAGS with the mailbox's keywords: a client may
		 * set them whatever the registry holds. */
		if (v->seen_per_user && s->cfg->private_keywords[0] != '\0') {
			v->private_names = s->cfg->private_keywords;
			imap_view_learn_private_keywords(v);
		}
		v->flags_cached = !v->seen_per_user || (st.m.seen_set != NULL && !st.seen_bad);
		v->private_loaded = s->condstore;
		if (st.apply)
			mbox_state_applied(v->state, st.m.highestmodseq, st.m.uidnext);
		st.apply = false;
		open_from_state(v, &st, first_unseen_r);
		bus_learned(v->bus, v->mailbox_id, v->reader, v->shared_modseq, v->private_modseq);
	} else if (r == DB_NOT_FOUND)
		*res_r = imap_no(s, "NONEXISTENT", "No such mailbox");
	sync_state_free(&st);
	if (r != DB_OK) {
		imap_view_close(v);
		free(v);
		return false;
	}
	s->view = v;
	return true;
}

bool imap_view_sync(struct imap_session *s, struct imap_backend *be, bool allow_expunge,
		    struct db_sync_acl *acl_r, struct imap_result *res_r)
{
	struct imap_view *v = s->view;
	struct sync_state st = { .s = s, .v = v, .allow_expunge = allow_expunge };
	struct db_sync_request req = { .expunges = true,
				       .claim_recent = !v->readonly && !v->no_recent,
				       .private_changes = true };
	bool load_private = imap_view_wants_private_log(s);
	uint64_t state = state_modseq(v->state), gen = bus_generation(v->bus, v->mailbox_id, v->reader);
	enum db_result r;

	req.modseq = state != 0 && state < v->modseq ? state : v->modseq;
	req.expunge_modseq = state != 0 && state < v->expunge_modseq ? state : v->expunge_modseq;
	req.keyword_modseq = v->modseq;
	req.private_modseq = load_private ? 0 : v->private_modseq;
	r = sync_run(s, be, &st, &req, acl_r, res_r);
	if (r == DB_NOT_FOUND) {
		/* RFC 3501 §7.1.5: the mailbox went away under us. */
		imap_untagged(s, "BYE The selected mailbox was deleted");
		s->after = IMAP_AFTER_CLOSE;
		*res_r = imap_no(s, "NONEXISTENT", "The selected mailbox was deleted");
	}
	if (r == DB_OK) {
		if (st.m.seen_per_user != v->seen_per_user || st.seen_bad)
			v->flags_cached = false;
		v->private_loaded |= load_private;
		sync_emit(&st);
		sync_claim(v, &st.m);
		if (st.nnew > 0) {
			imap_untagged(s, "%u EXISTS", imap_view_count(v));
			if (!v->no_recent)   /* RFC 9051 Appendix E */
				imap_untagged(s, "%u RECENT", imap_view_recent_count(v));
		}
		/* Own changes are at or below the new watermark: they cannot
		 * come back, so the list starts afresh. */
		v->modseq = st.m.highestmodseq;
		v->nown = 0;
		if (allow_expunge) {
			v->expunge_modseq = st.m.highestmodseq;
			v->expunges_held = false;
		}
		v->uidnext = st.m.uidnext;
		/* Current up to this generation only when the ACL was read too. */
		if (acl_r != NULL)
			v->bus_gen = gen;
		bus_learned(v->bus, v->mailbox_id, v->reader, v->shared_modseq, v->private_modseq);
	}
	sync_state_free(&st);
	return r == DB_OK;
}
