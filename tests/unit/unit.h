/* A tiny unit-test harness: each tests/unit/test_*.c is one program whose
 * main() calls its test functions through UNIT_RUN and returns unit_report().
 * The last line printed is "<program>: N passed, N failed", which
 * tests/harness/run_unit.sh adds up into one closing line. */
#ifndef KAIRAN_TESTS_UNIT_H
#define KAIRAN_TESTS_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_passed, unit_failed, unit_current_failed;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		unit_current_failed = 1; \
	} \
} while (0)

/* Compares two byte strings with explicit lengths. */
#define CHECK_MEM(got, got_len, want, want_len) do { \
	size_t unit_gl_ = (got_len), unit_wl_ = (want_len); \
	if (unit_gl_ != unit_wl_ || (unit_wl_ > 0 && memcmp((got), (want), unit_wl_) != 0)) { \
		fprintf(stderr, "  %s:%d: got \"%.*s\" (%zu), want \"%.*s\" (%zu)\n", \
			__FILE__, __LINE__, (int)unit_gl_, (const char *)(got), unit_gl_, \
			(int)unit_wl_, (const char *)(want), unit_wl_); \
		unit_current_failed = 1; \
	} \
} while (0)

#define CHECK_STR(got, want) CHECK_MEM((got), strlen(got), (want), strlen(want))

#define UNIT_RUN(fn) do { \
	unit_current_failed = 0; \
	fn(); \
	if (unit_current_failed) { unit_failed++; fprintf(stderr, "FAIL %s\n", #fn); } \
	else unit_passed++; \
} while (0)

static inline int unit_report(const char *program)
{
	printf("%s: %d passed, %d failed\n", program, unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif
