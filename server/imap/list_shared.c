#include "server/imap/list_shared.h"
#include "server/imap/namespace.h"
#include "server/imap/rights.h"
#include "server/core/log.h"
#include "schema/db_shared.h"

#include <string.h>

/* Everything an ACL entry may name the caller by: its login, "anyone",
 * "authenticated" and each of its groups (already refreshed). */
static const char **caller_identifiers(struct imap_session *s, size_t *n_r)
{
	const char **ids = arena_alloc(&s->arena, (s->ngroups + 3) * sizeof(*ids));
	size_t n = 0;

	ids[n++] = s->user;
	ids[n++] = "anyone";
	ids[n++] = "authenticated";
	for (size_t i = 0; i < s->ngroups; i++)
		ids[n++] = arena_printf(&s->arena, "group:%s", s->groups[i]);
	*n_r = n;
	return ids;
}

static void unavailable(struct imap_session *s, const char *err)
{
	log_warning("%s: listing shared mailboxes failed: %s", s->peer, err);
	imap_reply(s, "NO", "UNAVAILABLE", "Mail store temporarily unavailable, try again later");
}

bool imap_list_shared(struct imap_session *s, struct imap_backend *be,
		      void (*row_cb)(void *ctx, const struct db_mailbox_row *row), void *ctx)
{
	struct db_shared_mailbox *rows;
	const char **ids, **new_names;
	int64_t *new_ids;
	size_t nids, n, nnew = 0;
	char err[256];

	if (!imap_rights_groups(s, be))
		return false;
	ids = caller_identifiers(s, &nids);
	if (db_shared_mailboxes(be->db, s->account_id, ids, nids, &s->arena, &rows, &n,
				err, sizeof(err)) != DB_OK) {
		unavailable(s, err);
		return false;
	}
	new_ids = arena_alloc(&s->arena, (n + 1) * sizeof(*new_ids));
	new_names = arena_alloc(&s->arena, (n + 1) * sizeof(*new_names));
	for (size_t i = 0; i < n; i++) {
		const struct db_shared_mailbox *m = &rows[i];
		struct db_mailbox_row row = { .noselect = m->noselect, .special_use = "" };
		struct buf name;

		if (!(imap_rights_evaluate(s, false, m->acl, m->nacl, m->mailbox_id) & ACL_LOOKUP))
			continue;
		/* Special-use attributes stay with their owner: another
		 * user's \Sent is not the caller's Sent folder. */
		buf_init(&name);
		imap_ns_join(&name, m->shared_owner, m->owner_login, m->name);
		row.name = arena_strndup(&s->arena, name.data, name.len);
		row.len = name.len;
		buf_free(&name);
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
