/* An IMAP session: protocol state (RFC 3501 §3), the parser and the
 * responses of the command being run. It knows nothing of sockets: the
 * connection glue (server/client.c) feeds it bytes and ships its output.
 *
 * Ownership: while no command runs, the event loop's thread owns the session;
 * while a command runs in a worker, that worker owns it (the hand-over goes
 * through the worker pool's locked queues, which orders the memory). */
#ifndef KAIRAN_IMAP_SESSION_H
#define KAIRAN_IMAP_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "server/core/arena.h"
#include "server/core/buf.h"
#include "server/core/config.h"
#include "server/imap/parser.h"

struct activity;
struct db;
struct dir;
struct dir_cache;
struct imap_mailbox_acl;
struct imap_notify;
struct imap_result;
struct mbox_cache;
struct bus;
struct imap_user_slots;
struct imap_view;
struct imap_trace;
struct spool;

enum imap_state {
	IMAP_STATE_NOT_AUTH = 1 << 0,
	IMAP_STATE_AUTH = 1 << 1,
	IMAP_STATE_SELECTED = 1 << 2,
	IMAP_STATE_LOGOUT = 1 << 3,
};
#define IMAP_STATES_ANY (IMAP_STATE_NOT_AUTH | IMAP_STATE_AUTH | IMAP_STATE_SELECTED)

/* What the connection glue does after the command's output is written. */
enum imap_after {
	IMAP_AFTER_NOTHING,
	IMAP_AFTER_STARTTLS,   /* discard buffered input, start the TLS handshake */
	IMAP_AFTER_COMPRESS,   /* deflate everything after the OK (RFC 4978) */
	IMAP_AFTER_UNCOMPRESS, /* plain again after the OK (RFC 8437 §4.1) */
	IMAP_AFTER_CLOSE,
};

/* A worker's connections, lent to a command for its duration. */
struct imap_backend {
	struct db *db;
	struct dir *dir;
	struct dir_cache *dir_cache;   /* shared by all workers */
	/* APPEND, COPY and MOVE in progress, shared by all workers and read
	 * by the search indexer (server/indexer.c); NULL: not tracked. */
	struct activity *writes;
	/* The mailbox state cache, shared by all workers (mbox_cache.h). */
	struct mbox_cache *mbox_cache;
	/* The change bus (server/bus/bus.h), shared; NULL: none. */
	struct bus *bus;
};

struct imap_command_def;

/* SASL response lines an AUTHENTICATE may read (LOGIN: user, password). */
#define IMAP_SASL_MAX_RESPONSES 2

struct imap_session {
	enum imap_state state;
	const struct config *cfg;
	bool tls_active;         /* the connection is encrypted */
	bool tls_available;      /* STARTTLS can be offered */
	bool compress_active;    /* COMPRESS=DEFLATE (RFC 4978) is on: see
				  * imap_session_compression_started */
	bool peer_loopback;
	char peer[80];

	struct imap_parser *parser;
	struct arena arena;      /* the current command's memory */
	/* The spooled literals of the command being read or run, closed with
	 * its arena (literal_sink.c). */
	struct imap_spool_list {
		struct spool **items;
		size_t n, cap;
	} spools;
	const struct imap_command *cmd;
	const struct imap_command_def *def;
	uint64_t cmd_start_us;   /* when the command was complete (metrics_now_us) */
	/* Set by dispatch for the command being run, in the arena: the
	 * mailbox its table entry names, resolved and authorised (NULL when
	 * it names none), and what its check step parsed. */
	struct imap_mailbox_acl *mailbox;
	void *parsed;
	/* What imap_session_literal_check refused, in the arena; NULL: go on. */
	struct imap_result *literal_refused;
	/* The size of the message literal whose quota that check passed
	 * (0: none), so that a one-message APPEND is not checked twice. */
	uint64_t literal_quota_checked;
	/* Mailboxes the command changed and committed (imap_session_changed),
	 * announced on the change bus when it ends. */
	int64_t changed[4];
	bool changed_private[4]; /* only the reader's own private state changed */
	size_t nchanged;
	struct buf out;          /* responses not yet handed to the connection */

	char *user;              /* canonical login once authenticated */
	char *user_dn;
	int64_t account_id;
	char **groups;           /* LDAP groups, refreshed through the TTL cache */
	size_t ngroups;
	unsigned groups_gen;     /* moves whenever the list read differs */
	bool admin;              /* member of auth_admin_group */
	struct imap_user_slots *user_slots; /* where user's connection is counted */
	struct imap_view *view;  /* the selected mailbox, NULL when none */
	/* RFC 7162: CONDSTORE enabled (ENABLE, SELECT's parameter or a
	 * CONDSTORE-enabling command, §3.1) and QRESYNC enabled (ENABLE
	 * only, §3.2.3); QRESYNC implies CONDSTORE. */
	bool condstore;
	bool qresync;
	/* RFC 9051 enabled (ENABLE IMAP4rev2, §6.3.1): the session speaks
	 * IMAP4rev2 from then on (docs/protocol.md, "IMAP4rev2"). */
	bool imap4rev2;
	/* RFC 9755: UTF8=ACCEPT enabled: mailbox names are UTF-8 both ways
	 * and header data is shown as stored (imap_session_utf8). */
	bool utf8_accept;
	bool holds_user_slot;

	/* A SASL exchange waiting for the client's response line (RFC 3501
	 * §6.2.2): read raw, up to the line limit, before the command runs. */
	bool sasl_waiting;
	/* The response lines read (not the initial response), in the arena:
	 * PLAIN takes one, LOGIN up to two. */
	const char *sasl_response[IMAP_SASL_MAX_RESPONSES];
	size_t sasl_response_len[IMAP_SASL_MAX_RESPONSES];
	unsigned nsasl;
	/* The raw line being read for SASL or IDLE's DONE; past the line
	 * limit its bytes are dropped as they come and only overflow says so. */
	struct buf raw_line;
	bool raw_overflow;

	/* IDLE (RFC 2177, cmd_idle.c): the tag of the IDLE command running,
	 * a heap copy; NULL when the session is not idling. While it runs the
	 * session holds no worker: the loop reads the client's lines (DONE)
	 * and runs a short sync through the pipeline when woken
	 * (imap_session_idle_resume). */
	char *idle_tag;

	/* NOTIFY (RFC 5465, notify.h): what the client asked to be told of
	 * and what it was last told; NULL when NOTIFY is off (NONE). */
	struct imap_notify *notify;

	/* The protocol trace (trace.h), NULL when the session is not traced:
	 * the loop's thread opens it, writes to it and closes it. A login
	 * sets trace_wanted when the user is to be traced (trace_users, or
	 * kairanctl trace); the loop then starts the trace with that command. */
	struct imap_trace *trace;
	bool trace_wanted;
	unsigned commands;       /* tagged responses, for the session's end line */

	unsigned consecutive_bad;
	bool auth_failed;        /* set by a command: an authentication just failed */
	bool unauthenticated;    /* set by a command: UNAUTHENTICATE just ended the login */
	unsigned auth_failures;  /* on this connection */
	enum imap_after after;

	/* Set by the connection glue: hands s->out to the connection while a
	 * command is still running and waits while the client is behind.
	 * Returns non-zero when the client is gone and the command should
	 * stop. Called in the worker's thread. */
	int (*flush)(struct imap_session *s, void *ctx);
	void *flush_ctx;
};

/* Output a long command accumulates before it is handed over. */
#define IMAP_FLUSH_THRESHOLD (64 * 1024)

enum imap_input_result {
	IMAP_INPUT_NEED_MORE,    /* all input consumed */
	IMAP_INPUT_COMMAND,      /* s->cmd and s->def are set: run it */
	IMAP_INPUT_CLOSE,        /* a BYE was written: close after flushing */
	/* APPEND's first message literal waits for its "+": run
	 * imap_session_literal_check in a worker, then
	 * imap_session_literal_checked in the loop, then go on reading. */
	IMAP_INPUT_LITERAL_CHECK,
};

void imap_session_init(struct imap_session *s, const struct config *cfg);
void imap_session_deinit(struct imap_session *s);
void imap_session_greeting(struct imap_session *s);
/* Parses input; *consumed_r says how much of it was used. Continuation
 * requests and error responses are appended to s->out. */
enum imap_input_result imap_session_input(struct imap_session *s, const uint8_t *data,
					  size_t len, size_t *consumed_r);
/* Forgets the selected mailbox (CLOSE, UNSELECT, a new SELECT, logout). */
void imap_session_unselect(struct imap_session *s);
/* Whether s->cmd runs in the event loop's thread rather than in a worker. */
bool imap_session_command_in_loop(const struct imap_session *s);
/* Runs s->cmd. The backend is NULL for commands flagged IMAP_CMD_IN_LOOP. */
void imap_session_execute(struct imap_session *s, struct imap_backend *be);
/* Before the "+" of APPEND's first message literal (IMAP_INPUT_LITERAL_CHECK),
 * in a worker: the store, the mailbox and the right to append to it, as
 * dispatch checks them once the command is whole (dispatch.c), so that a
 * client is refused before it uploads a message, not after. */
void imap_session_literal_check(struct imap_session *s, struct imap_backend *be);
/* Back in the loop: writes the "+", or the refusal as the command's tagged
 * response (the client then sends no data, and the parser starts afresh). */
void imap_session_literal_checked(struct imap_session *s);
/* After the command's output was taken: frees its memory. */
void imap_session_command_done(struct imap_session *s);
/* A quiet session (no command running or partly read, no SASL exchange,
 * no partial DONE) gives back the memory its last commands grew: the
 * arena's kept chunk, the output and raw-line buffers, the parser's
 * arrays. Called by the loop for sessions quiet for a second; the next
 * command allocates again. Otherwise does nothing. */
void imap_session_release_memory(struct imap_session *s);
/* For commands producing long output: passes what has accumulated to the
 * connection once it passes IMAP_FLUSH_THRESHOLD. 0 to go on, non-zero
 * when the client has gone away. */
int imap_session_flush(struct imap_session *s);
/* Server shutdown: appends the BYE. */
void imap_session_shutdown(struct imap_session *s);
/* The pre-login idle limit passed or the autologout timer fired. */
void imap_session_timeout(struct imap_session *s);
/* Changes the protocol state and the parser limits that depend on it. */
void imap_session_set_state(struct imap_session *s, enum imap_state state);
/* The connection compresses from now on (RFC 4978): COMPRESS is refused
 * with COMPRESSIONACTIVE and no longer advertised, and a command line over
 * max_line_length ends the session (parser.h, long_line_fatal). */
void imap_session_compression_started(struct imap_session *s);
/* Whether LOGIN may be used on this connection now (TLS, loopback or config). */
bool imap_session_login_allowed(const struct imap_session *s);

/* IDLE (RFC 2177). Whether an IDLE command is running. */
bool imap_session_idling(const struct imap_session *s);

/* Whether the client takes UTF-8 (RFC 9755 §3): mailbox names go both
 * ways as UTF-8 instead of modified UTF-7, and messages with UTF-8 header
 * fields are shown undowngraded. The one test every such place asks.
 * IMAP4rev2 includes all of it (RFC 9755's abstract, RFC 9051 §5.1). */
static inline bool imap_session_utf8(const struct imap_session *s)
{
	return s->utf8_accept || s->imap4rev2;
}

/* In the loop, before the worker job that reports an idling session's
 * changes: makes s->cmd and s->def the IDLE command again, so that the
 * pipeline (imap_session_execute) syncs the selected mailbox as for NOOP.
 * A sync that fails ends the IDLE with its tagged NO. */
void imap_session_idle_resume(struct imap_session *s);
/* The command changed mailbox_id and committed: the sessions of this
 * process idling on it are woken, and every process is told on the
 * change bus, when the command ends. */
void imap_session_changed(struct imap_session *s, int64_t mailbox_id);
/* The command changed only the logged-in reader's private state of the
 * mailbox (its \Seen in a per-user mailbox, migrations/0011): announced to
 * that reader's sessions only. */
void imap_session_changed_private(struct imap_session *s, int64_t mailbox_id);

/* The boundary: writes the command's result as its tagged response and
 * logs it (dispatch.c, and the session itself for commands that never
 * reach a handler; nothing else). */
void imap_session_reply(struct imap_session *s, const struct imap_result *r);

/* An untagged response line; commands return their tagged result
 * (result.h) instead of writing it. */
void imap_untagged(struct imap_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The capability list for the session's current state, space-separated. */
void imap_capabilities(const struct imap_session *s, struct buf *out);
/* "CAPABILITY ..." as a response code, in the arena: for the tagged OK of
 * a command that changed them (login, UNAUTHENTICATE). */
const char *imap_capability_code(struct imap_session *s);

#endif
