/* One-line error messages from libpq.
 *
 * libpq's messages end in a newline and may span lines ("connection to
 * server ... failed: Connection refused\n\tIs the server running ...?\n").
 * Our callers put the reason into a log line or an IMAP response text,
 * where a line break would corrupt the output, so every message is
 * flattened: each run of whitespace becomes one space, and the ends are
 * trimmed. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "schema/db_private.h"

void db_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Copies src into dst (of dstlen bytes, NUL-terminated), collapsing
 * whitespace as described above. */
static void oneline(char *dst, size_t dstlen, const char *src)
{
	size_t n = 0;
	int pending_space = 0;

	if (dstlen == 0)
		return;
	for (; *src != '\0'; src++) {
		unsigned char c = (unsigned char)*src;

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			pending_space = n > 0;
			continue;
		}
		if (pending_space) {
			if (n + 1 >= dstlen)
				break;
			dst[n++] = ' ';
			pending_space = 0;
		}
		if (n + 1 >= dstlen)
			break;
		dst[n++] = (char)c;
	}
	dst[n] = '\0';
}

static void with_prefix(char *err, size_t errlen, const char *what, const char *msg)
{
	char flat[512];

	oneline(flat, sizeof(flat), msg != NULL ? msg : "");
	if (flat[0] == '\0')
		memcpy(flat, "unknown error", sizeof("unknown error"));
	if (what != NULL)
		db_errf(err, errlen, "%s: %s", what, flat);
	else
		db_errf(err, errlen, "%s", flat);
}

void db_err_conn(char *err, size_t errlen, const char *what, const PGconn *conn)
{
	with_prefix(err, errlen, what, conn != NULL ? PQerrorMessage(conn) : "out of memory");
}

void db_err_result(char *err, size_t errlen, const char *what,
                   const PGconn *conn, const PGresult *res)
{
	const char *msg = NULL;

	if (res == NULL) {
		db_err_conn(err, errlen, what, conn);
		return;
	}
	/* The primary message alone: short and free of the "ERROR:" prefix
	 * and the DETAIL/HINT lines that PQresultErrorMessage adds. */
	msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (msg == NULL || msg[0] == '\0')
		msg = PQresultErrorMessage(res);
	if (msg == NULL || msg[0] == '\0') {
		/* A result that is not an error but not what the caller wanted
		 * (say, rows from a statement expected to return none). */
		db_errf(err, errlen, "%s: unexpected result %s", what != NULL ? what : "query",
		        PQresStatus(PQresultStatus(res)));
		return;
	}
	with_prefix(err, errlen, what, msg);
}
