#include "server/peer_table.h"
#include "server/core/buf.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define PEER_BUCKETS 4096
/* Failures older than this no longer lengthen the delay. */
#define PEER_FAIL_MEMORY_MS (15 * 60 * 1000)

struct peer {
	struct peer *next;
	long connections;
	unsigned failures;
	uint64_t last_failure_ms;
	uint64_t second_start_ms;    /* the one-second window new connections count in */
	long second_count;
	char addr[];
};

struct peer_table {
	struct peer *buckets[PEER_BUCKETS];
};

static unsigned peer_hash(const char *s)
{
	unsigned h = 2166136261u; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % PEER_BUCKETS;
}

struct peer_table *peer_table_new(void)
{
	return xcalloc(1, sizeof(struct peer_table));
}

void peer_table_free(struct peer_table **tp)
{
	struct peer_table *t = *tp;

	if (t == NULL)
		return;
	for (size_t i = 0; i < PEER_BUCKETS; i++)
		while (t->buckets[i] != NULL) {
			struct peer *p = t->buckets[i];
			t->buckets[i] = p->next;
			free(p);
		}
	free(t);
	*tp = NULL;
}

static struct peer *peer_get(struct peer_table *t, const char *addr, bool create)
{
	struct peer **head = &t->buckets[peer_hash(addr)], *p;
	size_t len;

	for (p = *head; p != NULL; p = p->next)
		if (strcmp(p->addr, addr) == 0)
			return p;
	if (!create)
		return NULL;
	len = strlen(addr);
	p = xcalloc(1, sizeof(*p) + len + 1);
	memcpy(p->addr, addr, len + 1);
	p->next = *head;
	*head = p;
	return p;
}

bool peer_connection_open(struct peer_table *t, const char *addr, long max)
{
	struct peer *p = peer_get(t, addr, true);

	if (p->connections >= max)
		return false;
	p->connections++;
	return true;
}

bool peer_connection_rate(struct peer_table *t, const char *addr, uint64_t now_ms, long max)
{
	struct peer *p;

	if (max <= 0)
		return true;
	p = peer_get(t, addr, true);
	if (now_ms - p->second_start_ms >= 1000) {
		p->second_start_ms = now_ms;
		p->second_count = 0;
	}
	/* Refused attempts count too: a client that keeps hammering stays
	 * refused until it slows down. */
	if (p->second_count < LONG_MAX)
		p->second_count++;
	return p->second_count <= max;
}

void peer_connection_close(struct peer_table *t, const char *addr)
{
	struct peer *p = peer_get(t, addr, false);

	if (p != NULL && p->connections > 0)
		p->connections--;
}

uint64_t peer_auth_failed(struct peer_table *t, const char *addr, uint64_t now_ms,
			  uint64_t base_ms, uint64_t max_ms)
{
	struct peer *p = peer_get(t, addr, true);
	uint64_t delay = base_ms;

	if (p->failures > 0 && now_ms - p->last_failure_ms > PEER_FAIL_MEMORY_MS)
		p->failures = 0;
	for (unsigned i = 0; i < p->failures && delay < max_ms; i++)
		delay *= 2;
	if (delay > max_ms)
		delay = max_ms;
	if (p->failures < 64)
		p->failures++;
	p->last_failure_ms = now_ms;
	return delay;
}

void peer_auth_succeeded(struct peer_table *t, const char *addr)
{
	struct peer *p = peer_get(t, addr, false);

	if (p != NULL)
		p->failures = 0;
}

void peer_table_expire(struct peer_table *t, uint64_t now_ms)
{
	for (size_t i = 0; i < PEER_BUCKETS; i++) {
		struct peer **pp = &t->buckets[i], *p;
		while ((p = *pp) != NULL) {
			bool forgotten = p->failures == 0 ||
					 now_ms - p->last_failure_ms > PEER_FAIL_MEMORY_MS;
			bool quiet = now_ms - p->second_start_ms >= 1000;
			if (p->connections == 0 && forgotten && quiet) {
				*pp = p->next;
				free(p);
			} else
				pp = &p->next;
		}
	}
}
