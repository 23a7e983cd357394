/* SEARCH programs, built by the real parser from whole command lines,
 * including hostile nesting far beyond the parser's usual limits. */
#include "tests/unit/unit.h"
#include "tests/unit/parse_line.h"
#include "server/imap/parser.h"
#include "server/imap/search_args.h"
#include "server/imap/store_args.h"

#include <stdlib.h>

static struct arena arena;

/* Generous enough for 100,000 nested NOTs or parentheses: the point is
 * that the search parser, not the tokenizer, bounds them. */
static const struct imap_parser_limits limits = {
	.max_line = 4 << 20, .max_literal = 1 << 16, .max_literals = 10,
	.max_depth = 200000, .max_args = 1000000,
};

static const struct imap_arg *parse_line(const char *line, size_t len)
{
	return unit_parse_line(&limits, &arena, line, len);
}

/* Runs "a SEARCH <prog>". */
static int search_n(const char *prog, size_t len, bool allow_return,
		    struct imap_search_program *p, const char **err)
{
	char *line = malloc(len + 16);
	const struct imap_arg *args;

	memcpy(line, "a SEARCH ", 9);
	memcpy(line + 9, prog, len);
	memcpy(line + 9 + len, "\r\n", 2);
	args = parse_line(line, len + 11);
	free(line);
	*err = NULL;
	return imap_search_parse(&arena, args, allow_return, p, err);
}

static int search(const char *prog, struct imap_search_program *p, const char **err)
{
	return search_n(prog, strlen(prog), true, p, err);
}

/* A program of one key that must parse; returns that key. */
static const struct imap_search_key *one_n(const char *prog, size_t len)
{
	static struct imap_search_program p;
	const char *err;

	if (search_n(prog, len, true, &p, &err) != 0 || p.root->op != IMAP_SK_AND ||
	    p.root->nchildren != 1) {
		fprintf(stderr, "  %s: %s\n", prog, err ? err : "not one key");
		unit_current_failed = 1;
		static struct imap_search_key none;
		none.op = IMAP_SK_AND;
		return &none;
	}
	return &p.root->children[0];
}

static const struct imap_search_key *one(const char *prog)
{
	return one_n(prog, strlen(prog));
}

static void expect_error(const char *prog, int want, const char *error)
{
	struct imap_search_program p;
	const char *err;
	int r = search(prog, &p, &err);

	if (r != want || err == NULL || strcmp(err, error) != 0) {
		fprintf(stderr, "  %.60s: got %d \"%s\", want \"%s\"\n", prog, r, err ? err : "",
			error);
		unit_current_failed = 1;
	}
}

static bool str_is(const char *s, size_t len, const char *want)
{
	return s != NULL && len == strlen(want) && memcmp(s, want, len) == 0;
}

static void test_flag_keys(void)
{
	static const struct { const char *key; unsigned flag; bool negate; } cases[] = {
		{ "ANSWERED", IMAP_FLAG_ANSWERED, false }, { "deleted", IMAP_FLAG_DELETED, false },
		{ "Draft", IMAP_FLAG_DRAFT, false }, { "FLAGGED", IMAP_FLAG_FLAGGED, false },
		{ "SEEN", IMAP_FLAG_SEEN, false }, { "UNANSWERED", IMAP_FLAG_ANSWERED, true },
		{ "undeleted", IMAP_FLAG_DELETED, true }, { "UNDRAFT", IMAP_FLAG_DRAFT, true },
		{ "UnFlagged", IMAP_FLAG_FLAGGED, true }, { "UNSEEN", IMAP_FLAG_SEEN, true },
	};
	static const struct { const char *key; enum imap_search_op op; } plain[] = {
		{ "ALL", IMAP_SK_ALL }, { "new", IMAP_SK_NEW }, { "OLD", IMAP_SK_OLD },
		{ "Recent", IMAP_SK_RECENT },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct imap_search_key *k = one(cases[i].key);
		CHECK(k->op == IMAP_SK_FLAG && k->flag == cases[i].flag && k->negate == cases[i].negate);
	}
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		CHECK(one(plain[i].key)->op == plain[i].op);
}

static void test_string_keys(void)
{
	static const struct { const char *prog, *field, *value; bool address; } headers[] = {
		{ "FROM alice", "FROM", "alice", true },
		{ "to \"Bob Smith\"", "TO", "Bob Smith", true },
		{ "CC {5}\r\ncarol", "CC", "carol", true },
		{ "BCC {4+}\r\ndave", "BCC", "dave", true },
		{ "SUBJECT \"hello world\"", "SUBJECT", "hello world", false },
		{ "HEADER X-Spam-Flag YES", "X-Spam-Flag", "YES", false },
		{ "header \"Message-ID\" \"\"", "Message-ID", "", false },
	};
	const struct imap_search_key *k;

	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		k = one(headers[i].prog);
		CHECK(k->op == IMAP_SK_HEADER && k->u.str.address == headers[i].address);
		CHECK(str_is(k->u.str.field, k->u.str.field_len, headers[i].field));
		CHECK(str_is(k->u.str.value, k->u.str.value_len, headers[i].value));
	}
	k = one("BODY \"caf\xc3\xa9\"");
	CHECK(k->op == IMAP_SK_BODY && str_is(k->u.str.value, k->u.str.value_len, "caf\xc3\xa9"));
	k = one_n("TEXT {3}\r\na\0b", 13);
	CHECK(k->op == IMAP_SK_TEXT && k->u.str.value_len == 3 && k->u.str.value[1] == '\0');
	k = one("KEYWORD $Forwarded");
	CHECK(k->op == IMAP_SK_KEYWORD && str_is(k->u.str.value, k->u.str.value_len, "$Forwarded"));
	k = one("unkeyword Junk");
	CHECK(k->op == IMAP_SK_UNKEYWORD && str_is(k->u.str.value, k->u.str.value_len, "Junk"));
}

static void test_date_and_number_keys(void)
{
	static const struct { const char *key; enum imap_search_op op; } dates[] = {
		{ "BEFORE", IMAP_SK_BEFORE }, { "ON", IMAP_SK_ON }, { "SINCE", IMAP_SK_SINCE },
		{ "SENTBEFORE", IMAP_SK_SENTBEFORE }, { "senton", IMAP_SK_SENTON },
		{ "SentSince", IMAP_SK_SENTSINCE },
		{ "SAVEDBEFORE", IMAP_SK_SAVEDBEFORE }, { "savedon", IMAP_SK_SAVEDON },
		{ "SavedSince", IMAP_SK_SAVEDSINCE },
	};
	const struct imap_search_key *k;
	char prog[64];

	for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		snprintf(prog, sizeof(prog), "%s 1-Feb-1994", dates[i].key);
		k = one(prog);
		CHECK(k->op == dates[i].op && k->u.date.year == 1994 && k->u.date.month == 2 &&
		      k->u.date.day == 1);
		snprintf(prog, sizeof(prog), "%s \"29-feb-2024\"", dates[i].key);
		k = one(prog);
		CHECK(k->op == dates[i].op && k->u.date.day == 29 && k->u.date.month == 2);
	}
	k = one("LARGER 0");
	CHECK(k->op == IMAP_SK_LARGER && k->u.number == 0);
	k = one("smaller 9223372036854775807");
	CHECK(k->op == IMAP_SK_SMALLER && k->u.number == INT64_MAX);
	k = one("LARGER 4294967296");
	CHECK(k->u.number == 4294967296ll);
	k = one("OLDER 3600");
	CHECK(k->op == IMAP_SK_OLDER && k->u.number == 3600);
	k = one("YOUNGER 4294967295");
	CHECK(k->op == IMAP_SK_YOUNGER && k->u.number == 4294967295ll);
}

/* RFC 8474 §6 and RFC 8514 §4.3. */
static void test_objectid_and_savedate_keys(void)
{
	const struct imap_search_key *k;
	char prog[300];

	k = one("EMAILID E12");
	CHECK(k->op == IMAP_SK_EMAILID);
	CHECK_MEM(k->u.str.value, k->u.str.value_len, "E12", 3);
	k = one("threadid \"T_a-9\"");
	CHECK(k->op == IMAP_SK_THREADID);
	CHECK_MEM(k->u.str.value, k->u.str.value_len, "T_a-9", 5);
	memset(prog, 'x', sizeof(prog));
	memcpy(prog, "EMAILID ", 8);
	prog[8 + 255] = '\0';
	CHECK(one(prog)->u.str.value_len == 255);
	prog[8 + 255] = 'x';
	prog[8 + 256] = '\0';
	expect_error(prog, -1, "Invalid object id (1 to 255 letters, digits, _ or -)");
	expect_error("EMAILID", -1, "Invalid object id (1 to 255 letters, digits, _ or -)");
	expect_error("EMAILID \"\"", -1, "Invalid object id (1 to 255 letters, digits, _ or -)");
	expect_error("EMAILID a.b", -1, "Invalid object id (1 to 255 letters, digits, _ or -)");
	expect_error("THREADID (T1)", -1, "Invalid object id (1 to 255 letters, digits, _ or -)");
	expect_error("EMAILID {3}\r\na b", -1, "Invalid object id (1 to 255 letters, digits, _ or -)");
	CHECK(one("SAVEDATESUPPORTED")->op == IMAP_SK_SAVEDATESUPPORTED);
	expect_error("SAVEDON 2001-02-03", -1, "Invalid date (d-Mon-yyyy expected)");
}

static void test_sets(void)
{
	const struct imap_search_key *k;

	k = one("1:5,7,*");
	CHECK(k->op == IMAP_SK_SEQSET && k->u.set.count == 3 && k->u.set.ranges[0].lo == 1 &&
	      k->u.set.ranges[0].hi == 5 && k->u.set.ranges[2].lo == IMAP_SEQ_STAR);
	k = one("UID 100:*");
	CHECK(k->op == IMAP_SK_UIDSET && k->u.set.count == 1 && k->u.set.ranges[0].lo == 100);
	k = one("$");
	CHECK(k->op == IMAP_SK_SEQSET && k->u.set.saved);
	k = one("uid $");
	CHECK(k->op == IMAP_SK_UIDSET && k->u.set.saved);
	k = one("*");
	CHECK(k->op == IMAP_SK_SEQSET && k->u.set.count == 1);
}

static void test_modseq(void)
{
	struct imap_search_program p;
	const struct imap_search_key *k;
	const char *err;

	CHECK(search("MODSEQ 620162338", &p, &err) == 0 && p.modseq);
	k = &p.root->children[0];
	CHECK(k->op == IMAP_SK_MODSEQ && k->u.modseq.value == 620162338 &&
	      k->u.modseq.entry == NULL && k->u.modseq.type == IMAP_SEARCH_MODSEQ_ANY);
	k = one("MODSEQ \"/flags/\\\\draft\" all 620162338");
	CHECK(k->op == IMAP_SK_MODSEQ && k->u.modseq.value == 620162338 &&
	      k->u.modseq.type == IMAP_SEARCH_MODSEQ_ALL);
	CHECK(str_is(k->u.modseq.entry, k->u.modseq.entry_len, "/flags/\\draft"));
	k = one("modseq \"/FLAGS/$Junk\" PRIV 0");
	CHECK(k->u.modseq.type == IMAP_SEARCH_MODSEQ_PRIV && k->u.modseq.value == 0);
	k = one("MODSEQ /flags/$Junk shared 9223372036854775807");
	CHECK(k->u.modseq.type == IMAP_SEARCH_MODSEQ_SHARED && k->u.modseq.value == INT64_MAX);
	CHECK(search("ALL", &p, &err) == 0 && !p.modseq);
	expect_error("MODSEQ", -1, "Invalid MODSEQ entry name");
	expect_error("MODSEQ x", -1, "Invalid MODSEQ entry name");
	expect_error("MODSEQ \"/flags/\" all 5", -1, "Invalid MODSEQ entry name");
	expect_error("MODSEQ \"/flags/\\\\\" all 5", -1, "Invalid MODSEQ entry name");
	expect_error("MODSEQ \"/other/x\" all 5", -1, "Invalid MODSEQ entry name");
	expect_error("MODSEQ \"/flags/a b\" all 5", -1, "Invalid MODSEQ entry name");
	expect_error("MODSEQ 9223372036854775808", -1, "Invalid MODSEQ value");
	expect_error("MODSEQ 12x", -1, "Invalid MODSEQ value");
	expect_error("MODSEQ \"/flags/\\\\Seen\" 5", -1, "Invalid MODSEQ entry type");
	expect_error("MODSEQ \"/flags/\\\\Seen\"", -1, "Invalid MODSEQ entry type");
	expect_error("MODSEQ \"/flags/\\\\Seen\" both 5", -1, "Invalid MODSEQ entry type");
	expect_error("MODSEQ \"/flags/\\\\Seen\" all", -1, "Invalid MODSEQ value");
	expect_error("MODSEQ \"/flags/\\\\Seen\" all -1", -1, "Invalid MODSEQ value");
	expect_error("MODSEQ \"/flags/\\\\Seen\" all 9223372036854775808", -1,
		     "Invalid MODSEQ value");
}

static void test_structure(void)
{
	struct imap_search_program p;
	const struct imap_search_key *k;
	const char *err;

	CHECK(search("NOT SEEN OR FROM a (TO b SUBJECT c) 1:3 DELETED", &p, &err) == 0);
	CHECK(p.root->op == IMAP_SK_AND && p.root->nchildren == 4 && !p.esearch);
	k = &p.root->children[0];
	CHECK(k->op == IMAP_SK_NOT && k->nchildren == 1 && k->children[0].op == IMAP_SK_FLAG);
	k = &p.root->children[1];
	CHECK(k->op == IMAP_SK_OR && k->nchildren == 2 && k->children[0].op == IMAP_SK_HEADER);
	CHECK(k->children[1].op == IMAP_SK_AND && k->children[1].nchildren == 2);
	CHECK(str_is(k->children[1].children[1].u.str.field,
		     k->children[1].children[1].u.str.field_len, "SUBJECT"));
	CHECK(p.root->children[2].op == IMAP_SK_SEQSET);
	CHECK(p.root->children[3].op == IMAP_SK_FLAG && p.root->children[3].flag == IMAP_FLAG_DELETED);
	/* Nested OR and NOT inside lists. */
	CHECK(search("OR (NOT (SEEN)) OR ANSWERED FLAGGED", &p, &err) == 0);
	CHECK(p.root->nchildren == 1 && p.root->children[0].children[1].op == IMAP_SK_OR);
}

static void test_return_and_charset(void)
{
	struct imap_search_program p;
	const char *err;

	CHECK(search("RETURN (MIN MAX COUNT ALL SAVE) ALL", &p, &err) == 0 && p.esearch);
	CHECK(p.return_opts == (IMAP_SEARCH_RETURN_MIN | IMAP_SEARCH_RETURN_MAX |
				IMAP_SEARCH_RETURN_COUNT | IMAP_SEARCH_RETURN_ALL |
				IMAP_SEARCH_RETURN_SAVE));
	CHECK(search("return (count) UNSEEN", &p, &err) == 0 && p.esearch &&
	      p.return_opts == IMAP_SEARCH_RETURN_COUNT);
	CHECK(search("RETURN () ALL", &p, &err) == 0 && p.esearch &&
	      p.return_opts == IMAP_SEARCH_RETURN_ALL);
	CHECK(search("RETURN (save) CHARSET utf-8 FROM x", &p, &err) == 0 &&
	      p.return_opts == IMAP_SEARCH_RETURN_SAVE && p.root->nchildren == 1);
	CHECK(search("CHARSET US-ASCII ALL", &p, &err) == 0 && !p.esearch && p.return_opts == 0);
	CHECK(search("CHARSET \"UTF-8\" ALL", &p, &err) == 0);
	CHECK(search("CHARSET {5}\r\nutf-8 ALL", &p, &err) == 0);
	CHECK(search_n("RETURN (MIN) ALL", 16, false, &p, &err) == -1);
	CHECK(err && strcmp(err, "RETURN is not allowed here") == 0);
	CHECK(search_n("ALL", 3, false, &p, &err) == 0 && !p.esearch);
	expect_error("RETURN ALL", -1, "RETURN needs a list of options");
	expect_error("RETURN", -1, "RETURN needs a list of options");
	expect_error("RETURN (MIN PARTIAL) ALL", -1, "Unknown RETURN option");
	expect_error("RETURN (\"MIN\") ALL", -1, "Unknown RETURN option");
	expect_error("RETURN (MIN)", -1, "Missing search criteria");
	expect_error("CHARSET ISO-8859-1 ALL", -2, "BADCHARSET");
	expect_error("CHARSET UTF-16 FROM x", -2, "BADCHARSET");
	expect_error("CHARSET", -1, "CHARSET needs a charset name");
	expect_error("CHARSET (UTF-8) ALL", -1, "CHARSET needs a charset name");
	expect_error("CHARSET UTF-8", -1, "Missing search criteria");
	expect_error("CHARSET UTF-8 RETURN (MIN) ALL", -1, "Unknown search key");
}

static void test_errors(void)
{
	struct imap_search_program p;
	const char *err;
	const struct imap_arg *args = parse_line("a SEARCH\r\n", 10);

	CHECK(imap_search_parse(&arena, args, true, &p, &err) == -1);
	CHECK_STR(err, "Missing search criteria");
	expect_error("FOO", -1, "Unknown search key");
	expect_error("SEEN FOO", -1, "Unknown search key");
	expect_error("\"ALL\"", -1, "Invalid search key");
	expect_error("{3}\r\nALL", -1, "Invalid search key");
	expect_error("()", -1, "Empty search key list");
	expect_error("NOT", -1, "Missing search key");
	expect_error("OR SEEN", -1, "Missing search key");
	expect_error("(NOT)", -1, "Missing search key");
	expect_error("1:0", -1, "Invalid sequence set");
	expect_error("1,,2", -1, "Invalid sequence set");
	expect_error("UID", -1, "Invalid sequence set");
	expect_error("UID x", -1, "Invalid sequence set");
	expect_error("UID \"1:2\"", -1, "Invalid sequence set");
	expect_error("FROM", -1, "Search key needs a string argument");
	expect_error("SUBJECT (a)", -1, "Search key needs a string argument");
	expect_error("BODY a*b", -1, "Search key needs a string argument");
	expect_error("TEXT ~{1}\r\nx", -1, "Search key needs a string argument");
	expect_error("HEADER X-Foo", -1, "HEADER needs a field name and a string");
	expect_error("HEADER", -1, "HEADER needs a field name and a string");
	expect_error("HEADER (X) y", -1, "HEADER needs a field name and a string");
	expect_error("BEFORE", -1, "Invalid date (d-Mon-yyyy expected)");
	expect_error("BEFORE 1-Foo-2020", -1, "Invalid date (d-Mon-yyyy expected)");
	expect_error("ON 30-Feb-2020", -1, "Invalid date (d-Mon-yyyy expected)");
	expect_error("SINCE {10}\r\n1-Jan-2020", -1, "Invalid date (d-Mon-yyyy expected)");
	expect_error("SENTON \"1-Jan-20\"", -1, "Invalid date (d-Mon-yyyy expected)");
	expect_error("LARGER", -1, "Invalid size");
	expect_error("LARGER -1", -1, "Invalid size");
	expect_error("LARGER 1k", -1, "Invalid size");
	expect_error("SMALLER \"5\"", -1, "Invalid size");
	expect_error("SMALLER 9223372036854775808", -1, "Invalid size");
	expect_error("LARGER 99999999999999999999999", -1, "Invalid size");
	expect_error("OLDER 0", -1, "Invalid interval");
	expect_error("YOUNGER 4294967296", -1, "Invalid interval");
	expect_error("OLDER", -1, "Invalid interval");
	expect_error("KEYWORD", -1, "Invalid keyword");
	expect_error("KEYWORD \\Seen", -1, "KEYWORD takes a keyword, not a system flag");
	expect_error("UNKEYWORD \"$Junk\"", -1, "Invalid keyword");
	expect_error("KEYWORD a*b", -1, "Invalid keyword");
}

/* Builds "<prefix> x count, then <middle>, then <suffix> x count". */
static char *repeat(const char *prefix, size_t count, const char *middle, const char *suffix,
		    size_t *len_r)
{
	size_t pl = strlen(prefix), ml = strlen(middle), sl = strlen(suffix);
	char *s = malloc(count * (pl + sl) + ml + 1);
	size_t n = 0;

	for (size_t i = 0; i < count; i++, n += pl)
		memcpy(s + n, prefix, pl);
	memcpy(s + n, middle, ml);
	n += ml;
	for (size_t i = 0; i < count; i++, n += sl)
		memcpy(s + n, suffix, sl);
	*len_r = n;
	return s;
}

static void expect_depth(const char *prefix, size_t count, const char *middle,
			 const char *suffix, int want)
{
	struct imap_search_program p;
	const char *err;
	size_t len;
	char *s = repeat(prefix, count, middle, suffix, &len);
	int r = search_n(s, len, true, &p, &err);

	free(s);
	if (r != want || (want == -1 && strcmp(err, "Search program too complex") != 0)) {
		fprintf(stderr, "  %s x %zu: got %d %s\n", prefix, count, r, err ? err : "");
		unit_current_failed = 1;
	}
}

static void test_hostile_nesting(void)
{
	expect_depth("NOT ", 64, "ALL", "", 0);
	expect_depth("NOT ", 65, "ALL", "", -1);
	expect_depth("NOT ", 100000, "ALL", "", -1);
	expect_depth("(", 64, "ALL", ")", 0);
	expect_depth("(", 65, "ALL", ")", -1);
	expect_depth("(", 100000, "ALL", ")", -1);
	expect_depth("OR ALL ", 64, "ALL", "", 0);
	expect_depth("OR ALL ", 65, "ALL", "", -1);
	expect_depth("OR ", 100000, "ALL", " ALL", -1);
	expect_depth("(NOT ", 32, "ALL", ")", 0);
	expect_depth("(NOT ", 33, "ALL", ")", -1);
	expect_depth("NOT (OR ALL ", 50000, "ALL", ")", -1);
}

static void test_key_count(void)
{
	/* 10,000 keys are fine (the implicit top-level AND is not one of
	 * them), 10,001 are not; nodes inside lists count too. */
	expect_depth("ALL ", 9999, "ALL", "", 0);
	expect_depth("ALL ", 10000, "ALL", "", -1);
	expect_depth("ALL ", 100000, "ALL", "", -1);
	expect_depth("(ALL) ", 4999, "ALL", "", 0);     /* 2 x 4999 + 1 keys */
	expect_depth("(ALL) ", 5000, "ALL", "", -1);
	expect_depth("FROM x ", 9999, "ALL", "", 0);
	expect_depth("NOT ALL ", 5000, "ALL", "", -1);
}

int main(void)
{
	arena_init(&arena);
	UNIT_RUN(test_flag_keys);
	UNIT_RUN(test_string_keys);
	UNIT_RUN(test_date_and_number_keys);
	UNIT_RUN(test_objectid_and_savedate_keys);
	UNIT_RUN(test_sets);
	UNIT_RUN(test_modseq);
	UNIT_RUN(test_structure);
	UNIT_RUN(test_return_and_charset);
	UNIT_RUN(test_errors);
	UNIT_RUN(test_hostile_nesting);
	UNIT_RUN(test_key_count);
	arena_free(&arena);
	return unit_report("test_search_args");
}
