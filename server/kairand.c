/* kairand: the IMAP daemon. main() loads the configuration, binds the
 * listeners and reads the TLS key, drops root (server/privileges.c), opens
 * one PostgreSQL and one LDAP connection per worker, starts the search
 * indexer, tells the service manager it is ready (server/service_notify.c)
 * and runs the event loop until SIGTERM or SIGINT; SIGHUP reloads the
 * configuration and the certificate (server/reload.c). See
 * docs/architecture.md. */
#include "server/client.h"
#include "server/dir_settings.h"
#include "server/indexer.h"
#include "server/metrics_http.h"
#include "server/peer_table.h"
#include "server/privileges.h"
#include "server/reload.h"
#include "server/service_notify.h"
#include "server/bus/bus.h"
#include "server/imap/mbox_cache.h"
#include "server/imap/user_slots.h"
#include "server/server.h"
#include "server/worker.h"
#include "server/lmtp/lmtp.h"
#include "server/core/activity.h"
#include "server/core/buf.h"
#include "server/core/config.h"
#include "server/core/log.h"
#include "server/net/listen.h"
#include "server/proxy_accept.h"
#include "server/net/loop.h"
#include "server/net/tls.h"
#include "directory/dir.h"
#include "schema/db.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS 10
#define STATUS_EVERY_MS 5000   /* STATUS= to the service manager, when it changed */
#define SHUTDOWN_GRACE_MS 5000
#define DEFAULT_CONFIG "/etc/kairan/kairan.conf"

static struct config cfg;      /* as started; srv.cfg after a SIGHUP */
static struct config_source cfg_source;
static struct server srv;
static struct net_watch signal_watch, tick_watch, pool_watch, bus_watch_fd;
static sigset_t handled_signals;
static dir_cache *groups_cache;
static struct mbox_cache *mailbox_states;   /* shared by every session */
static struct bus *changes;                  /* the change bus */
static struct activity writes;      /* APPEND/COPY/MOVE, for the indexer */

static void on_accept(struct net_watch *w, uint32_t events)
{
	struct listener *l = (struct listener *)w;

	(void)events;
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sslen = sizeof(ss);
		int fd = accept4(w->fd, (struct sockaddr *)&ss, &sslen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warning("accept: %s", strerror(errno));
			return;
		}
		if (l->lmtp)
			lmtp_accept(l->srv, fd, (struct sockaddr *)&ss, sslen);
		else if (l->proxy)
			proxy_accept(l->srv, fd, (struct sockaddr *)&ss, sslen, l->implicit_tls);
		else
			client_accept(l->srv, fd, (struct sockaddr *)&ss, sslen, l->implicit_tls, false);
	}
}

static void stop_listening(void)
{
	for (size_t i = 0; i < srv.nlisteners; i++) {
		net_loop_del(srv.loop, &srv.listeners[i].watch);
		close(srv.listeners[i].watch.fd);
	}
	srv.nlisteners = 0;
}

static void begin_shutdown(const char *why)
{
	if (srv.shutting_down)
		return;
	log_info("%s: shutting down, %zu connection(s) open", why, srv.nclients);
	service_notify("STOPPING=1\nSTATUS=%s: stopping, %zu connection(s) open", why, srv.nclients);
	srv.shutting_down = true;
	srv.shutdown_deadline_ms = clock_now_ms() + SHUTDOWN_GRACE_MS;
	stop_listening();
	proxy_close_all(&srv);
	client_shutdown_all(&srv);
	lmtp_shutdown_all(&srv);
}

/* STATUS= for `systemctl status`, when the counts changed. */
static void report_status(uint64_t now)
{
	static uint64_t last_ms;
	static size_t last_clients = SIZE_MAX, last_lmtp = SIZE_MAX;

	if (now - last_ms < STATUS_EVERY_MS || srv.shutting_down ||
	    (srv.nclients == last_clients && srv.nlmtp == last_lmtp))
		return;
	last_ms = now;
	last_clients = srv.nclients;
	last_lmtp = srv.nlmtp;
	service_notify("STATUS=serving %zu IMAP and %zu LMTP connection(s)", srv.nclients, srv.nlmtp);
}

static void on_signal(struct net_watch *w, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)events;
	while (read(w->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo != SIGHUP)
			begin_shutdown(si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
		else if (!srv.shutting_down)   /* a reload while stopping would serve nobody */
			server_reload(&srv, &cfg_source);
	}
}

static void on_tick(struct net_watch *w, uint32_t events)
{
	uint64_t expirations, now = clock_now_ms();

	(void)events;
	(void)read(w->fd, &expirations, sizeof(expirations));
	client_tick(&srv, now);
	proxy_tick(&srv, now);
	lmtp_tick(&srv, now);
	report_status(now);
	if (srv.shutting_down && ((srv.nclients == 0 && srv.nlmtp == 0) ||
				  now >= srv.shutdown_deadline_ms))
		net_loop_stop(srv.loop);
}

static void on_pool(struct net_watch *w, uint32_t events)
{
	(void)w;
	(void)events;
	worker_pool_complete(srv.pool);
}

/* Sessions idling on a changed mailbox look again (RFC 2177). */
static void wake_mailbox(void *ctx, int64_t mailbox_id)
{
	client_wake_mailbox(ctx, mailbox_id);
	client_notify_wake(ctx, mailbox_id, 0);
}

/* Only the reader's own sessions: its private change (migrations/0011). */
static void wake_reader(void *ctx, int64_t mailbox_id, int64_t account)
{
	client_wake_reader(ctx, mailbox_id, account);
	client_notify_wake(ctx, mailbox_id, account);
}

/* NOTIFY sessions watching names look again (RFC 5465 §5.4, §5.5). */
static void wake_names(void *ctx)
{
	client_wake_names(ctx);
}

static void wake_all(void *ctx)
{
	client_wake_all(ctx);
	client_wake_names(ctx);
}

static void on_bus(struct net_watch *w, uint32_t events)
{
	(void)w;
	(void)events;
	bus_take_wakes(changes, wake_mailbox, wake_reader, wake_names, wake_all, &srv);
}

static void after_batch(void *ctx)
{
	client_reap(ctx);
	lmtp_reap(ctx);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s", msg);
	exit(1);
}

/* Opens every worker's connections before the loop accepts anything, so
 * that a database or configuration problem stops the start with one clear
 * line. Runs after the privileges are dropped: the connections are made as
 * the unprivileged user, as every later reconnect will be. */
static struct imap_backend *open_backends(size_t n)
{
	struct imap_backend *be = xcalloc(n, sizeof(*be));
	struct dir_config dc;
	char err[512];

	server_dir_config(&cfg, &dc);
	if (dir_check_config(&dc, err, sizeof(err)) < 0)
		die("LDAP configuration: %s", err);
	if (dir_cache_new((unsigned)cfg.ldap_cache_ttl, 0, 0, &groups_cache) < 0)
		die("out of memory");
	mailbox_states = mbox_cache_new();
	changes = bus_start(cfg.db_dsn);
	srv.bus = changes;
	for (size_t i = 0; i < n; i++) {
		if (db_open(cfg.db_dsn, &be[i].db, err, sizeof(err)) < 0)
			die("cannot connect to PostgreSQL: %s", err);
		if (dir_open(&dc, &be[i].dir) < 0)
			die("out of memory");
		be[i].dir_cache = groups_cache;
		be[i].writes = &writes;
		be[i].mbox_cache = mailbox_states;
		be[i].bus = changes;
	}
	return be;
}

static void add_listener(const char *spec, bool implicit_tls, bool lmtp, bool proxy)
{
	struct listener *l = &srv.listeners[srv.nlisteners];
	char err[512];
	int fd;

	if (spec[0] == '\0')
		return;
	if (implicit_tls && srv.tls == NULL)
		die("%s: implicit TLS needs tls_cert and tls_key", spec);
	/* LMTP's port may be shared by every kairand on the host (a second
	 * process started with -o beside the first: docs/deployment.md):
	 * any of them delivers, to the same store. */
	fd = net_listen(spec, lmtp, err, sizeof(err));
	if (fd < 0)
		die("%s", err);
	l->watch.fd = fd;
	l->watch.fn = on_accept;
	l->srv = &srv;
	l->implicit_tls = implicit_tls;
	l->lmtp = lmtp;
	l->proxy = proxy;
	if (net_loop_add(srv.loop, &l->watch, EPOLLIN) < 0)
		die("epoll: %s", strerror(errno));
	srv.nlisteners++;
}

/* Said once the start can no longer fail on the store, so that a start
 * that fails says only why (one line). */
static void announce_listeners(bool dropped)
{
	if (cfg.imap_listen[0] != '\0')
		log_info("listening on %s (imap)", cfg.imap_listen);
	if (cfg.imaps_listen[0] != '\0')
		log_info("listening on %s (imaps)", cfg.imaps_listen);
	if (cfg.imap_proxy_listen[0] != '\0')
		log_info("listening on %s (imap behind a PROXY v2 balancer)", cfg.imap_proxy_listen);
	if (cfg.imaps_proxy_listen[0] != '\0')
		log_info("listening on %s (imaps behind a PROXY v2 balancer)", cfg.imaps_proxy_listen);
	if (cfg.lmtp_listen[0] != '\0')
		log_info("listening on %s (lmtp)", cfg.lmtp_listen);
	if (cfg.lmtp_socket[0] != '\0')
		log_info("listening on %s (lmtp)", cfg.lmtp_socket);
	if (cfg.metrics_listen[0] != '\0')
		log_info("listening on %s (metrics)", cfg.metrics_listen);
	if (dropped)
		log_info("running as user %s", cfg.user);
	/* After the privileges are dropped: the traces are written as the
	 * user kairand runs as. A warning, not a refusal: tracing is a
	 * debugging aid and must not keep the service from starting. */
	if (cfg.trace_dir[0] != '\0' && access(cfg.trace_dir, W_OK | X_OK) < 0)
		log_warning("trace_dir %s: %s: no trace can be written", cfg.trace_dir,
			    strerror(errno));
}

static void add_watch(struct net_watch *w, int fd, net_watch_fn *fn)
{
	w->fd = fd;
	w->fn = fn;
	if (fd < 0 || net_loop_add(srv.loop, w, EPOLLIN) < 0)
		die("cannot set up the event loop: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	const char *config_path = DEFAULT_CONFIG;
	struct itimerspec tick = { .it_interval = { 0, TICK_MS * 1000000L },
				   .it_value = { 0, TICK_MS * 1000000L } };
	struct imap_backend *backends;
	struct indexer_settings index_settings;
	struct indexer *indexer;
	const char **overrides = xcalloc((size_t)argc + 1, sizeof(*overrides));
	size_t noverrides = 0;
	char err[512];
	struct log_settings log_settings;
	int opt, tfd, dropped;

	while ((opt = getopt(argc, argv, "c:o:")) != -1) {
		if (opt == 'c')
			config_path = optarg;
		else if (opt == 'o')
			overrides[noverrides++] = optarg;
		else {
			fprintf(stderr, "usage: kairand [-c kairan.conf] [-o key=value]...\n");
			free(overrides);
			return 2;
		}
	}
	log_init("kairand", false);
	/* Kept for SIGHUP, which reads the same file and overrides again. */
	cfg_source = (struct config_source){ config_path, overrides, noverrides };
	if (config_source_load(&cfg_source, &cfg, err, sizeof(err)) < 0)
		die("%s", err);
	log_init("kairand", cfg.log_syslog);
	if (log_settings_parse(cfg.log_level, cfg.log_format, &log_settings, err, sizeof(err)) < 0)
		die("%s", err);
	log_settings_apply(&log_settings);
	/* Before the drop of root: connected now, the socket serves whatever
	 * its file's permissions. */
	if (service_notify_open(err, sizeof(err)) < 0)
		log_warning("%s", err);

	/* Signals arrive through a signalfd in the loop; every thread blocks
	 * them, which is why this happens before any thread starts. A peer that
	 * closes mid-write must not kill us (libldap writes with write()). */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&handled_signals);
	sigaddset(&handled_signals, SIGINT);
	sigaddset(&handled_signals, SIGTERM);
	sigaddset(&handled_signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &handled_signals, NULL);

	if (cfg.tls_cert[0] != '\0' || cfg.tls_key[0] != '\0') {
		srv.tls = net_tls_new(cfg.tls_cert, cfg.tls_key, err, sizeof(err));
		if (srv.tls == NULL)
			die("%s", err);
	}
	srv.cfg = &cfg;
	srv.peers = peer_table_new();
	srv.user_slots = imap_user_slots_new();
	srv.loop = net_loop_new();
	if (srv.loop == NULL)
		die("epoll: %s", strerror(errno));
	net_loop_set_after_batch(srv.loop, after_batch, &srv);
	client_outbox_init(&srv);
	add_listener(cfg.imap_listen, false, false, false);
	add_listener(cfg.imaps_listen, true, false, false);
	add_listener(cfg.imap_proxy_listen, false, false, true);
	add_listener(cfg.imaps_proxy_listen, true, false, true);
	if (lmtp_check_config(&cfg, err, sizeof(err)) < 0)
		die("%s", err);
	add_listener(cfg.lmtp_listen, false, true, false);
	add_listener(cfg.lmtp_socket, false, true, false);
	if (srv.nlisteners == 0)
		die("nothing to listen on: set imap_listen or imaps_listen");
	/* The endpoint describes one process, so it is not shared; a second
	 * kairand started beside the first with the same file (-o for its
	 * IMAP ports only) runs without one rather than not at all. */
	errno = 0;
	if (cfg.metrics_listen[0] != '\0' &&
	    metrics_http_start(&srv, cfg.metrics_listen, cfg.metrics_allow_remote, err, sizeof(err)) < 0) {
		if (errno != EADDRINUSE)
			die("%s", err);
		log_warning("%s: no metrics endpoint in this process (give it its own with "
			    "-o metrics_listen=...)", err);
		cfg.metrics_listen[0] = '\0';
	}

	/* Ports bound and key read: root is no longer needed. Before any
	 * thread starts (the bus in open_backends), so all share the IDs. */
	if (privileges_drop(&cfg, &dropped, err, sizeof(err)) < 0)
		die("%s", err);
	activity_init(&writes);
	backends = open_backends((size_t)cfg.workers);
	announce_listeners(dropped);

	srv.pool = worker_pool_start(backends, (size_t)cfg.workers);
	worker_pool_limit(srv.pool, lmtp_worker_share(&cfg));
	free(backends);
	index_settings = (struct indexer_settings){
		.dsn = cfg.db_dsn,
		.quiet_ms = (uint64_t)cfg.search_index_quiet_ms,
		.max_lag_ms = (uint64_t)cfg.search_index_max_lag_s * 1000,
		.batch = cfg.search_index_batch,
	};
	indexer = indexer_start(&index_settings, &writes);
	add_watch(&pool_watch, worker_pool_fd(srv.pool), on_pool);
	add_watch(&bus_watch_fd, bus_wake_fd(changes), on_bus);
	add_watch(&signal_watch, signalfd(-1, &handled_signals, SFD_NONBLOCK | SFD_CLOEXEC), on_signal);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (tfd >= 0)
		timerfd_settime(tfd, 0, &tick, NULL);
	add_watch(&tick_watch, tfd, on_tick);
	log_info("ready: %ld workers", cfg.workers);
	service_notify("READY=1\nSTATUS=serving, %ld workers", cfg.workers);

	net_loop_run(srv.loop);

	/* Running commands finish first; whatever is still open after the
	 * grace period is then closed without ceremony. */
	client_abort_streams(&srv);
	indexer_stop(&indexer);
	worker_pool_free(&srv.pool);
	client_free_all(&srv);
	lmtp_free_all(&srv);
	metrics_http_stop();
	bus_stop(&changes);                /* after the sessions that watched */
	mbox_cache_free(&mailbox_states);  /* after the sessions that held states */
	peer_table_free(&srv.peers);
	imap_user_slots_free(&srv.user_slots);
	net_tls_free(&srv.tls);
	dir_cache_free(&groups_cache);
	net_loop_free(&srv.loop);
	server_reload_free_all();
	config_free(&cfg);
	free(overrides);
	log_info("stopped");
	service_notify_close();
	return 0;
}
