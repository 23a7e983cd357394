/* LIST/LSUB pattern matching (RFC 3501 §6.3.8): the table of the RFC's
 * wildcard rules, INBOX's case-insensitivity (§5.1), the cases a greedy
 * matcher gets wrong, hostile patterns, and an exhaustive comparison with
 * an obviously correct (exponential) reference matcher over a small
 * alphabet. */
#include "tests/unit/unit.h"
#include "server/imap/list_match.h"

#include <stdbool.h>
#include <stdint.h>

static struct arena arena;

static bool match(const char *pat, const char *name)
{
	struct imap_list_pattern *p = imap_list_pattern_compile(&arena, pat, strlen(pat), '/', 1000);

	return imap_list_match(p, name, strlen(name));
}

#define YES(pat, name) do { \
	if (!match((pat), (name))) { \
		fprintf(stderr, "  \"%s\" should match \"%s\"\n", (pat), (name)); \
		CHECK(0); \
	} \
} while (0)
#define NO(pat, name) do { \
	if (match((pat), (name))) { \
		fprintf(stderr, "  \"%s\" should not match \"%s\"\n", (pat), (name)); \
		CHECK(0); \
	} \
} while (0)

static void test_literals(void)
{
	YES("INBOX", "INBOX");
	YES("foo", "foo");
	NO("foo", "fo");
	NO("foo", "fooo");
	NO("foo", "Foo");             /* names other than INBOX are case-sensitive */
	YES("", "");
	NO("", "a");
	YES("a b/\"c\"", "a b/\"c\"");
	YES("Entw\xc3\xbcrfe", "Entw\xc3\xbcrfe");
	NO("Entw\xc3\xbcrfe", "Entw\xc3\x9crfe");
}

/* §6.3.8: "*" matches zero or more characters at this position; "%" is
 * like "*" but does not match a hierarchy delimiter. */
static void test_wildcards(void)
{
	YES("*", "a");
	YES("*", "a/b/c");
	YES("*", "");
	YES("%", "a");
	NO("%", "a/b");
	YES("%/%", "a/b");
	NO("%/%", "a/b/c");
	YES("a/*", "a/b/c");
	NO("a/*", "a");
	YES("a*", "a");
	YES("a*", "a/b");
	YES("a%", "a");
	YES("a%", "abc");
	NO("a%", "a/b");
	YES("*b", "a/b");
	YES("%b", "ab");
	NO("%b", "a/b");
	YES("a/%", "a/b");
	NO("a/%", "a/b/c");
	YES("*/c", "a/b/c");
	YES("%/%/c", "a/b/c");
	NO("%/c", "a/b/c");
	YES("a%c", "abc");
	YES("a%c", "ac");
	NO("a%c", "a/c");
	YES("a*c", "a/c");
	/* A literal '/' in the pattern matches the delimiter. */
	YES("a/b", "a/b");
	NO("a/b", "a/c");
}

/* Where a greedy left-to-right matcher fails: the first 'a' is the wrong
 * one to take. */
static void test_not_greedy(void)
{
	YES("*a%b", "a/ab");
	YES("%a%", "bab");
	YES("*a*a", "aaa");
	NO("*a*a", "a");
	YES("*/*/*", "a/b/c");
	NO("*/*/*", "a/b");
	YES("%*%", "a/b");         /* collapses to "*" */
	YES("%%", "ab");
	NO("%%", "a/b");
	YES("**", "a/b");
}

/* §5.1: INBOX is case-insensitive, alone and as the prefix of its
 * children; nothing else is. */
static void test_inbox(void)
{
	YES("inbox", "INBOX");
	YES("InBoX", "INBOX");
	YES("inbox/%", "INBOX/foo");
	YES("Inbox/*", "INBOX/foo/bar");
	YES("i*", "INBOX");
	YES("in%", "INBOX");
	YES("%x", "INBOX");
	NO("inbox/FOO", "INBOX/foo");   /* the child's own name keeps its case */
	NO("inbox", "INBOXES");
	NO("inboxes", "INBOXES");
	YES("INBOXES", "INBOXES");
	NO("inbox", "Inbox");           /* a stored "Inbox" is not INBOX */
}

/* A pattern with more literal characters than the longest name cannot
 * match, and must not cost memory or time for its length. */
static void test_limits(void)
{
	static char long_pat[5001], name[1001];
	struct imap_list_pattern *p;

	memset(long_pat, 'a', 5000);
	memset(name, 'a', 1000);
	p = imap_list_pattern_compile(&arena, long_pat, 5000, '/', 1000);
	CHECK(!imap_list_match(p, name, 1000));
	/* 1000 literals and 999 wildcards: allowed, and matches. */
	for (size_t i = 0; i < 1999; i++)
		long_pat[i] = i % 2 == 0 ? 'a' : (i % 4 == 1 ? '*' : '%');
	p = imap_list_pattern_compile(&arena, long_pat, 1999, '/', 1000);
	CHECK(imap_list_match(p, name, 1000));
	name[500] = '/';
	CHECK(imap_list_match(p, name, 1000) == false);  /* 1000 a's needed, 999 left */
	/* The classic exponential case for backtracking matchers. */
	p = imap_list_pattern_compile(&arena, "*a*a*a*a*a*a*a*a*a*a*a*a*b", 26, '/', 1000);
	CHECK(!imap_list_match(p, name, 1000));
}

/* The reference: the definition, recursively. */
static bool ref_match(const char *p, size_t pl, const char *n, size_t nl)
{
	if (pl == 0)
		return nl == 0;
	if (p[0] == '*' || p[0] == '%') {
		for (size_t k = 0; k <= nl; k++) {
			if (k > 0 && p[0] == '%' && n[k - 1] == '/')
				break;
			if (ref_match(p + 1, pl - 1, n + k, nl - k))
				return true;
		}
		return false;
	}
	return nl > 0 && p[0] == n[0] && ref_match(p + 1, pl - 1, n + 1, nl - 1);
}

/* Every pattern over {a, /, *, %} up to 6 characters against every name
 * over {a, b, /} up to 5. */
static void test_exhaustive(void)
{
	static const char pat_alpha[] = "a/*%", name_alpha[] = "ab/";
	char pat[8], name[8];
	unsigned mismatches = 0;

	for (size_t pl = 0; pl <= 6; pl++) {
		size_t pn = 1;

		for (size_t i = 0; i < pl; i++)
			pn *= 4;
		for (size_t pi = 0; pi < pn; pi++) {
			struct imap_list_pattern *p;
			size_t x = pi;

			for (size_t i = 0; i < pl; i++, x /= 4)
				pat[i] = pat_alpha[x % 4];
			p = imap_list_pattern_compile(&arena, pat, pl, '/', 1000);
			for (size_t nl = 0; nl <= 5; nl++) {
				size_t nn = 1;

				for (size_t i = 0; i < nl; i++)
					nn *= 3;
				for (size_t ni = 0; ni < nn; ni++) {
					size_t y = ni;

					for (size_t i = 0; i < nl; i++, y /= 3)
						name[i] = name_alpha[y % 3];
					if (imap_list_match(p, name, nl) != ref_match(pat, pl, name, nl) &&
					    mismatches++ < 5)
						fprintf(stderr, "  \"%.*s\" vs \"%.*s\" differs from the reference\n",
							(int)pl, pat, (int)nl, name);
				}
			}
			arena_reset(&arena);
		}
	}
	CHECK(mismatches == 0);
}

/* More than 64 items: the automaton's state spans several words, and a
 * carry between words must not be lost. */
static void test_multiword(void)
{
	char pat[200], name[200];

	for (size_t i = 0; i < 130; i++)
		pat[i] = name[i] = (char)('a' + i % 26);
	pat[130] = '\0';
	name[130] = '\0';
	YES(pat, name);
	pat[63] = '%';
	YES(pat, name);
	pat[64] = '*';
	YES(pat, name);
	name[129] = '#';
	NO(pat, name);
}

int main(void)
{
	arena_init(&arena);
	UNIT_RUN(test_literals);
	UNIT_RUN(test_wildcards);
	UNIT_RUN(test_not_greedy);
	UNIT_RUN(test_inbox);
	UNIT_RUN(test_limits);
	UNIT_RUN(test_exhaustive);
	UNIT_RUN(test_multiword);
	arena_free(&arena);
	return unit_report("test_list_match");
}
