#include "server/proxy_accept.h"
#include "server/client.h"
#include "server/server.h"
#include "server/core/buf.h"
#include "server/core/clock.h"
#include "server/core/llist.h"
#include "server/core/log.h"
#include "server/net/proxy_v2.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

struct proxy_pending {
	struct net_watch watch;       /* first: the loop hands this back */
	struct server *srv;
	bool implicit_tls;
	struct sockaddr_storage from; /* the balancer */
	socklen_t fromlen;
	uint8_t buf[PROXY_V2_FIXED + PROXY_V2_MAX_BODY];
	size_t got, need;
	uint64_t deadline_ms;
	struct proxy_pending *prev, *next;
};

static struct proxy_pending *pending;
static size_t npending;

/* The address's bytes for a prefix comparison: IPv4 as itself, an
 * IPv4-mapped IPv6 address as the IPv4 one. 4, 16, or 0 (not IP). */
static size_t address_bytes(const struct sockaddr *sa, uint8_t out[16])
{
	if (sa->sa_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 4;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			memcpy(out, a->s6_addr + 12, 4);
			return 4;
		}
		memcpy(out, a->s6_addr, 16);
		return 16;
	}
	return 0;
}

static bool prefix_match(const uint8_t *a, const uint8_t *net, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, net, whole) != 0)
		return false;
	return rest == 0 || ((a[whole] ^ net[whole]) & (0xff << (8 - rest))) == 0;
}

bool proxy_trusted_address(const char *list, const struct sockaddr *sa)
{
	uint8_t addr[16], net[16];
	size_t n = address_bytes(sa, addr);

	for (const char *p = list; n > 0 && *p != '\0';) {
		char token[64], *slash, *end;
		size_t len;
		unsigned long bits;
		p += strspn(p, " ,\t");
		len = strcspn(p, " ,\t");
		if (len == 0 || len >= sizeof(token)) {
			p += len;
			continue;
		}
		memcpy(token, p, len);
		token[len] = '\0';
		p += len;
		slash = strchr(token, '/');
		if (slash != NULL)
			*slash = '\0';
		if (!(n == 4 ? inet_pton(AF_INET, token, net) : inet_pton(AF_INET6, token, net)))
			continue;
		bits = slash == NULL ? n * 8 : strtoul(slash + 1, &end, 10);
		if (slash != NULL && (*end != '\0' || end == slash + 1 || bits > n * 8))
			continue;
		if (prefix_match(addr, net, (unsigned)bits))
			return true;
	}
	return false;
}

static void pending_free(struct server *srv, struct proxy_pending *p, bool close_fd)
{
	net_loop_del(srv->loop, &p->watch);
	if (close_fd)
		close(p->watch.fd);
	LLIST_REMOVE(pending, p);
	npending--;
	free(p);
}

/* The address as text for the log ("?" when it is not IP). */
static const char *address_text(const struct sockaddr *sa, char out[INET6_ADDRSTRLEN])
{
	uint8_t a[16];
	size_t n = address_bytes(sa, a);

	if (n == 0 || inet_ntop(n == 4 ? AF_INET : AF_INET6, a, out, INET6_ADDRSTRLEN) == NULL)
		return "?";
	return out;
}

static void drop(struct proxy_pending *p, const char *why)
{
	char from[INET6_ADDRSTRLEN];

	log_warning("%s: PROXY listener: %s; connection closed",
		    address_text((const struct sockaddr *)&p->from, from), why);
	pending_free(p->srv, p, true);
}

/* The header is complete: the session starts with the client's address
 * (the balancer's own for a LOCAL health check). */
static void complete(struct proxy_pending *p)
{
	struct server *srv = p->srv;
	struct sockaddr_storage client;
	socklen_t clientlen = 0;
	bool local, tls = p->implicit_tls;
	int fd = p->watch.fd;

	if (proxy_v2_parse(p->buf, p->got, &client, &clientlen, &local) < 0) {
		drop(p, "malformed PROXY v2 header");
		return;
	}
	if (local) {
		client = p->from;
		clientlen = p->fromlen;
	}
	pending_free(srv, p, false);
	client_accept(srv, fd, (const struct sockaddr *)&client, clientlen, tls, true);
}

/* Reads exactly what the header still needs, never a byte of what the
 * client sends after it (a TLS ClientHello, a command), which stays in
 * the socket for the session. */
static void on_readable(struct net_watch *w, uint32_t events)
{
	struct proxy_pending *p = (struct proxy_pending *)w;

	(void)events;
	for (;;) {
		ssize_t n = read(w->fd, p->buf + p->got, p->need - p->got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			drop(p, n == 0 ? "closed before its PROXY header" : strerror(errno));
			return;
		}
		p->got += (size_t)n;
		if (p->got < p->need)
			continue;
		if (p->need == PROXY_V2_FIXED) {
			int total = proxy_v2_length(p->buf);
			if (total < 0) {
				drop(p, "no PROXY v2 header");
				return;
			}
			p->need = (size_t)total;
			if (p->got < p->need)
				continue;
		}
		complete(p);
		return;
	}
}

void proxy_accept(struct server *srv, int fd, const struct sockaddr *sa, socklen_t salen,
		  bool implicit_tls)
{
	struct proxy_pending *p;

	if (!proxy_trusted_address(srv->cfg->proxy_trusted, sa) || npending >= PROXY_MAX_PENDING) {
		char from[INET6_ADDRSTRLEN];
		log_warning("%s: PROXY listener: %s; connection refused", address_text(sa, from),
			    npending >= PROXY_MAX_PENDING ? "too many headers pending" :
			    "not in proxy_trusted");
		close(fd);
		return;
	}
	p = xcalloc(1, sizeof(*p));
	p->watch.fd = fd;
	p->watch.fn = on_readable;
	p->srv = srv;
	p->implicit_tls = implicit_tls;
	memcpy(&p->from, sa, salen < sizeof(p->from) ? salen : sizeof(p->from));
	p->fromlen = salen;
	p->need = PROXY_V2_FIXED;
	p->deadline_ms = clock_now_ms() + PROXY_HEADER_TIMEOUT_MS;
	if (net_loop_add(srv->loop, &p->watch, EPOLLIN | EPOLLRDHUP | EPOLLET) < 0) {
		close(fd);
		free(p);
		return;
	}
	LLIST_PREPEND(pending, p);
	npending++;
	on_readable(&p->watch, 0);     /* the header may be there already */
}

void proxy_tick(struct server *srv, uint64_t now_ms)
{
	(void)srv;
	for (struct proxy_pending *p = pending, *next; p != NULL; p = next) {
		next = p->next;
		if (now_ms >= p->deadline_ms)
			drop(p, "no complete PROXY header in time");
	}
}

void proxy_close_all(struct server *srv)
{
	while (pending != NULL)
		pending_free(srv, pending, true);
}
