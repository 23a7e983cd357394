#include "server/imap/list_tree.h"
#include "server/imap/list_args.h"
#include "server/imap/mailbox_name.h"

#include <stdlib.h>
#include <string.h>

struct imap_list_entry *imap_list_entries_add(struct arena *a, struct imap_list_entries *e)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 64;
		struct imap_list_entry *v = arena_alloc(a, cap * sizeof(*v));

		if (e->n > 0)
			memcpy(v, e->v, e->n * sizeof(*v));
		e->v = v;
		e->cap = cap;
	}
	memset(&e->v[e->n], 0, sizeof(e->v[0]));
	e->v[e->n].special_use = "";
	return &e->v[e->n++];
}

/* INBOX and its inferiors first, then byte order (which is COLLATE "C"
 * order), so that a client building a folder tree from the responses
 * meets INBOX's subtree whole and on top. */
static int name_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	bool ai = imap_mailbox_is_inbox(a, al) || imap_mailbox_in_inbox(a, al);
	bool bi = imap_mailbox_is_inbox(b, bl) || imap_mailbox_in_inbox(b, bl);
	int c;

	if (ai != bi)
		return ai ? -1 : 1;
	c = memcmp(a, b, al < bl ? al : bl);
	if (c != 0)
		return c;
	return al < bl ? -1 : al > bl;
}

static int entry_cmp(const void *x, const void *y)
{
	const struct imap_list_entry *a = x, *b = y;

	return name_cmp(a->name, a->len, b->name, b->len);
}

void imap_list_entries_sort(struct imap_list_entries *e)
{
	if (e->n > 0)
		qsort(e->v, e->n, sizeof(e->v[0]), entry_cmp);
}

struct imap_list_entry *imap_list_find(const struct imap_list_entries *e, const char *name,
				       size_t len)
{
	size_t lo = 0, hi = e->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = name_cmp(e->v[mid].name, e->v[mid].len, name, len);

		if (c == 0)
			return &e->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Adds the names of more (none of them in boxes) to boxes, each once (a
 * level is missing above several names, a name may be subscribed twice:
 * by the client and by the one-time offer of a shared mailbox), and sorts
 * boxes again. */
static void merge_names(struct arena *a, struct imap_list_entries *boxes,
			struct imap_list_entries *more)
{
	if (more->n == 0)
		return;
	imap_list_entries_sort(more);
	for (size_t i = 0; i < more->n; i++)
		if (i == 0 || entry_cmp(&more->v[i - 1], &more->v[i]) != 0)
			*imap_list_entries_add(a, boxes) = more->v[i];
	imap_list_entries_sort(boxes);
}

/* Adds every superior level of the (sorted) entries that is not among
 * them, as a name without a mailbox (the store keeps superiors, but a
 * DELETE racing a CREATE of a child can leave one out, and another
 * owner's levels above what they share are not the caller's to see), and
 * sorts again. */
static void add_missing_levels(struct arena *a, struct imap_list_entries *boxes)
{
	struct imap_list_entries missing = { 0 };
	size_t n = boxes->n;

	for (size_t i = 0; i < n; i++) {
		const struct imap_list_entry *b = &boxes->v[i];

		for (size_t p = 1; p < b->len; p++) {
			struct imap_list_entry *m;

			if (b->name[p] != IMAP_MAILBOX_DELIM || imap_list_find(boxes, b->name, p) != NULL)
				continue;
			m = imap_list_entries_add(a, &missing);
			m->name = b->name;
			m->len = p;
			m->noselect = true;
		}
	}
	merge_names(a, boxes, &missing);
}

/* The entry of the immediate superior of e, or NULL. */
static struct imap_list_entry *parent_of(const struct imap_list_entries *boxes,
					 const struct imap_list_entry *e)
{
	const char *slash = memrchr(e->name, IMAP_MAILBOX_DELIM, e->len);

	return slash == NULL ? NULL : imap_list_find(boxes, e->name, (size_t)(slash - e->name));
}

void imap_list_tree_build(struct arena *a, struct imap_list_entries *boxes)
{
	imap_list_entries_sort(boxes);
	add_missing_levels(a, boxes);
	for (size_t i = 0; i < boxes->n; i++) {
		struct imap_list_entry *parent = parent_of(boxes, &boxes->v[i]);

		if (parent != NULL)
			parent->children = true;
	}
}

void imap_list_tree_subscribe(struct arena *a, struct imap_list_entries *boxes,
			      const struct imap_list_entries *subs, bool add_missing)
{
	struct imap_list_entries missing = { 0 };

	for (size_t i = 0; i < subs->n; i++) {
		const struct imap_list_entry *sub = &subs->v[i];
		struct imap_list_entry *e = imap_list_find(boxes, sub->name, sub->len);

		if (e != NULL) {
			e->subscribed = true;
		} else if (add_missing) {
			e = imap_list_entries_add(a, &missing);
			e->name = sub->name;
			e->len = sub->len;
			e->noselect = true;
			e->subscribed = true;
		}
	}
	if (missing.n == 0)
		return;
	merge_names(a, boxes, &missing);
	add_missing_levels(a, boxes);
}

static bool meets(const struct imap_list_entry *e, unsigned select)
{
	if ((select & IMAP_LIST_SEL_SUBSCRIBED) && !e->subscribed)
		return false;
	if ((select & IMAP_LIST_SEL_SPECIAL_USE) && (!e->exists || e->special_use[0] == '\0'))
		return false;
	return true;
}

void imap_list_tree_select(struct imap_list_entries *boxes, unsigned select)
{
	for (size_t i = 0; i < boxes->n; i++)
		boxes->v[i].selected = meets(&boxes->v[i], select);
	if (!(select & IMAP_LIST_SEL_RECURSIVEMATCH))
		return;
	/* §3.5: every superior level of a name that meets the criteria gets
	 * CHILDINFO, whether or not that name matches the pattern. */
	for (size_t i = 0; i < boxes->n; i++) {
		const struct imap_list_entry *e = &boxes->v[i];

		if (!e->selected)
			continue;
		for (size_t p = 1; p < e->len; p++) {
			struct imap_list_entry *up;

			if (e->name[p] == IMAP_MAILBOX_DELIM &&
			    (up = imap_list_find(boxes, e->name, p)) != NULL)
				up->childinfo = true;
		}
	}
}
