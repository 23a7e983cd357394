/* Flag lists, STORE and STATUS arguments, built by the real parser from
 * whole command lines. */
#include "tests/unit/unit.h"
#include "tests/unit/parse_line.h"
#include "server/imap/parser.h"
#include "server/imap/store_args.h"

#include <stdlib.h>

static struct arena arena;

static const struct imap_parser_limits limits = {
	.max_line = 1 << 20, .max_literal = 1 << 16, .max_literals = 10,
	.max_depth = 100, .max_args = 100000,
};

static const struct imap_arg *parse_line(const char *line, size_t len)
{
	return unit_parse_line(&limits, &arena, line, len);
}

#define ARGS(s) parse_line((s), sizeof(s) - 1)

/* "a STORE 1 <rest>": the arguments after the sequence set. */
static int store(const char *line, struct imap_store *st, const char **err)
{
	const struct imap_arg *args = parse_line(line, strlen(line));
	*err = NULL;
	return imap_store_parse(&arena, &args[1], st, err);
}

static int flags(const char *line, bool allow_list, struct imap_flags *f, const char **err)
{
	const struct imap_arg *args = parse_line(line, strlen(line));
	*err = NULL;
	return imap_flags_parse(&arena, &args[0], allow_list, f, err);
}

static void test_flag_list(void)
{
	struct imap_flags f;
	const char *err;

	CHECK(flags("a X (\\Seen \\answered \\FLAGGED \\Deleted \\Draft)\r\n", true, &f, &err) == 0);
	CHECK(f.system == (IMAP_FLAG_SEEN | IMAP_FLAG_ANSWERED | IMAP_FLAG_FLAGGED |
			   IMAP_FLAG_DELETED | IMAP_FLAG_DRAFT) && f.nkeywords == 0);
	CHECK(IMAP_FLAG_SEEN == 1 && IMAP_FLAG_ANSWERED == 2 && IMAP_FLAG_FLAGGED == 4 &&
	      IMAP_FLAG_DELETED == 8 && IMAP_FLAG_DRAFT == 16);
	CHECK(flags("a X ($Forwarded \\Seen $forwarded Junk \\seen $Forwarded)\r\n", true, &f,
		    &err) == 0);
	CHECK(f.system == IMAP_FLAG_SEEN && f.nkeywords == 2);
	CHECK_MEM(f.keywords[0], f.keyword_lens[0], "$Forwarded", 10);
	CHECK_MEM(f.keywords[1], f.keyword_lens[1], "Junk", 4);
	CHECK(flags("a X ()\r\n", true, &f, &err) == 0 && f.system == 0 && f.nkeywords == 0);
	CHECK(flags("a X \\Seen\r\n", true, &f, &err) == 0 && f.system == IMAP_FLAG_SEEN);
	CHECK(flags("a X $Label1\r\n", false, &f, &err) == 0 && f.nkeywords == 1);
}

static void test_flag_errors(void)
{
	struct imap_flags f;
	const char *err;

	CHECK(flags("a X (\\Recent)\r\n", true, &f, &err) == -1);
	CHECK_STR(err, "\\Recent cannot be stored");
	CHECK(flags("a X (\\*)\r\n", true, &f, &err) == -1);
	CHECK_STR(err, "\\* is not a flag");
	CHECK(flags("a X (\\Important)\r\n", true, &f, &err) == -1);
	CHECK_STR(err, "Unknown system flag");
	CHECK(flags("a X (\\)\r\n", true, &f, &err) == -1);
	CHECK_STR(err, "Unknown system flag");
	CHECK(flags("a X (\"quoted\")\r\n", true, &f, &err) == -1);
	CHECK_STR(err, "Invalid flag");
	CHECK(flags("a X ({3}\r\nabc)\r\n", true, &f, &err) == -1);
	CHECK_STR(err, "Invalid flag");
	CHECK(flags("a X ((\\Seen))\r\n", true, &f, &err) == -1);
	CHECK_STR(err, "Nested flag list");
	CHECK(flags("a X (\\Seen)\r\n", false, &f, &err) == -1);
	CHECK_STR(err, "A single flag is expected, not a list");
	CHECK(flags("a X\r\n", true, &f, &err) == -1);
	CHECK_STR(err, "Missing flags");
	/* Atoms the parser tokenises generously but the flag grammar refuses. */
	CHECK(flags("a X (a*b)\r\n", true, &f, &err) == -1);
	CHECK_STR(err, "Invalid keyword");
	CHECK(flags("a X (a%b)\r\n", true, &f, &err) == -1);
	CHECK(flags("a X (a]b)\r\n", true, &f, &err) == -1);
	CHECK(flags("a X (a\\b)\r\n", true, &f, &err) == -1);
}

static void test_flag_limits(void)
{
	static char line[200000];
	struct imap_flags f;
	const char *err;
	size_t n;

	/* A keyword has no length limit but the line's (the keyword registry
	 * takes any length, migrations/0009): 150,000 bytes are fine. */
	memcpy(line, "a X (", 5);
	memset(line + 5, 'k', 150000);
	memcpy(line + 150005, ")\r\n", 4);
	CHECK(flags(line, true, &f, &err) == 0 && f.nkeywords == 1 && f.keyword_lens[0] == 150000);
	CHECK(imap_keyword_valid(line + 5, 150000));

	/* Long keywords that differ only in case are one keyword; those that
	 * differ in their last byte are two. */
	memcpy(line, "a X (", 5);
	memset(line + 5, 'k', 1000);
	line[1005] = ' ';
	memset(line + 1006, 'K', 1000);
	line[2006] = ' ';
	memset(line + 2007, 'k', 1000);
	line[3006] = 'x';
	memcpy(line + 3007, ")\r\n", 4);
	CHECK(flags(line, true, &f, &err) == 0 && f.nkeywords == 2);
	CHECK(f.keyword_lens[0] == 1000 && f.keywords[0][0] == 'k' && f.keywords[1][999] == 'x');

	/* 1000 keywords (plus system flags) are fine, 1001 are not, even repeated. */
	for (int total = 1000; total <= 1001; total++) {
		n = 5;
		memcpy(line, "a X (", 5);
		for (int i = 0; i < total; i++)
			n += (size_t)snprintf(line + n, sizeof(line) - n, "kw%d ", i);
		n += (size_t)snprintf(line + n, sizeof(line) - n, "\\Seen)\r\n");
		if (total == 1000) {
			CHECK(flags(line, true, &f, &err) == 0);
			CHECK(f.nkeywords == 1000 && f.system == IMAP_FLAG_SEEN);
		} else {
			CHECK(flags(line, true, &f, &err) == -1);
			CHECK_STR(err, "Too many keywords");
		}
	}
	n = 5;
	for (int i = 0; i < 1001; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "same ");
	memcpy(line + n - 1, ")\r\n", 4);
	CHECK(flags(line, true, &f, &err) == -1);
	CHECK_STR(err, "Too many keywords");
}

static void test_store(void)
{
	struct imap_store st;
	const char *err;

	CHECK(store("a STORE 1 FLAGS (\\Seen)\r\n", &st, &err) == 0);
	CHECK(st.mode == IMAP_STORE_REPLACE && !st.silent && st.flags.system == IMAP_FLAG_SEEN);
	CHECK(!st.unchangedsince_set);
	CHECK(store("a STORE 1 +flags.silent (\\Deleted $Junk)\r\n", &st, &err) == 0);
	CHECK(st.mode == IMAP_STORE_ADD && st.silent && st.flags.system == IMAP_FLAG_DELETED);
	CHECK(st.flags.nkeywords == 1);
	CHECK(store("a STORE 1 -FLAGS \\Seen \\Flagged $X\r\n", &st, &err) == 0);
	CHECK(st.mode == IMAP_STORE_REMOVE && !st.silent);
	CHECK(st.flags.system == (IMAP_FLAG_SEEN | IMAP_FLAG_FLAGGED) && st.flags.nkeywords == 1);
	CHECK(store("a STORE 1 FLAGS ()\r\n", &st, &err) == 0);
	CHECK(st.flags.system == 0 && st.flags.nkeywords == 0);
	CHECK(store("a STORE 1 -Flags.Silent \\draft\r\n", &st, &err) == 0);
	CHECK(st.mode == IMAP_STORE_REMOVE && st.silent && st.flags.system == IMAP_FLAG_DRAFT);

	/* CONDSTORE (RFC 7162 §3.1.3). */
	CHECK(store("a STORE 1 (UNCHANGEDSINCE 12345) +FLAGS (\\Seen)\r\n", &st, &err) == 0);
	CHECK(st.unchangedsince_set && st.unchangedsince == 12345 && st.mode == IMAP_STORE_ADD);
	CHECK(store("a STORE 1 (unchangedsince 0) FLAGS ()\r\n", &st, &err) == 0);
	CHECK(st.unchangedsince_set && st.unchangedsince == 0);
	CHECK(store("a STORE 1 (UNCHANGEDSINCE 9223372036854775807) FLAGS ()\r\n", &st, &err) == 0);
	CHECK(st.unchangedsince == 9223372036854775807ull);
}

static void test_store_errors(void)
{
	static const struct { const char *line, *error; } cases[] = {
		{ "a STORE 1\r\n", "Missing STORE data item" },
		{ "a STORE 1 \"FLAGS\" (\\Seen)\r\n", "Invalid STORE data item" },
		{ "a STORE 1 FLAG (\\Seen)\r\n", "Invalid STORE data item" },
		{ "a STORE 1 *FLAGS (\\Seen)\r\n", "Invalid STORE data item" },
		{ "a STORE 1 +FLAGS.LOUD (\\Seen)\r\n", "Invalid STORE data item" },
		{ "a STORE 1 ++FLAGS (\\Seen)\r\n", "Invalid STORE data item" },
		{ "a STORE 1 FLAGS\r\n", "Missing flags" },
		{ "a STORE 1 FLAGS (\\Seen) \\Draft\r\n", "Unexpected arguments after the flag list" },
		{ "a STORE 1 FLAGS \\Seen (\\Draft)\r\n", "Nested flag list" },
		{ "a STORE 1 FLAGS (\\Recent)\r\n", "\\Recent cannot be stored" },
		{ "a STORE 1 +FLAGS \\Recent\r\n", "\\Recent cannot be stored" },
		{ "a STORE 1 FLAGS (\\*)\r\n", "\\* is not a flag" },
		{ "a STORE 1 () FLAGS ()\r\n", "Empty STORE modifier list" },
		{ "a STORE 1 (CHANGEDSINCE 5) FLAGS ()\r\n", "Unknown STORE modifier" },
		{ "a STORE 1 (UNCHANGEDSINCE) FLAGS ()\r\n", "Invalid UNCHANGEDSINCE value" },
		{ "a STORE 1 (UNCHANGEDSINCE x1) FLAGS ()\r\n", "Invalid UNCHANGEDSINCE value" },
		{ "a STORE 1 (UNCHANGEDSINCE -1) FLAGS ()\r\n", "Invalid UNCHANGEDSINCE value" },
		{ "a STORE 1 (UNCHANGEDSINCE \"5\") FLAGS ()\r\n", "Invalid UNCHANGEDSINCE value" },
		{ "a STORE 1 (UNCHANGEDSINCE 9223372036854775808) FLAGS ()\r\n",
		  "Invalid UNCHANGEDSINCE value" },
		{ "a STORE 1 (UNCHANGEDSINCE 99999999999999999999999) FLAGS ()\r\n",
		  "Invalid UNCHANGEDSINCE value" },
		{ "a STORE 1 (UNCHANGEDSINCE 1 UNCHANGEDSINCE 2) FLAGS ()\r\n",
		  "UNCHANGEDSINCE given twice" },
		{ "a STORE 1 (UNCHANGEDSINCE 1) (UNCHANGEDSINCE 2) FLAGS ()\r\n",
		  "Invalid STORE data item" },
	};
	struct imap_store st;
	const char *err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = store(cases[i].line, &st, &err);
		bool ok = r == -1 && err != NULL && strcmp(err, cases[i].error) == 0;
		CHECK(ok);
		if (!ok)
			fprintf(stderr, "  case %zu: %s -> %s\n", i, cases[i].line,
				err ? err : "(none)");
	}
}

static int status(const char *line, unsigned *items, const char **err)
{
	const struct imap_arg *args = parse_line(line, strlen(line));
	*err = NULL;
	return imap_status_parse(&args[1], items, err);
}

static void test_status(void)
{
	unsigned items;
	const char *err;

	CHECK(status("a STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE "
		     "HIGHESTMODSEQ APPENDLIMIT)\r\n", &items, &err) == 0);
	CHECK(items == (IMAP_STATUS_MESSAGES | IMAP_STATUS_RECENT | IMAP_STATUS_UIDNEXT |
			IMAP_STATUS_UIDVALIDITY | IMAP_STATUS_UNSEEN | IMAP_STATUS_DELETED |
			IMAP_STATUS_SIZE | IMAP_STATUS_HIGHESTMODSEQ | IMAP_STATUS_APPENDLIMIT));
	CHECK(status("a STATUS INBOX (messages Unseen messages)\r\n", &items, &err) == 0);
	CHECK(items == (IMAP_STATUS_MESSAGES | IMAP_STATUS_UNSEEN));
	CHECK(status("a STATUS INBOX ()\r\n", &items, &err) == -1);
	CHECK_STR(err, "Empty STATUS item list");
	CHECK(status("a STATUS INBOX (MESSAGES FOO)\r\n", &items, &err) == -1);
	CHECK_STR(err, "Unknown STATUS item");
	CHECK(status("a STATUS INBOX (\"MESSAGES\")\r\n", &items, &err) == -1);
	CHECK_STR(err, "Unknown STATUS item");
	CHECK(status("a STATUS INBOX ((MESSAGES))\r\n", &items, &err) == -1);
	CHECK_STR(err, "Unknown STATUS item");
	CHECK(status("a STATUS INBOX MESSAGES\r\n", &items, &err) == -1);
	CHECK_STR(err, "STATUS items must be a parenthesised list");
	CHECK(status("a STATUS INBOX\r\n", &items, &err) == -1);
	CHECK_STR(err, "STATUS items must be a parenthesised list");
}

static void test_keyword_valid(void)
{
	CHECK(imap_keyword_valid("$Junk", 5));
	CHECK(imap_keyword_valid("a.b-c_d+e/f", 11));
	CHECK(!imap_keyword_valid("", 0));
	CHECK(!imap_keyword_valid("\\Seen", 5));
	CHECK(!imap_keyword_valid("a b", 3));
	CHECK(!imap_keyword_valid("a\0b", 3));
	CHECK(!imap_keyword_valid("a{b", 3));
	CHECK(!imap_keyword_valid("caf\xc3\xa9", 5));
}

static void test_keywords_array(void)
{
	struct imap_flags f;
	const char *err;

	CHECK(flags("a X ()\r\n", true, &f, &err) == 0);
	CHECK_STR(imap_keywords_array(&arena, &f), "{}");
	CHECK(flags("a X (\\Seen $Junk)\r\n", true, &f, &err) == 0);
	CHECK_STR(imap_keywords_array(&arena, &f), "{\"$Junk\"}");
	CHECK(flags("a X (a $b \\Draft c.d)\r\n", true, &f, &err) == 0);
	CHECK_STR(imap_keywords_array(&arena, &f), "{\"a\",\"$b\",\"c.d\"}");
}

int main(void)
{
	arena_init(&arena);
	UNIT_RUN(test_flag_list);
	UNIT_RUN(test_flag_errors);
	UNIT_RUN(test_flag_limits);
	UNIT_RUN(test_store);
	UNIT_RUN(test_store_errors);
	UNIT_RUN(test_status);
	UNIT_RUN(test_keyword_valid);
	UNIT_RUN(test_keywords_array);
	arena_free(&arena);
	return unit_report("test_store_args");
}
