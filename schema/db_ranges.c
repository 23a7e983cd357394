/* UID ranges as the two bigint[] parameters the statements take. */
#include <stdio.h>

#include "schema/db_ranges.h"
#include "server/core/buf.h"

void db_ranges_params(const struct db_uid_ranges *r, struct buf *lo, struct buf *hi)
{
	buf_append(lo, "{", 1);
	buf_append(hi, "{", 1);
	for (size_t i = 0; i < r->count; i++) {
		buf_appendf(lo, "%s%u", i ? "," : "", r->lo[i]);
		buf_appendf(hi, "%s%u", i ? "," : "", r->hi[i]);
	}
	buf_append(lo, "}", 2); /* with the terminating NUL */
	buf_append(hi, "}", 2);
}
