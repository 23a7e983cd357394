#include "server/core/spool.h"
#include "server/core/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct spool {
	int fd;
	uint64_t size;
	int error;          /* errno of the first failed write, 0 if none */
	void *map;
	size_t map_len;
};

/* O_TMPFILE needs file system support (ext4, xfs, btrfs, tmpfs have it);
 * elsewhere the file gets a name for an instant. */
static int spool_open_file(const char *dir)
{
	char path[4096];
	int fd;

#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
#endif
	if ((size_t)snprintf(path, sizeof(path), "%s/kairan-spool-XXXXXX", dir) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		(void)unlink(path);
	return fd;
}

struct spool *spool_new(const char *dir)
{
	int fd = spool_open_file(dir);
	struct spool *s;

	if (fd < 0)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->fd = fd;
	return s;
}

void spool_write(struct spool *s, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0 && s->error == 0) {
		ssize_t n = write(s->fd, p, len);
		if (n < 0) {
			if (errno != EINTR)
				s->error = errno;
			continue;
		}
		p += n;
		len -= (size_t)n;
		s->size += (uint64_t)n;
	}
}

uint64_t spool_size(const struct spool *s)
{
	return s->size;
}

bool spool_failed(const struct spool *s, int *errno_r)
{
	*errno_r = s->error;
	return s->error != 0;
}

ssize_t spool_read(struct spool *s, uint64_t offset, void *buf, size_t len)
{
	ssize_t n;

	do
		n = pread(s->fd, buf, len, (off_t)offset);
	while (n < 0 && errno == EINTR);
	return n;
}

const char *spool_map(struct spool *s)
{
	void *p;

	if (s->map != NULL)
		return s->map;
	if (s->size == 0 || s->size > SIZE_MAX) {
		errno = EINVAL;
		return NULL;
	}
	p = mmap(NULL, (size_t)s->size, PROT_READ, MAP_PRIVATE, s->fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* Parsers read a message front to back, mostly once. */
	(void)madvise(p, (size_t)s->size, MADV_SEQUENTIAL);
	s->map = p;
	s->map_len = (size_t)s->size;
	return p;
}

void spool_unmap(struct spool *s)
{
	if (s->map == NULL)
		return;
	(void)munmap(s->map, s->map_len);
	s->map = NULL;
	s->map_len = 0;
}

void spool_free(struct spool **sp)
{
	struct spool *s = *sp;

	if (s == NULL)
		return;
	spool_unmap(s);
	(void)close(s->fd);
	free(s);
	*sp = NULL;
}
