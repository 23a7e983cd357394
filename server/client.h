/* A client connection: the glue between a network connection (server/net)
 * and an IMAP session (server/imap). It runs in the event loop's thread:
 * reads input, lets the session frame commands, hands each command to the
 * worker pool, and writes the responses; a session runs one command at a time
 * and pipelined commands wait, in order, in the input buffer. */
#ifndef KAIRAN_SERVER_CLIENT_H
#define KAIRAN_SERVER_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "server/server.h"

/* Takes ownership of fd, an accepted connection; sa is the client's
 * address. proxied: it came through a load balancer's PROXY header
 * (server/proxy_accept.h), so it is never taken for loopback, whatever
 * the address. */
void client_accept(struct server *srv, int fd, const struct sockaddr *sa, socklen_t salen,
		   bool implicit_tls, bool proxied);
/* Sends BYE to every session and closes each once its command has finished. */
void client_shutdown_all(struct server *srv);
/* Once a second: idle and pre-login timeouts, held-back replies. */
void client_tick(struct server *srv, uint64_t now_ms);
/* After each event batch: frees closed clients. */
void client_reap(struct server *srv);

/* The wake hooks of IDLE (RFC 2177), for the change bus; in the loop's
 * thread. client_wake_mailbox: mailbox_id changed (a commit, here or in
 * another process), so every session of srv idling on it reports what
 * changed, with one sync on a worker; wakes that arrive while a session's
 * sync is queued or running cost it one more sync afterwards, not one
 * each. client_wake_all: every idling session with a selected mailbox
 * syncs once (after the bus reconnects, when changes may have been
 * missed). Both only mark and queue work: they never block. */
void client_wake_mailbox(struct server *srv, int64_t mailbox_id);
/* Only the idling sessions of reader `account` with mailbox_id selected:
 * its private change (its \Seen in a per-user mailbox). */
void client_wake_reader(struct server *srv, int64_t mailbox_id, int64_t account);
void client_wake_all(struct server *srv);

/* The wake hooks of NOTIFY (RFC 5465, server/client_notify.c), in the
 * loop's thread: a session whose NOTIFY watches mailbox_id (or, with
 * account non-zero, that reader's session only: a private change) scans
 * once, on a worker, when it is free; names: every NOTIFY session does
 * (a mailbox created, deleted, renamed, a subscription or an ACL). Like
 * IDLE's, wakes coalesce to one scan running and one owed. */
void client_notify_wake(struct server *srv, int64_t mailbox_id, int64_t account);
void client_wake_names(struct server *srv);

/* Sets up the mid-command output hand-over (an eventfd in the loop). */
void client_outbox_init(struct server *srv);
/* At exit, before the worker pool stops: a command streaming to a client
 * that does not read gives up instead of waiting for ever. */
void client_abort_streams(struct server *srv);
/* At exit, after the worker pool stopped: frees every client. */
void client_free_all(struct server *srv);

#endif
