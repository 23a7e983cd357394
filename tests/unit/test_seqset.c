/* Sequence sets (RFC 3501 §9, RFC 5182): the grammar, resolution of '*',
 * the canonical form, and hostile input. */
#include "tests/unit/unit.h"
#include "server/imap/seqset.h"

#include <stdint.h>
#include <stdlib.h>

static struct arena arena;
static struct buf out;

/* Parses a string literal (sizeof, so embedded NULs count) with a generous
 * limit. */
#define PARSE(s, set) imap_seqset_parse(&arena, (s), sizeof(s) - 1, 100, (set))

/* Parse, resolve, format: the whole pipeline in one comparison. */
static void expect_resolved(const char *s, uint32_t max, bool clamp, const char *want)
{
	struct imap_seqset p, r;

	buf_clear(&out);
	if (imap_seqset_parse(&arena, s, strlen(s), 100, &p) != 0) {
		fprintf(stderr, "  parse failed: %s\n", s);
		CHECK(0);
		return;
	}
	imap_seqset_resolve(&arena, &p, max, clamp, &r);
	imap_seqset_format(&r, &out);
	CHECK_MEM(out.data, out.len, want, strlen(want));
}

static void test_parse_valid(void)
{
	struct imap_seqset s;

	CHECK(PARSE("1", &s) == 0 && s.count == 1 && s.ranges[0].lo == 1 &&
	      s.ranges[0].hi == 1 && !s.saved);
	CHECK(PARSE("1:5", &s) == 0 && s.count == 1 && s.ranges[0].lo == 1 && s.ranges[0].hi == 5);
	/* Wire order is kept until resolution. */
	CHECK(PARSE("5:1", &s) == 0 && s.ranges[0].lo == 5 && s.ranges[0].hi == 1);
	CHECK(PARSE("*", &s) == 0 && s.count == 1 && s.ranges[0].lo == IMAP_SEQ_STAR &&
	      s.ranges[0].hi == IMAP_SEQ_STAR);
	CHECK(PARSE("3:*", &s) == 0 && s.ranges[0].lo == 3 && s.ranges[0].hi == IMAP_SEQ_STAR);
	CHECK(PARSE("*:3", &s) == 0 && s.ranges[0].lo == IMAP_SEQ_STAR && s.ranges[0].hi == 3);
	CHECK(PARSE("*:*", &s) == 0 && s.count == 1);
	CHECK(PARSE("1,3:5,7", &s) == 0 && s.count == 3 && s.ranges[1].lo == 3 &&
	      s.ranges[1].hi == 5 && s.ranges[2].lo == 7);
	CHECK(PARSE("4294967295", &s) == 0 && s.ranges[0].lo == UINT32_MAX);
	CHECK(PARSE("1:4294967295", &s) == 0 && s.ranges[0].hi == UINT32_MAX);
	CHECK(PARSE("10", &s) == 0 && s.ranges[0].lo == 10);
	CHECK(PARSE("$", &s) == 0 && s.saved && s.count == 0 && s.ranges == NULL);
}

static void test_parse_invalid(void)
{
	static const char *const bad[] = {
		"0", "00", "01", "007", "1:0", "0:1", "0:*",  /* nz-number */
		"4294967296", "1:4294967296", "99999999999999999999999",
		"18446744073709551617",                        /* wraps 64 bits */
		",", "1,", ",1", "1,,2", ":", "1:", ":1", "1::2", "1:2:3", "::",
		" 1", "1 ", "1, 2", "1 ,2", "1:\t2",
		"+1", "-1", "1-5", "1.5", "1;2", "a", "1a", "0x10",
		"**", "*1", "1*", "*:", ":*", "*,", "*:*:*",
		"$1", "$,1", "1,$", "1:$", "$:1", "$$", "$ ",
		"\xef\xbc\x91",                                /* fullwidth digit one */
	};
	struct imap_seqset s;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s.count = 99;
		if (imap_seqset_parse(&arena, bad[i], strlen(bad[i]), 100, &s) != -1) {
			fprintf(stderr, "  accepted: \"%s\"\n", bad[i]);
			CHECK(0);
		}
		/* A failed parse leaves an empty set, never half a set. */
		CHECK(s.count == 0 && !s.saved);
	}
	CHECK(imap_seqset_parse(&arena, "", 0, 100, &s) == -1);
	/* NUL bytes: explicit lengths, so a NUL is just another bad byte. */
	CHECK(PARSE("1\0", &s) == -1);
	CHECK(PARSE("\0" "1", &s) == -1);
	CHECK(PARSE("1\0:5", &s) == -1);
	CHECK(PARSE("$\0", &s) == -1);
	/* The length is honoured: only "1:5" of "1:5,x" is read. */
	CHECK(imap_seqset_parse(&arena, "1:5,x", 3, 100, &s) == 0 && s.count == 1);
}

static void test_parse_limits(void)
{
	struct imap_seqset s;
	size_t n = 100000;
	char *big = malloc(2 * n);

	CHECK(imap_seqset_parse(&arena, "1,2,3", 5, 3, &s) == 0 && s.count == 3);
	CHECK(imap_seqset_parse(&arena, "1,2,3", 5, 2, &s) == -1);
	CHECK(imap_seqset_parse(&arena, "1", 1, 0, &s) == -1);
	CHECK(imap_seqset_parse(&arena, "$", 1, 0, &s) == 0 && s.saved);

	/* A hostile "1,1,1,...": refused by the limit before allocating, and
	 * accepted (then merged to one range) when the limit allows it. */
	for (size_t i = 0; i < n; i++) {
		big[2 * i] = '1';
		big[2 * i + 1] = ',';
	}
	size_t before = arena.total;
	CHECK(imap_seqset_parse(&arena, big, 2 * n - 1, 1000, &s) == -1);
	CHECK(arena.total == before);
	CHECK(imap_seqset_parse(&arena, big, 2 * n, n + 1, &s) == -1);  /* trailing comma */
	CHECK(imap_seqset_parse(&arena, big, 2 * n - 1, n, &s) == 0 && s.count == n);
	struct imap_seqset r;
	imap_seqset_resolve(&arena, &s, 10, true, &r);
	CHECK(r.count == 1 && r.ranges[0].lo == 1 && r.ranges[0].hi == 1);

	/* A huge run of digits overflows early and is refused. */
	memset(big, '9', 2 * n);
	CHECK(imap_seqset_parse(&arena, big, 2 * n, 100, &s) == -1);
	free(big);
}

static void test_resolve_star(void)
{
	expect_resolved("*", 10, true, "10");
	expect_resolved("3:*", 10, true, "3:10");
	expect_resolved("*:3", 10, true, "3:10");
	expect_resolved("*:*", 7, false, "7");
	expect_resolved("5:1", 10, true, "1:5");
	/* Message sequence numbers past EXISTS are trimmed or dropped. */
	expect_resolved("5:*", 2, true, "2");
	expect_resolved("8:20", 10, true, "8:10");
	expect_resolved("11:20,3", 10, true, "3");
	expect_resolved("11", 10, true, "");
	/* UIDs are not clamped: "559:*" includes the last UID (RFC 3501 §6.4.8). */
	expect_resolved("559:*", 500, false, "500:559");
	expect_resolved("600,700", 500, false, "600,700");
	/* An empty mailbox: '*' names nothing. */
	expect_resolved("*", 0, true, "");
	expect_resolved("*", 0, false, "");
	expect_resolved("1:*", 0, true, "");
	expect_resolved("1:*,4", 0, false, "4");
	expect_resolved("1:*,4", 0, true, "");
	expect_resolved("4294967295:*", UINT32_MAX, false, "4294967295");
}

static void test_resolve_merge(void)
{
	expect_resolved("1,2,3", 100, true, "1:3");
	expect_resolved("7:9,1:3,5", 100, true, "1:3,5,7:9");
	expect_resolved("1:5,3:8", 100, true, "1:8");
	expect_resolved("1:5,6:8", 100, true, "1:8");         /* adjacent */
	expect_resolved("1:5,7:8", 100, true, "1:5,7:8");     /* a gap of one */
	expect_resolved("2:3,1:10", 100, true, "1:10");       /* contained */
	expect_resolved("1:10,2:3", 100, true, "1:10");
	expect_resolved("9,9,9", 100, true, "9");
	expect_resolved("20:10,15:25,1", 100, true, "1,10:25");
	expect_resolved("*,1:*", 5, true, "1:5");
	/* Ranges ending at the largest number must not wrap when merged. */
	expect_resolved("4294967295,1:4294967294", UINT32_MAX, false, "1:4294967295");
	expect_resolved("4294967295,4294967295", 0, false, "4294967295");
	expect_resolved("1:4294967295,4294967295:1", 0, false, "1:4294967295");
}

static void test_resolve_saved(void)
{
	struct imap_seqset p, r;

	CHECK(PARSE("$", &p) == 0);
	imap_seqset_resolve(&arena, &p, 10, true, &r);
	CHECK(r.saved && r.count == 0);

	/* Resolving in place. */
	CHECK(PARSE("9,*,1:3", &p) == 0);
	imap_seqset_resolve(&arena, &p, 5, true, &p);
	CHECK(!p.saved && p.count == 2 && p.ranges[0].lo == 1 && p.ranges[0].hi == 3 &&
	      p.ranges[1].lo == 5 && p.ranges[1].hi == 5);
}

static void test_in_range(void)
{
	struct imap_seqset p;

	CHECK(PARSE("1:5,*", &p) == 0);
	CHECK(imap_seqset_in_range(&p, 5));
	CHECK(!imap_seqset_in_range(&p, 4));
	CHECK(PARSE("*", &p) == 0);
	CHECK(imap_seqset_in_range(&p, 1));
	CHECK(!imap_seqset_in_range(&p, 0));
	CHECK(PARSE("5:1", &p) == 0);
	CHECK(!imap_seqset_in_range(&p, 4));
	CHECK(PARSE("$", &p) == 0);
	CHECK(imap_seqset_in_range(&p, 0));
}

static void test_contains_and_count(void)
{
	struct imap_seqset p, r;

	CHECK(PARSE("1:3,5,7:9,100:200", &p) == 0);
	imap_seqset_resolve(&arena, &p, 1000, true, &r);
	CHECK(imap_seqset_count(&r) == 3 + 1 + 3 + 101);
	static const uint32_t in[] = { 1, 2, 3, 5, 7, 8, 9, 100, 150, 200 };
	static const uint32_t notin[] = { 0, 4, 6, 10, 99, 201, 1000, UINT32_MAX };
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		CHECK(imap_seqset_contains(&r, in[i]));
	for (size_t i = 0; i < sizeof(notin) / sizeof(notin[0]); i++)
		CHECK(!imap_seqset_contains(&r, notin[i]));

	/* The whole 32-bit space, twice: the 64-bit count does not overflow. */
	CHECK(PARSE("1:4294967295", &p) == 0);
	imap_seqset_resolve(&arena, &p, 1, false, &r);
	CHECK(imap_seqset_count(&r) == UINT32_MAX);
	CHECK(imap_seqset_contains(&r, UINT32_MAX) && imap_seqset_contains(&r, 1));
	CHECK(!imap_seqset_contains(&r, 0));

	/* The empty set. */
	CHECK(PARSE("*", &p) == 0);
	imap_seqset_resolve(&arena, &p, 0, true, &r);
	CHECK(r.count == 0 && r.ranges == NULL && imap_seqset_count(&r) == 0);
	CHECK(!imap_seqset_contains(&r, 1));
}

/* Every number of a random set agrees between contains() and a bitmap. */
static void test_contains_matches_bitmap(void)
{
	enum { MAXN = 300 };
	char text[4096];

	srand(12345);
	for (int round = 0; round < 200; round++) {
		bool bitmap[MAXN + 2] = { false };
		size_t len = 0, elements = 1 + (size_t)(rand() % 12);
		struct imap_seqset p, r;

		for (size_t e = 0; e < elements; e++) {
			unsigned lo = 1 + (unsigned)(rand() % MAXN), hi = 1 + (unsigned)(rand() % MAXN);
			int n;
			if (rand() % 3 == 0) {
				hi = lo;
				n = snprintf(text + len, sizeof(text) - len, "%s%u", e ? "," : "", lo);
			} else
				n = snprintf(text + len, sizeof(text) - len, "%s%u:%u",
						e ? "," : "", lo, hi);
			len += (size_t)n;
			for (unsigned k = lo < hi ? lo : hi; k <= (lo < hi ? hi : lo); k++)
				bitmap[k] = true;
		}
		CHECK(imap_seqset_parse(&arena, text, len, 100, &p) == 0);
		imap_seqset_resolve(&arena, &p, MAXN, true, &r);
		uint64_t count = 0;
		for (uint32_t k = 0; k <= MAXN + 1; k++) {
			CHECK(imap_seqset_contains(&r, k) == bitmap[k]);
			count += bitmap[k];
		}
		CHECK(imap_seqset_count(&r) == count);
		/* Canonical: ascending, disjoint, separated by gaps. */
		for (size_t i = 0; i < r.count; i++) {
			CHECK(r.ranges[i].lo <= r.ranges[i].hi);
			if (i > 0)
				CHECK(r.ranges[i].lo > r.ranges[i - 1].hi + 1);
		}
		/* The formatted form parses back to the same set. */
		struct imap_seqset p2, r2;
		buf_clear(&out);
		imap_seqset_format(&r, &out);
		CHECK(imap_seqset_parse(&arena, (const char *)out.data, out.len, 100, &p2) == 0);
		imap_seqset_resolve(&arena, &p2, MAXN, true, &r2);
		CHECK(r2.count == r.count &&
		      memcmp(r2.ranges, r.ranges, r.count * sizeof(*r.ranges)) == 0);
		arena_reset(&arena);
	}
}

int main(void)
{
	arena_init(&arena);
	buf_init(&out);
	UNIT_RUN(test_parse_valid);
	UNIT_RUN(test_parse_invalid);
	UNIT_RUN(test_parse_limits);
	UNIT_RUN(test_resolve_star);
	UNIT_RUN(test_resolve_merge);
	UNIT_RUN(test_resolve_saved);
	UNIT_RUN(test_in_range);
	UNIT_RUN(test_contains_and_count);
	UNIT_RUN(test_contains_matches_bitmap);
	buf_free(&out);
	arena_free(&arena);
	return unit_report("test_seqset");
}
