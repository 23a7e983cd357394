/* The incremental parser, fed whole and one byte at a time (as Dovecot's
 * lib-imap tests do): every split of the input must give the same result. */
#include "tests/unit/unit.h"
#include "server/imap/parser.h"

#include <stdlib.h>

static const struct imap_parser_limits limits = {
	.max_line = 256, .max_literal = 1000, .max_literals = 3, .max_depth = 4, .max_args = 50,
};
/* The same with LITERAL- (RFC 7888 §4), its 4096 scaled down to 8. */
static const struct imap_parser_limits minus_limits = {
	.max_line = 256, .max_literal = 1000, .max_nonsync_literal = 8, .max_literals = 3,
	.max_depth = 4, .max_args = 50,
};
/* What run() uses: limits, or a variant a test sets for its duration. */
static const struct imap_parser_limits *run_limits = &limits;
/* The sink run() gives the parser, if a test sets one. */
static const struct imap_literal_sink *run_sink;

struct outcome {
	enum imap_parse_status status;   /* last status seen */
	int continuations;               /* "+" requests */
	int errors;
	enum imap_parse_error error;
	char error_tag[32];
	int commands;
	char dump[512];                  /* rendering of the last command */
};

static void dump_args(char *out, size_t outsize, const struct imap_arg *a)
{
	for (; a->type != IMAP_ARG_EOL; a++) {
		size_t n = strlen(out);
		if (n > 0 && out[n - 1] != '(')
			snprintf(out + n, outsize - n, " ");
		n = strlen(out);
		switch (a->type) {
		case IMAP_ARG_ATOM: snprintf(out + n, outsize - n, "A:%s", a->u.str.data); break;
		case IMAP_ARG_QUOTED: snprintf(out + n, outsize - n, "Q:%s", a->u.str.data); break;
		case IMAP_ARG_LITERAL:
			if (a->spool != NULL)
				snprintf(out + n, outsize - n, "S%zu", a->u.str.len);
			else
				snprintf(out + n, outsize - n, "L%zu:%s", a->u.str.len, a->u.str.data);
			break;
		case IMAP_ARG_LIST:
			snprintf(out + n, outsize - n, "(");
			dump_args(out, outsize, a->u.list.items);
			n = strlen(out);
			snprintf(out + n, outsize - n, ")");
			break;
		default: break;
		}
	}
}

/* Feeds input in pieces of at most step bytes (0 = all at once). */
static struct outcome run(const char *input, size_t len, size_t step)
{
	struct imap_parser *p = imap_parser_new(run_limits);
	struct arena arena;
	struct outcome o;
	size_t pos = 0;

	memset(&o, 0, sizeof(o));
	arena_init(&arena);
	if (run_sink != NULL)
		imap_parser_set_sink(p, run_sink);
	while (pos < len) {
		size_t end = step == 0 || pos + step > len ? len : pos + step;
		while (pos < end) {
			size_t used = 0;
			enum imap_parse_status st = imap_parser_run(p, &arena, (const uint8_t *)input + pos,
								    end - pos, &used);
			pos += used;
			o.status = st;
			if (st == IMAP_PARSE_LITERAL_CONTINUE)
				o.continuations++;
			else if (st == IMAP_PARSE_ERROR) {
				const char *tag = imap_parser_error_tag(p);
				o.errors++;
				o.error = imap_parser_error(p);
				snprintf(o.error_tag, sizeof(o.error_tag), "%s", tag ? tag : "*");
				if (imap_parser_error_is_fatal(o.error))
					goto out;
			} else if (st == IMAP_PARSE_DONE) {
				const struct imap_command *cmd = imap_parser_command(p);
				o.commands++;
				snprintf(o.dump, sizeof(o.dump), "%s %s", cmd->tag, cmd->name);
				dump_args(o.dump, sizeof(o.dump), cmd->args);
			}
			if (st == IMAP_PARSE_NEED_MORE)
				break;
		}
	}
out:
	imap_parser_free(&p);
	arena_free(&arena);
	return o;
}

/* Runs whole, byte by byte and in 3-byte pieces; all must agree. */
static struct outcome run_all(const char *input, size_t len)
{
	struct outcome whole = run(input, len, 0);
	struct outcome bytes = run(input, len, 1);
	struct outcome threes = run(input, len, 3);

	CHECK(whole.commands == bytes.commands && whole.commands == threes.commands);
	CHECK(whole.errors == bytes.errors && whole.errors == threes.errors);
	CHECK(whole.error == bytes.error && whole.error == threes.error);
	CHECK(whole.continuations == bytes.continuations);
	CHECK_STR(bytes.dump, whole.dump);
	CHECK_STR(threes.dump, whole.dump);
	return whole;
}

#define RUN(s) run_all((s), sizeof(s) - 1)

static void test_simple_commands(void)
{
	struct outcome o = RUN("a001 NOOP\r\n");
	CHECK(o.commands == 1 && o.errors == 0);
	CHECK_STR(o.dump, "a001 NOOP");
	o = RUN("x login alice \"se\\\"cr\\\\et\"\r\n");
	CHECK_STR(o.dump, "x LOGIN A:alice Q:se\"cr\\et");
	o = RUN("t1 capability\n"); /* bare LF accepted */
	CHECK_STR(o.dump, "t1 CAPABILITY");
}

static void test_pipelined(void)
{
	struct outcome o = RUN("a NOOP\r\nb CAPABILITY\r\n\r\nc LOGOUT\r\n");
	CHECK(o.commands == 3 && o.errors == 0);
	CHECK_STR(o.dump, "c LOGOUT");
}

static void test_lists_and_sections(void)
{
	struct outcome o = RUN("f FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.100> UID)\r\n");
	CHECK(o.errors == 0);
	CHECK_STR(o.dump, "f FETCH A:1:* (A:FLAGS A:BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.100> A:UID)");
	o = RUN("s STORE 1 +FLAGS (\\Seen \\Deleted)\r\n");
	CHECK_STR(o.dump, "s STORE A:1 A:+FLAGS (A:\\Seen A:\\Deleted)");
	o = RUN("l LIST \"\" [Gmail]/%\r\n");
	CHECK_STR(o.dump, "l LIST Q: A:[Gmail]/%");
	o = RUN("e X ()\r\n");
	CHECK_STR(o.dump, "e X ()");
}

static void test_literals(void)
{
	struct outcome o = RUN("a LOGIN {5}\r\nalice {6}\r\nse\0ret\r\n");
	CHECK(o.continuations == 2 && o.commands == 1);
	CHECK_STR(o.dump, "a LOGIN L5:alice L6:se");
	o = RUN("a LOGIN {5+}\r\nalice {0}\r\n\r\n");
	CHECK(o.continuations == 1 && o.commands == 1);
	CHECK_STR(o.dump, "a LOGIN L5:alice L0:");
	o = RUN("a APPEND box ~{3}\r\n\1\2\3\r\n");
	CHECK(o.commands == 1 && o.errors == 0);
}

static void test_literal_limits(void)
{
	/* Synchronising and too big: NO before the "+", the line ends there. */
	struct outcome o = RUN("a APPEND x {1001}\r\nb NOOP\r\n");
	CHECK(o.errors == 1 && o.error == IMAP_PERR_LITERAL_TOO_BIG && o.continuations == 0);
	CHECK_STR(o.error_tag, "a");
	CHECK(o.commands == 1);
	CHECK_STR(o.dump, "b NOOP");
	o = RUN("a APPEND x {4294967296}\r\n");
	CHECK(o.error == IMAP_PERR_LITERAL_TOO_BIG);
	o = RUN("a APPEND x {18446744073709551616}\r\n");
	CHECK(o.error == IMAP_PERR_LITERAL_TOO_BIG);
	/* Non-synchronising and too big: the stream is lost. */
	o = RUN("a APPEND x {5000+}\r\n");
	CHECK(o.error == IMAP_PERR_FATAL_LITERAL_TOO_BIG);
	o = RUN("a APPEND x {-1}\r\nb NOOP\r\n");
	CHECK(o.error == IMAP_PERR_BAD_LITERAL && o.commands == 1);
	o = RUN("a X {1}\r\nx {1}\r\nx {1}\r\nx {1}\r\n");
	CHECK(o.error == IMAP_PERR_TOO_MANY_LITERALS);
}

/* LITERAL-: a {n+} over the limit is a BAD that the session survives; its
 * data (and the rest of its line, with any literal in it) is skipped,
 * never parsed as commands, however the bytes arrive. */
static void test_literal_minus(void)
{
	struct outcome o;

	run_limits = &minus_limits;
	o = RUN("a APPEND x {8+}\r\n12345678\r\nb NOOP\r\n");
	CHECK(o.errors == 0 && o.commands == 2 && o.continuations == 0);
	CHECK_STR(o.dump, "b NOOP");
	o = RUN("a APPEND x {9+}\r\n123456789 more\r\nb NOOP\r\n");
	CHECK(o.errors == 1 && o.error == IMAP_PERR_NONSYNC_TOO_BIG && o.commands == 1);
	CHECK(!imap_parser_error_is_fatal(o.error));
	CHECK_STR(o.error_tag, "a");
	CHECK_STR(o.dump, "b NOOP");
	o = RUN("a X {10+}\r\n\r\nc NOOP\r\n {2+}\r\nxy\r\nb NOOP\r\n");
	CHECK(o.errors == 1 && o.error == IMAP_PERR_NONSYNC_TOO_BIG && o.commands == 1);
	CHECK_STR(o.dump, "b NOOP");
	/* A synchronising literal is not limited by it. */
	o = RUN("a APPEND x {9}\r\n123456789\r\n");
	CHECK(o.errors == 0 && o.commands == 1 && o.continuations == 1);
	/* Over max_literal the stream is lost, as with LITERAL+. */
	o = RUN("a APPEND x {1001+}\r\n");
	CHECK(o.error == IMAP_PERR_FATAL_LITERAL_TOO_BIG);
	run_limits = &limits;
	o = RUN("a APPEND x {9+}\r\n123456789\r\n");
	CHECK(o.errors == 0 && o.commands == 1);
}

/* A sink as literal_sink.c's: APPEND's top-level literals after the
 * mailbox from 8 bytes on go to the "spool" (a buffer here), any other
 * literal over 8 bytes is refused. */
static char spooled[4096];
static size_t nspooled;
static char fake_spool;

static enum imap_literal_place test_place(void *ctx, const char *command, size_t depth,
					  size_t arg_index, uint64_t len, struct spool **spool_r)
{
	bool message = strcmp(command, "APPEND") == 0 && depth == 0 && arg_index >= 1;

	(void)ctx;
	if (!message)
		return len <= 8 ? IMAP_LITERAL_ARENA : IMAP_LITERAL_REFUSE;
	if (len < 8)
		return IMAP_LITERAL_ARENA;
	nspooled = 0;
	*spool_r = (struct spool *)&fake_spool;
	return IMAP_LITERAL_SPOOL;
}

static void test_write(void *ctx, struct spool *spool, const void *data, size_t len)
{
	(void)ctx;
	CHECK(spool == (struct spool *)&fake_spool);
	if (nspooled + len <= sizeof(spooled))
		memcpy(spooled + nspooled, data, len);
	nspooled += len;
}

/* "tag CMD {n+}\r\n" followed by n bytes of c, then tail. */
static size_t literal_line(char *out, size_t outsize, const char *head, size_t n, char c,
			   const char *tail)
{
	size_t at = (size_t)snprintf(out, outsize, "%s{%zu+}\r\n", head, n);

	memset(out + at, c, n);
	at += n;
	at += (size_t)snprintf(out + at, outsize - at, "%s", tail);
	return at;
}

static void test_literal_sink_and_caps(void)
{
	static const struct imap_literal_sink sink = { .place = test_place, .write = test_write };
	struct imap_parser_limits l = limits;
	char in[8192];
	struct outcome o;
	size_t n;

	l.max_line = 4096;
	l.max_command_literal_bytes = 2000;
	l.max_session_literal_bytes = 3000;
	run_limits = &l;
	run_sink = &sink;
	/* A message goes to the spool, byte for byte in any split. */
	o = RUN("a APPEND box (\\Seen) {10}\r\n0123456789 {3}\r\nabc\r\n");
	CHECK(o.commands == 1 && o.errors == 0 && o.continuations == 2);
	CHECK_STR(o.dump, "a APPEND A:box (A:\\Seen) S10 L3:abc");
	CHECK(nspooled == 10 && memcmp(spooled, "0123456789", 10) == 0);
	/* Not a message (the mailbox, a list item) and over 8 bytes: refused
	 * before the "+". */
	o = RUN("a APPEND {9}\r\nb NOOP\r\n");
	CHECK(o.error == IMAP_PERR_LITERAL_TOO_BIG && o.continuations == 0 && o.commands == 1);
	o = RUN("a APPEND box ({9}\r\nb NOOP\r\n");
	CHECK(o.error == IMAP_PERR_LITERAL_TOO_BIG && o.continuations == 0 && o.commands == 1);
	/* Over max_literal but within the command's budget, non-synchronising:
	 * refused, its data discarded, and the next command runs. */
	n = literal_line(in, sizeof(in), "a APPEND box ", 1500, 'x', "\r\nb NOOP\r\n");
	o = run_all(in, n);
	CHECK(o.error == IMAP_PERR_LITERAL_TOO_BIG && o.errors == 1 && o.commands == 1);
	CHECK_STR(o.dump, "b NOOP");
	/* ... and over the budget: the session ends. */
	o = RUN("a APPEND box {2001+}\r\n");
	CHECK(o.error == IMAP_PERR_FATAL_LITERAL_TOO_BIG);
	/* The command's total: the third 900-byte message crosses 2000. */
	n = literal_line(in, sizeof(in), "a APPEND box ", 900, 'x', " ");
	n += literal_line(in + n, sizeof(in) - n, "", 900, 'y', " ");
	n += literal_line(in + n, sizeof(in) - n, "", 900, 'z', "\r\nb NOOP\r\n");
	o = run_all(in, n);
	CHECK(o.error == IMAP_PERR_COMMAND_LITERALS_TOO_BIG && o.errors == 1 && o.commands == 1);
	CHECK_STR(o.dump, "b NOOP");
	/* Discarding is bounded by the same budget over the whole line. */
	n = literal_line(in, sizeof(in), "a APPEND box ", 900, 'x', " ");
	n += literal_line(in + n, sizeof(in) - n, "", 900, 'y', " ");
	n += literal_line(in + n, sizeof(in) - n, "", 900, 'z', " ");
	n += literal_line(in + n, sizeof(in) - n, "", 900, 'w', " ");
	n += literal_line(in + n, sizeof(in) - n, "", 900, 'v', "\r\n");
	o = run_all(in, n);
	CHECK(o.error == IMAP_PERR_FATAL_LITERAL_TOO_BIG);
	/* The session's total: the fourth 900-byte command crosses 3000
	 * (each run is a new parser, so a new session). */
	n = 0;
	for (int i = 0; i < 4; i++)
		n += literal_line(in + n, sizeof(in) - n, "a APPEND box ", 900, 'x', "\r\n");
	n += (size_t)snprintf(in + n, sizeof(in) - n, "b NOOP\r\n");
	o = run_all(in, n);
	CHECK(o.error == IMAP_PERR_SESSION_LITERALS_TOO_BIG && o.errors == 1 && o.commands == 4);
	CHECK_STR(o.dump, "b NOOP");
	run_sink = NULL;
	run_limits = &limits;
}

static void test_errors_resync(void)
{
	struct outcome o = RUN("a LOGIN \"unterminated\r\nb NOOP\r\n");
	CHECK(o.errors == 1 && o.error == IMAP_PERR_BAD_QUOTED && o.commands == 1);
	CHECK_STR(o.dump, "b NOOP");
	o = RUN("a X \"nul\0inside\"\r\nb NOOP\r\n");
	CHECK(o.error == IMAP_PERR_BAD_QUOTED && o.commands == 1);
	o = RUN("a X \"bad\\escape\"\r\nb NOOP\r\n");
	CHECK(o.error == IMAP_PERR_BAD_QUOTED && o.commands == 1);
	o = RUN("a X ((a)\r\nb NOOP\r\n");
	CHECK(o.error == IMAP_PERR_UNBALANCED && o.commands == 1);
	o = RUN("a X a)\r\nb NOOP\r\n");
	CHECK(o.error == IMAP_PERR_UNBALANCED && o.commands == 1);
	o = RUN("a X ((((((\r\nb NOOP\r\n");
	CHECK(o.error == IMAP_PERR_TOO_DEEP && o.commands == 1);
	o = RUN(" NOOP\r\n");
	CHECK(o.error == IMAP_PERR_BAD_TAG);
	CHECK_STR(o.error_tag, "*");
	o = RUN("a+b NOOP\r\n");
	CHECK(o.error == IMAP_PERR_BAD_TAG);
	o = RUN("tag\r\n");
	CHECK(o.error == IMAP_PERR_NO_COMMAND);
	CHECK_STR(o.error_tag, "tag");
	o = RUN("a NO-OP\r\n");
	CHECK(o.error == IMAP_PERR_BAD_COMMAND_NAME);
	o = RUN("a X ab\"c\r\n");
	CHECK(o.error == IMAP_PERR_SYNTAX);
	o = RUN("a X \x80\r\n");
	CHECK(o.error == IMAP_PERR_SYNTAX);
}

static void test_skipped_line_with_literal(void)
{
	/* The bad line announces a non-synchronising literal: its data is
	 * skipped too, never parsed as a command. */
	struct outcome o = RUN("a X \"bad\\q\" {9+}\r\nb NOOP\r\n tail\r\nc NOOP\r\n");
	CHECK(o.errors == 1 && o.commands == 1);
	CHECK_STR(o.dump, "c NOOP");
}

static void test_line_limit(void)
{
	char line[1200];
	struct outcome o;
	size_t n;

	memcpy(line, "a NOOP ", 7);
	memset(line + 7, 'x', 1000);
	n = 1007;
	memcpy(line + n, "\r\nb NOOP\r\n", 10);
	n += 10;
	o = run_all(line, n);
	CHECK(o.errors == 1 && o.error == IMAP_PERR_LINE_TOO_LONG && o.commands == 1);
	CHECK_STR(o.error_tag, "a");
	CHECK_STR(o.dump, "b NOOP");
	/* A quoted string crossing the limit. */
	memcpy(line, "a X \"", 5);
	memset(line + 5, 'y', 1000);
	memcpy(line + 1005, "\"\r\nb NOOP\r\n", 11);
	o = run_all(line, 1016);
	CHECK(o.error == IMAP_PERR_LINE_TOO_LONG && o.commands == 1);
}

/* long_line_fatal (a COMPRESS=DEFLATE session): a line over the limit ends
 * the session instead of being skipped, and so does the skipped rest of a
 * failed line once it passes the limit; shorter lines are unaffected. */
static void test_long_line_fatal(void)
{
	struct imap_parser_limits fatal = limits;
	char line[1200];
	struct outcome o;

	fatal.long_line_fatal = true;
	run_limits = &fatal;
	memcpy(line, "a NOOP ", 7);
	memset(line + 7, 'x', 1000);
	memcpy(line + 1007, "\r\nb NOOP\r\n", 10);
	o = run_all(line, 1017);
	CHECK(o.errors == 1 && o.error == IMAP_PERR_FATAL_LINE_TOO_LONG && o.commands == 0);
	CHECK(imap_parser_error_is_fatal(o.error));
	/* A syntax error early in the line, then more than the limit. */
	memcpy(line, "a NOOP (", 8);
	memset(line + 8, ')', 1000);
	memcpy(line + 1008, "\r\nb NOOP\r\n", 10);
	o = run_all(line, 1018);
	CHECK(o.errors == 2 && o.error == IMAP_PERR_FATAL_LINE_TOO_LONG && o.commands == 0);
	/* A short bad line is skipped as before. */
	o = RUN("a NOOP ())\r\nb NOOP\r\n");
	CHECK(o.errors == 1 && o.error == IMAP_PERR_UNBALANCED && o.commands == 1);
	CHECK_STR(o.dump, "b NOOP");
	run_limits = &limits;
}

static void test_many_args(void)
{
	char line[400] = "a X";
	size_t n = 3;
	for (int i = 0; i < 60; i++) {
		memcpy(line + n, " z", 2);
		n += 2;
	}
	memcpy(line + n, "\r\n", 3);
	struct outcome o = run_all(line, strlen(line));
	CHECK(o.error == IMAP_PERR_TOO_MANY_ARGS);
}

int main(void)
{
	UNIT_RUN(test_simple_commands);
	UNIT_RUN(test_pipelined);
	UNIT_RUN(test_lists_and_sections);
	UNIT_RUN(test_literals);
	UNIT_RUN(test_literal_limits);
	UNIT_RUN(test_literal_minus);
	UNIT_RUN(test_literal_sink_and_caps);
	UNIT_RUN(test_errors_resync);
	UNIT_RUN(test_skipped_line_with_literal);
	UNIT_RUN(test_line_limit);
	UNIT_RUN(test_long_line_fatal);
	UNIT_RUN(test_many_args);
	return unit_report("test_parser");
}
