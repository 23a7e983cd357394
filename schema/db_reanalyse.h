/* Rows whose precomputed columns an older MIME parser computed
 * (messages.mime_version below the current one, migrations/0012): kairand's
 * indexer thread (server/indexer.c) parses their raw bytes again in quiet
 * moments and rewrites the columns, so that a fix to what SEARCH sees (or
 * to ENVELOPE, BODYSTRUCTURE) reaches existing mail without a migration
 * that reparses the whole store inside one transaction. */
#ifndef KAIRAN_SCHEMA_DB_REANALYSE_H
#define KAIRAN_SCHEMA_DB_REANALYSE_H

#include <stddef.h>
#include <stdint.h>

#include "schema/db.h"

struct db_append_msg;

/* The MIME version the store's stale-row index (migrations/0015) is
 * written for: equal to server/mime's MIME_VERSION (checked where both
 * are known, server/indexer.c). A bump needs a migration that replaces
 * the index. */
#define DB_MIME_VERSION 3

/* Fills m's precomputed columns from m->raw (raw_len bytes); m->raw stays
 * valid until the next call. */
typedef void db_analyse_fn(void *ctx, struct db_append_msg *m);

/* Takes up to limit stale rows, oldest first, analyses each with analyse
 * and rewrites its columns (one UPDATE per row; content is immutable, so
 * a row two processes reanalyse at once gets the same values twice).
 * *count_r is how many were rewritten (0: none is left). 0, or -1 with err. */
int db_reanalyse_batch(db *d, long limit, db_analyse_fn *analyse, void *ctx, long *count_r,
		       char *err, size_t errlen);

#endif
