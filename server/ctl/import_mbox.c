/* An mbox file as kairanctl import reads it (docs/migration.md, "From an
 * mbox file"):
 *
 * - A message begins with a From_ line ("From SENDER DATE") at the start
 *   of the file, or after an empty line when its DATE reads as asctime's
 *   ("Fri Mar  1 12:00:00 2024"); the empty line before it ends the
 *   previous message and is not part of it. Any other "From " line is
 *   text: mboxo writers leave some unquoted, even after an empty line.
 * - mboxrd unquoting: one ">" goes from every line that is ">From ",
 *   ">>From " ...; an mboxo file's ">From " lines lose their ">" too,
 *   which is what their writer meant but could not say.
 * - Status (R: \Seen), X-Status (A: \Answered, F: \Flagged, T: \Draft,
 *   D: \Deleted), X-Keywords, X-UID and the first message's X-IMAPbase
 *   (UIDVALIDITY, next UID) give the flags, keywords and UIDs, as Dovecot
 *   and UW-IMAP write them; these fields and Content-Length are removed
 *   from the stored message, as Dovecot does when it reads the file.
 * - INTERNALDATE is the From_ line's date (asctime form, read as UTC),
 *   else the file's modification time.
 *
 * The file is mapped, never read line by line into buffers, so a line of
 * any length costs nothing; a message above max_literal_size is skipped
 * when it is read. A message is known by its offset and a hash of its
 * bytes, so a second run over the same file (or one that grew at the end)
 * copies nothing it copied before. */
#include "server/ctl/import_source.h"
#include "server/imap/store_args.h"
#include "schema/db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The fields that describe the mailbox rather than the message. */
static const char *const mbox_fields[] = {
	"Status", "X-Status", "X-Keywords", "X-UID", "X-IMAP", "X-IMAPbase", "Content-Length",
};

#define N_FIELDS (sizeof(mbox_fields) / sizeof(mbox_fields[0]))

/* The end of the line at p (the byte after its LF, or end). */
static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl != NULL ? nl + 1 : end;
}

static bool is_from_line(const char *p, const char *end)
{
	return end - p >= 5 && memcmp(p, "From ", 5) == 0;
}

/* Whether the line at p is an empty line ("\n" or "\r\n"). */
static bool is_empty_line(const char *p, const char *end)
{
	return (p < end && *p == '\n') || (end - p >= 2 && p[0] == '\r' && p[1] == '\n');
}

/* The header field of the line at p that mbox_fields names, its index, or -1. */
static int mbox_field(const char *p, const char *eol)
{
	for (size_t i = 0; i < N_FIELDS; i++) {
		size_t n = strlen(mbox_fields[i]);
		if ((size_t)(eol - p) > n && strncasecmp(p, mbox_fields[i], n) == 0 && p[n] == ':')
			return (int)i;
	}
	return -1;
}

/* The From_ line's date: "From SENDER Tue Dec  8 00:00:00 2026 [ZONE]". */
static int64_t from_date(const char *p, const char *eol)
{
	char line[256];
	size_t len = (size_t)(eol - p);
	const char *date;
	struct tm tm;

	if (len >= sizeof(line))
		return 0;
	memcpy(line, p, len);
	line[len] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	date = strchr(line + 5, ' ');
	memset(&tm, 0, sizeof(tm));
	if (date == NULL || strptime(date + 1, "%a %b %d %H:%M:%S %Y", &tm) == NULL)
		return 0;
	return (int64_t)timegm(&tm);
}

/* A header field's value, from after its colon to the end of the line. */
static char *field_value(struct arena *a, const char *p, const char *eol)
{
	const char *colon = memchr(p, ':', (size_t)(eol - p));
	const char *v = colon != NULL ? colon + 1 : eol;

	while (v < eol && (*v == ' ' || *v == '\t'))
		v++;
	return arena_strndup(a, v, (size_t)(eol - v));
}

static void apply_field(struct arena *a, int field, char *value, struct imp_msg *m,
			struct imp_folder *f, bool first)
{
	char *save, *tok;

	value[strcspn(value, "\r\n")] = '\0';
	switch (field) {
	case 0:  /* Status */
		if (strchr(value, 'R') != NULL)
			m->flags |= DB_FLAG_SEEN;
		break;
	case 1:  /* X-Status */
		m->flags |= (strchr(value, 'A') ? DB_FLAG_ANSWERED : 0) |
			    (strchr(value, 'F') ? DB_FLAG_FLAGGED : 0) |
			    (strchr(value, 'T') ? DB_FLAG_DRAFT : 0) |
			    (strchr(value, 'D') ? DB_FLAG_DELETED : 0);
		break;
	case 2:  /* X-Keywords */
		for (tok = strtok_r(value, " ,\t", &save); tok != NULL;
		     tok = strtok_r(NULL, " ,\t", &save))
			if (imap_keyword_valid(tok, strlen(tok)))
				imp_keyword_add(a, m, tok);
		break;
	case 3: {  /* X-UID */
		unsigned long uid = strtoul(value, NULL, 10);
		if (uid > 0 && uid <= UINT32_MAX)
			m->uid = (uint32_t)uid;
		break;
	}
	case 5:  /* X-IMAPbase: UIDVALIDITY NEXTUID [KEYWORDS...] */
		if (first) {
			unsigned long v = 0, next = 0;
			if (sscanf(value, "%lu %lu", &v, &next) == 2 && v > 0 && v <= UINT32_MAX &&
			    next > 0 && next <= UINT32_MAX) {
				f->uidvalidity = (uint32_t)v;
				f->uidnext = next;
			}
		}
		break;
	default:
		break;
	}
}

/* The header of the message at p..end: flags, keywords and UID. */
static void read_header(struct arena *a, const char *p, const char *end, struct imp_msg *m,
			struct imp_folder *f, bool first)
{
	while (p < end && !is_empty_line(p, end)) {
		const char *eol = line_end(p, end);
		int field = mbox_field(p, eol);

		/* Continuation lines of these fields are rare; the first line
		 * holds what any writer puts there. */
		if (field >= 0 && (size_t)(eol - p) < 65536)
			apply_field(a, field, field_value(a, p, eol), m, f, first);
		p = eol;
	}
}

/* FNV-1a: enough to tell two messages at one offset apart. */
static uint64_t fnv1a(const char *p, size_t len)
{
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return h;
}

int imp_mbox_parse(struct arena *a, const struct imp_mbox *mbox, int64_t mtime,
		   struct imp_source *src, const char *path, char *err, size_t errlen)
{
	const char *p = mbox->data, *end = mbox->data + mbox->size, *start;
	struct imp_folder *f;
	bool first = true;

	if (!is_from_line(p, end))
		return imp_err(err, errlen, "%s: not an mbox file (it does not begin with \"From \")",
			       path);
	f = imp_folder(a, src, "INBOX");
	while (p < end) {
		const char *from_eol = line_end(p, end), *q, *msg_end;
		struct imp_msg *m;

		/* The message runs to the empty line before the next From_. */
		start = from_eol;
		msg_end = end;
		for (q = start; q < end; q = line_end(q, end)) {
			const char *next = line_end(q, end);
			if (is_empty_line(q, end) && is_from_line(next, end) &&
			    from_date(next, line_end(next, end)) > 0) {
				msg_end = q;
				break;
			}
		}
		m = imp_msg_add(a, f);
		m->kind = IMP_MBOX;
		m->mbox = mbox;
		m->offset = (size_t)(start - mbox->data);
		m->len = (size_t)(msg_end - start);
		m->internaldate = from_date(p, from_eol);
		if (m->internaldate <= 0)
			m->internaldate = mtime;
		m->source = arena_printf(a, "mbox:%zu:%016llx", m->offset,
					 (unsigned long long)fnv1a(start, m->len));
		read_header(a, start, msg_end, m, f, first);
		first = false;
		p = msg_end < end ? line_end(msg_end, end) : end;
	}
	return 0;
}

int imp_mbox_scan(struct arena *a, const char *path, struct imp_source *src,
		  struct imp_mbox *mbox, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	memset(mbox, 0, sizeof(*mbox));
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return imp_err(err, errlen, "%s: %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return imp_err(err, errlen, "%s: %s", path,
			       S_ISREG(st.st_mode) ? "empty file" : "not a file");
	}
	mbox->size = (size_t)st.st_size;
	mbox->data = mmap(NULL, mbox->size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (mbox->data == MAP_FAILED) {
		mbox->data = NULL;
		return imp_err(err, errlen, "%s: %s", path, strerror(errno));
	}
	return imp_mbox_parse(a, mbox, (int64_t)st.st_mtime, src, path, err, errlen);
}

void imp_mbox_close(struct imp_mbox *mbox)
{
	if (mbox->data != NULL)
		munmap((void *)mbox->data, mbox->size);
	mbox->data = NULL;
}

/* Whether the line at p is ">From ", ">>From ", ... (mboxrd quoting). */
static bool is_quoted_from(const char *p, const char *eol)
{
	while (p < eol && *p == '>')
		p++;
	return eol - p >= 5 && memcmp(p, "From ", 5) == 0;
}

int imp_mbox_message(const struct imp_msg *m, size_t max, struct buf *out,
		     char *err, size_t errlen)
{
	const char *p = m->mbox->data + m->offset, *end = p + m->len;
	bool header = true, skipping = false;
	struct buf plain;

	if (m->len > max)
		return imp_err(err, errlen, "the message at byte %zu is larger than max_literal_size",
			       m->offset);
	if (m->len == 0)
		return imp_err(err, errlen, "the message at byte %zu is empty", m->offset);
	buf_init(&plain);
	while (p < end) {
		const char *eol = line_end(p, end);

		if (header && is_empty_line(p, end))
			header = false;
		if (header) {
			bool continuation = *p == ' ' || *p == '\t';
			if (!continuation)
				skipping = mbox_field(p, eol) >= 0;
			if (skipping) {
				p = eol;
				continue;
			}
		}
		if (*p == '>' && is_quoted_from(p, eol))
			p++;
		buf_append(&plain, p, (size_t)(eol - p));
		p = eol;
	}
	imp_crlf_append(out, buf_at(&plain, 0), plain.len);
	buf_free(&plain);
	return 0;
}
