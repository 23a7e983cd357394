/* Private keywords (migrations/0013; docs/protocol.md, "Private
 * keywords"): in a mailbox with per-user \Seen, the keywords the config's
 * private_keywords names (default "Old") are each reader's own, like
 * \Seen. The names are atoms separated by spaces or commas, compared
 * ignoring ASCII case (as STORE compares keywords); the config's spelling
 * is the one stored and shown. */
#ifndef KAIRAN_IMAP_PRIVATE_KEYWORDS_H
#define KAIRAN_IMAP_PRIVATE_KEYWORDS_H

#include <stdbool.h>
#include <stddef.h>

#include "server/core/arena.h"
#include "server/imap/store_args.h"

/* The next name of the list at *p (advanced past it), NULL at the end. */
const char *imap_private_keyword_next(const char **p, size_t *len_r);
/* The config's spelling of kw (len bytes) when names is a list that holds
 * it, else NULL; *len_r gets its length. */
const char *imap_private_keyword(const char *names, const char *kw, size_t len, size_t *len_r);
/* Every name of the list as a text[] literal, in the arena. */
const char *imap_private_keywords_array(struct arena *a, const char *names);
/* Splits f: *shared_r gets the keywords that are not private (the same
 * system flags), *private_r the private ones as a text[] literal in the
 * config's spelling, and their count. */
size_t imap_private_keywords_split(struct arena *a, const char *names, const struct imap_flags *f,
				   struct imap_flags *shared_r, const char **private_r);

#endif
