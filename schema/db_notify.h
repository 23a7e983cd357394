/* The change bus's SQL (docs/architecture.md, "Design decisions", 3): a
 * NOTIFY on one channel, sent in its own transaction after the change it
 * announces committed, never inside a writing transaction; LISTEN and the
 * notifications that arrive; and the reconcile query. */
#ifndef KAIRAN_SCHEMA_DB_NOTIFY_H
#define KAIRAN_SCHEMA_DB_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema/db.h"

#define DB_BUS_CHANNEL "kairan_changes"
/* The listener connection's application_name. */
#define DB_BUS_LISTENER "kairan bus listener"
/* pg_notify refuses payloads of 8000 bytes or more. */
#define DB_BUS_PAYLOAD_MAX 7900

/* Payloads are space-separated words: "c<id>" (mailbox id changed) and
 * "a<id>" (its ACL changed). */

/* Sends one notification on the bus's channel. 0, or -1 with err. */
int db_notify(db *d, const char *payload, char *err, size_t errlen);
/* Announces that mailbox_id changed: for writers outside kairand's
 * commands (kairanctl), after their change committed. */
int db_notify_changed(db *d, int64_t mailbox_id, char *err, size_t errlen);
/* Announces that mailbox_id's ACL changed: for the writers of ACLs (SETACL,
 * DELETEACL, kairanctl), after their change committed. */
int db_notify_acl(db *d, int64_t mailbox_id, char *err, size_t errlen);

/* LISTEN on the channel. 0, or -1 with err. */
int db_listen(db *d, char *err, size_t errlen);
/* The connection's socket, to wait on; -1 when there is none. */
int db_socket(db *d);
/* The server process of the connection (notifications carry the sender's). */
int db_backend_pid(db *d);
/* Reads what the socket holds and calls fn for each notification on the
 * channel. -1 when the connection is broken. */
int db_notifications(db *d, void (*fn)(void *ctx, int sender_pid, const char *payload),
		     void *ctx);

/* The last shared modseq of each existing mailbox of ids (n of them), fn
 * with account 0 per mailbox found; and the last private modseq of each
 * reader of readers that has a seen row there, fn with its account. */
struct db_bus_reader { int64_t mailbox_id, account_id; };
int db_mailbox_modseqs(db *d, const int64_t *ids, size_t n, const struct db_bus_reader *readers,
		       size_t nreaders,
		       void (*fn)(void *ctx, int64_t id, int64_t account, uint64_t modseq), void *ctx,
		       char *err, size_t errlen);

#endif
