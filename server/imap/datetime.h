/* IMAP dates (RFC 3501 §9 "date", "date-time"; RFC 9051 §9 is the same).
 *
 *   date        = date-text / DQUOTE date-text DQUOTE
 *   date-text   = date-day "-" date-month "-" date-year
 *   date-day    = 1*2DIGIT
 *   date-time   = DQUOTE date-day-fixed "-" date-month "-" date-year
 *                 SP time SP zone DQUOTE
 *   date-day-fixed = (SP DIGIT) / 2DIGIT
 *   date-month  = "Jan" / "Feb" / ... / "Dec"   ; case-insensitive (ABNF)
 *   date-year   = 4DIGIT
 *   time        = 2DIGIT ":" 2DIGIT ":" 2DIGIT
 *   zone        = ("+" / "-") 4DIGIT
 *
 * The calendar is the proleptic Gregorian one, computed with the
 * days-from-civil algorithm: nothing here calls mktime, localtime or reads
 * TZ, so every kairand host gives the same answer for the same bytes. Pure
 * code, no I/O. */
#ifndef KAIRAN_IMAP_DATETIME_H
#define KAIRAN_IMAP_DATETIME_H

#include <stdint.h>
#include <stddef.h>

#include "server/core/buf.h"

struct imap_date { int year, month, day; };  /* month 1..12, day 1..31 */

/* Parses a date-text: the argument's bytes with any quotes already removed
 * by the parser (an atom and a quoted string carry the same date). The day
 * has one or two digits ("01" is allowed, "001" and " 1" are not) and must
 * exist in that month of that year (29-Feb only in leap years); the month is
 * three letters in any case; the year exactly four digits (0000-9999).
 * Returns 0, or -1 with *d untouched. */
int imap_date_parse(const char *s, size_t len, struct imap_date *d);

/* Parses a date-time without its quotes: exactly 26 bytes,
 * "dd-Mon-yyyy hh:mm:ss +zzzz" with " d" for a one-digit day. Hours 00-23,
 * minutes 00-59, seconds 00-60, where 60 (a leap second) counts as 59,
 * since Unix time has no leap seconds. The zone's hours must be 00-23 and
 * minutes 00-59: the ABNF allows any 4DIGIT, but "+2400" or "+0075" is
 * not an offset any clock shows, and the bound keeps the local date within a
 * day of UTC; "-0000" is UTC (zone 0). *utc_r is seconds since 1970-01-01
 * 00:00:00 UTC (negative before 1970); *zone_minutes_r is the offset east of
 * UTC, which INTERNALDATE must give back unchanged. Returns 0, or -1 with the
 * outputs untouched. */
int imap_datetime_parse(const char *s, size_t len, int64_t *utc_r, int *zone_minutes_r);

/* Appends "\"dd-Mon-yyyy hh:mm:ss +zzzz\"" (quotes included, " d" for days
 * 1-9): the instant utc as a clock in zone_minutes shows it. Inverse of
 * imap_datetime_parse for everything it returns. Values outside what the
 * grammar can express are clamped so that the output is always a valid
 * date-time: the zone to +-23:59, the local time to 0000-01-01 00:00:00 ..
 * 9999-12-31 23:59:59. */
void imap_datetime_format(int64_t utc, int zone_minutes, struct buf *out);

/* Days since 1970-01-01 of a valid date (negative before it): compare these
 * for SEARCH BEFORE / ON / SINCE. d must be valid, e.g. from
 * imap_date_parse. */
int64_t imap_date_days(const struct imap_date *d);

/* Days since 1970-01-01 of the calendar date that the instant utc has in
 * zone_minutes (clamped to +-23:59 like imap_datetime_format; floor
 * division, so correct before 1970 too; any int64 utc). RFC 3501 §6.4.4
 * compares "disregarding time and timezone": pass the message's own
 * INTERNALDATE zone to compare the date the client sees in INTERNALDATE. */
int64_t imap_utc_days(int64_t utc, int zone_minutes);

#endif
