/* Whether this process is busy storing messages. APPEND, COPY and MOVE
 * mark their start and end here; background work that should keep out of
 * their way (the search indexer, server/indexer.c) asks how long the
 * process has been quiet. Lock-free (C11 atomics): the worker threads mark,
 * another thread reads. A read can miss a command that starts at that very
 * moment; the cost is one batch of background work running beside it,
 * never a wrong result. */
#ifndef KAIRAN_CORE_ACTIVITY_H
#define KAIRAN_CORE_ACTIVITY_H

#include <stdatomic.h>
#include <stdint.h>

struct activity {
	atomic_uint running;                /* commands in progress */
	atomic_uint_fast64_t last_end_ms;   /* clock_now_ms() when the last one ended */
};

/* Nothing running, and the last command counted as ended now: a process
 * that just started (and whose clients are reconnecting) is not quiet
 * yet. */
void activity_init(struct activity *a);

/* Around the store call of each command. NULL-safe (does nothing), for
 * backends without a process around them (unit tests, kairanctl). */
void activity_begin(struct activity *a);
void activity_end(struct activity *a);

/* Milliseconds until the process will have been quiet (nothing running,
 * nothing ended) for quiet_ms: 0 if it has been already, quiet_ms while a
 * command runs. */
uint64_t activity_quiet_wait(struct activity *a, uint64_t quiet_ms);

#endif
