/* The look-up cache entry by entry (cache.c).
 *
 * dir.h has what the server uses: dir_cache_new, dir_user_groups_cached,
 * dir_lookup_by_mail_cached. This header is for directory/ itself and for
 * the unit tests, which drive the cache directly with an injected clock.
 * No <ldap.h>: the cache knows nothing of LDAP.
 *
 * Every function takes the cache's mutex for its own duration only, so all
 * may be called from any thread at any time.
 */
#ifndef KAIRAN_DIRECTORY_CACHE_H
#define KAIRAN_DIRECTORY_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "directory/dir.h"

/* What one entry holds; any part may be absent (NULL). */
struct dir_cache_item {
	const char *dn;
	const char *login;
	char *const *groups;  /* NULL-terminated */
};

/* Milliseconds from an arbitrary origin, never going backwards. */
typedef int64_t dir_clock_fn(void *arg);

/* Replaces the clock (CLOCK_MONOTONIC by default); for tests. */
void dir_cache_set_clock(dir_cache *c, dir_clock_fn *now_ms, void *arg);

/* Stores a copy of item under key, stamped with the current time, replacing
 * any entry of that key, then evicts least recently used entries until the
 * cache is within max_entries and max_bytes. An item bigger than max_bytes
 * by itself is not stored (and the old entry is removed). Does nothing when
 * the TTL is 0. 0, or -1 on out-of-memory (the old entry is removed). */
int dir_cache_put(dir_cache *c, const char *key, const struct dir_cache_item *item);

/* Looks key up. 1 for an entry younger than the TTL whose dn equals want_dn
 * (when want_dn is not NULL): then the entry becomes the most recently used,
 * its dn and login are copied into dn_r and login_r (each skipped when NULL;
 * an absent one is copied as ""), and when groups_r is not NULL *groups_r is
 * a malloc'ed copy of its groups as dir_user_groups returns them (an empty
 * list when it has none). 0 for a miss: no entry, or one that expired or is
 * for another DN, which is removed; or a value that does not fit its buffer.
 * -1 on out-of-memory. Outputs are untouched unless 1 is returned. */
int dir_cache_get(dir_cache *c, const char *key, const char *want_dn,
		char *dn_r, size_t dn_size, char *login_r, size_t login_size,
		char ***groups_r, size_t *n_r);

/* Removes key's entry, if any. */
void dir_cache_remove(dir_cache *c, const char *key);

/* true if c stores anything: not NULL, and its TTL is not 0. */
bool dir_cache_enabled(const dir_cache *c);

/* Entries held and the bytes they take; for tests and statistics. */
size_t dir_cache_count(dir_cache *c);
size_t dir_cache_bytes(dir_cache *c);

#endif
