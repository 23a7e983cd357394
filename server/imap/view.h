/* The selected mailbox as one session sees it (RFC 3501 §2.3.1.2): the
 * message sequence numbers, which change only when this session is told of
 * an expunge, mapped to UIDs, plus what it was last told about the mailbox.
 * Changes by other sessions are learned from the store (db_mailbox_sync)
 * and reported with EXISTS / EXPUNGE / FETCH at the points RFC 3501 §7.4.1
 * allows. Owned by the session; freed by imap_view_close. */
#ifndef KAIRAN_IMAP_VIEW_H
#define KAIRAN_IMAP_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/imap/keyword_set.h"
#include "server/imap/mbox_cache.h"
#include "server/imap/modseq_map.h"
#include "server/imap/msn_map.h"
#include "server/imap/result.h"
#include "server/imap/session.h"
#include "server/imap/uid_ranges.h"


struct imap_view {
	int64_t mailbox_id;
	int64_t reader;             /* the logged-in account */
	char *name;                 /* UTF-8, as stored */
	bool readonly;              /* EXAMINE, or no right to change anything */
	uint32_t rights;            /* the caller's RFC 4314 rights, as last evaluated */
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t modseq;            /* new messages and flag changes known up to here */
	uint64_t expunge_modseq;    /* expunges reported up to here */
	bool expunges_held;         /* some above it wait for a command that may report them */
	struct msn_map msns;        /* message sequence numbers ↔ UIDs */
	struct imap_uid_range *recent;  /* UIDs that are \Recent for this session */
	size_t nrecent;
	/* IMAP4rev2 (RFC 9051 Appendix E): no \Recent at all. The session
	 * claims nothing, so the mail stays recent for IMAP4rev1 sessions,
	 * and shows and counts none. */
	bool no_recent;
	struct imap_keyword_set keywords;   /* announced in FLAGS */
	uint64_t *own_modseqs;      /* changes this session made and already reported */
	size_t nown;
	uint32_t *saved;            /* SEARCHRES "$" (RFC 5182): UIDs, ascending */
	size_t nsaved;
	/* The process's shared state of the mailbox (mbox_cache.h), held
	 * while selected; and what is this reader's own: whether \Seen is
	 * per user, and then the reader's seen UIDs. */
	struct mbox_cache *cache;
	struct mbox_state *state;
	/* The change bus: watched while selected; its generation of the
	 * mailbox when the changes were last read, and the session's group
	 * list then (dispatch.c skips reading what cannot have changed). */
	struct bus *bus;
	uint64_t bus_gen;
	unsigned groups_gen;
	bool seen_per_user;
	struct uid_ranges seen;
	/* RFC 7162 for this reader (migrations/0011): the highest modseq of
	 * a shared change and of the reader's own private changes it was told
	 * of, the floor of the reader's pruned change log, and, once the
	 * client uses CONDSTORE, each UID's private modseq (private_loaded:
	 * the whole log above the floor is in it). */
	uint64_t shared_modseq;
	uint64_t private_modseq;
	uint64_t pruned_modseq;
	struct modseq_map private_modseqs;
	bool private_loaded;
	/* The reader's private keywords (migrations/0013), in a per-user
	 * mailbox: the config's names (NULL elsewhere), and the UIDs of
	 * each that the reader set. */
	const char *private_names;
	struct imap_private_keyword *pkw;
	size_t npkw;
	/* The rows this session's own STORE changed, in the command arena,
	 * until dispatch settles them (imap_view_settle). */
	struct imap_own_row *own_rows;
	size_t nown_rows, own_rows_cap;
	uint64_t own_rows_modseq;
	/* FETCH of flags may be answered from the shared state; false once
	 * the \Seen mode changed under the session (SETACL, kairanctl), whose
	 * meaning for the stored flags only a fresh SELECT learns. */
	bool flags_cached;
};

struct imap_private_keyword {
	char *name;
	struct uid_ranges uids;
};

struct imap_own_row {
	uint32_t uid;
	bool expunged;
	bool shared;              /* the stored flags or keywords changed */
	unsigned flags;           /* as this reader sees them */
	const char *keywords;     /* in the command arena */
};

struct db_stored_row;
/* A message this session's STORE changed (row->changed), or its EXPUNGE
 * removed, committed at modseq. */
void imap_view_own_row(struct imap_session *s, const struct db_stored_row *row);
void imap_view_own_expunge(struct imap_session *s, uint32_t uid, uint64_t modseq);
/* After the command's changes went on the change bus (dispatch.c): when
 * nothing but this session's own STORE or EXPUNGE changed the mailbox since it last
 * read the changes (its modseq is the next one, and the bus's generation
 * moved only by its own announcement), the shared state takes the rows
 * and the session moves to the new modseq, so that its next command needs
 * no change read. Otherwise the next command reads the changes as usual.
 * Always forgets the rows. */
void imap_view_settle(struct imap_session *s);

struct imap_mailbox_acl;
/* SELECT and EXAMINE (view_sync.c): opens the mailbox acl names, which
 * dispatch resolved and authorised, as the session's view, and claims its
 * new messages as \Recent unless readonly: one round trip, which also
 * loads or refreshes the process's shared state of the mailbox. The first
 * message the reader has not seen, 0 if none, in *first_unseen_r. false
 * with *res_r when the store failed or the mailbox is gone. */
bool imap_view_open(struct imap_session *s, struct imap_backend *be,
		    const struct imap_mailbox_acl *acl, bool readonly, uint32_t *first_unseen_r,
		    struct imap_result *res_r);
void imap_view_close(struct imap_view *v);

/* 0 when the UID is not in the view. */
uint32_t imap_view_msn(const struct imap_view *v, uint32_t uid);
/* Messages in the view (the client's EXISTS), the UID of message msn
 * (1 <= msn <= count), and the highest UID (0 when empty). */
uint32_t imap_view_count(const struct imap_view *v);
uint32_t imap_view_uid(const struct imap_view *v, uint32_t msn);
uint32_t imap_view_last_uid(const struct imap_view *v);
bool imap_view_is_recent(const struct imap_view *v, uint32_t uid);
uint32_t imap_view_recent_count(const struct imap_view *v);
/* The session enabled IMAP4rev2 while selected: from now on nothing is
 * \Recent for it (what it claimed stays claimed). */
void imap_view_forget_recent(struct imap_view *v);
/* Remembers a modseq this session's own STORE produced and reported, so the
 * next sync does not report the change again. */
void imap_view_own_change(struct imap_view *v, uint64_t modseq);
bool imap_view_is_own_change(const struct imap_view *v, uint64_t modseq);
/* The flags this reader now sees on a message its own command changed
 * (STORE, FETCH's implicit \Seen): keeps the reader's seen set right. */
void imap_view_own_flags(struct imap_view *v, uint32_t uid, unsigned flags);
/* The message's MODSEQ for this reader: its shared modseq (from the
 * state or a row), or the reader's newer private change of it, and never
 * below the floor of the reader's pruned log. */
uint64_t imap_view_modseq(const struct imap_view *v, uint32_t uid, uint64_t shared);
/* The reader's HIGHESTMODSEQ (RFC 7162 §3.1.2): the greater of the shared
 * and its private one. */
uint64_t imap_view_highestmodseq(const struct imap_view *v);
/* A private change of the reader's at modseq to the UIDs (PostgreSQL
 * multirange text), into the map. */
void imap_view_private_change(struct imap_view *v, uint64_t modseq, const struct uid_ranges *uids);
/* The reader's private keywords: forgets them all (a fresh set follows),
 * or sets one's UIDs (PostgreSQL multirange text). */
void imap_view_private_keywords_clear(struct imap_view *v);
/* Adds the private keywords' names to the announced list. */
void imap_view_learn_private_keywords(struct imap_view *v);
void imap_view_private_keyword_set(struct imap_view *v, const char *name, const char *uids);
/* Whether the next change read must load the reader's private log: the
 * client uses CONDSTORE in a per-user mailbox whose log is not loaded. */
bool imap_view_wants_private_log(const struct imap_session *s);
/* The flags the reader sees on a message of the shared state. */
unsigned imap_view_reader_flags(const struct imap_view *v, const struct mbox_msg *m);
/* Removes a UID (this session's EXPUNGE); returns its MSN, 0 if absent. */
uint32_t imap_view_remove(struct imap_view *v, uint32_t uid);
/* Removes the UIDs (ascending) and tells the client: "* n EXPUNGE" for
 * each with the number the message has at that moment (RFC 3501 §7.4.1),
 * or once QRESYNC is enabled one "* VANISHED uids" (RFC 7162 §3.2.10);
 * nothing for a UID that was not in the view. */
void imap_view_report_expunges(struct imap_session *s, const uint32_t *uids, size_t n);

/* Adds the space-separated keywords to the announced list; true if any
 * was new (the caller then sends FLAGS again, RFC 3501 §7.2.6). */
bool imap_view_learn_keywords(struct imap_view *v, const char *keywords);
/* Call before writing the first byte of a "* n FETCH" response that will
 * show keywords (space-separated): if any of them has not been announced
 * to this session (another session created it after this one's last
 * change poll), learns them and writes FLAGS and PERMANENTFLAGS first, as
 * complete lines of their own, so that a client never meets a keyword it
 * was not told of (RFC 3501 §7.2.6). Output may be streamed: it is safe
 * between two responses, never inside one. */
void imap_view_announce(struct imap_session *s, const char *keywords);
/* Replaces the saved search result (takes ownership of uids, may be NULL). */
void imap_view_save_result(struct imap_view *v, uint32_t *uids, size_t n);
struct imap_search_program;
/* A SEARCH that asked to SAVE failed: the saved result becomes empty
 * (RFC 5182 §2.1), where any other failure leaves it as it was. */
void imap_search_forget(struct imap_session *s, const struct imap_search_program *p);
/* APPEND, COPY, MOVE: the warning (an untagged NO, RFC 3501 §7.1.2) that
 * messages were stored without the keywords their mailbox had no room for. */
void imap_keywords_dropped(struct imap_session *s);
/* "* FLAGS (...)" and "* OK [PERMANENTFLAGS (...)]" for the view's
 * keywords. PERMANENTFLAGS lists "\*" (new keywords may be created, RFC
 * 3501 §7.1) only while the mailbox has fewer than the configured
 * max_keywords_per_mailbox. */
void imap_view_write_flags(struct imap_session *s, const struct imap_view *v);
/* Writes a flag list "(\Seen kw ...)" (with \Recent where due). */
void imap_view_format_flags(struct buf *out, const struct imap_view *v, uint32_t uid,
			    unsigned flags, const char *keywords);

/* Appends a UID announced with EXISTS (view_sync.c). */
void imap_view_append_uid(struct imap_view *v, uint32_t uid);

struct db_sync_acl;
/* Learns and reports what other sessions changed, and claims new messages
 * as \Recent for a read-write session; with acl_r, also reads the
 * mailbox's owner and ACL entries (dispatch re-checks the caller's rights
 * with them). One round trip. allow_expunge is false during FETCH, STORE
 * and SEARCH (RFC 3501 §7.4.1), when expunges wait. false with *res_r
 * when the store failed, or when the mailbox was deleted under the
 * session, which then ends with BYE. */
bool imap_view_sync(struct imap_session *s, struct imap_backend *be, bool allow_expunge,
		    struct db_sync_acl *acl_r, struct imap_result *res_r);

struct db_uid_ranges;
/* QRESYNC (view_resync.c): "* VANISHED (EARLIER) uids" for the UIDs of
 * ranges (NULL: every UID) expunged after modseq (RFC 7162 §3.2.5,
 * §3.2.6); nothing when none did. When the history after modseq was
 * pruned, every UID of ranges below UIDNEXT that is not in the view. false
 * with *res_r when the store failed. */
bool imap_report_vanished_since(struct imap_session *s, struct imap_backend *be,
				const struct db_uid_ranges *ranges, uint64_t modseq,
				struct imap_result *res_r);

#endif
