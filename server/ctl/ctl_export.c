/* kairanctl export LOGIN DIR (docs/migration.md, "Taking mail out"): every
 * mailbox of LOGIN as a Maildir++ tree that Dovecot, Courier, mbsync and
 * kairanctl import read:
 *
 *   DIR/cur/...                   INBOX
 *   DIR/.Lists.dev/cur/...        Lists/dev (levels in modified UTF-7)
 *   dovecot-uidlist               UIDVALIDITY, the next UID, each file's UID
 *   dovecot-keywords              the keyword of each letter a-z
 *   DIR/subscriptions             one name a line, levels separated by "."
 *
 * A message is one file, cur/TIME.KUID_MAILBOX.kairan,S=SIZE:2,FLAGS, with
 * LF line ends (a Maildir's), its modification time the INTERNALDATE, and
 * the letters D F P R S T (P: $Forwarded) and a-z for the first 26
 * keywords of its mailbox (more cannot be said in a file name: a warning).
 * DIR must be new or empty, so that a second export never mixes with a
 * first. A name with "." in a level has no Maildir++ form: skipped with a
 * warning. */
#include "server/ctl/ctl.h"
#include "server/ctl/import_source.h"
#include "server/ctl/progress.h"
#include "server/imap/mutf7.h"
#include "schema/db_admin.h"
#include "schema/db_mailbox.h"
#include "schema/db_message.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

struct export_box {
	const char *name;
	int64_t mailbox_id;
};

struct export_run {
	struct ctl *ctl;
	db *d;
	int64_t owner_id;
	struct ctl_progress progress;
	struct ctl_list subscriptions;
	struct export_box *boxes;
	size_t nboxes, boxes_cap;
	/* The folder being written. */
	const char *dir;
	int64_t mailbox_id;
	const char *keywords[26];
	size_t nkeywords;
	bool keywords_dropped;
	struct buf uidlist, body;
	char err[CTL_ERR_MAX];
	char write_err[CTL_ERR_MAX];  /* write_message's: the fetch's own err says "stopped" */
};

static void list_row(void *ctx, const struct db_mailbox_row *row)
{
	struct export_run *run = ctx;
	const char *name = arena_strndup(&run->ctl->arena, row->name, row->len);

	if (row->subscription) {
		ctl_list_add(&run->ctl->arena, &run->subscriptions, name);
		return;
	}
	if (row->noselect)
		return;
	run->boxes = arena_grow(&run->ctl->arena, run->boxes, run->nboxes, &run->boxes_cap,
				sizeof(*run->boxes));
	run->boxes[run->nboxes].name = name;
	run->boxes[run->nboxes++].mailbox_id = row->mailbox_id;
}

/* A store name's Maildir++ form ("Lists.dev", each level modified
 * UTF-7), or NULL when a level holds a "." (no form). */
static const char *dotted_name(struct arena *a, const char *name)
{
	struct buf b;
	const char *out = NULL;
	bool ok = true;

	buf_init(&b);
	while (ok) {
		size_t len = strcspn(name, "/");
		ok = memchr(name, '.', len) == NULL;
		imap_utf8_to_mutf7(name, len, &b);
		if (name[len] == '\0')
			break;
		buf_append(&b, ".", 1);
		name += len + 1;
	}
	if (ok)
		out = arena_strndup(a, b.data, b.len);
	buf_free(&b);
	return out;
}

static int make_dir(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return imp_err(err, errlen, "%s: %s", path, strerror(errno));
	return 0;
}

static int write_file(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	const char *p = data;

	if (fd < 0)
		return imp_err(err, errlen, "%s: %s", path, strerror(errno));
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			int e = errno;
			close(fd);
			return imp_err(err, errlen, "%s: %s", path, strerror(e));
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) < 0)
		return imp_err(err, errlen, "%s: %s", path, strerror(errno));
	return 0;
}

/* The letters of a row's keywords (space-separated), sorted; $Forwarded
 * is P, not a letter. New keywords of the folder take the next letters. */
static void keyword_letters(struct export_run *run, const char *keywords, bool *forwarded_r,
			    char out[27])
{
	bool have[26] = { false };
	size_t n = 0;

	*forwarded_r = false;
	while (*keywords != '\0') {
		size_t len = strcspn(keywords, " ");
		size_t k;

		if (len == strlen(IMP_FORWARDED) && strncasecmp(keywords, IMP_FORWARDED, len) == 0) {
			*forwarded_r = true;
		} else if (len > 0) {
			for (k = 0; k < run->nkeywords; k++)
				if (strlen(run->keywords[k]) == len &&
				    strncmp(run->keywords[k], keywords, len) == 0)
					break;
			if (k == run->nkeywords && k < 26)
				run->keywords[run->nkeywords++] =
					arena_strndup(&run->ctl->arena, keywords, len);
			if (k < 26)
				have[k] = true;
			else
				run->keywords_dropped = true;
		}
		keywords += len;
		keywords += strspn(keywords, " ");
	}
	for (size_t k = 0; k < 26; k++)
		if (have[k])
			out[n++] = (char)('a' + k);
	out[n] = '\0';
}

static int write_message(void *ctx, const struct db_message_row *row)
{
	struct export_run *run = ctx;
	struct arena *a = &run->ctl->arena;
	const char *unique, *tmp, *cur;
	char kw[27], letters[40];
	struct timeval times[2];
	bool forwarded;
	const char *p = row->raw, *end = row->raw + row->raw_len;

	/* CRLF to LF: a Maildir holds its messages with LF line ends. */
	buf_clear(&run->body);
	while (p < end) {
		const char *cr = memchr(p, '\r', (size_t)(end - p));
		if (cr == NULL || cr + 1 >= end) {
			buf_append(&run->body, p, (size_t)(end - p));
			break;
		}
		buf_append(&run->body, p, (size_t)(cr - p));
		if (cr[1] != '\n')
			buf_append(&run->body, "\r", 1);
		p = cr + 1;
	}
	keyword_letters(run, row->keywords != NULL ? row->keywords : "", &forwarded, kw);
	imp_maildir_letters(row->flags, forwarded, kw, letters);
	unique = arena_printf(a, "%lld.K%u_%lld.kairan,S=%zu", (long long)row->internaldate,
			      row->uid, (long long)run->mailbox_id, run->body.len);
	tmp = arena_printf(a, "%s/tmp/%s", run->dir, unique);
	cur = arena_printf(a, "%s/cur/%s:2,%s", run->dir, unique, letters);
	if (write_file(tmp, buf_at(&run->body, 0), run->body.len, run->write_err,
		       sizeof(run->write_err)) < 0)
		return -1;
	times[0].tv_sec = times[1].tv_sec = (time_t)row->internaldate;
	times[0].tv_usec = times[1].tv_usec = 0;
	if (utimes(tmp, times) < 0 || rename(tmp, cur) < 0) {
		imp_err(run->write_err, sizeof(run->write_err), "%s: %s", cur, strerror(errno));
		return -1;
	}
	buf_appendf(&run->uidlist, "%u :%s\n", row->uid, unique);
	ctl_progress_add(&run->progress, 1, run->body.len);
	return 0;
}

static enum ctl_status export_box(struct export_run *run, const char *root,
				  const struct export_box *box)
{
	static const uint32_t lo = 1, hi = UINT32_MAX;
	const struct db_uid_ranges all = { &lo, &hi, 1 };
	struct arena *a = &run->ctl->arena;
	struct db_mailbox_status status;
	const char *dotted;
	struct buf kw;
	char *err = run->err;
	size_t errlen = sizeof(run->err);

	if (strcmp(box->name, "INBOX") == 0) {
		run->dir = root;
	} else if ((dotted = dotted_name(a, box->name)) != NULL) {
		run->dir = arena_printf(a, "%s/.%s", root, dotted);
	} else {
		ctl_warn("%s: a level with \".\" has no Maildir++ name, skipped", box->name);
		return CTL_OK;
	}
	if (db_mailbox_status(run->d, run->owner_id, run->owner_id, box->name, false, &status,
			      err, errlen) != DB_MBOX_OK)
		return err[0] != '\0' ? CTL_FAILED
				      : ctl_err(CTL_FAILED, err, errlen, "%s: gone", box->name);
	if (make_dir(run->dir, err, errlen) < 0 ||
	    make_dir(arena_printf(a, "%s/cur", run->dir), err, errlen) < 0 ||
	    make_dir(arena_printf(a, "%s/new", run->dir), err, errlen) < 0 ||
	    make_dir(arena_printf(a, "%s/tmp", run->dir), err, errlen) < 0 ||
	    (run->dir != root &&
	     write_file(arena_printf(a, "%s/maildirfolder", run->dir), "", 0, err, errlen) < 0))
		return CTL_FAILED;
	run->mailbox_id = box->mailbox_id;
	run->nkeywords = 0;
	run->keywords_dropped = false;
	buf_clear(&run->uidlist);
	buf_appendf(&run->uidlist, "3 V%u N%llu\n", status.uidvalidity,
		    (unsigned long long)status.uidnext);
	if (db_fetch_messages(run->d, run->owner_id, box->mailbox_id, &all,
			      DB_FETCH_RAW | DB_FETCH_CONTENT, write_message, run, err,
			      errlen) != DB_OK) {
		if (run->write_err[0] != '\0')
			snprintf(err, errlen, "%s", run->write_err);
		return CTL_FAILED;
	}
	if (run->keywords_dropped)
		ctl_warn("%s: more than 26 keywords: only the first 26 are in the file names",
			 box->name);
	buf_init(&kw);
	for (size_t k = 0; k < run->nkeywords; k++)
		buf_appendf(&kw, "%zu %s\n", k, run->keywords[k]);
	if (write_file(arena_printf(a, "%s/dovecot-uidlist", run->dir), buf_at(&run->uidlist, 0),
		       run->uidlist.len, err, errlen) < 0 ||
	    write_file(arena_printf(a, "%s/dovecot-keywords", run->dir), buf_at(&kw, 0), kw.len,
		       err, errlen) < 0) {
		buf_free(&kw);
		return CTL_FAILED;
	}
	buf_free(&kw);
	run->progress.folders++;
	return CTL_OK;
}

/* DIR must be new or empty. */
static enum ctl_status prepare_root(const char *root, char *err, size_t errlen)
{
	DIR *d;
	struct dirent *e;

	if (mkdir(root, 0700) == 0)
		return CTL_OK;
	if (errno != EEXIST || (d = opendir(root)) == NULL)
		return ctl_err(CTL_FAILED, err, errlen, "%s: %s", root, strerror(errno));
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			closedir(d);
			return ctl_err(CTL_FAILED, err, errlen, "%s: not empty", root);
		}
	closedir(d);
	return CTL_OK;
}

static enum ctl_status write_subscriptions(struct export_run *run, const char *root)
{
	struct buf b;
	int r;

	buf_init(&b);
	ctl_list_sort(&run->subscriptions);
	for (size_t i = 0; i < run->subscriptions.n; i++) {
		const char *name = run->subscriptions.v[i];
		const char *dotted = strcmp(name, "INBOX") == 0 ? name :
				     dotted_name(&run->ctl->arena, name);
		if (dotted != NULL)
			buf_appendf(&b, "%s\n", dotted);
	}
	r = write_file(arena_printf(&run->ctl->arena, "%s/subscriptions", root), buf_at(&b, 0),
		       b.len, run->err, sizeof(run->err));
	buf_free(&b);
	return r < 0 ? CTL_FAILED : CTL_OK;
}

int ctl_cmd_export(struct ctl *ctl, int argc, char **argv)
{
	struct export_run run;
	struct db_admin_account acc;
	enum ctl_status st;
	enum db_result r;
	size_t total = 0;

	if (argc != 2)
		return ctl_usage("export", "export needs a LOGIN and a DIR");
	memset(&run, 0, sizeof(run));
	run.ctl = ctl;
	st = ctl_db(ctl, &run.d, run.err, sizeof(run.err));
	if (st == CTL_OK) {
		r = db_admin_account(run.d, argv[0], &acc, run.err, sizeof(run.err));
		if (r == DB_NOT_FOUND)
			st = ctl_err(CTL_FAILED, run.err, sizeof(run.err), "%s: no such account",
				     argv[0]);
		else if (r != DB_OK)
			st = CTL_FAILED;
		run.owner_id = acc.id;
	}
	if (st == CTL_OK && db_mailbox_list(run.d, run.owner_id, true, list_row, &run, run.err,
					    sizeof(run.err)) != DB_MBOX_OK)
		st = CTL_FAILED;
	if (st == CTL_OK)
		st = prepare_root(argv[1], run.err, sizeof(run.err));
	if (st != CTL_OK)
		return ctl_report(st, run.err);
	for (size_t i = 0; i < run.nboxes; i++) {
		struct db_mailbox_status s;
		if (db_mailbox_status(run.d, run.owner_id, run.owner_id, run.boxes[i].name, false, &s,
				      run.err, sizeof(run.err)) == DB_MBOX_OK)
			total += s.messages;
	}
	buf_init(&run.uidlist);
	buf_init(&run.body);
	ctl_progress_start(&run.progress, "exported", total);
	for (size_t i = 0; st == CTL_OK && i < run.nboxes; i++)
		st = export_box(&run, argv[1], &run.boxes[i]);
	if (st == CTL_OK)
		st = write_subscriptions(&run, argv[1]);
	ctl_progress_end(&run.progress);
	buf_free(&run.uidlist);
	buf_free(&run.body);
	return ctl_report(st, run.err);
}
