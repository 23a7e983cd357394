/* LMTP (RFC 2033): mail delivery into the store, on the event loop and the
 * worker pool that serve IMAP. An LMTP connection is its own small session
 * type (struct lmtp_conn, lmtp_private.h), not a struct client: see
 * docs/architecture.md, "LMTP". Everything here runs in the loop's thread. */
#ifndef KAIRAN_LMTP_LMTP_H
#define KAIRAN_LMTP_LMTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "server/server.h"

/* Whether the lmtp_* keys are usable: 0, or -1 with a reason in err. */
int lmtp_check_config(const struct config *cfg, char *err, size_t errlen);
/* The workers LMTP's jobs may hold at once (lmtp_workers; docs/config.md):
 * the rest always serve IMAP. */
size_t lmtp_worker_share(const struct config *cfg);
/* Takes ownership of fd, an accepted connection on lmtp_listen. */
void lmtp_accept(struct server *srv, int fd, const struct sockaddr *sa, socklen_t salen);
/* Says 421 to every connection and closes each once its work is done. */
void lmtp_shutdown_all(struct server *srv);
/* Once a tick: the idle timeout (RFC 5321 §4.5.3.2.7). */
void lmtp_tick(struct server *srv, uint64_t now_ms);
/* After each event batch: frees closed connections. */
void lmtp_reap(struct server *srv);
/* At exit, after the worker pool stopped. */
void lmtp_free_all(struct server *srv);

#endif
