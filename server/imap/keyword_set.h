/* The keywords a selected session has been told of in FLAGS (RFC 3501
 * §7.2.6), as a set: FETCH, STORE and the change poll ask it, for every
 * row they report, whether each keyword of the row is known, so a lookup
 * costs one hash and usually one comparison, never a walk of the list.
 * The names are kept in the order they were added, which is the order
 * FLAGS lists them in. No length limit of its own: a keyword is as long as
 * the client could send it (max_line_length).
 *
 * Owned by the view (server/imap/view.c) for the session's selection:
 * heap memory, released by imap_keyword_set_free. Keywords are atoms, so
 * they hold no NUL or space; the stored copies are NUL-terminated. */
#ifndef KAIRAN_IMAP_KEYWORD_SET_H
#define KAIRAN_IMAP_KEYWORD_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/core/buf.h"

struct imap_keyword_set {
	char **names;          /* in insertion order */
	size_t *lens;
	size_t count, cap;
	uint32_t *slots;       /* open addressing: index + 1 into names, 0 = empty */
	size_t nslots;         /* a power of two, kept at least twice count */
};

/* Adds the keyword s[0..len) (len > 0); true if it was not there yet. */
bool imap_keyword_set_add(struct imap_keyword_set *set, const char *s, size_t len);
bool imap_keyword_set_has(const struct imap_keyword_set *set, const char *s, size_t len);
/* The same for a space-separated list, as the store returns keywords:
 * adds each one; true if any was new. */
bool imap_keyword_set_add_list(struct imap_keyword_set *set, const char *list);
/* Whether every keyword of the space-separated list is in the set. */
bool imap_keyword_set_has_all(const struct imap_keyword_set *set, const char *list);
/* Appends the keywords, space-separated, in insertion order. */
void imap_keyword_set_write(const struct imap_keyword_set *set, struct buf *out);
void imap_keyword_set_free(struct imap_keyword_set *set);

#endif
