/* The worker pool. Workers run complete commands; each owns one PostgreSQL
 * connection and one LDAP connection (an imap_backend) for its whole life,
 * so a command never waits for a connection and the database sees exactly
 * as many connections as there are workers, however many clients are
 * connected (DESIGN.md, "Concurrency model").
 *
 * Hand-over: the event loop submits a job; a worker runs job->run with its
 * backend; the finished job is queued back and the loop is woken through an
 * eventfd, where worker_pool_complete runs job->done in the loop's thread.
 * The two locked queues order every memory access of the job's owner. */
#ifndef KAIRAN_SERVER_WORKER_H
#define KAIRAN_SERVER_WORKER_H

#include <stdbool.h>
#include <stddef.h>

#include "server/imap/session.h"

struct worker_job {
	struct worker_job *next;
	/* A job of the limited share (LMTP's: worker_pool_limit) rather than
	 * an IMAP command; set before each submit. */
	bool limited;
	void (*run)(struct worker_job *job, struct imap_backend *be);  /* in a worker */
	void (*done)(struct worker_job *job);                           /* in the loop */
};

struct worker_pool;

/* Starts one thread per backend; the pool takes ownership of the backends
 * (closing their connections in worker_pool_free). */
struct worker_pool *worker_pool_start(struct imap_backend *backends, size_t n);
/* At most max limited jobs (worker_job.limited: LMTP's) run at once, so
 * that a burst of deliveries or a slow directory holds at most that many
 * workers and the rest stay free for IMAP; the limited jobs wait in their
 * own queue meanwhile. Called once, before the first submit. */
void worker_pool_limit(struct worker_pool *p, size_t max);
/* The eventfd that becomes readable when jobs have finished. */
int worker_pool_fd(const struct worker_pool *p);
/* For the metrics: jobs waiting for a worker, jobs running, and workers.
 * Read without the lock, so each figure is current but not all together. */
void worker_pool_depth(const struct worker_pool *p, size_t *pending_r, size_t *running_r,
		       size_t *workers_r);
void worker_pool_submit(struct worker_pool *p, struct worker_job *job);
/* In the loop: runs done() for every finished job. */
void worker_pool_complete(struct worker_pool *p);
/* Lets running jobs finish, stops and joins the threads, closes backends. */
void worker_pool_free(struct worker_pool **pp);

#endif
