#include "server/imap/list_return.h"
#include "server/imap/commands.h"
#include "server/imap/mailbox_name.h"
#include "server/imap/rights.h"
#include "server/imap/store_args.h"
#include "schema/db_acl.h"
#include "schema/db_mailbox.h"

#include <stdlib.h>

static int by_mailbox_id(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return (a > b) - (a < b);
}

/* The caller's rights on their own listed mailboxes: the owner's default
 * unless an entry names them or takes rights away (acl/evaluate.h), so
 * they are evaluated like anyone's. Other owners' rights are known
 * already. */
bool imap_list_own_rights(struct imap_session *s, struct imap_backend *be,
			  struct imap_list_entries *boxes, struct imap_result *res_r)
{
	struct db_mailbox_acl_rows *sets;
	struct acl_caller caller;
	size_t nsets;
	bool any = false;
	char err[256];

	for (size_t i = 0; i < boxes->n && !any; i++)
		any = boxes->v[i].listed && boxes->v[i].exists && !boxes->v[i].rights_known;
	if (!any)
		return true;
	if (db_acl_of_owner(be->db, s->account_id, &s->arena, &sets, &nsets, err,
			    sizeof(err)) != DB_OK) {
		*res_r = imap_store_failed(s, "reading the ACLs", err);
		return false;
	}
	imap_rights_caller(s, &caller);
	for (size_t i = 0; i < boxes->n; i++) {
		struct imap_list_entry *e = &boxes->v[i];
		const struct db_mailbox_acl_rows *set;

		if (!e->listed || !e->exists || e->rights_known)
			continue;
		/* The set's first member is its mailbox id. */
		set = bsearch(&e->mailbox_id, sets, nsets, sizeof(*sets), by_mailbox_id);
		e->rights = imap_rights_evaluate(s, &caller, true, set != NULL ? set->rows : NULL,
						 set != NULL ? set->n : 0, e->mailbox_id);
		e->rights_known = true;
	}
	return true;
}

static bool statuses(struct imap_session *s, struct imap_backend *be,
		     struct imap_list_entries *boxes,
		     const struct imap_list_args *args, struct imap_result *res_r)
{
	int64_t *ids = arena_alloc(&s->arena, (boxes->n + 1) * sizeof(*ids));
	struct db_mailbox_status_row *rows;
	size_t n = 0, nrows;
	char err[256];

	for (size_t i = 0; i < boxes->n; i++) {
		const struct imap_list_entry *e = &boxes->v[i];

		if (e->listed && e->exists && !e->noselect &&
		    acl_check(ACL_OP_STATUS, e->rights) == ACL_ALLOW)
			ids[n++] = e->mailbox_id;
	}
	if (n == 0)
		return true;
	if (db_mailbox_status_ids(be->db, s->account_id, ids, n,
				  (args->status_items & IMAP_STATUS_DELETED_STORAGE) != 0, &s->arena, &rows,
				  &nrows, err, sizeof(err)) < 0) {
		*res_r = imap_store_failed(s, "reading the mailboxes' status", err);
		return false;
	}
	qsort(rows, nrows, sizeof(*rows), by_mailbox_id);
	for (size_t i = 0; i < boxes->n; i++) {
		struct imap_list_entry *e = &boxes->v[i];
		const struct db_mailbox_status_row *r;

		if (!e->listed || !e->exists || e->noselect ||
		    acl_check(ACL_OP_STATUS, e->rights) != ACL_ALLOW)
			continue;
		r = bsearch(&e->mailbox_id, rows, nrows, sizeof(*rows), by_mailbox_id);
		e->status = r != NULL ? &r->status : NULL;
	}
	return true;
}

bool imap_list_return_prepare(struct imap_session *s, struct imap_backend *be,
			      struct imap_list_entries *boxes,
			      const struct imap_list_args *args, struct imap_result *res_r)
{
	if (!(args->ret & (IMAP_LIST_RET_STATUS | IMAP_LIST_RET_MYRIGHTS)))
		return true;
	if (!imap_list_own_rights(s, be, boxes, res_r))
		return false;
	return !(args->ret & IMAP_LIST_RET_STATUS) || statuses(s, be, boxes, args, res_r);
}

void imap_list_return_write(struct imap_session *s, const struct imap_list_entry *e,
			    const struct imap_list_args *args)
{
	if ((args->ret & IMAP_LIST_RET_STATUS) && e->status != NULL) {
		buf_append_str(&s->out, "* STATUS ");
		imap_write_mailbox(s, &s->out, e->name, e->len);
		buf_append_str(&s->out, " (");
		imap_status_write_items(s, args->status_items, e->status);
		buf_append_str(&s->out, ")\r\n");
	}
	if ((args->ret & IMAP_LIST_RET_MYRIGHTS) && e->exists)
		imap_myrights_write(s, e->name, e->len, e->rights);
}
