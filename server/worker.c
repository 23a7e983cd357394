#include "server/worker.h"
#include "server/core/buf.h"
#include "server/core/log.h"
#include "directory/dir.h"
#include "schema/db.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct job_queue {
	struct worker_job *head, *tail;
};

struct worker {
	struct worker_pool *pool;
	struct imap_backend be;
	pthread_t thread;
};

struct worker_pool {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct job_queue pending, finished;
	/* The limited share (worker_pool_limit): its waiting jobs, how many
	 * of them run, and how many may. take_limited alternates the two
	 * queues while both have work, so neither waits for the other's
	 * backlog. */
	struct job_queue limited;
	size_t limited_running, limited_max;
	bool take_limited;
	/* Jobs waiting for a worker and jobs running, changed under the lock
	 * and read without it by the metrics endpoint. */
	size_t npending, nrunning;
	bool stopping;
	int eventfd;
	struct worker *workers;
	size_t nworkers;
};

static void queue_push(struct job_queue *q, struct worker_job *job)
{
	job->next = NULL;
	if (q->tail != NULL)
		q->tail->next = job;
	else
		q->head = job;
	q->tail = job;
}

static struct worker_job *queue_pop(struct job_queue *q)
{
	struct worker_job *job = q->head;

	if (job != NULL) {
		q->head = job->next;
		if (q->head == NULL)
			q->tail = NULL;
	}
	return job;
}

/* A job a worker may take now, under the lock: NULL when there is none. */
static struct worker_job *next_job(struct worker_pool *p)
{
	bool limited_ok = p->limited.head != NULL && p->limited_running < p->limited_max;
	struct worker_job *job;

	if (limited_ok && (p->pending.head == NULL || p->take_limited)) {
		job = queue_pop(&p->limited);
		p->limited_running++;
	} else {
		job = queue_pop(&p->pending);
	}
	if (job != NULL)
		p->take_limited = !job->limited;
	return job;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct worker_pool *p = w->pool;
	const uint64_t one = 1;

	for (;;) {
		struct worker_job *job;
		bool was_empty;

		pthread_mutex_lock(&p->lock);
		while ((job = next_job(p)) == NULL && !p->stopping)
			pthread_cond_wait(&p->wake, &p->lock);
		if (job != NULL) {
			__atomic_store_n(&p->npending, p->npending - 1, __ATOMIC_RELAXED);
			__atomic_store_n(&p->nrunning, p->nrunning + 1, __ATOMIC_RELAXED);
		}
		pthread_mutex_unlock(&p->lock);
		if (job == NULL)
			return NULL; /* stopping and nothing left to run */

		job->run(job, &w->be);

		pthread_mutex_lock(&p->lock);
		__atomic_store_n(&p->nrunning, p->nrunning - 1, __ATOMIC_RELAXED);
		if (job->limited && p->limited_running-- == p->limited_max && p->limited.head != NULL)
			pthread_cond_signal(&p->wake);  /* a waiting limited job may run now */
		was_empty = p->finished.head == NULL;
		queue_push(&p->finished, job);
		pthread_mutex_unlock(&p->lock);
		/* One wake-up per batch: the loop drains the whole queue. */
		if (was_empty && write(p->eventfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_error("worker: eventfd write: %s", strerror(errno));
	}
}

struct worker_pool *worker_pool_start(struct imap_backend *backends, size_t n)
{
	struct worker_pool *p = xcalloc(1, sizeof(*p));

	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	p->eventfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->eventfd < 0) {
		log_error("eventfd: %s", strerror(errno));
		abort();
	}
	p->workers = xcalloc(n, sizeof(*p->workers));
	p->nworkers = n;
	p->limited_max = n;
	for (size_t i = 0; i < n; i++) {
		p->workers[i].pool = p;
		p->workers[i].be = backends[i];
		if (pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]) != 0) {
			log_error("cannot start worker thread");
			abort();
		}
	}
	return p;
}

int worker_pool_fd(const struct worker_pool *p)
{
	return p->eventfd;
}

void worker_pool_depth(const struct worker_pool *p, size_t *pending_r, size_t *running_r,
		       size_t *workers_r)
{
	*pending_r = __atomic_load_n(&p->npending, __ATOMIC_RELAXED);
	*running_r = __atomic_load_n(&p->nrunning, __ATOMIC_RELAXED);
	*workers_r = p->nworkers;
}

void worker_pool_limit(struct worker_pool *p, size_t max)
{
	pthread_mutex_lock(&p->lock);
	p->limited_max = max > 0 ? max : 1;
	pthread_mutex_unlock(&p->lock);
}

void worker_pool_submit(struct worker_pool *p, struct worker_job *job)
{
	pthread_mutex_lock(&p->lock);
	queue_push(job->limited ? &p->limited : &p->pending, job);
	__atomic_store_n(&p->npending, p->npending + 1, __ATOMIC_RELAXED);
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
}

void worker_pool_complete(struct worker_pool *p)
{
	uint64_t count;
	struct job_queue done;

	(void)read(p->eventfd, &count, sizeof(count));
	pthread_mutex_lock(&p->lock);
	done = p->finished;
	p->finished.head = p->finished.tail = NULL;
	pthread_mutex_unlock(&p->lock);
	for (struct worker_job *job = queue_pop(&done); job != NULL; job = queue_pop(&done))
		job->done(job);
}

void worker_pool_free(struct worker_pool **pp)
{
	struct worker_pool *p = *pp;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < p->nworkers; i++) {
		pthread_join(p->workers[i].thread, NULL);
		db_close(&p->workers[i].be.db);
		dir_close(&p->workers[i].be.dir);
	}
	close(p->eventfd);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p->workers);
	free(p);
	*pp = NULL;
}
