/* What the server remembers per client address, in the event loop's thread
 * only: open connections (max_connections_per_ip), new connections in the
 * current second (max_connection_rate_per_ip) and recent authentication
 * failures (the growing delay). Entries go when an address has no connection
 * and no failure younger than PEER_FAIL_MEMORY_MS. */
#ifndef KAIRAN_SERVER_PEER_TABLE_H
#define KAIRAN_SERVER_PEER_TABLE_H

#include <stdbool.h>
#include <stdint.h>

struct peer_table;

struct peer_table *peer_table_new(void);
void peer_table_free(struct peer_table **tp);
/* Counts a connection unless addr already has max; false means refuse. */
bool peer_connection_open(struct peer_table *t, const char *addr, long max);
/* Counts a new connection in addr's current one-second window; false
 * when that makes more than max (0: no limit), which means refuse. */
bool peer_connection_rate(struct peer_table *t, const char *addr, uint64_t now_ms, long max);
void peer_connection_close(struct peer_table *t, const char *addr);
/* Records a failed authentication and returns the delay for its answer:
 * base_ms doubled for every earlier failure from the address within the
 * memory window, capped at max_ms. */
uint64_t peer_auth_failed(struct peer_table *t, const char *addr, uint64_t now_ms,
			  uint64_t base_ms, uint64_t max_ms);
/* A success from the address forgets its failures. */
void peer_auth_succeeded(struct peer_table *t, const char *addr);
/* Drops entries that hold nothing any more (called from the tick). */
void peer_table_expire(struct peer_table *t, uint64_t now_ms);

#endif
