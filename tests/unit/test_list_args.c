/* The arguments of LIST (RFC 5258 §3) and CREATE's create-params (RFC 6154
 * §3), built by the real parser from whole command lines. */
#include "tests/unit/unit.h"
#include "tests/unit/parse_line.h"
#include "server/imap/args.h"
#include "server/imap/list_args.h"
#include "server/imap/special_use.h"
#include "server/imap/store_args.h"

#include <stdlib.h>

static struct arena arena;

static const struct imap_parser_limits limits = {
	.max_line = 1 << 20, .max_literal = 1 << 16, .max_literals = 10,
	.max_depth = 100, .max_args = 100000,
};

/* "a LIST <rest>": 0 or -1, as imap_list_args_parse. */
static int list(const char *rest, bool lsub, struct imap_list_args *r, const char **err)
{
	char line[4096];
	const struct imap_arg *args;

	snprintf(line, sizeof(line), "a %s %s\r\n", lsub ? "LSUB" : "LIST", rest);
	args = unit_parse_line(&limits, &arena, line, strlen(line));
	*err = NULL;
	return imap_list_args_parse(&arena, args, imap_args_count(args), lsub, r, err);
}

static void test_basic(void)
{
	struct imap_list_args r;
	const char *err;

	CHECK(list("\"\" *", false, &r, &err) == 0);
	CHECK(!r.extended && r.select == 0 && r.ret == 0 && r.npatterns == 1);
	CHECK_MEM(r.patterns[0].s, r.patterns[0].len, "*", 1);
	CHECK(list("ref %/x", true, &r, &err) == 0);
	CHECK_MEM(r.ref, r.ref_len, "ref", 3);
	CHECK(list("\"\" \"\"", false, &r, &err) == 0 && r.patterns[0].len == 0);
}

static void test_extended(void)
{
	struct imap_list_args r;
	const char *err;

	CHECK(list("() \"\" *", false, &r, &err) == 0 && r.extended && r.select == 0);
	CHECK(list("(subscribed RecursiveMatch) \"\" (INBOX \"Sent/%\")", false, &r, &err) == 0);
	CHECK(r.select == (IMAP_LIST_SEL_SUBSCRIBED | IMAP_LIST_SEL_RECURSIVEMATCH));
	CHECK(r.ret == IMAP_LIST_RET_SUBSCRIBED);        /* implied by the selection */
	CHECK(r.npatterns == 2);
	CHECK_MEM(r.patterns[1].s, r.patterns[1].len, "Sent/%", 6);
	CHECK(list("\"\" * RETURN (CHILDREN STATUS (MESSAGES UNSEEN) MYRIGHTS SPECIAL-USE)",
		   false, &r, &err) == 0);
	CHECK(r.extended);
	CHECK(r.ret == (IMAP_LIST_RET_CHILDREN | IMAP_LIST_RET_STATUS | IMAP_LIST_RET_MYRIGHTS |
			IMAP_LIST_RET_SPECIAL_USE));
	CHECK(r.status_items == (IMAP_STATUS_MESSAGES | IMAP_STATUS_UNSEEN));
	CHECK(list("(SPECIAL-USE REMOTE) \"\" * RETURN ()", false, &r, &err) == 0);
	CHECK(r.select == (IMAP_LIST_SEL_SPECIAL_USE | IMAP_LIST_SEL_REMOTE));
}

static void test_refused(void)
{
	static const char *const bad[] = {
		"", "\"\"", "\"\" * x", "(FOO) \"\" *", "\"\" * RETURN (FOO)", "\"\" * RETURN",
		"\"\" * RETURN CHILDREN", "\"\" * RETURNS ()", "(RECURSIVEMATCH) \"\" *",
		"(RECURSIVEMATCH REMOTE) \"\" *", "\"\" ()", "\"\" (a (b))", "(\"SUBSCRIBED\") \"\" *",
		"\"\" * RETURN (STATUS)", "\"\" * RETURN (STATUS ())", "\"\" * RETURN (STATUS (X))",
		"() \"\"", "(a) b", "\"\" * RETURN () x",
	};
	struct imap_list_args r;
	const char *err;
	char line[2048];
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(list(bad[i], false, &r, &err) < 0);
		CHECK(err != NULL);
	}
	CHECK(list("() \"\" *", true, &r, &err) < 0);         /* LSUB is not extended */
	CHECK(list("\"\" (*)", true, &r, &err) < 0);
	/* The limits: 64 patterns, 16 options per list. */
	n = (size_t)snprintf(line, sizeof(line), "\"\" (");
	for (int i = 0; i < IMAP_LIST_MAX_PATTERNS; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "p%d ", i);
	snprintf(line + n - 1, sizeof(line) - n + 1, ")");
	CHECK(list(line, false, &r, &err) == 0 && r.npatterns == IMAP_LIST_MAX_PATTERNS);
	snprintf(line + n - 1, sizeof(line) - n + 1, " one-more)");
	CHECK(list(line, false, &r, &err) < 0);
	n = (size_t)snprintf(line, sizeof(line), "(");
	for (int i = 0; i < IMAP_LIST_MAX_OPTIONS; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "REMOTE ");
	snprintf(line + n - 1, sizeof(line) - n + 1, ") \"\" *");
	CHECK(list(line, false, &r, &err) == 0);
	snprintf(line + n - 1, sizeof(line) - n + 1, " REMOTE) \"\" *");
	CHECK(list(line, false, &r, &err) < 0);
}

static enum imap_create_params_result params(const char *list_text, const char ***uses,
					     size_t *n)
{
	char line[512];
	const struct imap_arg *args;
	const char *err = NULL;
	enum imap_create_params_result r;

	snprintf(line, sizeof(line), "a CREATE x %s\r\n", list_text);
	args = unit_parse_line(&limits, &arena, line, strlen(line));
	r = imap_create_params_parse(&arena, &args[1], uses, n, &err);
	CHECK(r == IMAP_CREATE_PARAMS_OK || err != NULL);
	return r;
}

static void test_create_params(void)
{
	const char **uses;
	size_t n;

	CHECK(params("(USE (\\sent \\Archive \\SENT))", &uses, &n) == IMAP_CREATE_PARAMS_OK);
	CHECK(n == 2);
	CHECK_STR(uses[0], "\\Sent");
	CHECK_STR(uses[1], "\\Archive");
	CHECK(params("(USE ())", &uses, &n) == IMAP_CREATE_PARAMS_OK && n == 0);
	CHECK(params("(USE (\\All))", &uses, &n) == IMAP_CREATE_PARAMS_USEATTR);
	CHECK(params("(USE (\\Flagged))", &uses, &n) == IMAP_CREATE_PARAMS_USEATTR);
	CHECK(params("(USE (\\Whatever))", &uses, &n) == IMAP_CREATE_PARAMS_USEATTR);
	CHECK(params("(USE (Sent))", &uses, &n) == IMAP_CREATE_PARAMS_BAD);
	CHECK(params("(USE (\\))", &uses, &n) == IMAP_CREATE_PARAMS_BAD);
	CHECK(params("(USE (\\*))", &uses, &n) == IMAP_CREATE_PARAMS_BAD);
	CHECK(params("(USE (\"\\\\Sent\"))", &uses, &n) == IMAP_CREATE_PARAMS_BAD);
	CHECK(params("(USE \\Sent)", &uses, &n) == IMAP_CREATE_PARAMS_BAD);
	CHECK(params("(USE)", &uses, &n) == IMAP_CREATE_PARAMS_BAD);
	CHECK(params("()", &uses, &n) == IMAP_CREATE_PARAMS_BAD);
	CHECK(params("(FOO (\\Sent))", &uses, &n) == IMAP_CREATE_PARAMS_BAD);
	CHECK(params("(USE (\\Sent) USE (\\Trash))", &uses, &n) == IMAP_CREATE_PARAMS_BAD);
	CHECK(params("x", &uses, &n) == IMAP_CREATE_PARAMS_BAD);
	CHECK(params("(USE (\\Sent \\Sent \\Sent \\Sent \\Sent \\Sent \\Sent \\Sent))", &uses, &n) ==
	      IMAP_CREATE_PARAMS_OK && n == 1);
	CHECK(params("(USE (\\Sent \\Sent \\Sent \\Sent \\Sent \\Sent \\Sent \\Sent \\Sent))", &uses,
		     &n) == IMAP_CREATE_PARAMS_BAD);
}

int main(void)
{
	arena_init(&arena);
	UNIT_RUN(test_basic);
	UNIT_RUN(test_extended);
	UNIT_RUN(test_refused);
	UNIT_RUN(test_create_params);
	arena_free(&arena);
	return unit_report("test_list_args");
}
