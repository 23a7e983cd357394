/* ESEARCH's source options (RFC 7377 §2.2, §4), built by the real parser
 * from whole command lines: every filter, names alone and in lists, and
 * everything that must be BAD, including the limit on names. */
#include "tests/unit/unit.h"
#include "tests/unit/parse_line.h"
#include "server/imap/args.h"
#include "server/imap/esearch_source.h"

#include <stdlib.h>

static struct arena arena;

static const struct imap_parser_limits limits = {
	.max_line = 1 << 20, .max_literal = 1 << 16, .max_literals = 10,
	.max_depth = 100, .max_args = 100000,
};

/* "a ESEARCH IN <list> ALL": 0 or -1, as imap_esearch_source_parse. */
static int source(const char *list, struct imap_esearch_source *r, const char **err)
{
	size_t len = strlen(list) + 64;
	char *line = malloc(len);
	const struct imap_arg *args;
	int rc;

	snprintf(line, len, "a ESEARCH IN %s ALL\r\n", list);
	args = unit_parse_line(&limits, &arena, line, strlen(line));
	*err = NULL;
	rc = imap_esearch_source_parse(&arena, &args[1], r, err);
	free(line);
	return rc;
}

static void test_filters(void)
{
	struct imap_esearch_source r;
	const char *err;

	CHECK(source("(selected inboxes PERSONAL Subscribed)", &r, &err) == 0);
	CHECK(r.filters == (IMAP_ESEARCH_SELECTED | IMAP_ESEARCH_INBOXES | IMAP_ESEARCH_PERSONAL |
			    IMAP_ESEARCH_SUBSCRIBED));
	CHECK(r.nnames == 0);
	CHECK(source("(mailboxes INBOX subtree (\"a b\" {1}\r\nc) subtree-one \"\")", &r, &err) == 0);
	CHECK(r.filters == 0 && r.nnames == 4);
	CHECK(r.names[0].kind == IMAP_ESEARCH_MAILBOXES);
	CHECK_MEM(r.names[0].name, r.names[0].len, "INBOX", 5);
	CHECK(r.names[1].kind == IMAP_ESEARCH_SUBTREE && r.names[2].kind == IMAP_ESEARCH_SUBTREE);
	CHECK_MEM(r.names[1].name, r.names[1].len, "a b", 3);
	CHECK_MEM(r.names[2].name, r.names[2].len, "c", 1);
	CHECK(r.names[3].kind == IMAP_ESEARCH_SUBTREE_ONE && r.names[3].len == 0);
	CHECK(r.names[2].arg != NULL && r.names[2].arg->type == IMAP_ARG_LITERAL);
}

static void test_refused(void)
{
	static const struct { const char *list, *why; } bad[] = {
		{ "()", "list of mailbox filters" },
		{ "personal", "list of mailbox filters" },
		{ "\"personal\"", "list of mailbox filters" },
		{ "(bogus)", "Unknown mailbox filter" },
		{ "(\"personal\")", "Unknown mailbox filter" },
		{ "(selected-delayed)", "selected-delayed" },
		{ "(mailboxes)", "needs a mailbox name" },
		{ "(subtree-one)", "needs a mailbox name" },
		{ "(mailboxes ())", "Empty list" },
		{ "(mailboxes (a (b)))", "needs a mailbox name" },
		{ "(personal (depth 1))", "Unknown scope option" },
		{ "((depth 1))", "mailbox filter first" },
		{ "(personal mailboxes a (x))", "Unknown scope option" },
	};
	struct imap_esearch_source r;
	const char *err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(source(bad[i].list, &r, &err) < 0);
		CHECK(err != NULL && strstr(err, bad[i].why) != NULL);
	}
}

/* IMAP_ESEARCH_MAX_NAMES in all the filters together, then one more. */
static void test_limit(void)
{
	size_t size = IMAP_ESEARCH_MAX_NAMES * 8 + 64, n;
	char *list = malloc(size);
	struct imap_esearch_source r;
	const char *err;

	n = (size_t)snprintf(list, size, "(subtree x mailboxes (");
	for (int i = 1; i < IMAP_ESEARCH_MAX_NAMES; i++)
		n += (size_t)snprintf(list + n, size - n, "m%d ", i);
	snprintf(list + n - 1, size - n + 1, "))");
	CHECK(source(list, &r, &err) == 0 && r.nnames == IMAP_ESEARCH_MAX_NAMES);
	snprintf(list + n - 1, size - n + 1, ") inboxes mailboxes one-more)");
	CHECK(source(list, &r, &err) < 0 && strstr(err, "Too many") != NULL);
	free(list);
}

int main(void)
{
	arena_init(&arena);
	UNIT_RUN(test_filters);
	UNIT_RUN(test_refused);
	UNIT_RUN(test_limit);
	arena_free(&arena);
	return unit_report("test_esearch_source");
}
