/* The one rule for writing an IMAP string (RFC 3501 §4.3, §9 string):
 * quoted when it fits, else a literal. Shared by the response writer
 * (server/imap/writer.c) and the values server/mime precomputes for
 * ENVELOPE and BODYSTRUCTURE, so both always agree. */
#ifndef KAIRAN_CORE_QUOTING_H
#define KAIRAN_CORE_QUOTING_H

#include <stdbool.h>
#include <stddef.h>

/* A quoted string may hold any TEXT-CHAR (no CR, LF, NUL); 8-bit bytes are
 * sent as literals so that a 7-bit client never sees them unquoted, and
 * values over 1024 bytes become literals too, which clients parse faster. */
bool quoting_fits_quoted(const char *s, size_t len);

#endif
