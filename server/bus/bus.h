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

/* A session has mailbox_id selected (watch) or no longer (unwatch). */
void bus_watch(struct bus *b, int64_t mailbox_id);
void bus_unwatch(struct bus *b, int64_t mailbox_id);

/* The mailbox's change generation: read it before reading the changes, and
 * keep it with what was read. */
uint64_t bus_generation(struct bus *b, int64_t mailbox_id);
/* What a statement read: the mailbox's highest modseq in its snapshot. */
void bus_learned(struct bus *b, int64_t mailbox_id, uint64_t highestmodseq);
/* Whether a session that read the changes up to modseq, at generation gen,
 * is still current: the table is trusted, the generation has not moved and
 * no higher modseq is known. */
bool bus_current(struct bus *b, int64_t mailbox_id, uint64_t modseq, uint64_t gen);

/* Whether the table can be trusted now (the listener is connected and
 * reconciled lately): while it is, nothing needs to poll. */
bool bus_trusted(struct bus *b);

/* This process committed a change to mailbox_id (messages, flags,
 * expunges, its ACL, its deletion): the table moves at once and the other
 * processes are told. */
void bus_changed(struct bus *b, int64_t mailbox_id);

/* For the event loop: readable when watched mailboxes changed. take calls
 * fn for each (and all() instead when every session should look again:
 * after the listener reconnected) and empties the list. */
int bus_wake_fd(const struct bus *b);
void bus_take_wakes(struct bus *b, void (*fn)(void *ctx, int64_t mailbox_id),
		    void (*all)(void *ctx), void *ctx);

#endif
