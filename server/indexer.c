/* The search indexer thread (server/indexer.h). */
#include "server/indexer.h"
#include "server/core/activity.h"
#include "server/core/arena.h"
#include "server/core/buf.h"
#include "server/core/log.h"
#include "server/imap/message_analyse.h"
#include "server/mime/mime.h"
#include "schema/db.h"
#include "schema/db_message.h"
#include "schema/db_reanalyse.h"
#include "schema/db_search_index.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* How often an idle indexer looks at the backlog. Deliveries of this
 * process could wake it, but those of other kairand processes on the same
 * database cannot; one index probe four times a second costs nothing. */
#define INDEXER_POLL_MS 250
/* Reconnection backoff after a database failure: doubling, capped. */
#define INDEXER_RETRY_MIN_MS 1000
#define INDEXER_RETRY_MAX_MS 30000
/* Messages reanalysed per batch: each is parsed again from its raw bytes
 * and rewritten, more work per row than marking it indexed. */
#define REANALYSE_BATCH 50

_Static_assert(MIME_VERSION == DB_MIME_VERSION,
	       "a MIME_VERSION bump needs a migration for messages_mime_stale");

struct indexer {
	struct indexer_settings settings;
	struct activity *writes;
	db *db;                     /* NULL until connected */
	bool failing;               /* in a database outage, logged once */
	bool reanalysed;            /* no stale row was left (this process) */
	long nreanalysed;           /* rows this process rewrote, for the log */
	struct arena arena;         /* one reanalysed message's columns */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;        /* on CLOCK_MONOTONIC */
	bool stopping;              /* under lock */
};

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Sleeps ms, or less if indexer_stop wakes it. false once stopping. */
static bool indexer_sleep(struct indexer *ix, uint64_t ms)
{
	struct timespec until;
	bool go_on;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)(ms / 1000);
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&ix->lock);
	while (!ix->stopping && ms > 0 &&
	       pthread_cond_timedwait(&ix->wake, &ix->lock, &until) == 0)
		;
	go_on = !ix->stopping;
	pthread_mutex_unlock(&ix->lock);
	return go_on;
}

/* A usable connection: opened the first time, repaired after a failure. */
static int indexer_connect(struct indexer *ix, char *err, size_t errlen)
{
	if (ix->db == NULL)
		return db_open(ix->settings.dsn, &ix->db, err, errlen);
	if (db_ensure(ix->db) < 0) {
		snprintf(err, errlen, "%s", db_error(ix->db));
		return -1;
	}
	return 0;
}

static void reanalyse_one(void *ctx, struct db_append_msg *m)
{
	struct indexer *ix = ctx;

	arena_reset(&ix->arena);
	(void)imap_message_analyse(&ix->arena, m);  /* in memory: cannot fail */
}

/* In a quiet moment with an empty backlog: rows an older MIME parser
 * computed (migrations/0012) are parsed again, a batch at a time, until
 * none is left; then this process stops looking. */
static int reanalyse_step(struct indexer *ix, uint64_t *wait_ms_r, char *err, size_t errlen)
{
	long n;

	if (ix->reanalysed)
		return 0;
	if (db_reanalyse_batch(ix->db, REANALYSE_BATCH, reanalyse_one, ix, &n, err, errlen) < 0)
		return -1;
	arena_reset(&ix->arena);
	if (n == 0) {
		ix->reanalysed = true;
		if (ix->nreanalysed > 0)
			log_info("search indexer: reanalysed %ld messages for MIME version %d",
				 ix->nreanalysed, MIME_VERSION);
		return 0;
	}
	ix->nreanalysed += n;
	*wait_ms_r = 0;
	return 0;
}

/* One decision: index a batch, or say how long to sleep first (*wait_ms_r;
 * 0 to go on at once). -1 with err on a database failure. */
static int indexer_step(struct indexer *ix, uint64_t *wait_ms_r, char *err, size_t errlen)
{
	const struct indexer_settings *st = &ix->settings;
	uint64_t quiet_in;
	int64_t age;
	long n;

	*wait_ms_r = INDEXER_POLL_MS;
	if (indexer_connect(ix, err, errlen) < 0 ||
	    db_search_backlog(ix->db, &age, err, errlen) < 0)
		return -1;
	quiet_in = activity_quiet_wait(ix->writes, st->quiet_ms);
	if (age < 0)                                /* nothing waits */
		return quiet_in > 0 ? 0 : reanalyse_step(ix, wait_ms_r, err, errlen);
	if (quiet_in > 0 && (uint64_t)age < st->max_lag_ms) {
		/* Busy: look again once it may have become quiet, or when the
		 * oldest message reaches its deadline, whichever comes first. */
		*wait_ms_r = min_u64(min_u64(quiet_in, st->max_lag_ms - (uint64_t)age),
				     INDEXER_POLL_MS);
		return 0;
	}
	if (db_search_index_batch(ix->db, st->batch, &n, err, errlen) < 0)
		return -1;
	/* n == 0: another process's indexer holds what is left. */
	*wait_ms_r = n > 0 ? 0 : INDEXER_POLL_MS;
	return 0;
}

static void *indexer_main(void *arg)
{
	struct indexer *ix = arg;
	uint64_t retry_ms = INDEXER_RETRY_MIN_MS, wait_ms;
	char err[512];

	do {
		if (indexer_step(ix, &wait_ms, err, sizeof(err)) < 0) {
			if (!ix->failing)
				log_error("search indexer: %s (retrying)", err);
			ix->failing = true;
			wait_ms = retry_ms;
			retry_ms = min_u64(retry_ms * 2, INDEXER_RETRY_MAX_MS);
			continue;
		}
		if (ix->failing)
			log_info("search indexer: database reachable again");
		ix->failing = false;
		retry_ms = INDEXER_RETRY_MIN_MS;
	} while (indexer_sleep(ix, wait_ms));
	db_close(&ix->db);
	return NULL;
}

struct indexer *indexer_start(const struct indexer_settings *settings, struct activity *writes)
{
	struct indexer *ix = xcalloc(1, sizeof(*ix));
	pthread_condattr_t attr;

	ix->settings = *settings;
	ix->writes = writes;
	arena_init(&ix->arena);
	pthread_mutex_init(&ix->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&ix->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&ix->thread, NULL, indexer_main, ix) != 0) {
		log_error("cannot start the search indexer thread");
		abort();
	}
	return ix;
}

void indexer_stop(struct indexer **ip)
{
	struct indexer *ix = *ip;

	if (ix == NULL)
		return;
	pthread_mutex_lock(&ix->lock);
	ix->stopping = true;
	pthread_cond_signal(&ix->wake);
	pthread_mutex_unlock(&ix->lock);
	pthread_join(ix->thread, NULL);
	pthread_cond_destroy(&ix->wake);
	pthread_mutex_destroy(&ix->lock);
	arena_free(&ix->arena);
	free(ix);
	*ip = NULL;
}
