/* A session's own STORE or EXPUNGE, settled into its view and the shared state
 * without reading the changes back (view.h, imap_view_settle). */
#include "server/imap/view.h"
#include "server/bus/bus.h"
#include "schema/db_message.h"

#include <string.h>

static void own_row(struct imap_session *s, const struct imap_own_row *row, uint64_t modseq)
{
	struct imap_view *v = s->view;

	if (v->nown_rows > 0 && v->own_rows_modseq != modseq)
		v->own_rows_modseq = 0;   /* two changes: not one of ours alone */
	else
		v->own_rows_modseq = modseq;
	v->own_rows = arena_grow(&s->arena, v->own_rows, v->nown_rows, &v->own_rows_cap,
				 sizeof(*v->own_rows));
	v->own_rows[v->nown_rows++] = *row;
}

void imap_view_own_row(struct imap_session *s, const struct db_stored_row *stored)
{
	struct imap_own_row row = {
		.uid = stored->uid, .flags = stored->flags, .shared = stored->shared,
		.keywords = arena_strndup(&s->arena, stored->keywords, strlen(stored->keywords)),
	};

	if (!stored->shared)
		modseq_map_raise(&s->view->private_modseqs, stored->uid, stored->uid, stored->modseq);
	own_row(s, &row, stored->modseq);
}

void imap_view_own_expunge(struct imap_session *s, uint32_t uid, uint64_t modseq)
{
	struct imap_own_row row = { .uid = uid, .expunged = true, .shared = true };

	own_row(s, &row, modseq);
}

/* The shared state takes the rows when it is complete exactly up to where
 * the session was (so that the rows are the only change since). A private
 * change (the reader's \Seen, migrations/0011) leaves the message as the
 * state has it; the state is complete up to its modseq all the same. */
static bool state_takes(struct imap_view *v, uint64_t modseq)
{
	bool ok;

	mbox_state_wrlock(v->state);
	ok = mbox_state_loaded(v->state) && mbox_state_modseq(v->state) == v->modseq;
	for (size_t i = 0; ok && i < v->nown_rows; i++) {
		const struct imap_own_row *r = &v->own_rows[i];
		if (!r->shared)
			continue;
		/* In a per-user mailbox the stored \Seen bit means nothing. */
		unsigned stored = v->seen_per_user ? r->flags & 30u : r->flags;
		if (r->expunged)
			mbox_state_apply_expunge(v->state, r->uid);
		else
			mbox_state_apply_message(v->state, r->uid, (uint8_t)stored, r->keywords, modseq);
	}
	if (ok)
		mbox_state_applied(v->state, modseq, mbox_state_uidnext(v->state));
	mbox_state_unlock(v->state);
	return ok;
}

void imap_view_settle(struct imap_session *s)
{
	struct imap_view *v = s->view;
	uint64_t modseq;

	if (v == NULL)
		return;
	modseq = v->own_rows_modseq;
	if (v->nown_rows > 0 && modseq == v->modseq + 1 &&
	    bus_generation(v->bus, v->mailbox_id, v->reader) == v->bus_gen + 1 &&
	    state_takes(v, modseq)) {
		if (v->expunge_modseq == v->modseq)
			v->expunge_modseq = modseq;
		v->modseq = modseq;
		/* Nothing else took a modseq in between (one counter serves
		 * shared and private changes), so the session knows every
		 * private change up to this one; a shared row may have had a
		 * private part too (\Seen with \Flagged). */
		for (size_t i = 0; i < v->nown_rows; i++)
			if (v->own_rows[i].shared)
				v->shared_modseq = modseq;
		v->private_modseq = modseq;
		v->nown = 0;     /* its own change is below the watermark now */
		v->bus_gen++;
		bus_learned(v->bus, v->mailbox_id, v->reader, v->shared_modseq, v->private_modseq);
	}
	v->own_rows = NULL;
	v->nown_rows = v->own_rows_cap = 0;
	v->own_rows_modseq = 0;
}
