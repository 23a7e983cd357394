#include "server/core/arena.h"
#include "server/core/buf.h"

#include <stdalign.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ARENA_CHUNK_SIZE 8192

struct arena_chunk {
	struct arena_chunk *next;
	size_t size, used;
	alignas(max_align_t) unsigned char data[];
};

void arena_init(struct arena *a)
{
	a->chunks = NULL;
	a->total = 0;
}

void *arena_alloc(struct arena *a, size_t size)
{
	const size_t align = alignof(max_align_t);
	struct arena_chunk *c = a->chunks;
	size_t rounded = (size + align - 1) & ~(align - 1);

	if (rounded < size)
		abort();
	if (c == NULL || c->size - c->used < rounded) {
		size_t csize = rounded > ARENA_CHUNK_SIZE ? rounded : ARENA_CHUNK_SIZE;
		c = xmalloc(sizeof(*c) + csize);
		c->size = csize;
		c->used = 0;
		/* A big allocation gets its own chunk behind the current one, so
		 * the space left in the current chunk is not wasted. */
		if (a->chunks != NULL && rounded > ARENA_CHUNK_SIZE) {
			c->next = a->chunks->next;
			a->chunks->next = c;
		} else {
			c->next = a->chunks;
			a->chunks = c;
		}
	}
	c->used += rounded;
	a->total += rounded;
	return c->data + c->used - rounded;
}

void *arena_grow(struct arena *a, void *items, size_t n, size_t *cap, size_t size)
{
	size_t room = *cap > 0 ? *cap * 2 : 16;
	void *grown;

	if (n < *cap)
		return items;
	if (room < *cap || room > SIZE_MAX / size)
		abort();
	grown = arena_alloc(a, room * size);
	if (n > 0)
		memcpy(grown, items, n * size);
	*cap = room;
	return grown;
}

char *arena_strndup(struct arena *a, const void *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list copy;
	int n;
	char *p;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	p = arena_alloc(a, n > 0 ? (size_t)n + 1 : 1);
	p[0] = '\0';
	if (n > 0)
		vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

void arena_reset(struct arena *a)
{
	struct arena_chunk *c, *keep = NULL;

	/* Keep one standard-sized chunk: most commands fit in it. */
	for (c = a->chunks; c != NULL;) {
		struct arena_chunk *next = c->next;
		if (keep == NULL && c->size == ARENA_CHUNK_SIZE) {
			keep = c;
			keep->used = 0;
			keep->next = NULL;
		} else
			free(c);
		c = next;
	}
	a->chunks = keep;
	a->total = 0;
}

void arena_free(struct arena *a)
{
	arena_reset(a);
	free(a->chunks);
	a->chunks = NULL;
}
