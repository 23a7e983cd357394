/* The look-up cache: a hash table of entries on an LRU list, one mutex.
 *
 * Why a cache at all: every command that checks rights needs the caller's
 * groups, and every LMTP recipient needs an address look-up; asking the
 * directory each time would put it on the path of every command. Why a TTL:
 * DESIGN.md wants a directory change (a user removed from a group) to take
 * effect without a restart, within a known, short time.
 *
 * An entry is one allocation: the struct, then its group pointers, then its
 * strings. Reading copies out under the lock, so no caller ever holds a
 * pointer into the cache, and eviction can free at any time. */
#include "directory/cache.h"

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct dir_cache_entry {
	struct dir_cache_entry *hnext;       /* hash chain */
	struct dir_cache_entry *prev, *next; /* LRU list, most recently used first */
	uint64_t hash;
	int64_t fetched_ms;
	size_t bytes;                        /* the whole allocation */
	char *key, *dn, *login;              /* dn and login may be NULL */
	char **groups;                       /* NULL-terminated, or NULL */
	size_t n_groups;
};

struct dir_cache {
	pthread_mutex_t lock;
	int64_t ttl_ms;
	size_t max_entries, max_bytes;
	size_t count, bytes;
	struct dir_cache_entry **buckets;
	size_t mask;                         /* bucket count - 1, a power of two */
	struct dir_cache_entry *head, *tail;
	dir_clock_fn *now;
	void *now_arg;
};

static int64_t dir_cache_monotonic_ms(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* FNV-1a: keys are short and not chosen to collide (they are logins the
 * directory accepted and addresses of deliveries), and a chain is bounded by
 * max_entries anyway. */
static uint64_t dir_cache_hash(const char *key)
{
	uint64_t h = 14695981039346656037ull;

	for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
		h ^= *p;
		h *= 1099511628211ull;
	}
	return h;
}

int dir_cache_new(unsigned ttl_sec, size_t max_entries, size_t max_bytes, dir_cache **cache_r)
{
	dir_cache *c = calloc(1, sizeof(*c));
	size_t nb = 16;

	*cache_r = NULL;
	if (c == NULL)
		return -1;
	c->ttl_ms = (int64_t)ttl_sec * 1000;
	c->max_entries = max_entries > 0 ? max_entries : DIR_CACHE_DEFAULT_ENTRIES;
	c->max_bytes = max_bytes > 0 ? max_bytes : DIR_CACHE_DEFAULT_BYTES;
	while (nb < c->max_entries && nb < ((size_t)1 << 24))
		nb *= 2;
	c->buckets = calloc(nb, sizeof(*c->buckets));
	if (c->buckets == NULL || pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c->buckets);
		free(c);
		return -1;
	}
	c->mask = nb - 1;
	c->now = dir_cache_monotonic_ms;
	*cache_r = c;
	return 0;
}

void dir_cache_free(dir_cache **cp)
{
	dir_cache *c;

	if (cp == NULL || *cp == NULL)
		return;
	c = *cp;
	for (struct dir_cache_entry *e = c->head, *next; e != NULL; e = next) {
		next = e->next;
		free(e);
	}
	pthread_mutex_destroy(&c->lock);
	free(c->buckets);
	free(c);
	*cp = NULL;
}

void dir_cache_set_clock(dir_cache *c, dir_clock_fn *now_ms, void *arg)
{
	pthread_mutex_lock(&c->lock);
	c->now = now_ms != NULL ? now_ms : dir_cache_monotonic_ms;
	c->now_arg = arg;
	pthread_mutex_unlock(&c->lock);
}

/* The functions below, up to the public ones, run with the lock held. */

static struct dir_cache_entry **dir_cache_slot(dir_cache *c, const char *key, uint64_t h)
{
	struct dir_cache_entry **pp = &c->buckets[h & c->mask];

	while (*pp != NULL && ((*pp)->hash != h || strcmp((*pp)->key, key) != 0))
		pp = &(*pp)->hnext;
	return pp;
}

static void dir_cache_lru_unlink(dir_cache *c, struct dir_cache_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void dir_cache_lru_push(dir_cache *c, struct dir_cache_entry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head != NULL)
		c->head->prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
}

/* Unlinks and frees the entry *slot points to. */
static void dir_cache_drop(dir_cache *c, struct dir_cache_entry **slot)
{
	struct dir_cache_entry *e = *slot;

	*slot = e->hnext;
	dir_cache_lru_unlink(c, e);
	c->count--;
	c->bytes -= e->bytes;
	free(e);
}

static void dir_cache_drop_entry(dir_cache *c, struct dir_cache_entry *e)
{
	dir_cache_drop(c, dir_cache_slot(c, e->key, e->hash));
}

static size_t dir_cache_len0(const char *s)
{
	return s != NULL ? strlen(s) + 1 : 0;
}

/* Copies s into the entry's string area at *pos; NULL stays NULL. */
static char *dir_cache_place(char **pos, const char *s)
{
	char *at = *pos;
	size_t n;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	memcpy(at, s, n);
	*pos += n;
	return at;
}

/* One allocation holding item, in *e_r; NULL there if it would be bigger
 * than max. 0, or -1 on out-of-memory. */
static int dir_cache_build(const char *key, const struct dir_cache_item *item, size_t max,
		struct dir_cache_entry **e_r)
{
	size_t n = 0, size = sizeof(struct dir_cache_entry);
	struct dir_cache_entry *e;
	char *pos;

	*e_r = NULL;
	while (item->groups != NULL && item->groups[n] != NULL)
		size += strlen(item->groups[n++]) + 1;
	if (item->groups != NULL)
		size += (n + 1) * sizeof(char *);
	size += dir_cache_len0(key) + dir_cache_len0(item->dn) + dir_cache_len0(item->login);
	if (size > max)
		return 0;
	e = calloc(1, size);
	if (e == NULL)
		return -1;
	e->bytes = size;
	/* The struct's alignment is at least a pointer's, so the pointer array
	 * right after it is aligned; strings need none. */
	pos = (char *)(e + 1);
	if (item->groups != NULL) {
		e->groups = (char **)(void *)pos;
		pos += (n + 1) * sizeof(char *);
		for (size_t i = 0; i < n; i++)
			e->groups[i] = dir_cache_place(&pos, item->groups[i]);
		e->groups[n] = NULL;
		e->n_groups = n;
	}
	e->key = dir_cache_place(&pos, key);
	e->dn = dir_cache_place(&pos, item->dn);
	e->login = dir_cache_place(&pos, item->login);
	*e_r = e;
	return 0;
}

int dir_cache_put(dir_cache *c, const char *key, const struct dir_cache_item *item)
{
	uint64_t h = dir_cache_hash(key);
	struct dir_cache_entry *e, **slot;
	int rc;

	if (c->ttl_ms == 0)
		return 0;
	/* Built before taking the lock: the copying needs no shared state. */
	rc = dir_cache_build(key, item, c->max_bytes, &e);
	pthread_mutex_lock(&c->lock);
	/* The old entry goes even if the new one cannot be stored: it is older
	 * than what the caller just learnt. */
	slot = dir_cache_slot(c, key, h);
	if (*slot != NULL)
		dir_cache_drop(c, slot);
	if (e != NULL) {
		e->hash = h;
		e->fetched_ms = c->now(c->now_arg);
		e->hnext = c->buckets[h & c->mask];
		c->buckets[h & c->mask] = e;
		dir_cache_lru_push(c, e);
		c->count++;
		c->bytes += e->bytes;
		while (c->count > c->max_entries || c->bytes > c->max_bytes)
			dir_cache_drop_entry(c, c->tail);
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* Copies s (NULL as "") into buf; false if it does not fit. */
static bool dir_cache_copy(char *buf, size_t size, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n >= size)
		return false;
	memcpy(buf, s != NULL ? s : "", n);
	buf[n] = '\0';
	return true;
}

/* A malloc'ed copy of the entry's groups, as dir_user_groups returns them. */
static char **dir_cache_copy_groups(const struct dir_cache_entry *e)
{
	char **v = calloc(e->n_groups + 1, sizeof(*v));

	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < e->n_groups; i++) {
		v[i] = strdup(e->groups[i]);
		if (v[i] == NULL) {
			dir_groups_free(&v);
			return NULL;
		}
	}
	return v;
}

int dir_cache_get(dir_cache *c, const char *key, const char *want_dn,
		char *dn_r, size_t dn_size, char *login_r, size_t login_size,
		char ***groups_r, size_t *n_r)
{
	uint64_t h = dir_cache_hash(key);
	struct dir_cache_entry **slot, *e;
	char **groups = NULL;
	int64_t age;
	int rc = 0;

	if (c->ttl_ms == 0)
		return 0;
	pthread_mutex_lock(&c->lock);
	slot = dir_cache_slot(c, key, h);
	e = *slot;
	if (e == NULL)
		goto out;
	age = c->now(c->now_arg) - e->fetched_ms;
	/* A clock that went backwards makes the age negative: treated as
	 * expired, since nothing then says how old the entry is. */
	if (age < 0 || age >= c->ttl_ms ||
	    (want_dn != NULL && (e->dn == NULL || strcmp(e->dn, want_dn) != 0))) {
		dir_cache_drop(c, slot);
		goto out;
	}
	if ((dn_r != NULL && e->dn != NULL && strlen(e->dn) >= dn_size) ||
	    (login_r != NULL && e->login != NULL && strlen(e->login) >= login_size) ||
	    (dn_r != NULL && dn_size == 0) || (login_r != NULL && login_size == 0))
		goto out;
	if (groups_r != NULL && (groups = dir_cache_copy_groups(e)) == NULL) {
		rc = -1;
		goto out;
	}
	if (dn_r != NULL)
		(void)dir_cache_copy(dn_r, dn_size, e->dn);
	if (login_r != NULL)
		(void)dir_cache_copy(login_r, login_size, e->login);
	if (groups_r != NULL) {
		*groups_r = groups;
		*n_r = e->n_groups;
	}
	dir_cache_lru_unlink(c, e);
	dir_cache_lru_push(c, e);
	rc = 1;
out:
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void dir_cache_remove(dir_cache *c, const char *key)
{
	uint64_t h = dir_cache_hash(key);
	struct dir_cache_entry **slot;

	pthread_mutex_lock(&c->lock);
	slot = dir_cache_slot(c, key, h);
	if (*slot != NULL)
		dir_cache_drop(c, slot);
	pthread_mutex_unlock(&c->lock);
}

bool dir_cache_enabled(const dir_cache *c)
{
	return c != NULL && c->ttl_ms > 0; /* set once, at creation: no lock needed */
}

size_t dir_cache_count(dir_cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->count;
	pthread_mutex_unlock(&c->lock);
	return n;
}

size_t dir_cache_bytes(dir_cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->bytes;
	pthread_mutex_unlock(&c->lock);
	return n;
}
