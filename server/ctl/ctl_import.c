/* kairanctl import LOGIN SOURCE [--into FOLDER] [--batch N]
 * (docs/migration.md): a Maildir or Maildir++ root, or an mbox file, into
 * LOGIN's mailboxes.
 *
 * The source is read first (folders, flags, keywords, dates, UIDs, source
 * ids: server/ctl/import_source.h); then, folder by folder, the messages
 * not imported before are read, analysed by the one MIME analysis APPEND
 * uses, and stored N at a time in one transaction each through APPEND's
 * own statement, with their source ids (schema/db_import.c). A kill
 * between two batches loses nothing: the next run skips what committed.
 *
 * UIDs: a target mailbox that never held a message takes the source's
 * UIDVALIDITY, and then each message its source UID (those the source
 * gave none come after the source's next UID), so a client that knew the
 * source finds the same UIDs. Into a mailbox that has held messages, the
 * messages get new UIDs and the mailbox keeps its UIDVALIDITY.
 *
 * The search index: each batch's text is put into the trigram indexes
 * right after the batch commits, by this process (db_search_index_batch),
 * so the backlog that every SEARCH on the server scans stays within one
 * batch however large the import (docs/migration.md, "Searching during a
 * large import"). */
#include "server/ctl/ctl.h"
#include "server/ctl/import_source.h"
#include "server/ctl/progress.h"
#include "server/imap/mailbox_name.h"
#include "server/imap/message_analyse.h"
#include "server/imap/store_args.h"
#include "schema/db_admin.h"
#include "schema/db_import.h"
#include "schema/db_mailbox.h"
#include "schema/db_notify.h"
#include "schema/db_search_index.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Messages and bytes of one transaction: enough to amortise the commit
 * and the round trip, small enough that a batch's messages and their
 * analysis fit comfortably in memory. */
#define IMPORT_BATCH_DEFAULT 200
#define IMPORT_BATCH_MAX 5000
#define IMPORT_BATCH_BYTES (32u << 20)

struct import_run {
	struct ctl *ctl;
	db *d;
	int64_t owner_id;
	long batch_max;
	long max_keywords;
	size_t max_size;
	struct ctl_progress progress;
	/* The batch being built, and the memory of its messages. */
	struct arena arena;
	struct db_import_msg *batch;
	uint32_t *uids;
	size_t n;
	size_t bytes;
	/* KAIRAN_IMPORT_KILL_AFTER (tests only): SIGKILL once this many
	 * messages have committed, to test resuming after a crash. */
	size_t kill_after;
	char err[CTL_ERR_MAX];
};

static int msg_order(const void *a, const void *b)
{
	const struct imp_msg *x = a, *y = b;

	if ((x->uid == 0) != (y->uid == 0))
		return x->uid == 0 ? 1 : -1;
	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	if (x->internaldate != y->internaldate)
		return x->internaldate < y->internaldate ? -1 : 1;
	return strcmp(x->source, y->source);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The account LOGIN names: one that exists, or a person of the directory,
 * provisioned as their first login would. */
static enum ctl_status import_account(struct ctl *ctl, db *d, const char *login, int64_t *id_r,
				      char *err, size_t errlen)
{
	struct db_admin_account acc;
	struct ctl_person p;
	enum ctl_status st;
	enum db_result r = db_admin_account(d, login, &acc, err, errlen);
	bool found = false;

	if (r == DB_OK) {
		*id_r = acc.id;
		return CTL_OK;
	}
	if (r != DB_NOT_FOUND)
		return CTL_FAILED;
	memset(&p, 0, sizeof(p));
	st = ctl_person_lookup(ctl, login, strlen(login), false, &p, &found, err, errlen);
	if (st == CTL_OK && !found)
		st = ctl_err(CTL_FAILED, err, errlen, "%s: no such account or person", login);
	if (st == CTL_OK && db_account_provision(d, p.login, p.dn, id_r, NULL, err, errlen) < 0)
		st = CTL_FAILED;
	ctl_person_free(&p);
	return st;
}

/* Stores the batch; counts it, tells kairand, indexes its text. */
static enum ctl_status flush(struct import_run *run, const char *name, int64_t mailbox_id)
{
	long indexed;
	char note[CTL_ERR_MAX];

	if (run->n == 0)
		return CTL_OK;
	if (db_import_batch(run->d, run->owner_id, name, run->batch, run->n, run->max_keywords,
			    run->uids, run->err, sizeof(run->err)) != DB_OK)
		return CTL_FAILED;
	ctl_progress_add(&run->progress, run->n, run->bytes);
	if (run->kill_after > 0 && run->progress.done >= run->kill_after)
		raise(SIGKILL);
	/* Sessions that have the mailbox selected learn of the messages;
	 * a failure here costs them only the wait for their next poll. */
	if (db_notify_changed(run->d, mailbox_id, note, sizeof(note)) < 0)
		ctl_warn("%s", note);
	if (db_search_index_batch(run->d, (long)run->n, &indexed, note, sizeof(note)) < 0)
		ctl_warn("indexing the imported text: %s (kairand's indexer will)", note);
	arena_reset(&run->arena);
	run->n = 0;
	run->bytes = 0;
	return CTL_OK;
}

/* Reads and analyses one message into the batch. 0; 1 (a warning, and
 * the message counted as failed) when it cannot be read; -1 with run->err
 * when the source failed. */
static int add_to_batch(struct import_run *run, const struct imp_msg *src, uint32_t uid)
{
	struct db_import_msg *im = &run->batch[run->n];
	struct imap_flags f = { 0 };
	char reason[CTL_ERR_MAX];
	struct buf raw;
	char *copy;

	int r;

	buf_init(&raw);
	if ((r = imp_message_read(src, run->max_size, &raw, reason, sizeof(reason))) < 0) {
		buf_free(&raw);
		if (r == -2) {
			snprintf(run->err, sizeof(run->err), "%s", reason);
			return -1;
		}
		ctl_warn("%s, skipped", reason);
		run->progress.failed++;
		return 1;
	}
	copy = arena_alloc(&run->arena, raw.len);
	memcpy(copy, buf_at(&raw, 0), raw.len);
	memset(im, 0, sizeof(*im));
	im->m.raw = copy;
	im->m.raw_len = raw.len;
	buf_free(&raw);
	im->m.flags = src->flags;
	f.keywords = src->keywords;
	f.nkeywords = src->nkeywords;
	f.keyword_lens = arena_alloc(&run->arena, (src->nkeywords + 1) * sizeof(size_t));
	for (size_t i = 0; i < src->nkeywords; i++)
		f.keyword_lens[i] = strlen(src->keywords[i]);
	im->m.keywords_array = imap_keywords_array(&run->arena, &f);
	im->m.internaldate = src->internaldate;
	im->source = src->source;
	im->uid = uid;
	(void)imap_message_analyse(&run->arena, &im->m);  /* in memory: cannot fail */
	run->n++;
	run->bytes += im->m.raw_len;
	return 0;
}

/* The store name folder f goes to, validated; NULL with a warning when it
 * cannot be a mailbox name. */
static const char *target_name(struct import_run *run, const char *into, const char *folder)
{
	const char *error = NULL;
	char *name;
	size_t len;

	if (into == NULL)
		name = arena_printf(&run->ctl->arena, "%s", folder);
	else if (strcmp(folder, "INBOX") == 0)
		name = arena_printf(&run->ctl->arena, "%s", into);
	else
		name = arena_printf(&run->ctl->arena, "%s/%s", into, folder);
	len = strlen(name);
	if (imap_mailbox_name_check(name, &len, false, &error) < 0 ||
	    !imap_mailbox_name_creatable(name, len, &error)) {
		ctl_warn("%s: not a usable mailbox name (%s), skipped", name, error);
		return NULL;
	}
	name[len] = '\0';
	return name;
}

static enum ctl_status import_folder(struct import_run *run, struct imp_folder *f,
				     const char *into)
{
	const char *name = target_name(run, into, f->name);
	struct db_import_mailbox mb;
	const char **known;
	size_t nknown;
	uint32_t uv;
	int64_t id;
	bool keep_uids, first_new = true;
	char *err = run->err;
	size_t errlen = sizeof(run->err);

	if (name == NULL) {
		run->progress.failed += f->n;
		return CTL_OK;
	}
	switch (db_mailbox_create(run->d, run->owner_id, name, 0, NULL, 0,
				  IMAP_MAILBOXES_PER_ACCOUNT, &uv, &id, err, errlen)) {
	case DB_MBOX_OK:
	case DB_MBOX_EXISTS:
		break;
	case DB_MBOX_LIMIT:
		return ctl_err(CTL_FAILED, err, errlen, "%s: the account has %d mailboxes already",
			       name, IMAP_MAILBOXES_PER_ACCOUNT);
	default:
		return CTL_FAILED;
	}
	if (db_import_mailbox(run->d, run->owner_id, name, f->uidvalidity, &mb, err, errlen) != DB_OK)
		return err[0] != '\0' ? CTL_FAILED :
		       ctl_err(CTL_FAILED, err, errlen, "%s was deleted meanwhile", name);
	if (mb.noselect)
		return ctl_err(CTL_FAILED, err, errlen, "%s cannot hold messages", name);
	if (db_import_known(run->d, mb.mailbox_id, &run->ctl->arena, &known, &nknown, err,
			    errlen) != DB_OK)
		return CTL_FAILED;
	keep_uids = f->uidvalidity != 0 && mb.uidvalidity == f->uidvalidity;
	if (f->uidvalidity != 0 && !keep_uids)
		ctl_warn("%s: has held messages before: new UIDs, UIDVALIDITY %u kept", name,
			 mb.uidvalidity);
	run->progress.folders++;
	if (f->n > 0)  /* qsort(NULL, 0, ...) is undefined */
		qsort(f->msgs, f->n, sizeof(*f->msgs), msg_order);
	/* Known first, all of them, so that an IMAP source fetches ahead
	 * only what is to be imported. */
	for (size_t i = 0; i < f->n && nknown > 0; i++)
		f->msgs[i].known = bsearch(&f->msgs[i].source, known, nknown, sizeof(*known),
					   str_cmp) != NULL;
	for (size_t i = 0; i < f->n; i++) {
		const struct imp_msg *m = &f->msgs[i];
		uint32_t uid = 0;
		int r;

		if (m->known) {
			run->progress.skipped++;
			continue;
		}
		/* The first message the source gave no UID takes the source's
		 * next UID, as the source would have given it. */
		if (keep_uids && m->uid != 0)
			uid = m->uid;
		else if (keep_uids && first_new && f->uidnext > 0 && f->uidnext <= UINT32_MAX)
			uid = (uint32_t)f->uidnext;
		if (keep_uids && m->uid == 0)
			first_new = false;
		if ((r = add_to_batch(run, m, uid)) < 0)
			return CTL_FAILED;
		if (r > 0)
			continue;
		if ((long)run->n >= run->batch_max || run->bytes >= IMPORT_BATCH_BYTES)
			if (flush(run, name, mb.mailbox_id) != CTL_OK)
				return CTL_FAILED;
	}
	if (flush(run, name, mb.mailbox_id) != CTL_OK)
		return CTL_FAILED;
	if (keep_uids && f->uidnext > 0 &&
	    db_import_uidnext(run->d, mb.mailbox_id, f->uidnext, err, errlen) != DB_OK)
		return CTL_FAILED;
	return CTL_OK;
}

static enum ctl_status import_subscriptions(struct import_run *run, const struct imp_source *src,
					    const char *into)
{
	for (size_t i = 0; i < src->nsubs; i++) {
		const char *name = target_name(run, into, src->subscriptions[i]);

		if (name != NULL &&
		    db_subscribe(run->d, run->owner_id, name, IMAP_SUBSCRIPTIONS_PER_ACCOUNT, run->err,
				 sizeof(run->err)) != DB_MBOX_OK)
			return CTL_FAILED;
	}
	return CTL_OK;
}

static enum ctl_status read_source(struct ctl *ctl, struct imp_imap_settings *remote,
				   struct imp_source *src, struct imp_mbox *mbox,
				   struct imp_imap **imap_r, char *err, size_t errlen)
{
	const char *source = remote->url;
	struct stat st;

	if (strncmp(source, "imap://", 7) == 0 || strncmp(source, "imaps://", 8) == 0) {
		/* A server that closes the connection must not kill us
		 * with SIGPIPE. */
		signal(SIGPIPE, SIG_IGN);
		return imp_imap_scan(&ctl->arena, remote, src, imap_r, err, errlen) < 0 ? CTL_FAILED
											: CTL_OK;
	}
	if (stat(source, &st) < 0)
		return ctl_err(CTL_FAILED, err, errlen, "%s: %s", source, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return imp_maildir_scan(&ctl->arena, source, src, err, errlen) < 0 ? CTL_FAILED
										   : CTL_OK;
	return imp_mbox_scan(&ctl->arena, source, src, mbox, err, errlen) < 0 ? CTL_FAILED : CTL_OK;
}

int ctl_cmd_import(struct ctl *ctl, int argc, char **argv)
{
	struct import_run run;
	struct imp_source src = { 0 };
	struct imp_mbox mbox = { 0 };
	struct imp_imap_settings remote = { 0 };
	struct imp_imap *imap = NULL;
	const char *into = NULL, *login = NULL, *source = NULL, *kill_after;
	enum ctl_status st;
	size_t total = 0;

	memset(&run, 0, sizeof(run));
	run.ctl = ctl;
	run.batch_max = IMPORT_BATCH_DEFAULT;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--into") == 0 && i + 1 < argc) {
			into = argv[++i];
		} else if (strcmp(argv[i], "--password-file") == 0 && i + 1 < argc) {
			remote.password_file = argv[++i];
		} else if (strcmp(argv[i], "--ca-file") == 0 && i + 1 < argc) {
			remote.ca_file = argv[++i];
		} else if (strcmp(argv[i], "--insecure") == 0) {
			remote.insecure = true;
		} else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
			char *end;
			run.batch_max = strtol(argv[++i], &end, 10);
			if (*end != '\0' || run.batch_max < 1 || run.batch_max > IMPORT_BATCH_MAX)
				return ctl_usage("import", "--batch takes 1 to 5000 messages");
		} else if (argv[i][0] == '-') {
			return ctl_usage("import", "unknown option or option without its value");
		} else if (login == NULL) {
			login = argv[i];
		} else if (source == NULL) {
			source = argv[i];
		} else {
			return ctl_usage("import", "import takes one LOGIN and one SOURCE");
		}
	}
	if (source == NULL)
		return ctl_usage("import", "import needs a LOGIN and a SOURCE");
	run.max_keywords = ctl->cfg->max_keywords_per_mailbox;
	run.max_size = (size_t)ctl->cfg->max_literal_size;
	kill_after = getenv("KAIRAN_IMPORT_KILL_AFTER");
	run.kill_after = kill_after != NULL ? (size_t)strtoul(kill_after, NULL, 10) : 0;
	src.max_size = run.max_size;
	remote.url = source;
	st = read_source(ctl, &remote, &src, &mbox, &imap, run.err, sizeof(run.err));
	if (st == CTL_OK)
		st = ctl_db(ctl, &run.d, run.err, sizeof(run.err));
	if (st == CTL_OK)
		st = import_account(ctl, run.d, login, &run.owner_id, run.err, sizeof(run.err));
	if (st != CTL_OK) {
		imp_mbox_close(&mbox);
		imp_imap_close(&imap);
		return ctl_report(st, run.err);
	}
	for (size_t i = 0; i < src.nfolders; i++)
		total += src.folders[i].n;
	arena_init(&run.arena);
	run.batch = xcalloc((size_t)run.batch_max, sizeof(*run.batch));
	run.uids = xcalloc((size_t)run.batch_max, sizeof(*run.uids));
	ctl_progress_start(&run.progress, "imported", total);
	run.progress.failed = src.skipped;
	for (size_t i = 0; st == CTL_OK && i < src.nfolders; i++)
		st = import_folder(&run, &src.folders[i], into);
	if (st == CTL_OK)
		st = import_subscriptions(&run, &src, into);
	ctl_progress_end(&run.progress);
	free(run.batch);
	free(run.uids);
	arena_free(&run.arena);
	imp_mbox_close(&mbox);
	imp_imap_close(&imap);
	return ctl_report(st, run.err);
}
