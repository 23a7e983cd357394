/* A Maildir or Maildir++ root as kairanctl import reads it
 * (docs/migration.md, "From Dovecot or Courier"):
 *
 *   ROOT/cur, ROOT/new         INBOX
 *   ROOT/.Lists.dev/cur ...    the folder Lists/dev (levels in modified UTF-7)
 *   dovecot-uidlist            per folder: UIDVALIDITY, the next UID, each
 *                              file's UID (courierimapuiddb: the same for Courier)
 *   dovecot-keywords           per folder: the keyword of each letter a-z
 *   subscriptions              ROOT: Dovecot's (courierimapsubscribed: Courier's)
 *
 * A message is known by the unique part of its file name (before ":"),
 * which stays when its flags change. What cannot be used (a file that is
 * not a regular file, an empty unique part, a keyword letter without a
 * keyword) is a warning, and the rest is imported. */
#include "server/ctl/import_source.h"
#include "server/ctl/ctl.h"
#include "server/imap/mutf7.h"
#include "server/imap/store_args.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A line of dovecot-uidlist or courierimapuiddb longer than this is not
 * one either writes: it is skipped. */
#define UIDLIST_LINE_MAX 8192

struct uid_entry {
	const char *unique;
	uint32_t uid;
};

struct folder_meta {
	struct uid_entry *uids;
	size_t nuids, uids_cap;
	const char *keywords[26];   /* by letter; NULL: none */
};

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct uid_entry *)a)->unique, ((const struct uid_entry *)b)->unique);
}

/* The unique part of a file name: up to its ":" (the info). */
static size_t unique_len(const char *name)
{
	return strcspn(name, ":");
}

/* dovecot-uidlist (versions 1 and 3) or courierimapuiddb:
 *   1 UIDVALIDITY NEXTUID              then  UID FILENAME
 *   3 V<uidvalidity> N<nextuid> ...    then  UID [EXT ...] :FILENAME */
static void read_uidlist(struct arena *a, const char *path, struct imp_folder *f,
			 struct folder_meta *meta)
{
	char line[UIDLIST_LINE_MAX];
	FILE *fp = fopen(path, "re");
	bool header = true;
	int version = 0;

	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		size_t len = strlen(line);
		char *p, *name;
		unsigned long uid;

		if (len > 0 && line[len - 1] != '\n' && !feof(fp)) {
			int c;
			while ((c = fgetc(fp)) != EOF && c != '\n')
				;
			ctl_warn("%s: a line longer than %d bytes, skipped", path, UIDLIST_LINE_MAX);
			continue;
		}
		line[strcspn(line, "\r\n")] = '\0';
		if (header) {
			unsigned long v = 0, next = 0;
			header = false;
			version = atoi(line);
			if (version == 3) {
				for (p = strtok(line, " "); p != NULL; p = strtok(NULL, " "))
					if (p[0] == 'V')
						v = strtoul(p + 1, NULL, 10);
					else if (p[0] == 'N')
						next = strtoul(p + 1, NULL, 10);
			} else if (version == 1 || version == 2) {
				(void)(sscanf(line, "%*d %lu %lu", &v, &next) >= 0);
			} else {
				ctl_warn("%s: unknown version, UIDs not kept", path);
				break;
			}
			if (v > 0 && v <= UINT32_MAX)
				f->uidvalidity = (uint32_t)v;
			if (next > 0 && next <= UINT32_MAX)
				f->uidnext = next;
			continue;
		}
		uid = strtoul(line, &p, 10);
		if (uid == 0 || uid > UINT32_MAX || (f->uidnext > 0 && uid >= f->uidnext) ||
		    p == line || *p != ' ')
			continue;   /* not a UID line, or one the header says cannot be */
		if (version == 3) {
			if ((name = strstr(p, " :")) == NULL)
				continue;
			name += 2;
		} else {
			name = p + 1;
		}
		meta->uids = arena_grow(a, meta->uids, meta->nuids, &meta->uids_cap,
					sizeof(*meta->uids));
		meta->uids[meta->nuids].unique = arena_strndup(a, name, unique_len(name));
		meta->uids[meta->nuids++].uid = (uint32_t)uid;
	}
	fclose(fp);
	if (f->uidvalidity == 0)
		meta->nuids = 0;  /* UIDs mean nothing without their UIDVALIDITY */
	if (meta->nuids > 0)  /* qsort(NULL, 0, ...) is undefined */
		qsort(meta->uids, meta->nuids, sizeof(*meta->uids), entry_cmp);
}

/* dovecot-keywords: "INDEX KEYWORD" lines; index 0 is letter a. */
static void read_keywords(struct arena *a, const char *path, struct folder_meta *meta)
{
	char line[1024];
	FILE *fp = fopen(path, "re");

	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *kw;
		long i = strtol(line, &kw, 10);
		size_t len;

		if (kw == line || *kw != ' ' || i < 0 || i >= 26)
			continue;
		kw++;
		len = strcspn(kw, "\r\n");
		if (!imap_keyword_valid(kw, len)) {
			ctl_warn("%s: \"%.*s\" is not an IMAP keyword, dropped", path, (int)len, kw);
			continue;
		}
		meta->keywords[i] = arena_strndup(a, kw, len);
	}
	fclose(fp);
}

static uint32_t uid_of(const struct folder_meta *meta, const char *unique)
{
	struct uid_entry key = { unique, 0 };
	const struct uid_entry *e = meta->nuids == 0 ? NULL :
		bsearch(&key, meta->uids, meta->nuids, sizeof(*meta->uids), entry_cmp);

	return e != NULL ? e->uid : 0;
}

/* The source id of a file: its unique part, hex when it is not text
 * PostgreSQL can hold (invalid UTF-8, control characters). */
static const char *source_id(struct arena *a, const char *name, size_t len)
{
	bool plain = imap_utf8_valid(name, len);
	struct buf b;
	const char *id;

	for (size_t i = 0; plain && i < len; i++)
		plain = (unsigned char)name[i] >= 0x20 && name[i] != 0x7f;
	if (plain)
		return arena_printf(a, "maildir:%.*s", (int)len, name);
	buf_init(&b);
	buf_append_str(&b, "maildir-hex:");
	for (size_t i = 0; i < len; i++)
		buf_appendf(&b, "%02x", (unsigned char)name[i]);
	id = arena_strndup(a, b.data, b.len);
	buf_free(&b);
	return id;
}

static void add_file(struct arena *a, struct imp_source *src, struct imp_folder *f,
		     const struct folder_meta *meta, const char *folder_dir, const char *name,
		     bool *unknown_kw)
{
	const char *path = arena_printf(a, "%s/%s", folder_dir, name);
	size_t ulen = unique_len(name);
	const char *info = name[ulen] == ':' && strncmp(name + ulen, ":2,", 3) == 0 ?
			   name + ulen + 3 : "";
	char letters[27];
	struct imp_msg *m;
	struct stat st = { 0 };
	bool forwarded;

	int stat_r = lstat(path, &st);

	if (stat_r < 0 || !S_ISREG(st.st_mode)) {
		ctl_warn("%s: %s, skipped", path,
			 stat_r < 0 ? strerror(errno) : "not a regular file");
		src->skipped++;
		return;
	}
	if (ulen == 0) {
		ctl_warn("%s: no unique part before \":\", skipped", path);
		src->skipped++;
		return;
	}
	m = imp_msg_add(a, f);
	m->kind = IMP_FILE;
	m->path = path;
	m->source = source_id(a, name, ulen);
	m->internaldate = (int64_t)st.st_mtime;
	m->flags = imp_maildir_flags(info, &forwarded, letters);
	if (forwarded)
		imp_keyword_add(a, m, IMP_FORWARDED);
	for (const char *l = letters; *l != '\0'; l++) {
		const char *kw = meta->keywords[*l - 'a'];
		if (kw != NULL)
			imp_keyword_add(a, m, kw);
		else
			*unknown_kw = true;
	}
	m->uid = uid_of(meta, arena_strndup(a, name, ulen));
}

/* The messages of folder_dir/new and folder_dir/cur into folder name. */
static void scan_folder(struct arena *a, struct imp_source *src, const char *folder_dir,
			const char *name)
{
	static const char *const subs[] = { "new", "cur" };
	struct imp_folder *f = imp_folder(a, src, name);
	struct folder_meta meta;
	bool unknown_kw = false;

	memset(&meta, 0, sizeof(meta));
	read_uidlist(a, arena_printf(a, "%s/dovecot-uidlist", folder_dir), f, &meta);
	if (f->uidvalidity == 0)
		read_uidlist(a, arena_printf(a, "%s/courierimapuiddb", folder_dir), f, &meta);
	read_keywords(a, arena_printf(a, "%s/dovecot-keywords", folder_dir), &meta);
	for (size_t s = 0; s < 2; s++) {
		const char *sub = arena_printf(a, "%s/%s", folder_dir, subs[s]);
		DIR *d = opendir(sub);
		struct dirent *e;

		if (d == NULL)
			continue;
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				add_file(a, src, f, &meta, sub, e->d_name, &unknown_kw);
		closedir(d);
	}
	if (unknown_kw)
		ctl_warn("%s: keyword letters that dovecot-keywords does not name, dropped", folder_dir);
}

static bool is_maildir(struct arena *a, const char *folder_dir)
{
	struct stat st;

	return (stat(arena_printf(a, "%s/cur", folder_dir), &st) == 0 && S_ISDIR(st.st_mode)) ||
	       (stat(arena_printf(a, "%s/new", folder_dir), &st) == 0 && S_ISDIR(st.st_mode));
}

/* Dovecot's subscriptions (one name a line; since 2.3 "V\t2" first and
 * levels separated by TAB) or Courier's courierimapsubscribed ("INBOX."
 * before every folder). */
static void read_subscriptions(struct arena *a, const char *root, struct imp_source *src)
{
	static const char *const files[] = { "subscriptions", "courierimapsubscribed" };
	char line[4096];

	for (size_t i = 0; i < 2; i++) {
		FILE *fp = fopen(arena_printf(a, "%s/%s", root, files[i]), "re");
		bool v2 = false, first = true;

		if (fp == NULL)
			continue;
		while (fgets(line, sizeof(line), fp) != NULL) {
			char *p = line;
			const char *name;

			line[strcspn(line, "\r\n")] = '\0';
			if (first && strcmp(line, "V\t2") == 0)
				v2 = true;
			first = false;
			if (line[0] == '\0' || (v2 && strcmp(line, "V\t2") == 0))
				continue;
			if (strncmp(p, "INBOX.", 6) == 0)
				p += 6;
			name = strcmp(p, "INBOX") == 0 ? "INBOX"
			       : imp_store_name(a, p, v2 ? '\t' : '.', true);
			if (name != NULL)
				imp_subscribe(a, src, name);
		}
		fclose(fp);
	}
}

int imp_maildir_scan(struct arena *a, const char *root, struct imp_source *src,
		     char *err, size_t errlen)
{
	struct dirent *e;
	size_t found = 0;
	DIR *d = opendir(root);

	if (d == NULL)
		return imp_err(err, errlen, "%s: %s", root, strerror(errno));
	if (is_maildir(a, root)) {
		scan_folder(a, src, root, "INBOX");
		found++;
	}
	while ((e = readdir(d)) != NULL) {
		const char *folder_dir, *name;

		if (e->d_name[0] != '.' || strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0)
			continue;
		folder_dir = arena_printf(a, "%s/%s", root, e->d_name);
		if (!is_maildir(a, folder_dir))
			continue;
		name = imp_store_name(a, e->d_name + 1, '.', true);
		if (name == NULL) {
			ctl_warn("%s: no mailbox name (an empty level, or neither modified UTF-7"
				 " nor UTF-8), skipped", folder_dir);
			src->skipped++;
			continue;
		}
		scan_folder(a, src, folder_dir, name);
		found++;
	}
	closedir(d);
	if (found == 0)
		return imp_err(err, errlen, "%s: not a Maildir (no cur/ or new/, no .Folder/)", root);
	read_subscriptions(a, root, src);
	return 0;
}
