/* The NOTIFY scan (RFC 5465 §5): which mailboxes the session's filters name
 * now, and what changed in them since the session was last told.
 *
 * Each scan reads the caller's mailboxes and subscriptions (one query) and
 * the other owners' mailboxes it may see, with their ACLs evaluated afresh
 * against the caller's groups (list_shared.c: one query, the groups through
 * the directory's TTL cache), then the status of the watched mailboxes it
 * may read (one query). So no event is ever about a mailbox the caller
 * cannot see now: a withdrawn "l" drops the mailbox from the watched set at
 * the next scan, which the ACL change itself triggers (a SETACL is on the
 * change bus). A scan runs only when the change bus says a watched mailbox
 * or a name changed, at most one at a time per session, so a burst of
 * changes costs a session one scan running and one owed.
 *
 * What is reported: a watched mailbox's STATUS (MESSAGES UIDNEXT
 * UIDVALIDITY UNSEEN, and HIGHESTMODSEQ with FlagChange to a CONDSTORE
 * client) when the values its events cover changed; with MailboxName, a
 * LIST response for a mailbox that appeared, one with \NonExistent for one
 * that went (deleted, or no longer visible), and one with OLDNAME for a
 * renamed one (the id stays); with SubscriptionChange, a LIST response
 * with or without \Subscribed. */
#include "server/imap/commands.h"
#include "server/imap/list_shared.h"
#include "server/imap/mailbox_name.h"
#include "server/imap/notify.h"
#include "server/imap/rights.h"
#include "server/imap/store_args.h"
#include "server/imap/view.h"
#include "server/bus/bus.h"
#include "server/core/log.h"
#include "schema/db_mailbox.h"

#include <stdlib.h>
#include <string.h>

struct seen_box {
	int64_t mailbox_id;
	const char *name;          /* in the arena */
	size_t len;
	acl_rights rights;
	bool own;
};

struct collect {
	struct imap_session *s;
	struct seen_box *boxes;
	size_t nboxes, cap;
	const char **subs;         /* subscribed names, in the arena */
	size_t nsubs, subs_cap;
};

static void collect_add(struct collect *c, const struct db_mailbox_row *row, acl_rights rights,
			bool own)
{
	struct arena *a = &c->s->arena;

	if (row->subscription) {
		if (c->nsubs == c->subs_cap) {
			const char **v = arena_alloc(a, (c->subs_cap * 2 + 16) * sizeof(*v));
			if (c->nsubs > 0)
				memcpy(v, c->subs, c->nsubs * sizeof(*v));
			c->subs = v;
			c->subs_cap = c->subs_cap * 2 + 16;
		}
		c->subs[c->nsubs++] = arena_strndup(a, row->name, row->len);
		return;
	}
	if (row->noselect)
		return;
	if (c->nboxes == c->cap) {
		struct seen_box *v = arena_alloc(a, (c->cap * 2 + 16) * sizeof(*v));
		if (c->nboxes > 0)
			memcpy(v, c->boxes, c->nboxes * sizeof(*v));
		c->boxes = v;
		c->cap = c->cap * 2 + 16;
	}
	c->boxes[c->nboxes++] = (struct seen_box){
		.mailbox_id = row->mailbox_id, .name = arena_strndup(a, row->name, row->len),
		.len = row->len, .rights = rights, .own = own,
	};
}

static void collect_own(void *ctx, const struct db_mailbox_row *row)
{
	/* The caller's own mailboxes: visible and readable to their owner. */
	collect_add(ctx, row, ACL_LOOKUP | ACL_READ, true);
}

static void collect_shared(void *ctx, const struct db_mailbox_row *row, acl_rights rights)
{
	collect_add(ctx, row, rights, false);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool subscribed(const struct collect *c, const char *name)
{
	return c->nsubs > 0 && bsearch(&name, c->subs, c->nsubs, sizeof(*c->subs), cmp_str) != NULL;
}

/* Whether group g names the mailbox (RFC 5465 §6). */
static bool group_names(const struct imap_notify_group *g, const struct seen_box *b, bool subs)
{
	switch (g->filter) {
	case IMAP_NOTIFY_INBOXES:
		/* The mailboxes mail is delivered to: INBOX (LMTP's +detail
		 * delivery to other folders is not tracked). */
		return b->own && strcmp(b->name, "INBOX") == 0;
	case IMAP_NOTIFY_PERSONAL:
		return b->own;
	case IMAP_NOTIFY_SUBSCRIBED:
		return subs;
	case IMAP_NOTIFY_SUBTREE:
		for (size_t i = 0; i < g->nnames; i++) {
			size_t n = strlen(g->names[i]);
			if (strncmp(b->name, g->names[i], n) == 0 &&
			    (b->name[n] == '\0' || b->name[n] == IMAP_MAILBOX_DELIM))
				return true;
		}
		return false;
	case IMAP_NOTIFY_MAILBOXES:
		for (size_t i = 0; i < g->nnames; i++)
			if (strcmp(b->name, g->names[i]) == 0)
				return true;
		return false;
	}
	return false;
}

static int cmp_box(const void *a, const void *b)
{
	int64_t x = ((const struct imap_notify_box *)a)->mailbox_id;
	int64_t y = ((const struct imap_notify_box *)b)->mailbox_id;

	return x < y ? -1 : x > y;
}

static void write_list(struct imap_session *s, const char *attrs, const char *name,
		       const char *oldname)
{
	buf_appendf(&s->out, "* LIST (%s) \"/\" ", attrs);
	imap_write_mailbox(s, &s->out, name, strlen(name));
	if (oldname != NULL) {
		/* RFC 5465 §5.4 with RFC 5258 §3.5's extended data item. */
		buf_append_str(&s->out, " (\"OLDNAME\" (");
		imap_write_mailbox(s, &s->out, oldname, strlen(oldname));
		buf_append_str(&s->out, "))");
	}
	buf_append(&s->out, "\r\n", 2);
}

/* The new watched set from what the caller sees now (heap, sorted by
 * id); false past the cap. */
static bool match(struct imap_session *s, const struct collect *c, struct imap_notify_box **v_r,
		  size_t *n_r)
{
	const struct imap_notify *n = s->notify;
	struct imap_notify_box *v = NULL;
	size_t nv = 0;

	for (size_t i = 0; i < c->nboxes; i++) {
		const struct seen_box *b = &c->boxes[i];
		bool subs = subscribed(c, b->name);
		unsigned events = 0;

		for (size_t g = 0; g < n->ngroups; g++)
			if (group_names(&n->groups[g], b, subs))
				events |= n->groups[g].events;
		if (events == 0)
			continue;
		if (nv == IMAP_NOTIFY_MAX_MAILBOXES) {
			for (size_t k = 0; k < nv; k++)
				free(v[k].name);
			free(v);
			return false;
		}
		if ((nv & (nv - 1)) == 0)
			v = xrealloc(v, (nv ? nv * 2 : 1) * sizeof(*v));
		v[nv++] = (struct imap_notify_box){
			.mailbox_id = b->mailbox_id, .name = xstrdup(b->name), .events = events,
			.readable = (b->rights & ACL_READ) != 0, .subscribed = subs,
		};
	}
	if (nv > 0)
		qsort(v, nv, sizeof(*v), cmp_box);
	*v_r = v;
	*n_r = nv;
	return true;
}

/* Old set against new, both sorted by id: watches, LIST responses, and
 * the last status carried over. */
static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The ids of every mailbox the caller sees now, sorted (arena). */
static int64_t *visible_ids(struct imap_session *s, const struct collect *c)
{
	int64_t *ids = arena_alloc(&s->arena, (c->nboxes + 1) * sizeof(*ids));

	for (size_t i = 0; i < c->nboxes; i++)
		ids[i] = c->boxes[i].mailbox_id;
	if (c->nboxes > 0)
		qsort(ids, c->nboxes, sizeof(*ids), cmp_id);
	return ids;
}

/* A watched mailbox the filters no longer name: deleted or hidden from
 * the caller (\NonExistent, with MailboxName), or still there but out of
 * the filters (an unsubscribed one under "subscribed": the subscription
 * change, with SubscriptionChange). */
static void write_gone(struct imap_session *s, const struct imap_notify_box *o,
		       const struct collect *c, const int64_t *visible)
{
	bool seen = c->nboxes > 0 &&
		    bsearch(&o->mailbox_id, visible, c->nboxes, sizeof(*visible), cmp_id) != NULL;

	if (!seen && (o->events & IMAP_NOTIFY_MAILBOX_NAME))
		write_list(s, "\\NonExistent", o->name, NULL);
	else if (seen && o->subscribed && !subscribed(c, o->name) &&
		 (o->events & IMAP_NOTIFY_SUBSCRIPTION_CHANGE))
		write_list(s, "", o->name, NULL);
}

static void merge(struct imap_session *s, const struct collect *c, struct imap_notify_box *nv,
		  size_t nn, bool initial)
{
	struct imap_notify *n = s->notify;
	const int64_t *visible = visible_ids(s, c);
	size_t i = 0, j = 0;

	while (i < n->nboxes || j < nn) {
		struct imap_notify_box *o = i < n->nboxes ? &n->boxes[i] : NULL;
		struct imap_notify_box *b = j < nn ? &nv[j] : NULL;

		if (b == NULL || (o != NULL && o->mailbox_id < b->mailbox_id)) {
			bus_unwatch(n->bus, o->mailbox_id, n->account);
			write_gone(s, o, c, visible);
			i++;
		} else if (o == NULL || b->mailbox_id < o->mailbox_id) {
			bus_watch(n->bus, b->mailbox_id, n->account);
			if (!initial && (b->events & IMAP_NOTIFY_MAILBOX_NAME))
				write_list(s, b->subscribed ? "\\Subscribed" : "", b->name, NULL);
			j++;
		} else {
			bool renamed = strcmp(o->name, b->name) != 0;

			if (renamed && (b->events & IMAP_NOTIFY_MAILBOX_NAME))
				write_list(s, "", b->name, o->name);
			else if (o->subscribed != b->subscribed &&
				 (b->events & IMAP_NOTIFY_SUBSCRIPTION_CHANGE))
				write_list(s, b->subscribed ? "\\Subscribed" : "", b->name, NULL);
			b->have_status = o->have_status;
			b->messages = o->messages;
			b->unseen = o->unseen;
			b->uidvalidity = o->uidvalidity;
			b->uidnext = o->uidnext;
			b->highestmodseq = o->highestmodseq;
			i++;
			j++;
		}
	}
	for (i = 0; i < n->nboxes; i++)
		free(n->boxes[i].name);
	free(n->boxes);
	n->boxes = nv;
	n->nboxes = nn;
}

static struct imap_notify_box *find_box(struct imap_notify *n, int64_t id)
{
	struct imap_notify_box key = { .mailbox_id = id };

	return n->nboxes == 0 ? NULL :
	       bsearch(&key, n->boxes, n->nboxes, sizeof(*n->boxes), cmp_box);
}

/* RFC 5465 §5.2, §5.3, §5.1: for a mailbox other than the selected one,
 * new and expunged messages are told by a STATUS with MESSAGES and
 * UIDNEXT, flag changes (to a CONDSTORE client) by HIGHESTMODSEQ; UNSEEN
 * and UIDVALIDITY come along, as clients keep them too. */
static void status_one(struct imap_session *s, struct imap_notify_box *b,
		       const struct db_mailbox_status *st, bool initial, bool status)
{
	bool selected = s->view != NULL && s->view->mailbox_id == b->mailbox_id;
	bool messages = !b->have_status || b->messages != st->messages ||
			b->uidnext != st->uidnext || b->uidvalidity != st->uidvalidity;
	bool flags = !b->have_status || b->unseen != st->unseen ||
		     (s->condstore && b->highestmodseq != st->highestmodseq);
	unsigned items = IMAP_STATUS_MESSAGES | IMAP_STATUS_UIDNEXT | IMAP_STATUS_UIDVALIDITY |
			 IMAP_STATUS_UNSEEN;
	bool send;

	if (initial)
		send = status;
	else if (!b->have_status)
		send = st->messages > 0;   /* appeared since the last scan */
	else
		send = (messages && (b->events & IMAP_NOTIFY_MESSAGE_NEW)) ||
		       (flags && (b->events & IMAP_NOTIFY_FLAG_CHANGE));
	if ((b->events & IMAP_NOTIFY_FLAG_CHANGE) && s->condstore)
		items |= IMAP_STATUS_HIGHESTMODSEQ;
	b->have_status = true;
	b->messages = st->messages;
	b->unseen = st->unseen;
	b->uidvalidity = st->uidvalidity;
	b->uidnext = st->uidnext;
	b->highestmodseq = st->highestmodseq;
	/* Never the selected mailbox: its changes come as EXISTS, EXPUNGE
	 * and FETCH (§5). */
	if (!send || selected)
		return;
	buf_append_str(&s->out, "* STATUS ");
	imap_write_mailbox(s, &s->out, b->name, strlen(b->name));
	buf_append_str(&s->out, " (");
	imap_status_write_items(s, items, st);
	buf_append_str(&s->out, ")\r\n");
}

static bool statuses(struct imap_session *s, struct imap_backend *be, bool initial, bool status,
		     struct imap_result *res_r)
{
	struct imap_notify *n = s->notify;
	int64_t *ids = arena_alloc(&s->arena, (n->nboxes + 1) * sizeof(*ids));
	struct db_mailbox_status_row *rows;
	size_t nids = 0, nrows;
	char err[256];

	for (size_t i = 0; i < n->nboxes; i++)
		if (n->boxes[i].readable && (n->boxes[i].events & IMAP_NOTIFY_MESSAGE_EVENTS))
			ids[nids++] = n->boxes[i].mailbox_id;
	if (nids == 0)
		return true;
	if (db_mailbox_status_ids(be->db, s->account_id, ids, nids, false, &s->arena, &rows, &nrows,
				  err, sizeof(err)) < 0) {
		*res_r = imap_store_failed(s, "reading the status of watched mailboxes", err);
		return false;
	}
	for (size_t i = 0; i < nrows; i++) {
		struct imap_notify_box *b = find_box(n, rows[i].mailbox_id);
		if (b != NULL)
			status_one(s, b, &rows[i].status, initial, status);
	}
	return true;
}

bool imap_notify_scan(struct imap_session *s, struct imap_backend *be, bool initial,
		      bool status, bool *overflow_r, struct imap_result *res_r)
{
	struct imap_notify *n = s->notify;
	struct collect c = { .s = s };
	struct imap_notify_box *nv = NULL;
	size_t nn = 0;
	char err[256];

	*overflow_r = false;
	if (n->ngroups == 0)
		return true;
	if (!imap_store_ready(s, be, res_r) || !imap_rights_refresh_groups(s, be, res_r))
		return false;
	/* Only messages changed, and nothing that decides what the caller
	 * may see: no name, subscription or ACL (each is on the change bus,
	 * names_dirty), nor its groups. Then the watched set stands and only
	 * the statuses are read again. */
	if (!initial && !n->names_dirty && n->groups_gen == s->groups_gen)
		return statuses(s, be, false, false, res_r);
	if (db_mailbox_list(be->db, s->account_id, true, collect_own, &c, err,
			    sizeof(err)) != DB_MBOX_OK) {
		*res_r = imap_store_failed(s, "listing mailboxes", err);
		return false;
	}
	if (!imap_list_shared(s, be, collect_shared, &c, res_r))
		return false;
	if (c.nsubs > 0)
		qsort(c.subs, c.nsubs, sizeof(*c.subs), cmp_str);
	if (!match(s, &c, &nv, &nn)) {
		*overflow_r = true;
		return true;
	}
	merge(s, &c, nv, nn, initial);
	n->names_dirty = false;
	n->groups_gen = s->groups_gen;
	return statuses(s, be, initial, status, res_r);
}

bool imap_notify_wants(const struct imap_session *s, int64_t mailbox_id)
{
	struct imap_notify *n = s->notify;

	if (n == NULL)
		return false;
	if (s->view != NULL && s->view->mailbox_id == mailbox_id && n->selected_set)
		return (n->selected_events & IMAP_NOTIFY_MESSAGE_EVENTS) != 0;
	return find_box(n, mailbox_id) != NULL;
}
