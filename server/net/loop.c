#include "server/net/loop.h"
#include "server/core/buf.h"
#include "server/core/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

struct net_loop {
	int epfd;
	bool stop;
	void (*after_batch)(void *ctx);
	void *after_ctx;
};

void net_loop_set_after_batch(struct net_loop *l, void (*fn)(void *ctx), void *ctx)
{
	l->after_batch = fn;
	l->after_ctx = ctx;
}

struct net_loop *net_loop_new(void)
{
	struct net_loop *l = xcalloc(1, sizeof(*l));

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	return l;
}

void net_loop_free(struct net_loop **lp)
{
	if (*lp == NULL)
		return;
	close((*lp)->epfd);
	free(*lp);
	*lp = NULL;
}

int net_loop_add(struct net_loop *l, struct net_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, w->fd, &ev);
}

void net_loop_del(struct net_loop *l, struct net_watch *w)
{
	(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

void net_loop_run(struct net_loop *l)
{
	struct epoll_event events[128];

	l->stop = false;
	while (!l->stop) {
		int n = epoll_wait(l->epfd, events, 128, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("epoll_wait: %s", strerror(errno));
			abort();
		}
		for (int i = 0; i < n; i++) {
			struct net_watch *w = events[i].data.ptr;
			w->fn(w, events[i].events);
		}
		if (l->after_batch != NULL)
			l->after_batch(l->after_ctx);
	}
}

void net_loop_stop(struct net_loop *l)
{
	l->stop = true;
}
