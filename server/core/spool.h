/* A spool: an unnamed temporary file that holds one message's bytes while
 * a command or delivery takes them in, so that a big message never sits
 * whole in memory (docs/architecture.md, "Big messages"). The file is
 * created with O_TMPFILE in a configured directory (or created and
 * unlinked at once where the file system cannot), so it has no name and
 * vanishes with its descriptor, whatever happens to the process.
 *
 * Writes append; a write that fails (a full disk) is remembered, later
 * writes are dropped, and spool_failed says so when the bytes are read:
 * the writer (the event loop, which must not stop in the middle of a
 * literal) never has an error path. Reading is by mapping the whole file
 * (the MIME analysis needs contiguous bytes) or by chunks (the store).
 * Not thread-safe: one owner at a time, as for the session's arena. */
#ifndef KAIRAN_CORE_SPOOL_H
#define KAIRAN_CORE_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct spool;

/* A new empty spool in dir; NULL with errno set when no file can be made. */
struct spool *spool_new(const char *dir);
/* Appends len bytes (see above for failures). */
void spool_write(struct spool *s, const void *data, size_t len);
/* Bytes written so far. */
uint64_t spool_size(const struct spool *s);
/* A write failed: the bytes are incomplete. Its errno in *errno_r. */
bool spool_failed(const struct spool *s, int *errno_r);
/* Reads up to len bytes at offset into buf: how many, 0 at the end, -1 on
 * an error (errno set). */
ssize_t spool_read(struct spool *s, uint64_t offset, void *buf, size_t len);
/* The whole content, mapped read-only, until spool_unmap or spool_free;
 * NULL (errno set) when it cannot be mapped or is empty. The pages count in
 * the process's resident size while mapped: map for as short as possible. */
const char *spool_map(struct spool *s);
void spool_unmap(struct spool *s);
/* Closes the file (which frees its blocks) and sets *sp to NULL. */
void spool_free(struct spool **sp);

#endif
