/* An arena: allocations are released all at once by arena_reset, never one
 * by one. Each command gets one (reset after its tagged response), so command
 * code has no frees and no leaks on its error paths. Not thread-safe; an
 * arena belongs to whichever thread owns the session at the time. */
#ifndef KAIRAN_CORE_ARENA_H
#define KAIRAN_CORE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *chunks;  /* newest first */
	size_t total;                /* bytes handed out since the last reset */
};

void arena_init(struct arena *a);
/* Memory aligned for any type; aborts on out-of-memory. */
void *arena_alloc(struct arena *a, size_t size);
/* Room for one more element in an array that grows in the arena: items
 * holds n elements of size bytes and has room for *cap. When it is full,
 * returns a copy with twice the room (16 elements at first) and updates
 * *cap; the old array stays in the arena until its reset. Otherwise
 * returns items. At most about twice the bytes of the final array, and
 * amortised constant time per element. */
void *arena_grow(struct arena *a, void *items, size_t n, size_t *cap, size_t size);
/* A NUL-terminated copy of len bytes (which may themselves contain NUL). */
char *arena_strndup(struct arena *a, const void *s, size_t len);
/* A formatted string, as snprintf would write it. */
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Frees everything but the first chunk, which is kept for reuse. */
void arena_reset(struct arena *a);
void arena_free(struct arena *a);

#endif
