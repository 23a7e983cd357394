/* FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8; BINARY RFC 3516). The rows
 * stream from the store one at a time and each response is written as it
 * arrives; the session flushes its output to the connection as it grows, so
 * a FETCH of a whole mailbox holds neither the mailbox nor the response in
 * memory. */
#include "server/imap/commands.h"
#include "server/imap/args.h"
#include "server/imap/datetime.h"
#include "server/imap/fetch_args.h"
#include "acl/command_rights.h"
#include "server/imap/fetch_section.h"
#include "server/imap/header_downgrade.h"
#include "server/imap/msgset.h"
#include "server/imap/objectid.h"
#include "server/imap/view.h"
#include "server/imap/writer.h"
#include "server/mime/mime.h"
#include "schema/db_message.h"

#include <stdlib.h>
#include <string.h>

struct fetch_ctx {
	struct imap_session *s;
	const struct imap_fetch_request *req;
	bool uid;                  /* UID FETCH: UID comes first, always */
	bool add_flags;            /* FLAGS not asked for but \Seen was set */
	bool show_flags;           /* FLAGS asked for */
	uint32_t *seen_set;        /* UIDs whose \Seen this command set, ascending */
	size_t nseen;
	struct buf scratch;
	bool undecodable;
	/* RFC 7162 §3.1.4.1 CHANGEDSINCE: only messages whose MODSEQ for the
	 * reader is above it, each with its MODSEQ even if not asked for. */
	bool changedsince_set;
	uint64_t changedsince;
	bool add_modseq;
	bool seen_shared;          /* setting \Seen changed the message rows (a common \Seen) */
	/* Previews computed here for rows stored before migrations/0015,
	 * stored once the rows have been read (fetch_store_previews). */
	int64_t *preview_ids;      /* previews to store (FETCH_PREVIEW_STORE_MAX at most) */
	char **preview_texts;
	size_t npreviews;
};

/* A FETCH stores at most this many previews it computed (each at most
 * 1 KiB: 256 characters of UTF-8), so a FETCH 1:* PREVIEW of a large old
 * mailbox holds a bounded amount; the indexer's reanalysis
 * (migrations/0015) or the next FETCH stores the rest. */
#define FETCH_PREVIEW_STORE_MAX 256

static bool seen_now(const struct fetch_ctx *f, uint32_t uid)
{
	size_t lo = 0, hi = f->nseen;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->seen_set[mid] == uid)
			return true;
		if (f->seen_set[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* A section's bytes as a literal, cut to the partial range. A plain
 * literal cannot carry NUL (RFC 3501 §9: CHAR8 is %x01-ff), so NULs of a
 * malformed message go out as 0x80, as in the stored ENVELOPE; BINARY data
 * with NUL goes out as a literal8 instead (RFC 3516 §4.2). */
static void write_section(struct buf *out, const struct imap_fetch_item *it,
			  const char *data, size_t len)
{
	size_t off = 0, n = len;
	const char *nul;

	if (it->partial) {
		off = it->offset < len ? it->offset : len;
		n = len - off;
		if ((uint64_t)it->length < n)
			n = it->length;
	}
	data += off;
	nul = memchr(data, '\0', n);
	if (nul != NULL && it->kind == IMAP_FETCH_BINARY) {
		buf_appendf(out, "~{%zu}\r\n", n);
		buf_append(out, data, n);
		return;
	}
	buf_appendf(out, "{%zu}\r\n", n);
	while (nul != NULL) {
		buf_append(out, data, (size_t)(nul - data));
		buf_append(out, "\x80", 1);
		n -= (size_t)(nul - data) + 1;
		data = nul + 1;
		nul = memchr(data, '\0', n);
	}
	buf_append(out, data, n);
}

/* A precomputed ENVELOPE, BODY or BODYSTRUCTURE: as stored to a client
 * that takes UTF-8, downgraded when it holds 8-bit bytes and the client
 * does not (RFC 9755, RFC 6855 §7: header_downgrade.h). */
static void write_header_data(const struct imap_session *s, struct buf *out, const char *v,
			      size_t len, int (*downgrade)(const char *, size_t, struct buf *))
{
	if (imap_session_utf8(s) || !imap_has_8bit(v, len) || downgrade(v, len, out) < 0)
		buf_append(out, v, len);
}

/* RFC 8970 §3.1 PREVIEW: the stored preview; for a row stored before
 * there was one, NIL under LAZY (the indexer computes it later), else
 * computed from the raw bytes now (then kept for storing). */
static void write_preview(struct fetch_ctx *f, const struct imap_fetch_item *it,
			  const struct db_message_row *row, struct buf *out)
{
	buf_append_str(out, "PREVIEW ");
	if (row->preview != NULL) {
		imap_write_string(out, row->preview, row->preview_len);
		return;
	}
	if (row->raw == NULL || row->raw_len < row->size || (it->lazy && !f->req->needs_raw)) {
		buf_append_str(out, "NIL");
		return;
	}
	buf_clear(&f->scratch);
	mime_preview(row->raw, row->raw_len, &f->scratch);
	imap_write_string(out, (const char *)f->scratch.data, f->scratch.len);
	if (f->npreviews < FETCH_PREVIEW_STORE_MAX && row->message_id > 0) {
		if (f->preview_ids == NULL) {
			f->preview_ids = arena_alloc(&f->s->arena,
						     FETCH_PREVIEW_STORE_MAX * sizeof(*f->preview_ids));
			f->preview_texts = arena_alloc(&f->s->arena,
						       FETCH_PREVIEW_STORE_MAX * sizeof(*f->preview_texts));
		}
		f->preview_ids[f->npreviews] = row->message_id;
		f->preview_texts[f->npreviews++] =
			arena_strndup(&f->s->arena, (const char *)f->scratch.data, f->scratch.len);
	}
}

static void write_item(struct fetch_ctx *f, const struct imap_fetch_item *it,
		       const struct db_message_row *row, struct buf *out)
{
	const struct imap_view *v = f->s->view;
	const char *data;
	size_t len;

	switch (it->kind) {
	case IMAP_FETCH_UID:
		buf_appendf(out, "UID %u", row->uid);
		return;
	case IMAP_FETCH_FLAGS:
		buf_append_str(out, "FLAGS ");
		imap_view_format_flags(out, v, row->uid, row->flags | (seen_now(f, row->uid) ? 1u : 0u),
				       row->keywords);
		return;
	case IMAP_FETCH_INTERNALDATE:
		buf_append_str(out, "INTERNALDATE ");
		imap_datetime_format(row->internaldate, 0, out);
		return;
	case IMAP_FETCH_RFC822_SIZE:
		buf_appendf(out, "RFC822.SIZE %llu", (unsigned long long)row->size);
		return;
	case IMAP_FETCH_MODSEQ:
		buf_appendf(out, "MODSEQ (%llu)",
			    (unsigned long long)imap_view_modseq(v, row->uid, row->modseq));
		return;
	case IMAP_FETCH_ENVELOPE:
		buf_append_str(out, "ENVELOPE ");
		write_header_data(f->s, out, row->envelope, row->envelope_len, imap_envelope_downgrade);
		return;
	case IMAP_FETCH_BODY:
		buf_append_str(out, "BODY ");
		write_header_data(f->s, out, row->body, row->body_len, imap_bodystructure_downgrade);
		return;
	case IMAP_FETCH_BODYSTRUCTURE:
		buf_append_str(out, "BODYSTRUCTURE ");
		write_header_data(f->s, out, row->bodystructure, row->bodystructure_len,
				  imap_bodystructure_downgrade);
		return;
	case IMAP_FETCH_PREVIEW:
		write_preview(f, it, row, out);
		return;
	case IMAP_FETCH_EMAILID: {
		char id[IMAP_OBJECTID_BUF];
		buf_appendf(out, "EMAILID (%s)", imap_emailid(id, row->message_id));
		return;
	}
	case IMAP_FETCH_THREADID:
		buf_append_str(out, "THREADID NIL");   /* objectid.h: no threads */
		return;
	case IMAP_FETCH_SAVEDATE:
		buf_append_str(out, "SAVEDATE ");
		if (row->saved_known)
			imap_datetime_format(row->saved_at, 0, out);
		else
			buf_append_str(out, "NIL");   /* saved before migrations/0017 */
		return;
	default:
		break;
	}
	buf_append(out, it->name, it->name_len);
	buf_append(out, " ", 1);
	switch (imap_fetch_section(it, row->raw, row->raw_len, row->parts, row->parts_len,
				   &f->scratch, &data, &len)) {
	case IMAP_SECTION_OK:
		if (it->kind == IMAP_FETCH_BINARY_SIZE)
			buf_appendf(out, "%zu", len);
		else
			write_section(out, it, data, len);
		return;
	case IMAP_SECTION_MISSING:
		buf_append_str(out, it->kind == IMAP_FETCH_BINARY_SIZE ? "0" : "NIL");
		return;
	case IMAP_SECTION_UNDECODABLE:
		f->undecodable = true;
		buf_append_str(out, "NIL");
		return;
	}
}

static int fetch_row(void *ctx, const struct db_message_row *row)
{
	struct fetch_ctx *f = ctx;
	struct imap_session *s = f->s;
	uint32_t msn = imap_view_msn(s->view, row->uid);
	bool first = true;

	if (msn == 0)
		return 0;
	if (f->changedsince_set && imap_view_modseq(s->view, row->uid, row->modseq) <= f->changedsince &&
	    !seen_now(f, row->uid))
		return 0;
	/* The row is read as it is now, possibly changed since this
	 * session's last poll, so it may carry a keyword the session was not
	 * told of: announced first, when FLAGS is shown. */
	if (f->show_flags || (f->add_flags && seen_now(f, row->uid)))
		imap_view_announce(s, row->keywords);
	buf_appendf(&s->out, "* %u FETCH (", msn);
	if (f->uid) {
		buf_appendf(&s->out, "UID %u", row->uid);
		first = false;
	}
	for (size_t i = 0; i < f->req->count; i++) {
		const struct imap_fetch_item *it = &f->req->items[i];
		if (f->uid && it->kind == IMAP_FETCH_UID)
			continue;
		if (!first)
			buf_append(&s->out, " ", 1);
		write_item(f, it, row, &s->out);
		first = false;
	}
	if (f->add_flags && seen_now(f, row->uid)) {
		buf_append_str(&s->out, first ? "FLAGS " : " FLAGS ");
		imap_view_format_flags(&s->out, s->view, row->uid, row->flags | 1u, row->keywords);
	}
	if (f->add_modseq)
		buf_appendf(&s->out, " MODSEQ (%llu)",
			    (unsigned long long)imap_view_modseq(s->view, row->uid, row->modseq));
	buf_append(&s->out, ")\r\n", 3);
	return imap_session_flush(s);
}

static void seen_row(void *ctx, const struct db_stored_row *row)
{
	struct fetch_ctx *f = ctx;
	struct imap_view *v = f->s->view;

	imap_view_own_flags(v, row->uid, row->flags);
	if (!row->changed)
		return;
	f->seen_set = xrealloc(f->seen_set, (f->nseen + 1) * sizeof(*f->seen_set));
	f->seen_set[f->nseen++] = row->uid;
	imap_view_own_change(v, row->modseq);
	f->seen_shared |= row->shared;
	if (!row->shared)
		modseq_map_raise(&v->private_modseqs, row->uid, row->uid, row->modseq);
}

static unsigned fetch_columns(const struct imap_fetch_request *req)
{
	unsigned cols = 0;

	for (size_t i = 0; i < req->count; i++)
		switch (req->items[i].kind) {
		case IMAP_FETCH_ENVELOPE: cols |= DB_FETCH_ENVELOPE; break;
		case IMAP_FETCH_BODY: cols |= DB_FETCH_BODY; break;
		case IMAP_FETCH_BODYSTRUCTURE: cols |= DB_FETCH_BODYSTRUCTURE; break;
		case IMAP_FETCH_RFC822_SIZE: cols |= DB_FETCH_CONTENT; break;
		case IMAP_FETCH_PREVIEW:
			cols |= DB_FETCH_PREVIEW | (req->items[i].lazy ? 0 : DB_FETCH_PREVIEW_RAW);
			break;
		default: break;
		}
	if (req->needs_raw)
		cols |= (req->header_only ? DB_FETCH_HEADER : DB_FETCH_RAW) | DB_FETCH_PARTS;
	if (cols != 0)
		cols |= DB_FETCH_CONTENT;
	return cols;
}

/* What the check step parsed. */
struct fetch_request {
	struct db_uid_ranges ranges;
	struct imap_fetch_request items;
	bool changedsince_set;
	uint64_t changedsince;
	bool vanished;             /* RFC 7162 §3.2.6: UID FETCH ... (VANISHED) */
};

/* fetch-modifiers (RFC 7162 §3.1.4.1, §3.2.6): "(" CHANGEDSINCE n
 * [VANISHED] ")", in any order; VANISHED only in UID FETCH, with
 * CHANGEDSINCE, once QRESYNC is enabled. An unknown modifier could change
 * what FETCH means, so it is refused. */
static const char *fetch_modifiers(struct imap_session *s, const struct imap_arg *list, bool uid,
				   struct fetch_request *req)
{
	const struct imap_arg *m = list->u.list.items;

	if (list->type != IMAP_ARG_LIST || list->u.list.count == 0)
		return "Expected a list of FETCH modifiers";
	for (size_t i = 0; i < list->u.list.count; i++) {
		if (imap_arg_atom_is(&m[i], "CHANGEDSINCE")) {
			if (req->changedsince_set)
				return "CHANGEDSINCE given twice";
			if (i + 1 >= list->u.list.count || !imap_arg_modseq(&m[++i], &req->changedsince))
				return "Invalid CHANGEDSINCE value";
			req->changedsince_set = true;
		} else if (imap_arg_atom_is(&m[i], "VANISHED")) {
			if (!uid || !s->qresync || req->vanished)
				return "VANISHED needs UID FETCH with QRESYNC enabled";
			req->vanished = true;
		} else
			return "Unknown FETCH modifier";
	}
	if (req->vanished && !req->changedsince_set)
		return "VANISHED needs CHANGEDSINCE";
	return NULL;
}

/* The sequence set and every data item are parsed before any SQL runs: a
 * malformed list is BAD whatever the store's state. */
struct imap_result imap_check_fetch(struct imap_session *s, const struct imap_command *cmd)
{
	struct fetch_request *req = arena_alloc(&s->arena, sizeof(*req));
	const char *problem;
	size_t mods = 2;

	memset(req, 0, sizeof(*req));
	if (cmd->nargs < 2 || cmd->nargs > 4)
		return imap_bad(s, NULL, "FETCH expects a sequence set and data items");
	if (imap_msgset(s, &cmd->args[0], cmd->name[0] == 'U', &req->ranges, &problem) < 0 ||
	    imap_fetch_parse(&s->arena, &cmd->args[1], &req->items, &problem) < 0)
		return imap_bad(s, NULL, "%s", problem);
	/* RFC 8970 §5: a lone "PREVIEW (LAZY)" is not in parentheses, so its
	 * modifiers come where FETCH modifiers would. */
	if (imap_arg_atom_is(&cmd->args[1], "PREVIEW") && cmd->nargs > 2 &&
	    cmd->args[2].type == IMAP_ARG_LIST && cmd->args[2].u.list.count > 0 &&
	    imap_arg_atom_is(&cmd->args[2].u.list.items[0], "LAZY")) {
		if (imap_fetch_preview_mods(&cmd->args[2], &req->items.items[0].lazy, &problem) < 0)
			return imap_bad(s, NULL, "%s", problem);
		mods = 3;
	}
	if (cmd->nargs > mods + 1)
		return imap_bad(s, NULL, "FETCH expects a sequence set and data items");
	if (cmd->nargs == mods + 1 &&
	    (problem = fetch_modifiers(s, &cmd->args[mods], cmd->name[0] == 'U', req)) != NULL)
		return imap_bad(s, NULL, "%s", problem);
	/* RFC 7162 §3.1: MODSEQ and CHANGEDSINCE enable CONDSTORE. */
	for (size_t i = 0; i < req->items.count; i++)
		if (req->items.items[i].kind == IMAP_FETCH_MODSEQ)
			s->condstore = true;
	if (req->changedsince_set)
		s->condstore = true;
	s->parsed = req;
	return imap_ok(s, NULL, "checked");
}

/* RFC 3501 §6.4.5: BODY[] (not PEEK) sets \Seen; RFC 4314 §4: without
 * "s" the FETCH goes on without setting it. */
static enum db_result set_seen(struct imap_session *s, struct imap_backend *be,
			       const struct fetch_request *req, struct fetch_ctx *f, char *err,
			       size_t errlen)
{
	if (!req->items.sets_seen || s->view->readonly || !acl_fetch_may_set_seen(s->view->rights) ||
	    req->ranges.count == 0)
		return DB_OK;
	f->add_flags = true;
	for (size_t i = 0; i < req->items.count; i++)
		if (req->items.items[i].kind == IMAP_FETCH_FLAGS)
			f->add_flags = false;
	return db_store_flags(be->db, s->account_id, s->view->mailbox_id, &req->ranges, 1,
			      DB_FLAG_SEEN, "{}", s->cfg->max_keywords_per_mailbox, DB_NO_UNCHANGEDSINCE,
			      seen_row, f, err,
			      errlen);
}

/* Whether the shared state can answer: flags, UIDs and modseqs only (and
 * THREADID, always NIL), and no \Seen to set. EMAILID and SAVEDATE come
 * from the message rows: the state does not hold them. */
static bool answerable_from_state(const struct imap_view *v, const struct imap_fetch_request *req)
{
	if (!v->flags_cached || req->sets_seen)
		return false;
	for (size_t i = 0; i < req->count; i++)
		if (req->items[i].kind != IMAP_FETCH_UID && req->items[i].kind != IMAP_FETCH_FLAGS &&
		    req->items[i].kind != IMAP_FETCH_MODSEQ && req->items[i].kind != IMAP_FETCH_THREADID)
			return false;
	return true;
}

/* Messages copied out of the state per lock: the lock is never held while
 * the client is written to, so a slow reader cannot hold up writers. */
#define FETCH_STATE_CHUNK 256

/* Copies up to FETCH_STATE_CHUNK messages of the view with UIDs from
 * *next to hi out of the state, with the flags this reader sees. 1 when
 * more may follow (*next is then where to go on), 0 at hi, -1 when the
 * state is not loaded. */
static int state_chunk(struct fetch_ctx *f, uint32_t *next, uint32_t hi,
		       struct db_message_row *rows, size_t *n_r)
{
	struct imap_view *v = f->s->view;
	const struct mbox_msg *msgs;
	size_t count, i, n = 0;
	int more;

	mbox_state_rdlock(v->state);
	if (!mbox_state_loaded(v->state)) {
		mbox_state_unlock(v->state);
		return -1;
	}
	msgs = mbox_state_messages(v->state, &count);
	for (i = mbox_state_index(v->state, *next); i < count && msgs[i].uid <= hi &&
	     n < FETCH_STATE_CHUNK; i++) {
		if (imap_view_msn(v, msgs[i].uid) == 0)
			continue;   /* not (yet) in this session's view */
		rows[n++] = (struct db_message_row){
			.uid = msgs[i].uid,
			.flags = imap_view_reader_flags(v, &msgs[i]),
			.keywords = msgs[i].keywords != NULL ?
				    arena_strndup(&f->s->arena, msgs[i].keywords, strlen(msgs[i].keywords)) : "",
			.modseq = msgs[i].modseq,
		};
	}
	more = i < count && msgs[i].uid <= hi;
	if (more)
		*next = msgs[i].uid;
	mbox_state_unlock(v->state);
	*n_r = n;
	return more;
}

/* FETCH answered from the process's shared state of the mailbox, which
 * the changes read before the command brought up to date: no SQL
 * (docs/architecture.md, "Design decisions", 1). A message expunged but
 * not yet reported to the session has nothing to show, as from the store.
 * DB_NOT_FOUND when the client went away, DB_FAILED when the state cannot
 * answer (then nothing was written). */
static enum db_result fetch_from_state(struct fetch_ctx *f, const struct db_uid_ranges *ranges)
{
	struct db_message_row *rows = arena_alloc(&f->s->arena, FETCH_STATE_CHUNK * sizeof(*rows));

	for (size_t r = 0; r < ranges->count; r++) {
		uint32_t next = ranges->lo[r];
		int more;
		do {
			size_t n;
			more = state_chunk(f, &next, ranges->hi[r], rows, &n);
			if (more < 0)
				return DB_FAILED;
			for (size_t i = 0; i < n; i++)
				if (fetch_row(f, &rows[i]) != 0)
					return DB_NOT_FOUND;
		} while (more);
	}
	return DB_OK;
}

/* RFC 7162 §3.2.5: after SELECT (QRESYNC ...), "UID FLAGS MODSEQ" of
 * every message changed after modseq, as UID FETCH 1:* (UID FLAGS) with
 * CHANGEDSINCE would answer them. */
struct imap_result imap_fetch_changed_since(struct imap_session *s, struct imap_backend *be,
					    uint64_t modseq)
{
	static const uint32_t lo = 1, hi = UINT32_MAX;
	struct imap_fetch_item items[2] = { { .kind = IMAP_FETCH_FLAGS }, { .kind = IMAP_FETCH_MODSEQ } };
	struct imap_fetch_request fr = { .items = items, .count = 2 };
	struct fetch_ctx f = { .s = s, .req = &fr, .uid = true, .show_flags = true,
			       .changedsince_set = true, .changedsince = modseq };
	struct db_uid_ranges all = { &lo, &hi, 1 };
	enum db_result r = DB_FAILED;
	char err[256] = "";

	buf_init(&f.scratch);
	if (answerable_from_state(s->view, &fr))
		r = fetch_from_state(&f, &all);
	if (r == DB_FAILED)
		r = db_fetch_messages(be->db, s->account_id, s->view->mailbox_id, &all, 0, fetch_row,
				      &f, err, sizeof(err));
	buf_free(&f.scratch);
	if (r == DB_FAILED)
		return imap_store_failed(s, "reading changed messages", err);
	return imap_done(s);
}

/* After the rows: the previews computed for rows stored before
 * migrations/0015 (the connection is free again). Best effort: the client
 * has its answer, and a preview not stored is computed again next time
 * or by the indexer; a broken connection is repaired by the next command. */
static void fetch_store_previews(struct imap_backend *be, struct fetch_ctx *f)
{
	char err[256];

	if (f->npreviews > 0)
		(void)db_message_set_previews(be->db, f->preview_ids, f->preview_texts, f->npreviews,
					      err, sizeof(err));
}

/* Dispatch has parsed the arguments and checked "r". */
struct imap_result cmd_fetch(struct imap_session *s, const struct imap_command *cmd,
			     struct imap_backend *be)
{
	struct fetch_request *req = s->parsed;
	struct fetch_ctx f = { .s = s, .req = &req->items, .uid = cmd->name[0] == 'U',
			       .changedsince_set = req->changedsince_set,
			       .changedsince = req->changedsince, .add_modseq = req->changedsince_set };
	enum db_result r;
	bool from_state;
	char err[256];

	for (size_t i = 0; i < req->items.count; i++) {
		f.show_flags |= req->items.items[i].kind == IMAP_FETCH_FLAGS;
		if (req->items.items[i].kind == IMAP_FETCH_MODSEQ)
			f.add_modseq = false;
	}
	if (req->vanished) {
		struct imap_result res;
		if (!imap_report_vanished_since(s, be, &req->ranges, req->changedsince, &res))
			return res;
	}
	r = set_seen(s, be, req, &f, err, sizeof(err));
	if (r == DB_OK && f.nseen > 0 && f.seen_shared)
		imap_session_changed(s, s->view->mailbox_id);
	else if (r == DB_OK && f.nseen > 0)
		imap_session_changed_private(s, s->view->mailbox_id);
	buf_init(&f.scratch);
	from_state = false;
	if (r == DB_OK && answerable_from_state(s->view, &req->items)) {
		enum db_result rs = fetch_from_state(&f, &req->ranges);
		from_state = rs != DB_FAILED;   /* else the store answers */
		if (from_state)
			r = rs;
	}
	if (r == DB_OK && !from_state && req->ranges.count > 0)
		r = db_fetch_messages(be->db, s->account_id, s->view->mailbox_id, &req->ranges,
				      fetch_columns(&req->items), fetch_row, &f, err, sizeof(err));
	buf_free(&f.scratch);
	free(f.seen_set);
	if (r == DB_OK)
		fetch_store_previews(be, &f);
	if (r == DB_FAILED)
		return imap_store_failed(s, "fetching", err);
	if (r == DB_NOT_FOUND)
		return imap_no(s, NULL, "FETCH stopped: the connection closed");
	if (f.undecodable)
		return imap_no(s, "UNKNOWN-CTE", "Cannot decode the content of a part");
	return imap_done(s);
}
