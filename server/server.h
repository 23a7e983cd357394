/* The daemon's process-wide state, owned by the event loop's thread. */
#ifndef KAIRAN_SERVER_SERVER_H
#define KAIRAN_SERVER_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/core/clock.h"
#include "server/core/config.h"
#include "server/net/loop.h"

struct bus;
struct client;
struct lmtp_conn;
struct imap_user_slots;
struct net_tls;
struct peer_table;
struct worker_pool;

#define SERVER_IDLE_BUCKETS 256

struct listener {
	struct net_watch watch;
	struct server *srv;
	bool implicit_tls;
	bool lmtp;                     /* LMTP (server/lmtp/), not IMAP */
	bool proxy;                    /* a PROXY v2 header first (server/proxy_accept.h) */
};

struct server {
	/* The configuration in force. SIGHUP (server/kairand.c) publishes a
	 * new one by storing this pointer, on the loop's thread; the old one
	 * stays allocated until exit, because sessions keep the one they
	 * started with (imap_session.cfg) and workers may be reading it.
	 * Atomic, since workers load it too (LMTP delivery). */
	const struct config *_Atomic cfg;
	struct net_loop *loop;
	struct worker_pool *pool;
	struct net_tls *tls;           /* NULL when no certificate is configured */
	struct listener listeners[6];
	size_t nlisteners;

	struct client *clients;        /* every open connection */
	size_t nclients;
	struct client *dead;           /* closed, freed after the event batch */
	struct lmtp_conn *lmtp_conns;  /* LMTP connections (server/lmtp/) */
	size_t nlmtp;
	struct lmtp_conn *lmtp_dead;   /* closed, freed after the event batch */
	struct peer_table *peers;      /* per-address connections and failures */
	struct imap_user_slots *user_slots; /* per-user connections */
	uint64_t last_expire_ms;
	uint64_t last_scan_ms;         /* last idle-timeout pass over all clients */
	uint64_t last_trim_ms;         /* last malloc_trim (client.c) */
	bool trim_pending;             /* sessions released memory since */
	size_t nheld;                  /* clients whose reply is being held back */

	/* Output that workers hand over mid-command (server/client.c):
	 * clients with something in their outbox, and the eventfd that wakes
	 * the loop for them. */
	pthread_mutex_t outbox_lock;
	struct client *outbox_list;
	struct net_watch outbox_watch;

	/* Sessions running IDLE (server/client_idle.c), hashed by the
	 * mailbox they idle on (0: none); every wake counted, so that a
	 * session learns whether one came while its IDLE was starting. */
	struct client *idlers[SERVER_IDLE_BUCKETS];
	uint64_t wakes;
	uint64_t last_idle_poll_ms;
	struct bus *bus;            /* the change bus; NULL: none */
	/* Sessions with NOTIFY on (server/client_notify.c). */
	struct client *notifiers;
	uint64_t last_notify_poll_ms;

	bool shutting_down;
	uint64_t shutdown_deadline_ms;
};


#endif
