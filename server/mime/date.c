/* RFC 5322 §3.3 date-time, with the obsolete forms of §4.3 that real mail
 * still carries, for SEARCH SENTBEFORE/SENTON/SENTSINCE:
 *
 *   [day-of-week ","] day month year hour ":" minute [":" second] zone
 *
 * Comments and folding anywhere; two-digit years are 1950-2049 and
 * three-digit years 1900+n (§4.3); the zone is "+hhmm"/"-hhmm" or one of
 * the obsolete names (UT, GMT, EST ... PDT; military letters count as
 * -0000, as §4.3 says their meaning was never reliable); a missing zone is
 * taken as -0000. The calendar arithmetic is done here (days from civil),
 * not with mktime/timegm, so nothing depends on TZ or the C library. */
#include "server/mime/mime_internal.h"

#include <string.h>

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Up to max digits; false when there are none. */
static bool number(struct mime_lex *lx, size_t max, int *v, size_t *ndigits)
{
	size_t n = 0;

	*v = 0;
	while (lx->p < lx->end && is_digit(*lx->p) && n < max) {
		*v = *v * 10 + (*lx->p++ - '0');
		n++;
	}
	if (ndigits != NULL)
		*ndigits = n;
	return n > 0;
}

static int month_number(struct mime_str w)
{
	static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";

	if (w.len < 3)
		return 0;
	for (int m = 0; m < 12; m++)
		if (mime_mem_ieq(w.p, 3, names + 3 * m, 3))
			return m + 1;
	return 0;
}

static bool zone_name(struct mime_str w, int *zone)
{
	static const struct { const char *name; int minutes; } names[] = {
		{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
		{ "EDT", -4 * 60 }, { "EST", -5 * 60 }, { "CDT", -5 * 60 }, { "CST", -6 * 60 },
		{ "MDT", -6 * 60 }, { "MST", -7 * 60 }, { "PDT", -7 * 60 }, { "PST", -8 * 60 },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (mime_str_ieq(w, names[i].name)) {
			*zone = names[i].minutes;
			return true;
		}
	}
	*zone = 0;      /* military and unknown names: -0000 */
	return w.len == 1;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

bool mime_parse_date(struct mime_str v, int64_t *utc_r, int *zone_r)
{
	struct mime_lex lx;
	struct mime_str w;
	int day, month, year, hour, min, sec = 0, zone = 0;
	size_t ydigits;

	mime_lex_init(&lx, v, NULL);
	mime_lex_cfws(&lx);
	w = mime_lex_token(&lx, true);
	if (w.len > 0 && !is_digit(w.p[0])) {
		/* day-of-week "," */
		mime_lex_cfws(&lx);
		if (mime_lex_at(&lx, ','))
			lx.p++;
		mime_lex_cfws(&lx);
	} else {
		lx.p = w.p;
	}
	if (!number(&lx, 2, &day, NULL))
		return false;
	mime_lex_cfws(&lx);
	w = mime_lex_token(&lx, true);
	if ((month = month_number(w)) == 0)
		return false;
	mime_lex_cfws(&lx);
	if (!number(&lx, 4, &year, &ydigits))
		return false;
	if (ydigits == 2)
		year += year < 50 ? 2000 : 1900;
	else if (ydigits == 3)
		year += 1900;
	mime_lex_cfws(&lx);
	if (!number(&lx, 2, &hour, NULL) || !mime_lex_at(&lx, ':'))
		return false;
	lx.p++;
	if (!number(&lx, 2, &min, NULL))
		return false;
	if (mime_lex_at(&lx, ':')) {
		lx.p++;
		if (!number(&lx, 2, &sec, NULL))
			return false;
	}
	mime_lex_cfws(&lx);
	if (lx.p < lx.end && (*lx.p == '+' || *lx.p == '-')) {
		int sign = *lx.p++ == '-' ? -1 : 1, hhmm;
		size_t nd;
		if (!number(&lx, 4, &hhmm, &nd) || nd != 4 || hhmm % 100 > 59)
			return false;
		zone = sign * (hhmm / 100 * 60 + hhmm % 100);
	} else if ((w = mime_lex_token(&lx, true)).len > 0 && !zone_name(w, &zone)) {
		zone = 0;
	}
	if (day < 1 || day > days_in_month(year, month) || hour > 23 || min > 59 || sec > 60)
		return false;
	if (sec == 60)
		sec = 59;       /* Unix time has no leap seconds */
	*utc_r = days_from_civil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec -
		(int64_t)zone * 60;
	*zone_r = zone;
	return true;
}
