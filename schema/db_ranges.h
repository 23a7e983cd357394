/* Shared by the schema/ sources that take UID sets. */
#ifndef KAIRAN_SCHEMA_DB_RANGES_H
#define KAIRAN_SCHEMA_DB_RANGES_H

#include "schema/db_message.h"
#include "server/core/buf.h"

/* Writes the ranges as two NUL-terminated array literals "{1,7}" / "{3,9}". */
void db_ranges_params(const struct db_uid_ranges *r, struct buf *lo, struct buf *hi);

#endif
