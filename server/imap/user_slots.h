/* Connections per user in this process (max_connections_per_user). Taken by
 * a worker when a login succeeds and given back by the event loop when the
 * session ends, hence the lock. Per process: several kairand processes on one
 * database each apply the limit on their own (docs/config.md). */
#ifndef KAIRAN_IMAP_USER_SLOTS_H
#define KAIRAN_IMAP_USER_SLOTS_H

#include <stdbool.h>

struct imap_user_slots;

struct imap_user_slots *imap_user_slots_new(void);
void imap_user_slots_free(struct imap_user_slots **sp);
/* Counts one more connection for login unless it already has max. */
bool imap_user_slot_take(struct imap_user_slots *s, const char *login, long max);
void imap_user_slot_release(struct imap_user_slots *s, const char *login);

#endif
