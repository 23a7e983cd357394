/* The connection glue's private parts, shared by client.c (a connection
 * and its commands) and client_idle.c (sessions running IDLE). Everything
 * here belongs to the event loop's thread, except what the comments say a
 * worker may touch. */
#ifndef KAIRAN_SERVER_CLIENT_PRIVATE_H
#define KAIRAN_SERVER_CLIENT_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "server/client.h"
#include "server/worker.h"
#include "server/core/buf.h"
#include "server/imap/session.h"
#include "server/net/conn.h"
#include "server/net/loop.h"

/* Responses not yet written past which no new command (or IDLE sync)
 * starts until the client has read some. */
#define CLIENT_OUTPUT_MAX (256 * 1024)

struct client {
	struct net_watch watch;         /* first: the loop hands us this pointer */
	struct server *srv;
	struct net_conn *conn;
	struct imap_session session;
	struct worker_job job;
	struct client *prev, *next;     /* srv->clients, or srv->dead once closed */

	struct buf in;                  /* bytes read, not yet parsed */
	struct buf out;                 /* bytes to write */
	size_t out_pos;                 /* written so far */

	bool busy;                      /* a worker runs the session's command */
	bool held;                      /* a reply is held back until held_until_ms */
	bool eof;                       /* the peer will send nothing more */
	bool close_after_flush;
	bool starttls_after_flush;
	bool compress_after_flush;      /* COMPRESS answered OK: deflate after it */
	bool uncompress_after_flush;    /* UNAUTHENTICATE answered OK: plain after it */
	bool reread;                    /* input waits where epoll cannot see it */
	bool closed;
	const char *close_reason;       /* for the log, once close_after_flush is set */
	const char *end_kind;           /* the end line's reason, once decided */
	const char *end_detail;         /* ... and its words, once closed */
	uint64_t connected_ms;
	bool counted_peer;              /* counted in srv->peers */
	uint64_t command_started_ms;

	/* Mid-command output (see client_stream_flush): guarded by out_lock,
	 * shared between the worker running the command and the loop. */
	pthread_mutex_t out_lock;
	pthread_cond_t drained;
	struct buf outbox;              /* handed over, not yet in out */
	size_t unwritten;               /* the loop's out - out_pos, for the worker */
	bool gone;                      /* the connection closed: stop streaming */
	bool on_outbox_list;
	struct client *next_outbox;
	uint64_t held_until_ms;
	uint64_t last_activity_ms;
	uint64_t last_write_ms;         /* the IDLE keepalive counts from here */
	uint64_t wakes_at_submit;       /* srv->wakes when the last job was submitted */

	/* IDLE (client_idle.c). Listed in srv->idlers, by the mailbox it
	 * idles on (0: none), from the end of the IDLE command's first run
	 * to its end. */
	bool idle_listed;
	bool idle_dirty;                /* woken while it could not sync: sync once more */
	int64_t idle_mailbox;
	struct client *idle_prev, *idle_next;
	uint64_t idle_since_ms;         /* the IDLE timeout counts from here */

	/* Slow clients (client_slow.c): the login deadline counts from
	 * login_since_ms; a partly read command from cmd_since_ms (0: none),
	 * less cmd_literal_ms spent in its literals' data; the literal being
	 * read since lit_since_ms (0: none), its current chunk since
	 * chunk_since_ms, when chunk_left bytes were still to come. */
	uint64_t login_since_ms;
	uint64_t cmd_since_ms, cmd_literal_ms;
	uint64_t lit_since_ms, chunk_since_ms, chunk_left;

	/* NOTIFY (client_notify.c): listed in srv->notifiers while the
	 * session has NOTIFY on; dirty: a change may concern it, so a scan
	 * is owed. */
	bool notify_listed;
	bool notify_dirty;
	bool notify_names;              /* names changed: the scan re-reads the set */
	int64_t notify_account;         /* the session's, copied while the loop owns it */
	/* Mailboxes that changed while the session was busy (its worker owns
	 * the watched set): looked up when it is back; past the array, dirty. */
	int64_t notify_pending[8];
	unsigned notify_npending;
	struct client *notify_prev, *notify_next;
};


/* client.c */
/* Output not yet written to the socket. */
size_t client_unwritten(const struct client *c);
/* Moves the session's output to the connection's. */
void client_take_output(struct client *c);
/* Writes what it can; may close the client. */
void client_flush(struct client *c);
/* Hands the session's command (s->cmd) to a worker. */
void client_submit(struct client *c);
/* Closes the connection once its output is written; kind is the reason
 * the session's end line gives (the first one set wins). */
void client_end_after_flush(struct client *c, const char *kind);
/* A worker gave the session back; false when the client went away
 * meanwhile (it is on the dead list then). */
bool client_job_returned(struct client *c);
/* Reads, frames and starts commands, writes output: one turn. */
void client_pump(struct client *c);

/* client_idle.c */
/* After each turn of the client (client_pump): lists or unlists it as an
 * idler as its session starts or ends IDLE, and starts a sync a wake left
 * pending. */
void client_idle_update(struct client *c);
/* When the client closes. */
void client_idle_unlist(struct client *c);
/* Once a second, for a listed client that is not running a sync: the
 * IDLE timeout and the keepalive. */
void client_idle_timers(struct client *c, uint64_t now_ms);
/* Every tick: the periodic sync of idling sessions when no change bus
 * wakes them (idle_poll_interval_ms). */
void client_idle_poll(struct server *srv, uint64_t now_ms);

/* client_slow.c */
enum client_slow {
	CLIENT_SLOW_NONE,
	CLIENT_SLOW_LOGIN,      /* timeout_login */
	CLIENT_SLOW_COMMAND,    /* timeout_command */
	CLIENT_SLOW_LITERAL,    /* timeout_literal */
};
/* After each turn of the client: where it is in its command. */
void client_slow_note(struct client *c, uint64_t now_ms);
/* The session is back to not authenticated (UNAUTHENTICATE): the login
 * deadline starts again. */
void client_slow_logged_out(struct client *c, uint64_t now_ms);
/* Which deadline, if any, the client has passed (the once-a-second pass). */
enum client_slow client_slow_check(const struct client *c, const struct config *cfg,
				   uint64_t now_ms);
/* The BYE line for a passed deadline, without "* " and CRLF; counts it
 * in the metrics. */
const char *client_slow_bye(enum client_slow why);

/* client_notify.c */
/* After each turn of the client (client_pump): lists or unlists it as its
 * session turns NOTIFY on or off, and starts a scan a wake left owed. */
void client_notify_update(struct client *c);
/* When the client closes. */
void client_notify_unlist(struct client *c);
/* Every tick: while the change bus is not trusted, every NOTIFY session
 * scans every idle_poll_interval_ms, as idling sessions sync. */
void client_notify_poll(struct server *srv, uint64_t now_ms);

#endif
