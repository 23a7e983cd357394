/* The source options of ESEARCH (RFC 7377 §2.2, §4): which mailboxes a
 * multi-mailbox search covers.
 *
 *   esearch-source-opts = "IN" SP "(" source-mbox [SP "(" scope-options ")"] ")"
 *   source-mbox = filter-mailboxes *(SP filter-mailboxes)
 *   filter-mailboxes = "selected" / "inboxes" / "personal" / "subscribed" /
 *                      ("subtree" / "subtree-one" / "mailboxes") SP one-or-more-mailbox
 *   one-or-more-mailbox = mailbox / "(" mailbox *(SP mailbox) ")"
 *
 * (RFC 5465 §6's filters, without "selected-delayed", plus "subtree-one".)
 * RFC 7377 defines no scope option, so any is BAD. Pure: no I/O; results
 * in the command's arena; names are the client's arguments, not decoded. */
#ifndef KAIRAN_IMAP_ESEARCH_SOURCE_H
#define KAIRAN_IMAP_ESEARCH_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "server/core/arena.h"
#include "server/imap/parser.h"

/* Names one command may give in all its filters together: more is BAD. */
#define IMAP_ESEARCH_MAX_NAMES 1000

#define IMAP_ESEARCH_SELECTED   (1u << 0)
#define IMAP_ESEARCH_INBOXES    (1u << 1)
#define IMAP_ESEARCH_PERSONAL   (1u << 2)
#define IMAP_ESEARCH_SUBSCRIBED (1u << 3)

enum imap_esearch_names_kind {
	IMAP_ESEARCH_MAILBOXES,     /* the mailbox itself */
	IMAP_ESEARCH_SUBTREE,       /* it and every mailbox below it */
	IMAP_ESEARCH_SUBTREE_ONE,   /* it and its children */
};

struct imap_esearch_name {
	enum imap_esearch_names_kind kind;
	const struct imap_arg *arg;          /* an astring, as the client sent it */
	const char *name;                    /* for the caller: the decoded name */
	size_t len;
};

struct imap_esearch_source {
	unsigned filters;                    /* IMAP_ESEARCH_* */
	struct imap_esearch_name *names;
	size_t nnames, cap;
};

/* Parses the list that follows "IN" (list, an IMAP_ARG_LIST or not).
 * 0, or -1 with *error_r, the text of the tagged BAD. */
int imap_esearch_source_parse(struct arena *a, const struct imap_arg *list,
			      struct imap_esearch_source *src_r, const char **error_r);

#endif
