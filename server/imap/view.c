#include "server/imap/view.h"
#include "server/imap/private_keywords.h"
#include "server/imap/search_args.h"
#include "server/imap/seqset.h"
#include "server/core/log.h"
#include "server/bus/bus.h"
#include "schema/db_message.h"

#include <stdlib.h>
#include <string.h>

#define SYSTEM_FLAGS "\\Answered \\Flagged \\Deleted \\Seen \\Draft"

void imap_view_close(struct imap_view *v)
{
	mbox_cache_release(v->cache, &v->state);
	bus_unwatch(v->bus, v->mailbox_id, v->reader);
	uid_ranges_free(&v->seen);
	modseq_map_free(&v->private_modseqs);
	imap_view_private_keywords_clear(v);
	free(v->name);
	msn_map_free(&v->msns);
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
	return msn_map_msn(&v->msns, uid);
}

uint32_t imap_view_count(const struct imap_view *v)
{
	return v->msns.count;
}

uint32_t imap_view_uid(const struct imap_view *v, uint32_t msn)
{
	return msn_map_uid(&v->msns, msn);
}

uint32_t imap_view_last_uid(const struct imap_view *v)
{
	return msn_map_last(&v->msns);
}

bool imap_view_is_recent(const struct imap_view *v, uint32_t uid)
{
	for (size_t i = 0; i < v->nrecent; i++)
		if (uid >= v->recent[i].lo && uid <= v->recent[i].hi)
			return true;
	return false;
}

void imap_view_forget_recent(struct imap_view *v)
{
	free(v->recent);
	v->recent = NULL;
	v->nrecent = 0;
	v->no_recent = true;
}

uint32_t imap_view_recent_count(const struct imap_view *v)
{
	uint32_t n = 0;

	/* Recent ranges are few (one per claim) and the UIDs in them are a
	 * suffix of the view, so counting from the end is short. */
	for (uint32_t msn = imap_view_count(v); msn > 0 && v->nrecent > 0; msn--) {
		uint32_t uid = imap_view_uid(v, msn);
		if (uid < v->recent[0].lo)
			break;
		n += imap_view_is_recent(v, uid);
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

bool imap_view_is_own_change(const struct imap_view *v, uint64_t modseq)
{
	for (size_t i = 0; i < v->nown; i++)
		if (v->own_modseqs[i] == modseq)
			return true;
	return false;
}

uint32_t imap_view_remove(struct imap_view *v, uint32_t uid)
{
	return msn_map_remove(&v->msns, uid);
}

void imap_view_report_expunges(struct imap_session *s, const uint32_t *uids, size_t n)
{
	uint32_t *gone = s->qresync ? arena_alloc(&s->arena, (n ? n : 1) * sizeof(*gone)) : NULL;
	size_t ngone = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t msn = imap_view_remove(s->view, uids[i]);
		if (msn == 0)
			continue;
		if (gone != NULL)
			gone[ngone++] = uids[i];
		else
			imap_untagged(s, "%u EXPUNGE", msn);
	}
	if (ngone > 0) {
		buf_append_str(&s->out, "* VANISHED ");
		imap_numbers_format(gone, ngone, &s->out);
		buf_append(&s->out, "\r\n", 2);
	}
}

void imap_view_own_flags(struct imap_view *v, uint32_t uid, unsigned flags)
{
	if (!v->seen_per_user)
		return;
	if (flags & 1u)
		uid_ranges_add(&v->seen, uid);
	else
		uid_ranges_remove(&v->seen, uid);
}

uint64_t imap_view_modseq(const struct imap_view *v, uint32_t uid, uint64_t shared)
{
	uint64_t own = modseq_map_get(&v->private_modseqs, uid);

	if (own < v->pruned_modseq)
		own = v->pruned_modseq;
	return own > shared ? own : shared;
}

uint64_t imap_view_highestmodseq(const struct imap_view *v)
{
	return v->private_modseq > v->shared_modseq ? v->private_modseq : v->shared_modseq;
}

void imap_view_private_change(struct imap_view *v, uint64_t modseq, const struct uid_ranges *uids)
{
	for (size_t i = 0; i < uids->n; i++)
		modseq_map_raise(&v->private_modseqs, uids->r[i].lo, uids->r[i].hi, modseq);
}

void imap_view_private_keywords_clear(struct imap_view *v)
{
	for (size_t i = 0; i < v->npkw; i++) {
		free(v->pkw[i].name);
		uid_ranges_free(&v->pkw[i].uids);
	}
	free(v->pkw);
	v->pkw = NULL;
	v->npkw = 0;
}

void imap_view_learn_private_keywords(struct imap_view *v)
{
	const char *p = v->private_names, *name;
	size_t len;

	while ((name = imap_private_keyword_next(&p, &len)) != NULL) {
		char *copy = xmalloc(len + 1);
		memcpy(copy, name, len);
		copy[len] = '\0';
		(void)imap_view_learn_keywords(v, copy);
		free(copy);
	}
}

void imap_view_private_keyword_set(struct imap_view *v, const char *name, const char *uids)
{
	size_t i;

	for (i = 0; i < v->npkw && strcmp(v->pkw[i].name, name) != 0; i++)
		;
	if (i == v->npkw) {
		v->pkw = xrealloc(v->pkw, (v->npkw + 1) * sizeof(*v->pkw));
		v->pkw[v->npkw++] = (struct imap_private_keyword){ .name = xstrdup(name) };
	}
	if (uid_ranges_parse_multirange(&v->pkw[i].uids, uids) < 0)
		log_warning("private keyword %s: unreadable UID set", name);
}

bool imap_view_wants_private_log(const struct imap_session *s)
{
	return s->view != NULL && s->condstore && s->view->seen_per_user && !s->view->private_loaded;
}

/* In a per-user mailbox the stored \Seen bit means nothing (db_seen_sql.h):
 * the reader's own set says. */
unsigned imap_view_reader_flags(const struct imap_view *v, const struct mbox_msg *m)
{
	if (!v->seen_per_user)
		return m->flags;
	return (m->flags & 30u) | (uid_ranges_has(&v->seen, m->uid) ? 1u : 0u);
}

void imap_view_append_uid(struct imap_view *v, uint32_t uid)
{
	msn_map_append(&v->msns, uid);
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
	/* In a per-user mailbox a shared keyword that is a private one's
	 * name means nothing (as the stored \Seen bit): the reader's own set
	 * says. Elsewhere the list goes out as it is. */
	if (v->private_names == NULL && keywords != NULL && keywords[0] != '\0') {
		buf_append_str(out, first ? "" : " ");
		buf_append_str(out, keywords);
		first = false;
	}
	for (const char *p = v->private_names != NULL ? keywords : NULL; p != NULL && *p != '\0';) {
		size_t n = strcspn(p, " "), len;
		if (n > 0 && imap_private_keyword(v->private_names, p, n, &len) == NULL) {
			buf_append_str(out, first ? "" : " ");
			buf_append(out, p, n);
			first = false;
		}
		p += n + (p[n] == ' ');
	}
	for (size_t i = 0; i < v->npkw; i++)
		if (uid_ranges_has(&v->pkw[i].uids, uid)) {
			buf_append_str(out, first ? "" : " ");
			buf_append_str(out, v->pkw[i].name);
			first = false;
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

