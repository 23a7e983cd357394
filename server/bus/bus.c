#include "server/bus/bus.h"
#include "server/core/buf.h"
#include "server/core/clock.h"
#include "server/core/log.h"
#include "server/core/metrics.h"
#include "schema/db_notify.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define BUS_BUCKETS 4096
/* How long the publisher gathers changes before it notifies. */
#define BUS_PUBLISH_DELAY_MS 5
/* Longest wait between two attempts to reconnect a lost connection. */
#define BUS_RETRY_MAX_MS 5000

/* A reader with the mailbox selected, for its private changes (its \Seen
 * in a per-user mailbox, migrations/0011): they wake its own sessions
 * only. */
struct reader {
	int64_t account;
	uint64_t modseq;          /* its highest private modseq known */
	uint64_t gen;             /* moves with each of its private changes */
	unsigned watchers;
};

struct entry {
	int64_t id;
	/* The highest known: the last shared change's (the reconcile reads
	 * shared_modseq) or a higher counter value a session read. */
	uint64_t highestmodseq;
	uint64_t gen;             /* moves with every shared change announced */
	unsigned watchers;
	struct reader *readers;
	size_t nreaders;
	struct entry *next;
};

struct id_list {
	int64_t *ids;
	size_t n, cap;
};

/* (mailbox, account) pairs: private changes to publish or to wake for. */
struct pair { int64_t mailbox, account; };
struct pair_list {
	struct pair *p;
	size_t n, cap;
};

struct bus {
	char *dsn;
	pthread_mutex_t lock;
	struct entry *buckets[BUS_BUCKETS];
	/* Trusted while the listener is connected and reconciled lately. */
	bool connected;
	uint64_t reconciled_ms;
	/* Changes of this process, not yet sent. */
	struct id_list pending;
	struct pair_list pending_private;
	struct id_list pending_names;  /* accounts whose names changed */
	pthread_cond_t pending_cond;
	int publisher_pid;        /* its backend: its notifications are ours */
	/* Mailboxes whose sessions should look again, for the event loop;
	 * and (mailbox, reader) pairs whose reader's sessions should. */
	struct id_list wakes;
	struct pair_list reader_wakes;
	bool names_wake;          /* some mailbox names, subscriptions or ACLs changed */
	bool wake_all;
	int wake_fd;
	int stop_fd;              /* readable: the threads end */
	bool stopping;
	pthread_t publisher, listener;
};

static void id_list_add(struct id_list *l, int64_t id)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->ids = xrealloc(l->ids, l->cap * sizeof(*l->ids));
	}
	l->ids[l->n++] = id;
}

static void pair_list_add(struct pair_list *l, int64_t mailbox, int64_t account)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->p = xrealloc(l->p, l->cap * sizeof(*l->p));
	}
	l->p[l->n++] = (struct pair){ mailbox, account };
}

static size_t bucket_of(int64_t id)
{
	return (size_t)((uint64_t)id * 0x9e3779b97f4a7c15ull >> 52) % BUS_BUCKETS;
}

/* With the lock held. */
static struct entry *find(struct bus *b, int64_t id)
{
	struct entry *e = b->buckets[bucket_of(id)];

	while (e != NULL && e->id != id)
		e = e->next;
	return e;
}

static void signal_fd(int fd)
{
	const uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_error("bus: eventfd write: %s", strerror(errno));
}

/* With the lock held. A mailbox has few readers with it selected in one
 * process at a time (a team), so a short array serves. */
static struct reader *find_reader(const struct entry *e, int64_t account)
{
	for (size_t i = 0; e != NULL && i < e->nreaders; i++)
		if (e->readers[i].account == account)
			return &e->readers[i];
	return NULL;
}

/* With the lock held: the mailbox changed; its sessions look again. */
static void changed_locked(struct bus *b, struct entry *e)
{
	e->gen++;
	id_list_add(&b->wakes, e->id);
	signal_fd(b->wake_fd);
}

/* With the lock held: a reader's private change; its sessions look again. */
static void reader_changed_locked(struct bus *b, struct entry *e, struct reader *r)
{
	r->gen++;
	pair_list_add(&b->reader_wakes, e->id, r->account);
	signal_fd(b->wake_fd);
}

void bus_watch(struct bus *b, int64_t id, int64_t account)
{
	struct entry *e;
	struct reader *r;

	if (b == NULL)
		return;
	pthread_mutex_lock(&b->lock);
	e = find(b, id);
	if (e == NULL) {
		e = xcalloc(1, sizeof(*e));
		e->id = id;
		e->next = b->buckets[bucket_of(id)];
		b->buckets[bucket_of(id)] = e;
	}
	e->watchers++;
	if ((r = find_reader(e, account)) == NULL) {
		e->readers = xrealloc(e->readers, (e->nreaders + 1) * sizeof(*e->readers));
		r = &e->readers[e->nreaders++];
		*r = (struct reader){ .account = account };
	}
	r->watchers++;
	pthread_mutex_unlock(&b->lock);
}

void bus_unwatch(struct bus *b, int64_t id, int64_t account)
{
	struct entry **p;

	if (b == NULL)
		return;
	pthread_mutex_lock(&b->lock);
	for (p = &b->buckets[bucket_of(id)]; *p != NULL && (*p)->id != id; p = &(*p)->next)
		;
	if (*p != NULL) {
		struct entry *e = *p;
		struct reader *r = find_reader(e, account);
		if (r != NULL && --r->watchers == 0)
			*r = e->readers[--e->nreaders];
		if (--e->watchers == 0) {
			*p = e->next;
			free(e->readers);
			free(e);
		}
	}
	pthread_mutex_unlock(&b->lock);
}

uint64_t bus_generation(struct bus *b, int64_t id, int64_t account)
{
	struct entry *e;
	struct reader *r;
	uint64_t gen;

	if (b == NULL)
		return 0;
	pthread_mutex_lock(&b->lock);
	e = find(b, id);
	r = find_reader(e, account);
	gen = (e != NULL ? e->gen : 0) + (r != NULL ? r->gen : 0);
	pthread_mutex_unlock(&b->lock);
	return gen;
}

void bus_learned(struct bus *b, int64_t id, int64_t account, uint64_t highestmodseq,
		 uint64_t private_modseq)
{
	struct entry *e;
	struct reader *r;

	if (b == NULL)
		return;
	pthread_mutex_lock(&b->lock);
	e = find(b, id);
	if (e != NULL && e->highestmodseq < highestmodseq)
		e->highestmodseq = highestmodseq;
	if ((r = find_reader(e, account)) != NULL && r->modseq < private_modseq)
		r->modseq = private_modseq;
	pthread_mutex_unlock(&b->lock);
}

/* With the lock held. */
static bool trusted_locked(const struct bus *b)
{
	return b->connected && clock_now_ms() - b->reconciled_ms < 3 * BUS_RECONCILE_MS;
}

bool bus_trusted(struct bus *b)
{
	bool trusted;

	if (b == NULL)
		return false;
	pthread_mutex_lock(&b->lock);
	trusted = trusted_locked(b);
	pthread_mutex_unlock(&b->lock);
	return trusted;
}

bool bus_current(struct bus *b, int64_t id, int64_t account, uint64_t modseq,
		 uint64_t private_modseq, uint64_t gen)
{
	struct entry *e;
	struct reader *r;
	bool current;

	if (b == NULL)
		return false;
	pthread_mutex_lock(&b->lock);
	e = find(b, id);
	r = find_reader(e, account);
	current = trusted_locked(b) && e != NULL && r != NULL && e->gen + r->gen == gen &&
		  e->highestmodseq <= modseq && r->modseq <= private_modseq;
	pthread_mutex_unlock(&b->lock);
	return current;
}

void bus_changed(struct bus *b, int64_t id)
{
	struct entry *e;

	if (b == NULL)
		return;
	pthread_mutex_lock(&b->lock);
	e = find(b, id);
	if (e != NULL)
		changed_locked(b, e);
	id_list_add(&b->pending, id);
	pthread_cond_signal(&b->pending_cond);
	pthread_mutex_unlock(&b->lock);
}

void bus_changed_private(struct bus *b, int64_t id, int64_t account)
{
	struct entry *e;
	struct reader *r;

	if (b == NULL)
		return;
	pthread_mutex_lock(&b->lock);
	e = find(b, id);
	if ((r = find_reader(e, account)) != NULL)
		reader_changed_locked(b, e, r);
	pair_list_add(&b->pending_private, id, account);
	pthread_cond_signal(&b->pending_cond);
	pthread_mutex_unlock(&b->lock);
}

void bus_changed_names(struct bus *b, int64_t account)
{
	if (b == NULL)
		return;
	pthread_mutex_lock(&b->lock);
	b->names_wake = true;
	signal_fd(b->wake_fd);
	id_list_add(&b->pending_names, account);
	pthread_cond_signal(&b->pending_cond);
	pthread_mutex_unlock(&b->lock);
}

int bus_wake_fd(const struct bus *b)
{
	return b->wake_fd;
}

void bus_take_wakes(struct bus *b, void (*fn)(void *ctx, int64_t id),
		    void (*reader_fn)(void *ctx, int64_t id, int64_t account),
		    void (*names_fn)(void *ctx), void (*all)(void *ctx), void *ctx)
{
	struct id_list wakes;
	struct pair_list reader_wakes;
	bool wake_all, names_wake;
	uint64_t count;

	(void)read(b->wake_fd, &count, sizeof(count));
	pthread_mutex_lock(&b->lock);
	wakes = b->wakes;
	reader_wakes = b->reader_wakes;
	wake_all = b->wake_all;
	names_wake = b->names_wake;
	b->names_wake = false;
	memset(&b->wakes, 0, sizeof(b->wakes));
	memset(&b->reader_wakes, 0, sizeof(b->reader_wakes));
	b->wake_all = false;
	pthread_mutex_unlock(&b->lock);
	if (wake_all)
		all(ctx);
	else {
		for (size_t i = 0; i < wakes.n; i++)
			fn(ctx, wakes.ids[i]);
		for (size_t i = 0; i < reader_wakes.n; i++)
			reader_fn(ctx, reader_wakes.p[i].mailbox, reader_wakes.p[i].account);
		if (names_wake)
			names_fn(ctx);
	}
	free(wakes.ids);
	free(reader_wakes.p);
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_pair(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	if (x->mailbox != y->mailbox)
		return x->mailbox < y->mailbox ? -1 : 1;
	return x->account < y->account ? -1 : x->account > y->account;
}

/* Notifications being filled with words, sent when full. */
struct payload {
	db *conn;
	char text[DB_BUS_PAYLOAD_MAX + 48];
	size_t len;
};

static void payload_send(struct payload *p)
{
	char err[256];

	if (p->len > 0 && db_notify(p->conn, p->text, err, sizeof(err)) < 0)
		log_warning("bus: cannot publish: %s", err);
	p->len = 0;
}

static void payload_word(struct payload *p, const char *word)
{
	if (p->len > DB_BUS_PAYLOAD_MAX - 44)
		payload_send(p);
	p->len += (size_t)snprintf(p->text + p->len, sizeof(p->text) - p->len, "%s%s",
				   p->len ? " " : "", word);
}

/* Sends "c<id>" for each changed mailbox, "p<id>.<account>" for each
 * reader's private change and "n<account>" for each account whose names
 * changed, one word each however often it changed, in as few
 * notifications as fit. */
/* One word "<kind><id>" for each distinct id. */
static void publish_ids(struct payload *p, char kind, struct id_list *ids)
{
	char word[48];

	if (ids->n > 0)
		qsort(ids->ids, ids->n, sizeof(*ids->ids), cmp_id);
	for (size_t i = 0; i < ids->n; i++)
		if (i == 0 || ids->ids[i] != ids->ids[i - 1]) {
			snprintf(word, sizeof(word), "%c%lld", kind, (long long)ids->ids[i]);
			payload_word(p, word);
		}
}

static void publish(db *conn, struct id_list *ids, struct pair_list *pairs, struct id_list *names)
{
	struct payload p = { .conn = conn };
	char word[48];

	publish_ids(&p, 'c', ids);
	publish_ids(&p, 'n', names);
	if (pairs->n > 0)
		qsort(pairs->p, pairs->n, sizeof(*pairs->p), cmp_pair);
	for (size_t i = 0; i < pairs->n; i++)
		if (i == 0 || cmp_pair(&pairs->p[i], &pairs->p[i - 1]) != 0) {
			snprintf(word, sizeof(word), "p%lld.%lld", (long long)pairs->p[i].mailbox,
				 (long long)pairs->p[i].account);
			payload_word(&p, word);
		}
	payload_send(&p);
}

static void *publisher_main(void *arg)
{
	struct bus *b = arg;
	db *conn = NULL;
	char err[256];

	for (;;) {
		struct id_list batch, names_batch;
		struct pair_list private_batch;

		pthread_mutex_lock(&b->lock);
		while (b->pending.n == 0 && b->pending_private.n == 0 && b->pending_names.n == 0 &&
		       !b->stopping)
			pthread_cond_wait(&b->pending_cond, &b->lock);
		/* Coalesce: what else changes in the next few milliseconds goes
		 * in the same notification. Every NOTIFY is a transaction that
		 * takes the cluster's notification lock at its commit; one per
		 * write would cost the cluster more than it saves. */
		if (!b->stopping) {
			pthread_mutex_unlock(&b->lock);
			usleep(BUS_PUBLISH_DELAY_MS * 1000);
			pthread_mutex_lock(&b->lock);
		}
		batch = b->pending;
		private_batch = b->pending_private;
		names_batch = b->pending_names;
		memset(&b->pending, 0, sizeof(b->pending));
		memset(&b->pending_private, 0, sizeof(b->pending_private));
		memset(&b->pending_names, 0, sizeof(b->pending_names));
		pthread_mutex_unlock(&b->lock);
		if (batch.n == 0 && private_batch.n == 0 && names_batch.n == 0) {
			free(batch.ids);
			free(private_batch.p);
			free(names_batch.ids);
			break;  /* stopping, nothing left */
		}
		if (conn == NULL && db_open(b->dsn, &conn, err, sizeof(err)) < 0)
			log_warning("bus: publisher cannot connect: %s", err);
		else if (db_ensure(conn) == 0) {
			__atomic_store_n(&b->publisher_pid, db_backend_pid(conn), __ATOMIC_RELAXED);
			publish(conn, &batch, &private_batch, &names_batch);
		}
		/* Unsent changes are not lost: the other processes' reconcile
		 * finds their modseqs within BUS_RECONCILE_MS. */
		free(batch.ids);
		free(private_batch.p);
		free(names_batch.ids);
	}
	db_close(&conn);
	return NULL;
}

/* The words of a notification's payload: "c<id>" or "a<id>", the mailbox
 * changed; "p<id>.<account>", a reader's private change; "n<account>",
 * names or subscriptions changed. An ACL ("a") may also show or hide a
 * mailbox to sessions that do not watch it: a names change too. */
static void on_notification(void *ctx, int sender_pid, const char *payload)
{
	struct bus *b = ctx;

	metrics_add(METRICS_BUS_NOTIFICATIONS, 1);
	if (sender_pid == __atomic_load_n(&b->publisher_pid, __ATOMIC_RELAXED))
		return;  /* our own: applied when it happened */
	pthread_mutex_lock(&b->lock);
	for (const char *p = payload; *p != '\0';) {
		char *end, *end2;
		long long id, account;
		struct entry *e;
		if (*p != 'c' && *p != 'a' && *p != 'p' && *p != 'n') {
			p++;
			continue;
		}
		id = strtoll(p + 1, &end, 10);
		if (end == p + 1) {
			p++;
			continue;
		}
		e = find(b, id);
		if (*p == 'n' || *p == 'a') {
			b->names_wake = true;
			signal_fd(b->wake_fd);
		}
		if (*p == 'n') {
			/* names only */
		} else if (*p != 'p') {
			if (e != NULL)
				changed_locked(b, e);
		} else if (*end == '.' && (account = strtoll(end + 1, &end2, 10), end2 != end + 1)) {
			struct reader *r = find_reader(e, account);
			if (r != NULL)
				reader_changed_locked(b, e, r);
			end = end2;
		}
		p = end;
	}
	pthread_mutex_unlock(&b->lock);
}

struct reconcile {
	struct bus *b;
	int64_t *ids;
	bool *found;
	size_t n;
	struct db_bus_reader *readers;
	size_t nreaders, readers_cap;
};

static void on_modseq(void *ctx, int64_t id, int64_t account, uint64_t modseq)
{
	struct reconcile *r = ctx;
	const int64_t *hit = account != 0 ? NULL : bsearch(&id, r->ids, r->n, sizeof(*r->ids), cmp_id);
	struct entry *e;
	struct reader *rd;

	if (hit != NULL)
		r->found[hit - r->ids] = true;
	pthread_mutex_lock(&r->b->lock);
	e = find(r->b, id);
	if (account == 0 && e != NULL && e->highestmodseq < modseq) {
		e->highestmodseq = modseq;
		changed_locked(r->b, e);
	} else if (account != 0 && (rd = find_reader(e, account)) != NULL && rd->modseq < modseq) {
		rd->modseq = modseq;
		reader_changed_locked(r->b, e, rd);
	}
	pthread_mutex_unlock(&r->b->lock);
}

/* Every watched mailbox's highest modseq from PostgreSQL: what a lost or
 * unsent notification did not say. A mailbox that is gone counts as
 * changed (its sessions find out and end). */
static int reconcile(struct bus *b, db *conn)
{
	struct reconcile r = { .b = b };
	char err[256];
	size_t cap = 0;
	int rc;

	pthread_mutex_lock(&b->lock);
	for (size_t k = 0; k < BUS_BUCKETS; k++)
		for (struct entry *e = b->buckets[k]; e != NULL; e = e->next) {
			if (r.n == cap) {
				cap = cap ? cap * 2 : 64;
				r.ids = xrealloc(r.ids, cap * sizeof(*r.ids));
			}
			r.ids[r.n++] = e->id;
			for (size_t i = 0; i < e->nreaders; i++) {
				if (r.nreaders == r.readers_cap) {
					r.readers_cap = r.readers_cap ? r.readers_cap * 2 : 64;
					r.readers = xrealloc(r.readers, r.readers_cap * sizeof(*r.readers));
				}
				r.readers[r.nreaders++] = (struct db_bus_reader){ e->id, e->readers[i].account };
			}
		}
	pthread_mutex_unlock(&b->lock);
	/* Sorted, so that each row the query returns is found by bsearch:
	 * thousands of watched mailboxes must not cost a quadratic pass. */
	if (r.n > 0)
		qsort(r.ids, r.n, sizeof(*r.ids), cmp_id);
	r.found = xcalloc(r.n + 1, sizeof(*r.found));
	rc = r.n == 0 ? 0 : db_mailbox_modseqs(conn, r.ids, r.n, r.readers, r.nreaders, on_modseq, &r,
					       err, sizeof(err));
	if (rc < 0)
		log_warning("bus: reconcile failed: %s", err);
	else {
		pthread_mutex_lock(&b->lock);
		for (size_t i = 0; i < r.n; i++) {
			struct entry *e = r.found[i] ? NULL : find(b, r.ids[i]);
			if (e != NULL)
				changed_locked(b, e);
		}
		b->reconciled_ms = clock_now_ms();
		pthread_mutex_unlock(&b->lock);
		metrics_add(METRICS_BUS_RECONCILES, 1);
	}
	free(r.ids);
	free(r.found);
	free(r.readers);
	return rc;
}

static void set_connected(struct bus *b, bool connected)
{
	pthread_mutex_lock(&b->lock);
	b->connected = connected;
	/* Whatever happened while the bus was deaf, every session looks. */
	b->wake_all = true;
	signal_fd(b->wake_fd);
	pthread_mutex_unlock(&b->lock);
}

/* Waits for a notification on fd (none when fd < 0), the next reconcile
 * or the stop. -1 when stopping. */
static int wait_input(struct bus *b, int fd, int timeout_ms)
{
	struct pollfd pfd[2];
	nfds_t n = 0;

	pfd[n++] = (struct pollfd){ .fd = b->stop_fd, .events = POLLIN };
	if (fd >= 0)
		pfd[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(pfd, n, timeout_ms) < 0 && errno != EINTR)
		return 0;
	return (pfd[0].revents & POLLIN) ? -1 : 0;
}

static void *listener_main(void *arg)
{
	struct bus *b = arg;
	db *conn = NULL;
	uint64_t retry_ms = 100, next_reconcile = 0;
	char err[256];
	bool connected = false;

	while (!__atomic_load_n(&b->stopping, __ATOMIC_RELAXED)) {
		uint64_t now = clock_now_ms();
		if (!connected) {
			if ((conn != NULL || db_open(b->dsn, &conn, err, sizeof(err)) == 0) &&
			    db_ensure(conn) == 0 && db_listen(conn, err, sizeof(err)) == 0 &&
			    reconcile(b, conn) == 0) {
				connected = true;
				retry_ms = 100;
				next_reconcile = clock_now_ms() + BUS_RECONCILE_MS;
				set_connected(b, true);
				log_info("bus: listening for changes");
				continue;
			}
			if (wait_input(b, -1, (int)retry_ms) < 0)
				break;
			retry_ms = retry_ms * 2 > BUS_RETRY_MAX_MS ? BUS_RETRY_MAX_MS : retry_ms * 2;
			continue;
		}
		if (wait_input(b, db_socket(conn), now < next_reconcile ? (int)(next_reconcile - now) : 0) < 0)
			break;
		if (db_notifications(conn, on_notification, b) < 0 ||
		    (clock_now_ms() >= next_reconcile && reconcile(b, conn) < 0)) {
			log_warning("bus: lost the connection to PostgreSQL; reconnecting");
			connected = false;
			set_connected(b, false);
			continue;
		}
		if (clock_now_ms() >= next_reconcile)
			next_reconcile = clock_now_ms() + BUS_RECONCILE_MS;
	}
	db_close(&conn);
	return NULL;
}

struct bus *bus_start(const char *dsn)
{
	struct bus *b = xcalloc(1, sizeof(*b));

	b->dsn = xstrdup(dsn);
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->pending_cond, NULL);
	b->publisher_pid = -1;
	b->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	b->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (b->wake_fd < 0 || b->stop_fd < 0 ||
	    pthread_create(&b->publisher, NULL, publisher_main, b) != 0) {
		log_error("bus: cannot start: %s", strerror(errno));
		abort();
	}
	if (pthread_create(&b->listener, NULL, listener_main, b) != 0) {
		log_error("bus: cannot start the listener");
		abort();
	}
	return b;
}

void bus_stop(struct bus **bp)
{
	struct bus *b = *bp;

	if (b == NULL)
		return;
	pthread_mutex_lock(&b->lock);
	__atomic_store_n(&b->stopping, true, __ATOMIC_RELAXED);
	pthread_cond_signal(&b->pending_cond);
	pthread_mutex_unlock(&b->lock);
	signal_fd(b->stop_fd);
	pthread_join(b->publisher, NULL);
	pthread_join(b->listener, NULL);
	for (size_t k = 0; k < BUS_BUCKETS; k++)
		while (b->buckets[k] != NULL) {
			struct entry *e = b->buckets[k];
			b->buckets[k] = e->next;
			free(e->readers);
			free(e);
		}
	free(b->pending.ids);
	free(b->pending_private.p);
	free(b->pending_names.ids);
	free(b->wakes.ids);
	free(b->reader_wakes.p);
	close(b->wake_fd);
	close(b->stop_fd);
	pthread_cond_destroy(&b->pending_cond);
	pthread_mutex_destroy(&b->lock);
	free(b->dsn);
	free(b);
	*bp = NULL;
}
