/* Shared by the schema/ sources that take UID sets. */
#ifndef KAIRAN_SCHEMA_DB_RANGES_H
#define KAIRAN_SCHEMA_DB_RANGES_H

#include "schema/db_message.h"
#include "server/core/buf.h"

/* The rows of mailbox_messages in mailbox MAILBOX whose UIDs lie in the
 * ranges $2 (lower bounds) and $3 (upper bounds), as ALIAS, each range read
 * by its own primary-key range scan. TAIL ends the inner query: "OFFSET 0",
 * or a row lock (either keeps the planner from flattening it). kairand's
 * connections run generic plans (schema/db_conn.c), planned once for every
 * set: written as a plain join, the generic plan read the whole mailbox for
 * a STORE of one message (tests/bench/results-mixed.md). */
#define DB_UID_RANGE_ROWS(alias, mailbox, tail) \
	"unnest($2::bigint[], $3::bigint[]) r(lo, hi), LATERAL (SELECT * FROM mailbox_messages" \
	" WHERE mailbox_id = " mailbox " AND uid BETWEEN r.lo AND r.hi " tail ") " alias

/* Writes the ranges as two NUL-terminated array literals "{1,7}" / "{3,9}". */
void db_ranges_params(const struct db_uid_ranges *r, struct buf *lo, struct buf *hi);

#endif
