/* The logins whose IMAP sessions are traced (migration 0014; kairanctl
 * trace). kairand itself reads the flag at login, with the account
 * (db_account_provision): these are kairanctl's statements.
 *
 * Results as in schema/db_message.h: DB_OK, DB_NOT_FOUND, DB_FAILED (err
 * set). */
#ifndef KAIRAN_SCHEMA_DB_TRACE_H
#define KAIRAN_SCHEMA_DB_TRACE_H

#include <stdbool.h>
#include <stddef.h>

#include "schema/db_message.h"
#include "server/core/arena.h"

/* Switches the trace of login on or off. DB_OK when that changed
 * something, DB_NOT_FOUND when it already was so. */
enum db_result db_trace_set(db *d, const char *login, bool on, char *err, size_t errlen);

struct db_trace_row {
	const char *login;
	const char *since;          /* UTC, "2026-12-07T21:15:00Z" */
};

/* Every traced login, bytewise in order, from arena. */
enum db_result db_trace_list(db *d, struct arena *arena, struct db_trace_row **rows_r,
			     size_t *n_r, char *err, size_t errlen);

#endif
