#include "server/imap/keyword_set.h"

#include <stdlib.h>
#include <string.h>

/* FNV-1a. Not keyed: the names are chosen by clients who may write to the
 * mailbox, so colliding ones could be made on purpose, but a set holds at
 * most the mailbox's registry (max_keywords_per_mailbox), and the worst
 * collisions can do is turn lookups into a walk of that many entries. */
static uint64_t kw_hash(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* The slot holding s, or the empty slot where it would go. */
static size_t kw_slot(const struct imap_keyword_set *set, const char *s, size_t len)
{
	size_t mask = set->nslots - 1, i = (size_t)kw_hash(s, len) & mask;

	for (;;) {
		uint32_t e = set->slots[i];
		if (e == 0 || (set->lens[e - 1] == len && memcmp(set->names[e - 1], s, len) == 0))
			return i;
		i = (i + 1) & mask;
	}
}

static void kw_rehash(struct imap_keyword_set *set, size_t nslots)
{
	free(set->slots);
	set->slots = xcalloc(nslots, sizeof(*set->slots));
	set->nslots = nslots;
	for (size_t k = 0; k < set->count; k++)
		set->slots[kw_slot(set, set->names[k], set->lens[k])] = (uint32_t)k + 1;
}

bool imap_keyword_set_has(const struct imap_keyword_set *set, const char *s, size_t len)
{
	return set->count > 0 && set->slots[kw_slot(set, s, len)] != 0;
}

bool imap_keyword_set_add(struct imap_keyword_set *set, const char *s, size_t len)
{
	if (imap_keyword_set_has(set, s, len))
		return false;
	if (set->count == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 16;
		set->names = xrealloc(set->names, set->cap * sizeof(*set->names));
		set->lens = xrealloc(set->lens, set->cap * sizeof(*set->lens));
	}
	set->names[set->count] = xmalloc(len + 1);
	memcpy(set->names[set->count], s, len);
	set->names[set->count][len] = '\0';
	set->lens[set->count] = len;
	set->count++;
	/* At most half full, so probe runs stay short. */
	if (set->count * 2 > set->nslots)
		kw_rehash(set, set->nslots ? set->nslots * 2 : 32);
	else
		set->slots[kw_slot(set, s, len)] = (uint32_t)set->count;
	return true;
}

/* Calls fn for each word of a space-separated list; stops at its first
 * false and returns false then. */
static bool kw_each(const char *list, bool (*fn)(void *ctx, const char *s, size_t len), void *ctx)
{
	while (*list != '\0') {
		const char *end = strchr(list, ' ');
		size_t len = end != NULL ? (size_t)(end - list) : strlen(list);
		if (len > 0 && !fn(ctx, list, len))
			return false;
		list += len + (end != NULL);
	}
	return true;
}

struct kw_add_ctx {
	struct imap_keyword_set *set;
	bool added;
};

static bool kw_add_one(void *ctx, const char *s, size_t len)
{
	struct kw_add_ctx *a = ctx;

	a->added |= imap_keyword_set_add(a->set, s, len);
	return true;
}

bool imap_keyword_set_add_list(struct imap_keyword_set *set, const char *list)
{
	struct kw_add_ctx a = { set, false };

	kw_each(list, kw_add_one, &a);
	return a.added;
}

static bool kw_has_one(void *ctx, const char *s, size_t len)
{
	return imap_keyword_set_has(ctx, s, len);
}

bool imap_keyword_set_has_all(const struct imap_keyword_set *set, const char *list)
{
	return kw_each(list, kw_has_one, (void *)set);
}

void imap_keyword_set_write(const struct imap_keyword_set *set, struct buf *out)
{
	for (size_t k = 0; k < set->count; k++) {
		if (k > 0)
			buf_append(out, " ", 1);
		buf_append(out, set->names[k], set->lens[k]);
	}
}

void imap_keyword_set_free(struct imap_keyword_set *set)
{
	for (size_t k = 0; k < set->count; k++)
		free(set->names[k]);
	free(set->names);
	free(set->lens);
	free(set->slots);
	memset(set, 0, sizeof(*set));
}
