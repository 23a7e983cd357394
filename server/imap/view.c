#include "server/imap/view.h"
#include "server/imap/search_args.h"
#include "server/core/log.h"
#include "schema/db_message.h"

#include <stdlib.h>
#include <string.h>

#define SYSTEM_FLAGS "\\Answered \\Flagged \\Deleted \\Seen \\Draft"

void imap_view_open(struct imap_view *v, const char *name, bool readonly, struct db_selected *sel)
{
	memset(v, 0, sizeof(*v));
	v->mailbox_id = sel->mailbox_id;
	v->name = xstrdup(name);
	v->readonly = readonly;
	v->uidvalidity = sel->uidvalidity;
	v->uidnext = sel->uidnext;
	v->modseq = v->expunge_modseq = sel->highestmodseq;
	v->uids = sel->uids;
	v->count = v->cap = sel->count;
	sel->uids = NULL;
	imap_keyword_set_add_list(&v->keywords, sel->keywords);
	if (sel->recent_from < sel->uidnext) {
		v->recent = xmalloc(sizeof(*v->recent));
		v->recent[0].lo = sel->recent_from;
		v->recent[0].hi = sel->uidnext - 1;
		v->nrecent = 1;
	}
}

void imap_view_close(struct imap_view *v)
{
	free(v->name);
	free(v->uids);
	free(v->recent);
	imap_keyword_set_free(&v->keywords);
	free(v->own_modseqs);
	free(v->saved);
	memset(v, 0, sizeof(*v));
}

void imap_view_save_result(struct imap_view *v, uint32_t *uids, size_t n)
{
	free(v->saved);
	v->saved = uids;
	v->nsaved = n;
}

void imap_search_forget(struct imap_session *s, const struct imap_search_program *p)
{
	if (p->return_opts & IMAP_SEARCH_RETURN_SAVE)
		imap_view_save_result(s->view, NULL, 0);
}

uint32_t imap_view_msn(const struct imap_view *v, uint32_t uid)
{
	size_t lo = 0, hi = v->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < v->count && v->uids[lo] == uid ? (uint32_t)lo + 1 : 0;
}

bool imap_view_is_recent(const struct imap_view *v, uint32_t uid)
{
	for (size_t i = 0; i < v->nrecent; i++)
		if (uid >= v->recent[i].lo && uid <= v->recent[i].hi)
			return true;
	return false;
}

uint32_t imap_view_recent_count(const struct imap_view *v)
{
	uint32_t n = 0;

	/* Recent ranges are few (one per claim) and the UIDs in them are a
	 * suffix of the view, so counting from the end is short. */
	for (size_t i = v->count; i > 0 && v->nrecent > 0; i--) {
		if (v->uids[i - 1] < v->recent[0].lo)
			break;
		n += imap_view_is_recent(v, v->uids[i - 1]);
	}
	return n;
}

void imap_view_own_change(struct imap_view *v, uint64_t modseq)
{
	if (v->nown > 0 && v->own_modseqs[v->nown - 1] == modseq)
		return;
	v->own_modseqs = xrealloc(v->own_modseqs, (v->nown + 1) * sizeof(*v->own_modseqs));
	v->own_modseqs[v->nown++] = modseq;
}

static bool view_is_own_change(const struct imap_view *v, uint64_t modseq)
{
	for (size_t i = 0; i < v->nown; i++)
		if (v->own_modseqs[i] == modseq)
			return true;
	return false;
}

uint32_t imap_view_remove(struct imap_view *v, uint32_t uid)
{
	uint32_t msn = imap_view_msn(v, uid);

	if (msn == 0)
		return 0;
	memmove(&v->uids[msn - 1], &v->uids[msn], (v->count - msn) * sizeof(v->uids[0]));
	v->count--;
	return msn;
}

void imap_view_expunged(struct imap_session *s, uint32_t uid)
{
	uint32_t msn = imap_view_remove(s->view, uid);

	if (msn != 0)
		imap_untagged(s, "%u EXPUNGE", msn);
}

static void view_append_uid(struct imap_view *v, uint32_t uid)
{
	if (v->count == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 64;
		v->uids = xrealloc(v->uids, v->cap * sizeof(v->uids[0]));
	}
	v->uids[v->count++] = uid;
}

void imap_view_write_flags(struct imap_session *s, const struct imap_view *v)
{
	const char *sep = v->keywords.count > 0 ? " " : "";

	/* Written straight into the output: the list may be long (each
	 * keyword up to a command line), so no formatting pass over it. */
	buf_append_str(&s->out, "* FLAGS (" SYSTEM_FLAGS);
	buf_append_str(&s->out, sep);
	imap_keyword_set_write(&v->keywords, &s->out);
	buf_append_str(&s->out, ")\r\n");
	if (v->readonly) {
		imap_untagged(s, "OK [PERMANENTFLAGS ()] Read-only mailbox");
		return;
	}
	buf_append_str(&s->out, "* OK [PERMANENTFLAGS (" SYSTEM_FLAGS);
	buf_append_str(&s->out, sep);
	imap_keyword_set_write(&v->keywords, &s->out);
	/* RFC 3501 §7.1: without "\*" the client knows it cannot create
	 * keywords; those listed can still be set. */
	if ((long)v->keywords.count < s->cfg->max_keywords_per_mailbox)
		buf_append_str(&s->out, " \\*)] Flags permitted\r\n");
	else
		buf_append_str(&s->out, ")] Flags permitted; no new keywords: the mailbox has reached its limit\r\n");
}

void imap_view_format_flags(struct buf *out, const struct imap_view *v, uint32_t uid,
			    unsigned flags, const char *keywords)
{
	static const char *const names[] = { "\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft" };
	bool first = true;

	buf_append(out, "(", 1);
	for (unsigned bit = 0; bit < 5; bit++)
		if (flags & (1u << bit)) {
			buf_appendf(out, "%s%s", first ? "" : " ", names[bit]);
			first = false;
		}
	if (imap_view_is_recent(v, uid)) {
		buf_appendf(out, "%s\\Recent", first ? "" : " ");
		first = false;
	}
	if (keywords != NULL && keywords[0] != '\0') {
		buf_append_str(out, first ? "" : " ");
		buf_append_str(out, keywords);
	}
	buf_append(out, ")", 1);
}

bool imap_view_learn_keywords(struct imap_view *v, const char *keywords)
{
	return imap_keyword_set_add_list(&v->keywords, keywords);
}

/* An untagged NO is a warning, and the command still succeeds (RFC 3501
 * §7.1.2): the messages are stored, only some labels are not. */
void imap_keywords_dropped(struct imap_session *s)
{
	imap_untagged(s, "NO [LIMIT] Keywords new to the mailbox were not stored:"
		      " it has reached its limit of %ld keywords", s->cfg->max_keywords_per_mailbox);
}

void imap_view_announce(struct imap_session *s, const char *keywords)
{
	struct imap_view *v = s->view;

	if (keywords != NULL && keywords[0] != '\0' && imap_view_learn_keywords(v, keywords))
		imap_view_write_flags(s, v);
}

struct sync_flags {
	uint32_t uid;
	unsigned flags;
	char *keywords;
};

/* What one poll brought, applied in the order RFC 3501 wants: expunges
 * first (they renumber), then flag changes, then the new EXISTS count. */
struct sync_state {
	struct imap_session *s;
	struct imap_view *v;
	bool allow_expunge;
	uint64_t highestmodseq;
	uint32_t uidnext;
	uint32_t recent_from;       /* claimed \Recent from here to uidnext; 0: none */
	uint32_t *expunged;
	size_t nexpunged;
	struct sync_flags *changed; /* flag changes, reported after the expunges */
	size_t nchanged;
	uint32_t *new_uids;
	size_t nnew;
	bool new_keywords;
};

static void sync_mailbox(void *ctx, uint64_t highestmodseq, uint32_t uidnext, uint32_t recent_from)
{
	struct sync_state *st = ctx;

	st->highestmodseq = highestmodseq;
	st->uidnext = uidnext;
	st->recent_from = recent_from;
}

static void sync_message(void *ctx, uint32_t uid, unsigned flags, const char *keywords, uint64_t modseq)
{
	struct sync_state *st = ctx;
	struct imap_view *v = st->v;

	if (imap_view_learn_keywords(v, keywords))
		st->new_keywords = true;
	if (v->count == 0 || uid > v->uids[v->count - 1]) {
		st->new_uids = xrealloc(st->new_uids, (st->nnew + 1) * sizeof(uint32_t));
		st->new_uids[st->nnew++] = uid;
		return;
	}
	if (view_is_own_change(v, modseq) || imap_view_msn(v, uid) == 0)
		return;
	st->changed = xrealloc(st->changed, (st->nchanged + 1) * sizeof(*st->changed));
	st->changed[st->nchanged].uid = uid;
	st->changed[st->nchanged].flags = flags;
	st->changed[st->nchanged].keywords = xstrdup(keywords);
	st->nchanged++;
}

/* A keyword registered since the last poll, possibly on no message this
 * poll reports (a STORE that another command then undid, a keyword only
 * on messages this session does not see yet): announced all the same, so
 * that the FLAGS list follows the mailbox's registry. */
static void sync_keyword(void *ctx, const char *keyword)
{
	struct sync_state *st = ctx;

	if (imap_view_learn_keywords(st->v, keyword))
		st->new_keywords = true;
}

static void sync_expunged(void *ctx, uint32_t uid, uint64_t modseq)
{
	struct sync_state *st = ctx;

	(void)modseq;
	if (!st->allow_expunge || imap_view_msn(st->v, uid) == 0)
		return;
	st->expunged = xrealloc(st->expunged, (st->nexpunged + 1) * sizeof(uint32_t));
	st->expunged[st->nexpunged++] = uid;
}

static void sync_emit(struct sync_state *st)
{
	struct imap_session *s = st->s;
	struct imap_view *v = st->v;

	for (size_t i = 0; i < st->nexpunged; i++) {
		uint32_t msn = imap_view_remove(v, st->expunged[i]);
		if (msn != 0)
			imap_untagged(s, "%u EXPUNGE", msn);
	}
	if (st->new_keywords)
		imap_view_write_flags(s, v);
	for (size_t i = 0; i < st->nchanged; i++) {
		const struct sync_flags *f = &st->changed[i];
		uint32_t msn = imap_view_msn(v, f->uid);
		if (msn == 0)
			continue;
		buf_appendf(&s->out, "* %u FETCH (FLAGS ", msn);
		imap_view_format_flags(&s->out, v, f->uid, f->flags, f->keywords);
		buf_append(&s->out, ")\r\n", 3);
	}
	for (size_t i = 0; i < st->nnew; i++)
		view_append_uid(v, st->new_uids[i]);
}

/* A claim covers [recent_from, uidnext): UIDs this session is told of in
 * this sync or was told of before (never another session's). */
static void sync_claim(struct imap_view *v, const struct sync_state *st)
{
	if (st->recent_from == 0 || st->recent_from >= st->uidnext)
		return;
	v->recent = xrealloc(v->recent, (v->nrecent + 1) * sizeof(*v->recent));
	v->recent[v->nrecent].lo = st->recent_from;
	v->recent[v->nrecent].hi = st->uidnext - 1;
	v->nrecent++;
}

bool imap_view_sync(struct imap_session *s, struct imap_backend *be, bool allow_expunge,
		    struct db_sync_acl *acl_r, struct imap_result *res_r)
{
	struct imap_view *v = s->view;
	struct sync_state st = { .s = s, .v = v, .allow_expunge = allow_expunge };
	struct db_changes_cb cb = { &st, sync_mailbox, sync_message, sync_expunged, sync_keyword };
	struct db_sync_request req;
	enum db_result r;
	char err[256];

	if (v == NULL)
		return true;
	req = (struct db_sync_request){ .modseq = v->modseq, .expunge_modseq = v->expunge_modseq,
					.claim_recent = !v->readonly };
	r = db_mailbox_sync(be->db, s->account_id, v->mailbox_id, &req, &cb, &s->arena, acl_r,
			    err, sizeof(err));
	if (r == DB_FAILED) {
		*res_r = imap_store_failed(s, "reading the mailbox's changes", err);
		goto out;
	}
	if (r == DB_NOT_FOUND) {
		/* RFC 3501 §7.1.5: the mailbox went away under us. */
		imap_untagged(s, "BYE The selected mailbox was deleted");
		s->after = IMAP_AFTER_CLOSE;
		*res_r = imap_no(s, "NONEXISTENT", "The selected mailbox was deleted");
		goto out;
	}
	sync_emit(&st);
	sync_claim(v, &st);
	if (st.nnew > 0) {
		imap_untagged(s, "%zu EXISTS", v->count);
		imap_untagged(s, "%u RECENT", imap_view_recent_count(v));
	}
	/* Own changes are at or below the new watermark: they cannot come
	 * back, so the list starts afresh. */
	v->modseq = st.highestmodseq;
	v->nown = 0;
	if (allow_expunge)
		v->expunge_modseq = st.highestmodseq;
	v->uidnext = st.uidnext;
out:
	free(st.expunged);
	free(st.new_uids);
	for (size_t i = 0; i < st.nchanged; i++)
		free(st.changed[i].keywords);
	free(st.changed);
	return r == DB_OK;
}
