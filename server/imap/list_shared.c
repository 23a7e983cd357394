#include "server/imap/list_shared.h"
#include "server/imap/namespace.h"
#include "server/imap/rights.h"
#include "server/core/log.h"
#include "schema/db_shared.h"

#include <string.h>

static void unavailable(struct imap_session *s, const char *err)
{
	log_warning("%s: listing shared mailboxes failed: %s", s->peer, err);
	imap_reply(s, "NO", "UNAVAILABLE", "Mail store temporarily unavailable, try again later");
}

bool imap_list_shared(struct imap_session *s, struct imap_backend *be,
		      void (*row_cb)(void *ctx, const struct db_mailbox_row *row), void *ctx)
{
	struct db_shared_mailbox *rows;
	struct acl_caller caller;
	const char **new_names;
	int64_t *new_ids;
	size_t n, nnew = 0;
	char err[256];

	if (!imap_rights_groups(s, be))
		return false;
	if (db_shared_mailboxes(be->db, s->account_id, s->user, s->groups, s->ngroups, &s->arena,
				&rows, &n, err, sizeof(err)) != DB_OK) {
		unavailable(s, err);
		return false;
	}
	imap_rights_caller(s, &caller);
	new_ids = arena_alloc(&s->arena, (n + 1) * sizeof(*new_ids));
	new_names = arena_alloc(&s->arena, (n + 1) * sizeof(*new_names));
	for (size_t i = 0; i < n; i++) {
		const struct db_shared_mailbox *m = &rows[i];
		struct db_mailbox_row row = { .noselect = m->noselect, .special_use = "" };

		if (!(imap_rights_evaluate(s, &caller, false, m->acl, m->nacl, m->mailbox_id) & ACL_LOOKUP))
			continue;
		/* Special-use attributes stay with their owner: another
		 * user's \Sent is not the caller's Sent folder. */
		row.name = imap_ns_join(&s->arena, m->shared_owner, m->owner_login, m->name);
		row.len = strlen(row.name);
		row_cb(ctx, &row);
		if (!m->offered && !m->noselect) {
			new_ids[nnew] = m->mailbox_id;
			new_names[nnew++] = row.name;
		}
	}
	if (nnew == 0)
		return true;
	if (db_shared_offer(be->db, s->account_id, new_ids, new_names, nnew,
			    s->cfg->auto_subscribe_shared, err, sizeof(err)) != DB_OK) {
		unavailable(s, err);
		return false;
	}
	for (size_t i = 0; s->cfg->auto_subscribe_shared && i < nnew; i++) {
		struct db_mailbox_row sub = {
			.name = new_names[i], .len = strlen(new_names[i]), .subscription = true,
			.special_use = "",
		};

		row_cb(ctx, &sub);
	}
	return true;
}
