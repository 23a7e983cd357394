/* A tiny epoll event loop (after Redis's ae.c). Everything registered is a
 * struct net_watch embedded in its owner; the loop calls watch->fn with the
 * epoll events. Registration is edge-triggered for connections (the owner
 * reads and writes until EAGAIN) and level-triggered for listeners, eventfds,
 * signalfds and timerfds, which are drained by their handlers. Only the loop's
 * thread touches the loop. */
#ifndef KAIRAN_NET_LOOP_H
#define KAIRAN_NET_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct net_watch;
typedef void net_watch_fn(struct net_watch *w, uint32_t events);

struct net_watch {
	int fd;
	net_watch_fn *fn;
};

struct net_loop;

struct net_loop *net_loop_new(void);
void net_loop_free(struct net_loop **lp);
/* 0 or -1 with errno. */
int net_loop_add(struct net_loop *l, struct net_watch *w, uint32_t events);
void net_loop_del(struct net_loop *l, struct net_watch *w);
/* fn(ctx) runs after each batch of events: the place to free objects that
 * were closed during the batch, since a later event of the same batch may
 * still point at them. */
void net_loop_set_after_batch(struct net_loop *l, void (*fn)(void *ctx), void *ctx);
/* Runs until net_loop_stop is called from a handler. */
void net_loop_run(struct net_loop *l);
void net_loop_stop(struct net_loop *l);

#endif
