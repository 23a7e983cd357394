/* NOTIFY (RFC 5465): what a session asked to be told of, and what it was
 * last told, so that a change of a watched mailbox becomes one unsolicited
 * STATUS or LIST response.
 *
 * The pieces: notify_args.c parses NOTIFY SET's event groups (every limit
 * checked there, before any SQL); cmd_notify.c is the command; notify_scan.c
 * reads which mailboxes the filters name now (with the caller's rights
 * evaluated afresh, so a withdrawn "l" or "r" stops the events at once),
 * their status, and writes what changed; server/client_notify.c is the
 * loop's side: which sessions a change wakes, and the short worker job that
 * runs the scan between commands or during IDLE.
 *
 * Ownership: the session owns its struct imap_notify (heap), and whoever
 * owns the session (the loop, or the worker running its command or scan)
 * may read or change it. */
#ifndef KAIRAN_IMAP_NOTIFY_H
#define KAIRAN_IMAP_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/imap/parser.h"
#include "server/imap/result.h"
#include "server/imap/session.h"

/* RFC 5465 §5 events, one bit each. */
enum imap_notify_event {
	IMAP_NOTIFY_MESSAGE_NEW = 1 << 0,
	IMAP_NOTIFY_MESSAGE_EXPUNGE = 1 << 1,
	IMAP_NOTIFY_FLAG_CHANGE = 1 << 2,
	IMAP_NOTIFY_ANNOTATION_CHANGE = 1 << 3,
	IMAP_NOTIFY_MAILBOX_NAME = 1 << 4,
	IMAP_NOTIFY_SUBSCRIPTION_CHANGE = 1 << 5,
	IMAP_NOTIFY_MAILBOX_METADATA_CHANGE = 1 << 6,
	IMAP_NOTIFY_SERVER_METADATA_CHANGE = 1 << 7,
};
#define IMAP_NOTIFY_MESSAGE_EVENTS (IMAP_NOTIFY_MESSAGE_NEW | IMAP_NOTIFY_MESSAGE_EXPUNGE | \
				    IMAP_NOTIFY_FLAG_CHANGE | IMAP_NOTIFY_ANNOTATION_CHANGE)
/* What Kairan delivers: no METADATA (RFC 5464), so neither the annotation
 * nor the metadata events (RFC 5465 §5.1, §5.7: BADEVENT). */
#define IMAP_NOTIFY_SUPPORTED (IMAP_NOTIFY_MESSAGE_NEW | IMAP_NOTIFY_MESSAGE_EXPUNGE | \
			       IMAP_NOTIFY_FLAG_CHANGE | IMAP_NOTIFY_MAILBOX_NAME | \
			       IMAP_NOTIFY_SUBSCRIPTION_CHANGE)

/* RFC 5465 §6 filters other than selected and selected-delayed. */
enum imap_notify_filter {
	IMAP_NOTIFY_INBOXES,
	IMAP_NOTIFY_PERSONAL,
	IMAP_NOTIFY_SUBSCRIBED,
	IMAP_NOTIFY_SUBTREE,
	IMAP_NOTIFY_MAILBOXES,
};

/* Limits of one NOTIFY SET (docs/protocol.md, "NOTIFY"). Past the names
 * or the watched mailboxes: NO [NOTIFICATIONOVERFLOW]; past the groups:
 * NO [LIMIT] (RFC 5530). The watched mailboxes bound a session's memory: about
 * 64 bytes and the name each. */
#define IMAP_NOTIFY_MAX_GROUPS 16
#define IMAP_NOTIFY_MAX_NAMES 1000
#define IMAP_NOTIFY_MAX_MAILBOXES 1000

struct imap_notify_group {
	enum imap_notify_filter filter;
	unsigned events;
	char **names;              /* subtree, mailboxes: UTF-8 store names */
	size_t nnames;
};

/* A mailbox the filters name and the caller may see ("l"), with what the
 * session was last told of it. */
struct imap_notify_box {
	int64_t mailbox_id;
	char *name;                /* the client's name, UTF-8 */
	unsigned events;           /* of every group that names it */
	bool readable;             /* "r": its STATUS may be sent */
	bool subscribed;
	bool have_status;
	uint32_t messages, unseen, uidvalidity;
	uint64_t uidnext, highestmodseq;
};

struct imap_notify {
	/* selected / selected-delayed (RFC 5465 §6.1, §6.2) */
	bool selected_set;
	bool selected_delayed;
	unsigned selected_events;
	/* MessageNew's fetch attributes for the selected mailbox, a deep copy
	 * of the parsed list (NULL: none). */
	struct imap_arg *fetch_atts;
	/* The selected mailbox whose new messages were fetched so, and the
	 * UIDNEXT up to which they were. */
	int64_t fetched_mailbox;
	uint32_t fetched_uidnext;
	struct imap_notify_group *groups;
	size_t ngroups;
	unsigned group_events;     /* the union of the groups' events */
	/* What the filters named at the last scan, sorted by mailbox id. */
	struct imap_notify_box *boxes;
	size_t nboxes;
	struct bus *bus;           /* the boxes are watched on it */
	int64_t account;
	/* A name, subscription or ACL changed since the last scan (the loop
	 * sets it), or the caller's groups did (groups_gen is theirs at the
	 * last scan): the next scan reads the watched set again. */
	bool names_dirty;
	unsigned groups_gen;
};

/* NOTIFY SET's arguments (after "SET"), parsed into *n (heap) for
 * cmd_notify.c; *status_r: the STATUS indicator was given. Returns OK, or
 * the BAD / NO [BADEVENT] / NO [NOTIFICATIONOVERFLOW] to answer, and
 * then *n is freed. */
struct imap_result imap_notify_parse(struct imap_session *s, const struct imap_arg *args,
				     struct imap_notify **n_r, bool *status_r);

/* Frees n and stops watching its mailboxes; *n becomes NULL. */
void imap_notify_free(struct imap_notify **n);

/* Whether a change to mailbox_id concerns the session's NOTIFY: a
 * watched mailbox, or the selected one when the selected filter asks for
 * events. In the thread that owns the session. */
bool imap_notify_wants(const struct imap_session *s, int64_t mailbox_id);

/* The scan (notify_scan.c), in a worker: reads the mailboxes the filters
 * name now (unless only messages changed since the last scan) and writes
 * the STATUS and LIST responses of what changed since the last scan;
 * initial: the first scan of a NOTIFY SET (no LIST responses; STATUS only
 * when status). false with *res_r on a store or directory failure; past
 * IMAP_NOTIFY_MAX_MAILBOXES, *overflow_r. */
bool imap_notify_scan(struct imap_session *s, struct imap_backend *be, bool initial,
		      bool status, bool *overflow_r, struct imap_result *res_r);

/* Between commands, in a worker: the scan, and on overflow RFC 5465
 * §5.8's untagged OK [NOTIFICATIONOVERFLOW] and NOTIFY NONE; then the
 * selected mailbox's changes as NOOP would report them, when the selected
 * filter asks for them (not during IDLE, whose own sync does it). */
void imap_notify_unsolicited(struct imap_session *s, struct imap_backend *be);

/* After a sync of the selected mailbox that reported new messages
 * unsolicited (NOTIFY's own, or IDLE's): MessageNew's fetch attributes
 * for the messages that arrived since the last time (RFC 5465 §5.2). The
 * first call for a mailbox only notes where it stands. */
void imap_notify_fetch_new(struct imap_session *s, struct imap_backend *be);

#endif
