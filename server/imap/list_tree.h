/* The names LIST works on: every mailbox the caller may see (their own,
 * and other owners' with "l", list_shared.c), sorted, completed with the
 * levels of hierarchy that have no mailbox, and, for the RFC 5258
 * selection options, the caller's subscriptions and which names meet the
 * selection criteria. Memory from the command arena.
 *
 * RFC 4314 §4 holds here by construction: only visible mailboxes enter
 * the tree, so nothing derived from it (\HasChildren, \Noselect, special
 * use, CHILDINFO, STATUS, MYRIGHTS) can reveal a mailbox without "l". A
 * subscription to a name the caller cannot see is, to them, a name that
 * does not exist: \NonExistent, as RFC 5258 §3 lists any subscribed name
 * without a mailbox. It tells them nothing they did not know, since they
 * made the subscription themselves. */
#ifndef KAIRAN_IMAP_LIST_TREE_H
#define KAIRAN_IMAP_LIST_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acl/acl.h"
#include "server/core/arena.h"
#include "schema/db_mailbox.h"

struct imap_list_entry {
	const char *name;           /* UTF-8 client name */
	size_t len;
	bool exists;                /* a mailbox row the caller may see */
	bool noselect;              /* a \Noselect row, or no row */
	bool children;              /* a visible mailbox below it */
	bool subscribed;
	bool childinfo;             /* RECURSIVEMATCH: a descendant meets the criteria */
	bool selected;              /* meets the selection criteria */
	bool listed;                /* matches a pattern and is selected or has CHILDINFO */
	const char *special_use;    /* "" if none */
	int64_t mailbox_id;         /* 0: no row */
	bool rights_known;          /* rights holds the caller's rights (shared rows) */
	acl_rights rights;
	const struct db_mailbox_status *status; /* RETURN (STATUS): NULL if none */
};

struct imap_list_entries {
	struct imap_list_entry *v;
	size_t n, cap;
};

/* A new zeroed entry at the end (special_use ""). */
struct imap_list_entry *imap_list_entries_add(struct arena *a, struct imap_list_entries *e);

/* INBOX and its inferiors first, then byte order of the UTF-8 names. */
void imap_list_entries_sort(struct imap_list_entries *e);

/* The entry named name in sorted entries, or NULL. */
struct imap_list_entry *imap_list_find(const struct imap_list_entries *e, const char *name,
				       size_t len);

/* Sorts the mailboxes, adds every superior level that has no row as a
 * name that does not exist, and marks the names that have inferiors. */
void imap_list_tree_build(struct arena *a, struct imap_list_entries *boxes);

/* Marks the subscribed names of boxes (built) from subs; with
 * add_missing, a subscribed name that is not in boxes is added as one
 * that does not exist, with its missing superior levels. */
void imap_list_tree_subscribe(struct arena *a, struct imap_list_entries *boxes,
			      const struct imap_list_entries *subs, bool add_missing);

/* Sets each entry's selected from the selection options (IMAP_LIST_SEL_*
 * of list_args.h; with no criteria every entry is selected) and, with
 * RECURSIVEMATCH, childinfo on every superior level of a selected name. */
void imap_list_tree_select(struct imap_list_entries *boxes, unsigned select);

#endif
