#include "server/imap/esearch_source.h"
#include "server/imap/args.h"

#include <string.h>

static const struct {
	const char *name;
	unsigned filter;                     /* 0: names follow */
	enum imap_esearch_names_kind kind;
} filters[] = {
	{ "selected", IMAP_ESEARCH_SELECTED, 0 },
	{ "inboxes", IMAP_ESEARCH_INBOXES, 0 },
	{ "personal", IMAP_ESEARCH_PERSONAL, 0 },
	{ "subscribed", IMAP_ESEARCH_SUBSCRIBED, 0 },
	{ "mailboxes", 0, IMAP_ESEARCH_MAILBOXES },
	{ "subtree", 0, IMAP_ESEARCH_SUBTREE },
	{ "subtree-one", 0, IMAP_ESEARCH_SUBTREE_ONE },
};

#define N_FILTERS (sizeof(filters) / sizeof(filters[0]))

/* one-or-more-mailbox: a mailbox, or a non-empty list of them. */
static int add_names(struct arena *a, enum imap_esearch_names_kind kind,
		     const struct imap_arg *arg, struct imap_esearch_source *src,
		     const char **error_r)
{
	const struct imap_arg *items = arg;
	size_t count = 1;

	if (arg->type == IMAP_ARG_LIST) {
		items = arg->u.list.items;
		count = arg->u.list.count;
		if (count == 0) {
			*error_r = "Empty list of mailboxes in IN";
			return -1;
		}
	}
	if (count > IMAP_ESEARCH_MAX_NAMES - src->nnames) {
		*error_r = "Too many mailbox names in IN";
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		struct imap_esearch_name *n;

		src->names = arena_grow(a, src->names, src->nnames, &src->cap, sizeof(*src->names));
		n = &src->names[src->nnames];

		n->arg = &items[i];
		if (items[i].type == IMAP_ARG_EOL || items[i].type == IMAP_ARG_LIST ||
		    !imap_arg_astring(&items[i], &n->name, &n->len)) {
			*error_r = "IN needs a mailbox name after mailboxes, subtree and subtree-one";
			return -1;
		}
		n->kind = kind;
		src->nnames++;
	}
	return 0;
}

int imap_esearch_source_parse(struct arena *a, const struct imap_arg *list,
			      struct imap_esearch_source *src_r, const char **error_r)
{
	memset(src_r, 0, sizeof(*src_r));
	if (list->type != IMAP_ARG_LIST || list->u.list.count == 0) {
		*error_r = "IN needs a list of mailbox filters";
		return -1;
	}
	for (size_t i = 0; i < list->u.list.count; i++) {
		const struct imap_arg *arg = &list->u.list.items[i];
		size_t f;

		if (arg->type == IMAP_ARG_LIST) {
			/* RFC 7377 §2.2 defines no scope option. */
			*error_r = i == 0 ? "IN needs a mailbox filter first" : "Unknown scope option";
			return -1;
		}
		for (f = 0; f < N_FILTERS; f++)
			if (imap_arg_atom_is(arg, filters[f].name))
				break;
		if (f == N_FILTERS) {
			*error_r = imap_arg_atom_is(arg, "selected-delayed") ?
				   "selected-delayed is not an ESEARCH filter (RFC 7377 2.2)" :
				   "Unknown mailbox filter in IN";
			return -1;
		}
		if (filters[f].filter != 0) {
			src_r->filters |= filters[f].filter;
			continue;
		}
		if (++i == list->u.list.count ||
		    add_names(a, filters[f].kind, &list->u.list.items[i], src_r, error_r) < 0) {
			if (i == list->u.list.count)
				*error_r = "IN needs a mailbox name after mailboxes, subtree and subtree-one";
			return -1;
		}
	}
	return 0;
}
