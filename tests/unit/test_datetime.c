/* IMAP date and date-time (RFC 3501 §9): the grammar, the calendar, the
 * zone arithmetic, and hostile input. */
#include "tests/unit/unit.h"
#include "server/imap/datetime.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static struct buf out;

#define DATE_OK(s, y, m, dd) do { \
	struct imap_date d_ = { -1, -1, -1 }; \
	CHECK(imap_date_parse((s), sizeof(s) - 1, &d_) == 0); \
	CHECK(d_.year == (y) && d_.month == (m) && d_.day == (dd)); \
} while (0)

#define DATE_BAD(s) do { \
	struct imap_date d_ = { -1, -1, -1 }; \
	if (imap_date_parse((s), sizeof(s) - 1, &d_) != -1) { \
		fprintf(stderr, "  accepted date: \"%s\"\n", (s)); \
		CHECK(0); \
	} \
	CHECK(d_.year == -1 && d_.month == -1 && d_.day == -1); \
} while (0)

#define DT_OK(s, want_utc, want_zone) do { \
	int64_t u_ = 42; int z_ = 42; \
	CHECK(imap_datetime_parse((s), sizeof(s) - 1, &u_, &z_) == 0); \
	CHECK(u_ == (int64_t)(want_utc) && z_ == (want_zone)); \
} while (0)

#define DT_BAD(s) do { \
	int64_t u_ = 42; int z_ = 42; \
	if (imap_datetime_parse((s), sizeof(s) - 1, &u_, &z_) != -1) { \
		fprintf(stderr, "  accepted date-time: \"%s\"\n", (s)); \
		CHECK(0); \
	} \
	CHECK(u_ == 42 && z_ == 42); \
} while (0)

#define FORMAT(utc, zone, want) do { \
	buf_clear(&out); \
	imap_datetime_format((utc), (zone), &out); \
	CHECK_MEM(out.data, out.len, (want), sizeof(want) - 1); \
} while (0)

static void test_date_valid(void)
{
	DATE_OK("1-Feb-1994", 1994, 2, 1);      /* RFC 5182 / RFC 3501 examples */
	DATE_OK("01-Feb-1994", 1994, 2, 1);
	DATE_OK("17-Jul-1996", 1996, 7, 17);
	DATE_OK("1-fEB-1994", 1994, 2, 1);
	DATE_OK("1-FEB-1994", 1994, 2, 1);
	DATE_OK("31-Dec-9999", 9999, 12, 31);
	DATE_OK("1-Jan-0000", 0, 1, 1);
	DATE_OK("29-Feb-2000", 2000, 2, 29);    /* divisible by 400 */
	DATE_OK("29-Feb-2024", 2024, 2, 29);
	DATE_OK("29-Feb-0000", 0, 2, 29);
	DATE_OK("30-Apr-2020", 2020, 4, 30);
	DATE_OK("31-Aug-2020", 2020, 8, 31);
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	for (int m = 0; m < 12; m++) {
		char s[16];
		struct imap_date d;
		snprintf(s, sizeof(s), "28-%s-2001", months[m]);
		CHECK(imap_date_parse(s, strlen(s), &d) == 0 && d.month == m + 1);
	}
}

static void test_date_invalid(void)
{
	DATE_BAD("");
	DATE_BAD("29-Feb-1900");                /* divisible by 100, not 400 */
	DATE_BAD("29-Feb-2023");
	DATE_BAD("30-Feb-2024");
	DATE_BAD("31-Apr-2020");
	DATE_BAD("31-Jun-2020");
	DATE_BAD("31-Sep-2020");
	DATE_BAD("31-Nov-2020");
	DATE_BAD("32-Jan-2000");
	DATE_BAD("99-Jan-2000");
	DATE_BAD("0-Jan-2000");
	DATE_BAD("00-Jan-2000");
	DATE_BAD("001-Jan-2000");
	DATE_BAD(" 1-Jan-2000");                /* day-fixed is for date-time only */
	DATE_BAD("1-Jan-200");
	DATE_BAD("1-Jan-20000");
	DATE_BAD("1-Jan-02000");
	DATE_BAD("1-Janu-2000");
	DATE_BAD("1-Ja-2000");
	DATE_BAD("1-Jnx-2000");
	DATE_BAD("1-J n-2000");
	DATE_BAD("1 Jan 2000");
	DATE_BAD("1/Jan/2000");
	DATE_BAD("1-Jan-2000 ");
	DATE_BAD("\"1-Jan-2000\"");             /* the parser removes the quotes */
	DATE_BAD("+1-Jan-2000");
	DATE_BAD("-1-Jan-2000");
	DATE_BAD("1--Jan-2000");
	DATE_BAD("1-Jan--200");
	DATE_BAD("1-Jan-+200");
	DATE_BAD("1-Jan-2e03");
	DATE_BAD("1-Jan-2000\0");
	DATE_BAD("1-J\0n-2000");
	DATE_BAD("\0" "1-Jan-2000");
	DATE_BAD("1-Jan-20\0" "0");
	DATE_BAD("\xef\xbc\x91-Jan-2000");      /* a fullwidth digit */
	DATE_BAD("1-J\xc3\xa1n-2000");
	DATE_BAD("1-Jan-2000-");
	/* The length is honoured: the first 10 bytes are a date. */
	struct imap_date d;
	CHECK(imap_date_parse("1-Jan-2000xyz", 10, &d) == 0 && d.year == 2000);
	CHECK(imap_date_parse("1-Jan-2000", 9, &d) == -1);
}

static void test_date_days(void)
{
	struct imap_date d = { 1970, 1, 1 };

	CHECK(imap_date_days(&d) == 0);
	d = (struct imap_date){ 1969, 12, 31 };
	CHECK(imap_date_days(&d) == -1);
	d = (struct imap_date){ 2000, 3, 1 };
	CHECK(imap_date_days(&d) == 11017);
	d = (struct imap_date){ 9999, 12, 31 };
	CHECK(imap_date_days(&d) == 2932896);
	d = (struct imap_date){ 0, 1, 1 };
	CHECK(imap_date_days(&d) == -719528);

	/* Every day from 0000-01-01 to 9999-12-31 is exactly one more than the
	 * day before: no gap, no repeat, leap years included. */
	int64_t expect = -719528, bad = 0;
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	for (int y = 0; y <= 9999; y++) {
		bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		for (int m = 1; m <= 12; m++) {
			int n = mdays[m - 1] + (m == 2 && leap);
			for (int dd = 1; dd <= n; dd++) {
				d = (struct imap_date){ y, m, dd };
				bad += imap_date_days(&d) != expect++;
			}
		}
	}
	CHECK(bad == 0);
}

static void test_datetime_valid(void)
{
	DT_OK("17-Jul-1996 02:44:25 -0700", 837596665, -420);   /* RFC 3501 §6.3.11 */
	DT_OK("17-jul-1996 09:44:25 +0000", 837596665, 0);
	DT_OK("17-Jul-1996 15:14:25 +0530", 837596665, 330);
	DT_OK(" 1-Jan-2000 00:00:00 +0000", 946684800, 0);
	DT_OK("01-Jan-2000 00:00:00 +0000", 946684800, 0);
	DT_OK("01-Jan-2000 00:00:00 -0000", 946684800, 0);
	DT_OK(" 1-Jan-1970 00:00:00 +0000", 0, 0);
	DT_OK("31-Dec-1969 23:59:59 +0000", -1, 0);
	DT_OK(" 1-Jan-1970 00:00:00 +0100", -3600, 60);
	DT_OK(" 1-Jan-1900 00:00:00 +0000", -2208988800LL, 0);
	/* A leap second counts as the second before it. */
	DT_OK("31-Dec-2016 23:59:60 +0000", 1483228799, 0);
	DT_OK("31-Dec-2016 23:59:59 +0000", 1483228799, 0);
	DT_OK("31-Dec-9999 23:59:59 -2359", 253402387139LL, -1439);
	DT_OK(" 1-Jan-0000 00:00:00 +2359", -62167305540LL, 1439);
	DT_OK("29-Feb-2024 12:00:00 +1400", 1709157600LL, 840);
}

static void test_datetime_invalid(void)
{
	DT_BAD("");
	DT_BAD("1-Jan-2000 00:00:00 +0000");     /* day-fixed: " 1" or "01" */
	DT_BAD("  1-Jan-2000 00:00:00 +0000");
	DT_BAD("001-Jan-2000 00:00:00 +0000");
	DT_BAD(" 0-Jan-2000 00:00:00 +0000");
	DT_BAD("00-Jan-2000 00:00:00 +0000");
	DT_BAD("1 -Jan-2000 00:00:00 +0000");
	DT_BAD("30-Feb-2000 00:00:00 +0000");
	DT_BAD("29-Feb-2100 00:00:00 +0000");
	DT_BAD("01-Jan-2000 24:00:00 +0000");
	DT_BAD("01-Jan-2000 23:60:00 +0000");
	DT_BAD("01-Jan-2000 23:59:61 +0000");
	DT_BAD("01-Jan-2000 99:99:99 +0000");
	DT_BAD("01-Jan-2000 00:00:00 +2400");
	DT_BAD("01-Jan-2000 00:00:00 -2400");
	DT_BAD("01-Jan-2000 00:00:00 +0060");
	DT_BAD("01-Jan-2000 00:00:00 +9999");
	DT_BAD("01-Jan-2000 00:00:00 0000");
	DT_BAD("01-Jan-2000 00:00:00 *0000");
	DT_BAD("01-Jan-2000 00:00:00 +000");
	DT_BAD("01-Jan-2000 00:00:00 +00000");
	DT_BAD("01-Jan-2000 00:00:00 UTC");
	DT_BAD("01-Jan-2000 00:00:00");
	DT_BAD("01-Jan-2000 0:00:00 +0000");
	DT_BAD("01-Jan-2000 00:00:00  +0000");
	DT_BAD("01-Jan-2000\t00:00:00 +0000");
	DT_BAD("01-Jan-2000 00.00.00 +0000");
	DT_BAD("01-Jan-2000 -1:00:00 +0000");
	DT_BAD("01-Jan-2000 00:00:00 +0000 ");
	DT_BAD("\"01-Jan-2000 00:00:00 +0000\"");
	DT_BAD("01-Jan-00 00:00:00 +0000");

	/* Every byte of a valid date-time replaced by NUL, 'x' or 0xff. */
	static const char good[] = "17-Jul-1996 02:44:25 -0700";
	static const char repl[] = { '\0', 'x', '\xff' };
	for (size_t i = 0; i < sizeof(good) - 1; i++) {
		for (size_t r = 0; r < sizeof(repl); r++) {
			char s[sizeof(good)];
			int64_t u = 42;
			int z = 42;
			memcpy(s, good, sizeof(good));
			s[i] = repl[r];
			if (imap_datetime_parse(s, sizeof(good) - 1, &u, &z) != -1 || u != 42 || z != 42) {
				fprintf(stderr, "  accepted mutation at %zu\n", i);
				CHECK(0);
			}
		}
	}
}

static void test_format(void)
{
	FORMAT(0, 0, "\" 1-Jan-1970 00:00:00 +0000\"");
	FORMAT(837596665, -420, "\"17-Jul-1996 02:44:25 -0700\"");
	FORMAT(837596665, 330, "\"17-Jul-1996 15:14:25 +0530\"");
	FORMAT(837596665, -30, "\"17-Jul-1996 09:14:25 -0030\"");
	FORMAT(-1, 0, "\"31-Dec-1969 23:59:59 +0000\"");
	FORMAT(-2208988800LL, 0, "\" 1-Jan-1900 00:00:00 +0000\"");
	FORMAT(951782400, 0, "\"29-Feb-2000 00:00:00 +0000\"");
	/* Out-of-grammar values are clamped, never written malformed. */
	FORMAT(0, 100000, "\" 1-Jan-1970 23:59:00 +2359\"");
	FORMAT(0, -100000, "\"31-Dec-1969 00:01:00 -2359\"");
	FORMAT(INT64_MAX, 0, "\"31-Dec-9999 23:59:59 +0000\"");
	FORMAT(INT64_MIN, 0, "\" 1-Jan-0000 00:00:00 +0000\"");
	FORMAT(INT64_MAX, -1439, "\"31-Dec-9999 23:59:59 -2359\"");
	FORMAT(INT64_MIN, 1439, "\" 1-Jan-0000 00:00:00 +2359\"");
	FORMAT(253402300800LL, 0, "\"31-Dec-9999 23:59:59 +0000\"");   /* 10000-01-01 */
}

static void test_round_trip(void)
{
	const int64_t lo = -62167219200LL, hi = 253402300799LL;  /* 0000 .. 9999 UTC */
	int bad = 0;

	srand(777);
	for (int i = 0; i < 200000 && bad < 5; i++) {
		uint64_t r = ((uint64_t)rand() << 31) ^ (uint64_t)rand();
		int64_t utc = lo + (int64_t)(r % (uint64_t)(hi - lo + 1)), u;
		int zone = rand() % (2 * 1439 + 1) - 1439, z;
		buf_clear(&out);
		imap_datetime_format(utc, zone, &out);
		if (out.len != 28 || out.data[0] != '"' || out.data[27] != '"' ||
		    imap_datetime_parse((const char *)out.data + 1, 26, &u, &z) != 0 ||
		    z != zone) {
			bad++;
			continue;
		}
		/* Near the ends the local time can fall outside 0000..9999 and
		 * is clamped; everywhere else the instant comes back exactly. */
		if (u != utc && utc > lo + 86400 && utc < hi - 86400)
			bad++;
		/* Against the C library's UTC calendar (gmtime_r is not TZ
		 * dependent), where time_t reaches. */
		if (zone == 0 || i % 3 == 0) {
			time_t t = (time_t)utc;
			struct tm tm;
			char want[40];
			if (gmtime_r(&t, &tm) != NULL && tm.tm_year + 1900 >= 1000) {
				strftime(want, sizeof(want), "%d-%b-%Y %H:%M:%S", &tm);
				if (want[0] == '0')
					want[0] = ' ';
				buf_clear(&out);
				imap_datetime_format(utc, 0, &out);
				if (memcmp(out.data + 1, want, 20) != 0) {
					fprintf(stderr, "  %s vs %.20s\n", want, out.data + 1);
					bad++;
				}
			}
		}
	}
	CHECK(bad == 0);
}

static void test_utc_days(void)
{
	CHECK(imap_utc_days(0, 0) == 0);
	CHECK(imap_utc_days(-1, 0) == -1);
	CHECK(imap_utc_days(86399, 0) == 0);
	CHECK(imap_utc_days(86400, 0) == 1);
	CHECK(imap_utc_days(0, -1) == -1);
	CHECK(imap_utc_days(86399, 1) == 1);
	CHECK(imap_utc_days(-86400, 0) == -1);
	CHECK(imap_utc_days(-86401, 0) == -2);
	/* SEARCH ON: 17-Jul-1996 02:44:25 -0700 is on the 17th in its zone,
	 * the 17th in UTC, the 18th in Tokyo. */
	struct imap_date d = { 1996, 7, 17 };
	CHECK(imap_utc_days(837596665, -420) == imap_date_days(&d));
	CHECK(imap_utc_days(837596665, 0) == imap_date_days(&d));
	CHECK(imap_utc_days(837596665, 540) == imap_date_days(&d));
	CHECK(imap_utc_days(837596665 + 15 * 3600, 540) == imap_date_days(&d) + 1);
	/* No overflow at the extremes (UBSan checks). */
	CHECK(imap_utc_days(INT64_MAX, 1439) > 0);
	CHECK(imap_utc_days(INT64_MIN, -1439) < 0);
	CHECK(imap_utc_days(INT64_MIN, 100000) < 0);
}

int main(void)
{
	buf_init(&out);
	UNIT_RUN(test_date_valid);
	UNIT_RUN(test_date_invalid);
	UNIT_RUN(test_date_days);
	UNIT_RUN(test_datetime_valid);
	UNIT_RUN(test_datetime_invalid);
	UNIT_RUN(test_format);
	UNIT_RUN(test_round_trip);
	UNIT_RUN(test_utc_days);
	buf_free(&out);
	return unit_report("test_datetime");
}
