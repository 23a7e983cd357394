#include "server/imap/list_shared.h"
#include "server/imap/namespace.h"
#include "server/imap/rights.h"
#include "schema/db_shared.h"

#include <string.h>

bool imap_list_shared(struct imap_session *s, struct imap_backend *be,
		      void (*row_cb)(void *ctx, const struct db_mailbox_row *row,
				     acl_rights rights), void *ctx,
		      struct imap_result *res_r)
{
	struct db_shared_mailbox *rows;
	struct acl_caller caller;
	const char **new_names;
	int64_t *new_ids;
	size_t n, nnew = 0;
	char err[256];

	if (!imap_rights_refresh_groups(s, be, res_r))
		return false;
	if (db_shared_mailboxes(be->db, s->account_id, s->user, s->groups, s->ngroups, &s->arena,
				&rows, &n, err, sizeof(err)) != DB_OK) {
		*res_r = imap_store_failed(s, "listing shared mailboxes", err);
		return false;
	}
	imap_rights_caller(s, &caller);
	new_ids = arena_alloc(&s->arena, (n + 1) * sizeof(*new_ids));
	new_names = arena_alloc(&s->arena, (n + 1) * sizeof(*new_names));
	for (size_t i = 0; i < n; i++) {
		const struct db_shared_mailbox *m = &rows[i];
		struct db_mailbox_row row = {
			.noselect = m->noselect, .special_use = "", .mailbox_id = m->mailbox_id,
		};
		acl_rights rights = imap_rights_evaluate(s, &caller, false, m->acl, m->nacl,
							 m->mailbox_id);

		/* RFC 4314 §4: without "l" the mailbox is left out as if it
		 * did not exist. */
		if (acl_check(ACL_OP_LIST, rights) != ACL_ALLOW)
			continue;
		/* Special-use attributes stay with their owner: another
		 * user's \Sent is not the caller's Sent folder. */
		row.name = imap_ns_join(&s->arena, m->shared_owner, m->owner_login, m->name);
		row.len = strlen(row.name);
		row_cb(ctx, &row, rights);
		if (!m->offered && !m->noselect) {
			new_ids[nnew] = m->mailbox_id;
			new_names[nnew++] = row.name;
		}
	}
	if (nnew == 0)
		return true;
	if (db_shared_offer(be->db, s->account_id, new_ids, new_names, nnew,
			    s->cfg->auto_subscribe_shared, err, sizeof(err)) != DB_OK) {
		*res_r = imap_store_failed(s, "offering shared mailboxes", err);
		return false;
	}
	for (size_t i = 0; s->cfg->auto_subscribe_shared && i < nnew; i++) {
		struct db_mailbox_row sub = {
			.name = new_names[i], .len = strlen(new_names[i]), .subscription = true,
			.special_use = "",
		};

		row_cb(ctx, &sub, 0);
	}
	return true;
}
