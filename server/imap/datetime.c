#include "server/imap/datetime.h"

#include <stdbool.h>

static const char month_names[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

#define SECS_PER_DAY 86400
#define MAX_ZONE (23 * 60 + 59)

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* n digits already checked with digits(). */
static int number(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Three letters in any case (RFC 5234 §2.3: ABNF strings are
 * case-insensitive). ASCII folding by hand: strncasecmp follows the locale
 * and stops at NUL. Returns 1..12 or 0. */
static int parse_month(const char *s)
{
	for (int m = 0; m < 12; m++) {
		const char *name = month_names[m];
		if (ascii_lower(s[0]) == ascii_lower(name[0]) &&
		    ascii_lower(s[1]) == name[1] && ascii_lower(s[2]) == name[2])
			return m + 1;
	}
	return 0;
}

/* "-Mon-yyyy" at s (9 bytes) after a day of value day. */
static int parse_month_year(const char *s, int day, struct imap_date *d)
{
	int month, year;

	if (s[0] != '-' || s[4] != '-' || !digits(s + 5, 4))
		return -1;
	if ((month = parse_month(s + 1)) == 0)
		return -1;
	year = number(s + 5, 4);
	if (day < 1 || day > days_in_month(year, month))
		return -1;
	d->year = year;
	d->month = month;
	d->day = day;
	return 0;
}

int imap_date_parse(const char *s, size_t len, struct imap_date *d)
{
	size_t dlen = len == 10 ? 1 : len == 11 ? 2 : 0;

	if (dlen == 0 || !digits(s, dlen))
		return -1;
	return parse_month_year(s + dlen, number(s, dlen), d);
}

/* Howard Hinnant's days_from_civil: exact for the proleptic Gregorian
 * calendar over any int year, using only integer arithmetic. Shifting the
 * year to start in March puts the leap day last. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y_r, int *m_r, int *d_r)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);

	*d_r = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m_r = m;
	*y_r = (int)(yoe + era * 400 + (m <= 2));
}

int64_t imap_date_days(const struct imap_date *d)
{
	return days_from_civil(d->year, d->month, d->day);
}

int imap_datetime_parse(const char *s, size_t len, int64_t *utc_r, int *zone_minutes_r)
{
	struct imap_date d;
	int day, h, min, sec, zh, zm, zone;

	/* "dd-Mon-yyyy hh:mm:ss +zzzz": every field has a fixed width. */
	if (len != 26)
		return -1;
	if (s[0] == ' ' && digits(s + 1, 1))
		day = number(s + 1, 1);
	else if (digits(s, 2))
		day = number(s, 2);
	else
		return -1;
	if (parse_month_year(s + 2, day, &d) < 0)
		return -1;
	if (s[11] != ' ' || s[14] != ':' || s[17] != ':' || s[20] != ' ' ||
	    !digits(s + 12, 2) || !digits(s + 15, 2) || !digits(s + 18, 2) ||
	    (s[21] != '+' && s[21] != '-') || !digits(s + 22, 4))
		return -1;
	h = number(s + 12, 2);
	min = number(s + 15, 2);
	sec = number(s + 18, 2);
	zh = number(s + 22, 2);
	zm = number(s + 24, 2);
	if (h > 23 || min > 59 || sec > 60 || zh > 23 || zm > 59)
		return -1;
	if (sec == 60)
		sec = 59;
	zone = (zh * 60 + zm) * (s[21] == '-' ? -1 : 1);
	/* RFC 3501 §9 zone: "Subtracting the timezone from the given time will
	 * give the UT form." */
	*utc_r = imap_date_days(&d) * SECS_PER_DAY + h * 3600 + min * 60 + sec -
		(int64_t)zone * 60;
	*zone_minutes_r = zone;
	return 0;
}

/* The calendar day (days since 1970-01-01) and second of that day (0..86399)
 * that the instant utc has on a clock zone_minutes east of UTC. Floor
 * division, so that instants before 1970 fall on the right day, and no
 * intermediate value can overflow for any int64 utc. */
static void local_day(int64_t utc, int zone_minutes, int64_t *days_r, int64_t *secs_r)
{
	int64_t days = utc / SECS_PER_DAY, secs = utc % SECS_PER_DAY;

	if (secs < 0) {
		secs += SECS_PER_DAY;
		days--;
	}
	secs += (int64_t)zone_minutes * 60;
	while (secs < 0) {
		secs += SECS_PER_DAY;
		days--;
	}
	while (secs >= SECS_PER_DAY) {
		secs -= SECS_PER_DAY;
		days++;
	}
	*days_r = days;
	*secs_r = secs;
}

int64_t imap_utc_days(int64_t utc, int zone_minutes)
{
	int64_t days, secs;

	/* Offsets beyond a day are no zone; bounding them bounds the loops. */
	if (zone_minutes > MAX_ZONE)
		zone_minutes = MAX_ZONE;
	if (zone_minutes < -MAX_ZONE)
		zone_minutes = -MAX_ZONE;
	local_day(utc, zone_minutes, &days, &secs);
	return days;
}

void imap_datetime_format(int64_t utc, int zone_minutes, struct buf *out)
{
	static const int64_t min_day = -719528;   /* 0000-01-01 */
	static const int64_t max_day = 2932896;   /* 9999-12-31 */
	int64_t days, secs;
	int y, m, d, zone = zone_minutes;

	if (zone > MAX_ZONE)
		zone = MAX_ZONE;
	if (zone < -MAX_ZONE)
		zone = -MAX_ZONE;
	local_day(utc, zone, &days, &secs);
	if (days < min_day) {
		days = min_day;
		secs = 0;
	} else if (days > max_day) {
		days = max_day;
		secs = SECS_PER_DAY - 1;
	}
	civil_from_days(days, &y, &m, &d);
	buf_appendf(out, "\"%2d-%s-%04d %02d:%02d:%02d %c%02d%02d\"", d, month_names[m - 1], y,
			(int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60),
			zone < 0 ? '-' : '+', (zone < 0 ? -zone : zone) / 60,
			(zone < 0 ? -zone : zone) % 60);
}
