/* The change bus (docs/architecture.md, "Design decisions", 3): what this
 * process knows of every watched mailbox's changes, fed by its own writers
 * (at once, before their OK goes out), by the other kairand processes over
 * PostgreSQL's LISTEN/NOTIFY, and by a reconcile query every second, so
 * that a session can skip reading the changes of a mailbox that did not
 * change, and an idling session can be woken when it did.
 *
 * Two threads, each with a PostgreSQL connection of its own: the publisher
 * sends this process's changes, coalesced, after they committed (never a
 * NOTIFY inside a writing transaction: it would serialise every commit of
 * the cluster); the listener LISTENs and reconciles. The table is trusted
 * only while the listener is connected and has reconciled recently; a
 * session that cannot trust it reads the changes as if there were no bus.
 *
 * Thread safety: every function may be called from any thread. */
#ifndef KAIRAN_SERVER_BUS_BUS_H
#define KAIRAN_SERVER_BUS_BUS_H

#include <stdbool.h>
#include <stdint.h>

struct bus;

/* How often the listener asks PostgreSQL for the watched mailboxes'
 * highest modseqs; the table is trusted for three times as long. */
#define BUS_RECONCILE_MS 1000

/* Starts both threads on dsn. NULL when no thread could start (the process
 * then runs without a bus: every command reads the changes). */
struct bus *bus_start(const char *dsn);
void bus_stop(struct bus **b);

/* A session of reader `account` has mailbox_id selected (watch) or no
 * longer (unwatch). */
void bus_watch(struct bus *b, int64_t mailbox_id, int64_t account);
void bus_unwatch(struct bus *b, int64_t mailbox_id, int64_t account);

/* The mailbox's change generation for the reader (moved by shared changes
 * and by the reader's own private ones, migrations/0011): read it before
 * reading the changes, and keep it with what was read. */
uint64_t bus_generation(struct bus *b, int64_t mailbox_id, int64_t account);
/* What a statement read: the mailbox's last shared modseq in its snapshot
 * (not the counter, which other readers' private changes move too), and
 * the reader's private modseq. */
void bus_learned(struct bus *b, int64_t mailbox_id, int64_t account, uint64_t highestmodseq,
		 uint64_t private_modseq);
/* Whether a session that read the changes up to modseq (and its reader's
 * up to private_modseq), at generation gen, is still current: the table is
 * trusted, the generation has not moved and no higher modseq is known. */
bool bus_current(struct bus *b, int64_t mailbox_id, int64_t account, uint64_t modseq,
		 uint64_t private_modseq, uint64_t gen);

/* Whether the table can be trusted now (the listener is connected and
 * reconciled lately): while it is, nothing needs to poll. */
bool bus_trusted(struct bus *b);

/* This process committed a change to mailbox_id (messages, flags,
 * expunges, its ACL, its deletion): the table moves at once and the other
 * processes are told. */
void bus_changed(struct bus *b, int64_t mailbox_id);
/* This process committed a private change of reader `account` to
 * mailbox_id (its \Seen in a per-user mailbox): only that reader's
 * sessions, here and in the other processes, look again. */
void bus_changed_private(struct bus *b, int64_t mailbox_id, int64_t account);

/* This process committed a change to the names account sees: a mailbox
 * created, deleted or renamed, a subscription, an ACL (which may show or
 * hide another owner's mailbox). NOTIFY's watchers of names (MailboxName,
 * SubscriptionChange, and the filters whose mailboxes such a change moves)
 * look again, here and in the other processes. */
void bus_changed_names(struct bus *b, int64_t account);

/* For the event loop: readable when watched mailboxes changed. take calls
 * fn for each, reader_fn for each reader's private change, names_fn once
 * if any names changed (and all() instead when every session should look
 * again: after the listener reconnected) and empties the lists. */
int bus_wake_fd(const struct bus *b);
void bus_take_wakes(struct bus *b, void (*fn)(void *ctx, int64_t mailbox_id),
		    void (*reader_fn)(void *ctx, int64_t mailbox_id, int64_t account),
		    void (*names_fn)(void *ctx), void (*all)(void *ctx), void *ctx);

#endif
