/* The protocol trace (server/imap/trace.c): what it writes for commands
 * (secrets redacted, big literals summarised) and for the server's output,
 * which must come out the same whatever its split, one byte at a time
 * included. */
#include "tests/unit/unit.h"
#include "server/imap/parser.h"
#include "server/imap/trace.h"
#include "server/core/log.h"

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

static const struct imap_parser_limits limits = {
	.max_line = 1024, .max_literal = 100000, .max_literals = 5, .max_depth = 4, .max_args = 50,
};

static char dir[] = "/tmp/kairan-trace-test-XXXXXX";

/* The trace's file, read whole without its time stamps, then removed. */
static char *trace_text(void)
{
	static char text[16384];
	char path[512];
	struct dirent *e;
	DIR *d = opendir(dir);
	size_t o = 0;
	FILE *f = NULL;

	text[0] = '\0';
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			f = fopen(path, "r");
			break;
		}
	closedir(d);
	if (f == NULL)
		return text;
	for (char line[8192]; fgets(line, sizeof(line), f) != NULL;) {
		const char *rest = strchr(line, ' ');     /* after the time */
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s", rest != NULL ? rest + 1 : line);
	}
	fclose(f);
	unlink(path);
	return text;
}

/* CHECK_STR evaluates its argument more than once. */
#define CHECK_TRACE(want) do { \
	const char *got_ = trace_text(); \
	CHECK_STR(got_, want); \
} while (0)

/* Parses one command and traces it. */
static void trace_command(struct imap_trace *t, const char *input, size_t len)
{
	struct imap_parser *p = imap_parser_new(&limits);
	struct arena a;
	size_t used = 0, pos = 0;
	enum imap_parse_status st = IMAP_PARSE_NEED_MORE;

	arena_init(&a);
	while (pos < len && st != IMAP_PARSE_DONE) {
		st = imap_parser_run(p, &a, (const uint8_t *)input + pos, len - pos, &used);
		pos += used;
	}
	CHECK(st == IMAP_PARSE_DONE);
	if (st == IMAP_PARSE_DONE)
		imap_trace_command(t, imap_parser_command(p));
	arena_free(&a);
	imap_parser_free(&p);
}

static void test_rfc3501_6_2_3_login_password_never_written(void)
{
	struct imap_trace *t = imap_trace_open(dir, "192.0.2.1:5555", "alice");
	static const char lit[] = "a LOGIN {5}\r\nalice {8}\r\nhunter22\r\n";

	trace_command(t, "a LOGIN alice hunter22\r\n", 24);
	trace_command(t, "b LOGIN \"alice\" \"hun\\\"ter22\"\r\n", 30);
	trace_command(t, lit, sizeof(lit) - 1);
	trace_command(t, "c AUTHENTICATE PLAIN AGFsaWNlAGh1bnRlcjIy\r\n", 43);
	imap_trace_sasl_line(t, (const uint8_t *)"AGFsaWNlAGh1bnRlcjIy", 20);
	imap_trace_sasl_line(t, (const uint8_t *)"*", 1);
	imap_trace_close(&t);
	CHECK_TRACE(
		  "C: a LOGIN alice <redacted>\n"
		  "C: b LOGIN \"alice\" \"<redacted>\"\n"
		  "C: a LOGIN {5}<redacted> {8}<redacted>\n"
		  "C: c AUTHENTICATE PLAIN <redacted>\n"
		  "C: <SASL response redacted, 20 bytes>\n"
		  "C: *\n");
}

static void test_literals_shown_small_summarised_big(void)
{
	struct imap_trace *t = imap_trace_open(dir, "192.0.2.1:5555", NULL);
	char big[600];

	snprintf(big, sizeof(big), "a APPEND INBOX (\\Seen) {%d}\r\n", TRACE_LITERAL_SHOWN + 1);
	{
		size_t n = strlen(big);
		memset(big + n, 'x', TRACE_LITERAL_SHOWN + 1);
		memcpy(big + n + TRACE_LITERAL_SHOWN + 1, "\r\n", 2);
		trace_command(t, big, n + TRACE_LITERAL_SHOWN + 3);
	}
	trace_command(t, "b APPEND INBOX {4}\r\na\r\n\\\r\n", 26);
	trace_command(t, "c FETCH 1 ~{2}\r\n\x01\xff\r\n", 20);
	imap_trace_close(&t);
	CHECK_TRACE(
		  "C: a APPEND INBOX (\\Seen) {257 bytes}\n"
		  "C: b APPEND INBOX {4}a\\r\\n\\\\\n"
		  "C: c FETCH 1 ~{2}\\x01\\xff\n");
}

static const char output[] =
	"* 1 FETCH (BODY[] {3}\r\nab\n FLAGS (\\Seen))\r\n"
	"* 2 FETCH (BODY[] {300}\r\n"
	"0123456789012345678901234567890123456789012345678901234567890123456789"
	"0123456789012345678901234567890123456789012345678901234567890123456789"
	"0123456789012345678901234567890123456789012345678901234567890123456789"
	"0123456789012345678901234567890123456789012345678901234567890123456789"
	"01234567890123456789)\r\n"
	"a OK done {not a literal}\r\n"
	"* 3 FETCH (BODY[] {0}\r\n)\r\n";

static const char output_traced[] =
	"S: * 1 FETCH (BODY[] {3}ab\\n FLAGS (\\Seen))\n"
	"S: * 2 FETCH (BODY[] {300 bytes})\n"
	"S: a OK done {not a literal}\n"
	"S: * 3 FETCH (BODY[] {0})\n";

static void test_output_in_any_split(void)
{
	size_t len = sizeof(output) - 1;

	for (size_t step = 1; step <= len; step = step < 4 ? step + 1 : step * 3) {
		struct imap_trace *t = imap_trace_open(dir, "192.0.2.1:5555", NULL);

		for (size_t i = 0; i < len; i += step)
			imap_trace_output(t, (const uint8_t *)output + i, len - i < step ? len - i : step);
		imap_trace_close(&t);
		CHECK_TRACE( output_traced);
	}
}

static void test_long_lines_cut(void)
{
	struct imap_trace *t = imap_trace_open(dir, "192.0.2.1:5555", NULL);
	static char line[TRACE_LINE_MAX + 100];
	char want[64];

	memset(line, 'y', sizeof(line));
	line[sizeof(line) - 2] = '\r';
	line[sizeof(line) - 1] = '\n';
	imap_trace_output(t, (const uint8_t *)line, sizeof(line));
	imap_trace_close(&t);
	snprintf(want, sizeof(want), "yyy ... (%d more bytes)\n", 100 - 2);
	CHECK(strstr(trace_text(), want) != NULL);
}

static void test_listed(void)
{
	CHECK(imap_trace_listed("alice, bob", "bob"));
	CHECK(imap_trace_listed(" alice ,bob\t carol", "alice"));
	CHECK(!imap_trace_listed("alice, bob", "ali"));
	CHECK(!imap_trace_listed("alice, bob", ""));
	CHECK(!imap_trace_listed("", "alice"));
	CHECK(imap_trace_listed("127.0.0.2 ::1", "::1"));
}

static void test_unwritable_dir_gives_no_trace(void)
{
	CHECK(imap_trace_open("/nonexistent/kairan", "192.0.2.1:5555", NULL) == NULL);
}

int main(void)
{
	log_init("test", false);
	log_set_level(LOG_LEVEL_ERROR);
	if (mkdtemp(dir) == NULL)
		return 1;
	UNIT_RUN(test_rfc3501_6_2_3_login_password_never_written);
	UNIT_RUN(test_literals_shown_small_summarised_big);
	UNIT_RUN(test_output_in_any_split);
	UNIT_RUN(test_long_lines_cut);
	UNIT_RUN(test_listed);
	UNIT_RUN(test_unwritable_dir_gives_no_trace);
	rmdir(dir);
	return unit_report("test_trace");
}
