/* What kairanctl import reads from a source before it stores anything
 * (docs/migration.md): the folders, each with its messages' flags,
 * keywords, dates, UIDs and the source's identity of each message, and
 * the subscriptions. A reader (import_maildir.c, import_mbox.c) fills a
 * struct imp_source from its arena; the bytes of a message are read only
 * when it is stored (imp_message_read), one batch at a time, so a large
 * source never sits whole in memory.
 *
 * Errors: readers return 0, or -1 with a one-line reason in err. What a
 * reader can skip (a file it cannot read, a name it cannot use) is a
 * warning (ctl_warn) and counted in src->skipped; the import goes on. */
#ifndef KAIRAN_CTL_IMPORT_SOURCE_H
#define KAIRAN_CTL_IMPORT_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/core/arena.h"
#include "server/core/buf.h"

enum imp_kind {
	IMP_FILE,   /* a whole file (a Maildir message) */
	IMP_MBOX,   /* a range of an mbox file, unquoted and stripped when read */
	IMP_IMAP,   /* a message of another IMAP server, fetched when read */
};

struct imp_imap;

struct imp_msg {
	enum imp_kind kind;
	const char *source;       /* the source's identity: what a second run skips */
	uint32_t uid;             /* the source's UID; 0: none known */
	unsigned flags;           /* DB_FLAG_* */
	const char **keywords;
	size_t nkeywords;
	int64_t internaldate;     /* UTC seconds */
	const char *path;         /* the file (IMP_FILE) */
	const struct imp_mbox *mbox;  /* the mapped file (IMP_MBOX) ... */
	size_t offset, len;       /* ... and the message's bytes in it, after its From_ line */
	struct imp_imap *imap;    /* the connection (IMP_IMAP; len: RFC822.SIZE) ... */
	size_t folder;            /* ... and the index of the message's folder */
	bool known;               /* imported before: not to be read (set by the importer) */
};

struct imp_folder {
	const char *name;         /* the store's name ("INBOX", "Lists/dev"), before --into */
	const char *remote;       /* IMP_IMAP: the name as the server spells it */
	uint32_t uidvalidity;     /* the source's; 0: none */
	uint64_t uidnext;         /* the source's next UID; 0: none */
	struct imp_msg *msgs;
	size_t n, cap;
};

struct imp_source {
	struct imp_folder *folders;
	size_t nfolders, folders_cap;
	const char **subscriptions;   /* store names, before --into */
	size_t nsubs, subs_cap;
	size_t skipped;               /* messages or folders a reader could not use */
	size_t max_size;              /* a message above this is skipped (max_literal_size) */
};

/* Another IMAP server (import_imap.c): imap://USER@HOST[:PORT] (STARTTLS
 * when the server offers it) or imaps://USER@HOST[:PORT] (TLS from the
 * start). The password is the first line of password_file, or asked for
 * on the terminal. The connection stays open until imp_imap_close. */
struct imp_imap_settings {
	const char *url;
	const char *password_file;
	const char *ca_file;        /* NULL: the system's trust store */
	bool insecure;              /* no certificate verification */
};
int imp_imap_scan(struct arena *a, const struct imp_imap_settings *st, struct imp_source *src,
		  struct imp_imap **imap_r, char *err, size_t errlen);
void imp_imap_close(struct imp_imap **imap);
int imp_imap_message(const struct imp_msg *m, size_t max, struct buf *out,
		     char *err, size_t errlen);

/* A mapped mbox file (import_mbox.c). */
struct imp_mbox {
	const char *data;
	size_t size;
};

/* A new folder of src named name (copied), or the one of that name. */
struct imp_folder *imp_folder(struct arena *a, struct imp_source *src, const char *name);
/* A new message of f, zeroed. */
struct imp_msg *imp_msg_add(struct arena *a, struct imp_folder *f);
/* Appends name (copied) to the subscriptions unless it is there. */
void imp_subscribe(struct arena *a, struct imp_source *src, const char *name);
/* Appends a keyword to m unless it holds it (compared ignoring ASCII case). */
void imp_keyword_add(struct arena *a, struct imp_msg *m, const char *kw);

/* A Maildir or Maildir++ root (Dovecot or Courier). */
int imp_maildir_scan(struct arena *a, const char *root, struct imp_source *src,
		     char *err, size_t errlen);
/* An mbox file (mboxrd unquoting; Status, X-Status, X-Keywords). The file
 * stays mapped until imp_mbox_close. */
int imp_mbox_scan(struct arena *a, const char *path, struct imp_source *src,
		  struct imp_mbox *mbox, char *err, size_t errlen);
void imp_mbox_close(struct imp_mbox *mbox);
/* imp_mbox_scan's part after the file is mapped (tests/fuzz/fuzz_import.c
 * feeds it memory): mtime is the date of a message without a readable
 * From_ date; path is for the error message. */
int imp_mbox_parse(struct arena *a, const struct imp_mbox *mbox, int64_t mtime,
		   struct imp_source *src, const char *path, char *err, size_t errlen);

/* The message's bytes as the store takes them, with CRLF line ends
 * (a bare LF becomes CRLF), appended to out. 0; -1 with err when this
 * message cannot be had (the file is gone or unreadable, larger than max
 * bytes, not sent); -2 with err when the source itself failed (the IMAP
 * connection): the import cannot go on. */
int imp_message_read(const struct imp_msg *m, size_t max, struct buf *out,
		     char *err, size_t errlen);

/* import_mbox.c's part of imp_message_read. */
int imp_mbox_message(const struct imp_msg *m, size_t max, struct buf *out,
		     char *err, size_t errlen);

/* snprintf into err; returns -1, for "return imp_err(...)". */
int imp_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A source's folder name as the store's: its levels (split at sep; '\0':
 * one level) decoded from modified UTF-7, or with utf8_too taken as they
 * are when that fails and they are UTF-8, joined with "/". NULL when a
 * level is empty, does not decode, or holds a "/" the store would read
 * as a level of its own. */
const char *imp_store_name(struct arena *a, const char *name, char sep, bool utf8_too);

/* Appends data with every bare LF as CRLF. */
void imp_crlf_append(struct buf *out, const char *data, size_t len);

/* --- maildir_flags.c: the info part of a Maildir file name --- */

/* The letters of maildir(5) and Dovecot: D draft, F flagged, P passed
 * (the $Forwarded keyword), R replied, S seen, T trashed (\Deleted);
 * a-z are keywords, the index of the letter in dovecot-keywords. */
#define IMP_FORWARDED "$Forwarded"

/* The system flags (DB_FLAG_*) of the letters of info (after ":2,"),
 * *forwarded_r for P, and the lower-case letters in order into
 * letters (27 bytes). Unknown letters are ignored. */
unsigned imp_maildir_flags(const char *info, bool *forwarded_r, char letters[27]);
/* The letters of flags and, with forwarded, P, in ASCII order (as
 * maildir(5) asks), then the keyword letters kw (already sorted), into
 * out (40 bytes). */
void imp_maildir_letters(unsigned flags, bool forwarded, const char *kw, char out[40]);

#endif
