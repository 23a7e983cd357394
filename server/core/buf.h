/* Growable byte buffers that carry their length (protocol data may hold NUL).
 * Out-of-memory is fatal (STYLE.md: a broken invariant or OOM is fatal), so
 * appends never fail and callers need no error paths for them. */
#ifndef KAIRAN_CORE_BUF_H
#define KAIRAN_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;     /* bytes in use, from data[0] */
	size_t cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_append_str(struct buf *b, const char *s);
void buf_appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vappendf(struct buf *b, const char *fmt, va_list ap);
/* Drops the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);
static inline void buf_clear(struct buf *b) { b->len = 0; }
/* The bytes of b from offset off (off <= len), also for a buf that never
 * held any: its data is NULL, and NULL + 0 is undefined behaviour in C
 * (UBSan's pointer-overflow check, which fuzz_mime runs under, stops on it). */
static inline const char *buf_at(const struct buf *b, size_t off)
{
	return b->data == NULL ? "" : (const char *)b->data + off;
}

/* Allocation helpers that abort on out-of-memory. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);

#endif
