/* The source model of kairanctl import (server/ctl/import_source.h). */
#include "server/ctl/import_source.h"
#include "server/imap/mutf7.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdarg.h>
#include <stdio.h>

int imp_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

struct imp_folder *imp_folder(struct arena *a, struct imp_source *src, const char *name)
{
	struct imp_folder *f;

	for (size_t i = 0; i < src->nfolders; i++)
		if (strcmp(src->folders[i].name, name) == 0)
			return &src->folders[i];
	src->folders = arena_grow(a, src->folders, src->nfolders, &src->folders_cap,
				  sizeof(*src->folders));
	f = &src->folders[src->nfolders++];
	memset(f, 0, sizeof(*f));
	f->name = arena_strndup(a, name, strlen(name));
	return f;
}

struct imp_msg *imp_msg_add(struct arena *a, struct imp_folder *f)
{
	struct imp_msg *m;

	f->msgs = arena_grow(a, f->msgs, f->n, &f->cap, sizeof(*f->msgs));
	m = &f->msgs[f->n++];
	memset(m, 0, sizeof(*m));
	return m;
}

void imp_subscribe(struct arena *a, struct imp_source *src, const char *name)
{
	for (size_t i = 0; i < src->nsubs; i++)
		if (strcmp(src->subscriptions[i], name) == 0)
			return;
	src->subscriptions = arena_grow(a, src->subscriptions, src->nsubs, &src->subs_cap,
					sizeof(*src->subscriptions));
	src->subscriptions[src->nsubs++] = arena_strndup(a, name, strlen(name));
}

void imp_keyword_add(struct arena *a, struct imp_msg *m, const char *kw)
{
	const char **v;

	for (size_t i = 0; i < m->nkeywords; i++)
		if (strcasecmp(m->keywords[i], kw) == 0)
			return;
	/* Keyword lists are short: a new array each time keeps the struct
	 * small (no capacity field), at a cost nobody will measure. */
	v = arena_alloc(a, (m->nkeywords + 1) * sizeof(*v));
	if (m->nkeywords > 0)
		memcpy(v, m->keywords, m->nkeywords * sizeof(*v));
	v[m->nkeywords++] = arena_strndup(a, kw, strlen(kw));
	m->keywords = v;
}

const char *imp_store_name(struct arena *a, const char *name, char sep, bool utf8_too)
{
	struct buf b;
	const char *out = NULL;
	bool ok = true;

	buf_init(&b);
	while (ok) {
		size_t len = sep != '\0' ? (size_t)(strchrnul(name, sep) - name) : strlen(name);

		ok = len > 0 && (sep == '/' || memchr(name, '/', len) == NULL);
		if (ok && imap_mutf7_to_utf8(name, len, &b) < 0) {
			ok = utf8_too && imap_utf8_valid(name, len);
			buf_append(&b, name, len);
		}
		if (name[len] == '\0')
			break;
		buf_append(&b, "/", 1);
		name += len + 1;
	}
	if (ok)
		out = arena_strndup(a, b.data, b.len);
	buf_free(&b);
	return out;
}

void imp_crlf_append(struct buf *out, const char *data, size_t len)
{
	size_t start = 0;

	buf_reserve(out, len + len / 32 + 2);
	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\n' || (i > 0 && data[i - 1] == '\r'))
			continue;
		buf_append(out, data + start, i - start);
		buf_append(out, "\r\n", 2);
		start = i + 1;
	}
	buf_append(out, data + start, len - start);
}

/* Reads a whole file, of at most max bytes, into out. */
static int read_file(const char *path, size_t max, struct buf *raw, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t got = 0;

	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return imp_err(err, errlen, "%s: %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		close(fd);
		return imp_err(err, errlen, "%s: %s", path,
			       S_ISREG(st.st_mode) ? "larger than max_literal_size" : "not a file");
	}
	buf_reserve(raw, (size_t)st.st_size + 1);
	while (raw->len < (size_t)st.st_size &&
	       (got = read(fd, raw->data + raw->len, (size_t)st.st_size - raw->len)) > 0)
		raw->len += (size_t)got;
	close(fd);
	if (got < 0)
		return imp_err(err, errlen, "%s: %s", path, strerror(errno));
	return 0;
}

int imp_message_read(const struct imp_msg *m, size_t max, struct buf *out,
		     char *err, size_t errlen)
{
	struct buf raw;
	int r;

	if (m->kind == IMP_MBOX)
		return imp_mbox_message(m, max, out, err, errlen);
	if (m->kind == IMP_IMAP)
		return imp_imap_message(m, max, out, err, errlen);
	buf_init(&raw);
	r = read_file(m->path, max, &raw, err, errlen);
	if (r == 0 && raw.len == 0)
		r = imp_err(err, errlen, "%s: empty file", m->path);
	if (r == 0)
		imp_crlf_append(out, (const char *)raw.data, raw.len);
	buf_free(&raw);
	return r;
}
