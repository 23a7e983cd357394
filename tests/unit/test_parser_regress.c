/* Regression cases for the parser and the writer, found by the fuzz targets
 * (tests/fuzz/) and the hostile-input protocol tests, each minimised.
 *
 * A case for a bug that is still open is run with KNOWN_BUG: it passes while
 * the bug is there and fails ("fixed?") once the code behaves, so that the
 * marker is removed in the same change as the fix (like pytest's strict
 * xfail). Every case is free of undefined behaviour whichever way it goes,
 * so it runs under ASan too: where the bug is a dangling pointer, the arena
 * memory it points into is reused, not freed, and the case checks what a
 * reader would see there. */
#include "tests/unit/unit.h"
#include "server/core/buf.h"
#include "server/imap/parser.h"
#include "server/imap/writer.h"

#include <stdlib.h>

static const struct imap_parser_limits limits = {
	.max_line = 64, .max_literal = 100, .max_literals = 3, .max_depth = 4, .max_args = 20,
};

/* What the session would do with a stream: one entry per DONE or ERROR. */
struct trace {
	int commands, errors, continuations;
	bool fatal;
	char names[8][40];        /* "tag NAME" of each command */
	enum imap_parse_error errs[8];
	char err_tags[8][40];     /* the error tag, "*" for none */
};

/* Feeds len bytes in pieces of at most step (0: all at once) and resets the
 * arena after every DONE and ERROR, as the session does. After a reset the
 * arena's memory is handed out again and overwritten, as the next command
 * would, so a pointer kept across the reset reads "ZZZ...". */
static struct trace feed(const char *input, size_t len, size_t step)
{
	struct imap_parser *p = imap_parser_new(&limits);
	struct arena arena;
	struct trace t;
	size_t pos = 0;

	memset(&t, 0, sizeof(t));
	arena_init(&arena);
	while (pos < len && !t.fatal) {
		size_t end = step == 0 || pos + step > len ? len : pos + step;
		while (pos < end && !t.fatal) {
			size_t used = 0;
			char *reuse;
			enum imap_parse_status st = imap_parser_run(p, &arena, (const uint8_t *)input + pos,
								    end - pos, &used);
			pos += used;
			if (st == IMAP_PARSE_NEED_MORE)
				break;
			if (st == IMAP_PARSE_LITERAL_CONTINUE) {
				t.continuations++;
				continue;
			}
			if (st == IMAP_PARSE_DONE) {
				const struct imap_command *cmd = imap_parser_command(p);
				if (t.commands < 8)
					snprintf(t.names[t.commands], sizeof(t.names[0]), "%s %s",
						 cmd->tag, cmd->name);
				t.commands++;
			} else {
				const char *tag = imap_parser_error_tag(p);
				if (t.errors < 8) {
					t.errs[t.errors] = imap_parser_error(p);
					snprintf(t.err_tags[t.errors], sizeof(t.err_tags[0]), "%s",
						 tag != NULL ? tag : "*");
				}
				t.errors++;
				t.fatal = imap_parser_error_is_fatal(imap_parser_error(p));
			}
			arena_reset(&arena);
			reuse = arena_alloc(&arena, 200);
			memset(reuse, 'Z', 199);
			reuse[199] = '\0';
		}
	}
	imap_parser_free(&p);
	arena_free(&arena);
	return t;
}

/* The same stream whole, byte by byte and in 5-byte pieces must give the
 * same trace; returns the byte-by-byte one. */
static struct trace feed_all(const char *input, size_t len)
{
	struct trace whole = feed(input, len, 0), bytes = feed(input, len, 1),
		     fives = feed(input, len, 5);

	CHECK(whole.commands == bytes.commands && whole.commands == fives.commands);
	CHECK(whole.errors == bytes.errors && whole.errors == fives.errors);
	return bytes;
}

#define FEED(s) feed_all((s), sizeof(s) - 1)

/* KNOWN_BUG(fn, why): fn() returns whether the code behaves. */
static int known_bugs;
#define KNOWN_BUG(fn, why) do { \
	unit_current_failed = 0; \
	if (fn()) { \
		fprintf(stderr, "FAIL %s: fixed? it now passes: replace KNOWN_BUG with EXPECT_OK\n", #fn); \
		unit_failed++; \
	} else if (unit_current_failed) { \
		fprintf(stderr, "FAIL %s\n", #fn); \
		unit_failed++; \
	} else { \
		fprintf(stderr, "known bug %s: %s\n", #fn, why); \
		known_bugs++; \
		unit_passed++; \
	} \
} while (0)
#define EXPECT_OK(fn) do { \
	unit_current_failed = 0; \
	if (!fn()) unit_current_failed = 1; \
	if (unit_current_failed) { unit_failed++; fprintf(stderr, "FAIL %s\n", #fn); } \
	else unit_passed++; \
} while (0)

/* --- Bug 1: the error tag outlives its error (fuzz_parser, heap-use-after-free).
 *
 * Minimised fuzz input: "a\n\xff". "a\n" is a tag and nothing else: ERROR
 * (NO_COMMAND, tag "a") at the LF, so the parser goes straight back to reading
 * a tag but keeps tag/tag_valid. The caller resets the arena. "\xff" cannot
 * start a tag: ERROR (BAD_TAG), and imap_parser_error_tag returns the old
 * "a", pointing into the reset arena. The session writes it into the BAD
 * line: a read of freed memory when the arena had grown past one chunk, else
 * a BAD carrying the previous command's tag instead of "*". The common
 * CRLF form is an unbalanced '(' ("a X (\r\n"), whose error is raised at LF. */
static bool regress_stale_tag_after_bare_lf(void)
{
	struct trace t = FEED("a\n\xff\r\n");
	CHECK(t.errors == 2 && t.errs[0] == IMAP_PERR_NO_COMMAND && t.errs[1] == IMAP_PERR_BAD_TAG);
	CHECK_STR(t.err_tags[0], "a");
	return t.errors == 2 && strcmp(t.err_tags[1], "*") == 0;
}

static bool regress_stale_tag_after_unbalanced(void)
{
	struct trace t = FEED("a X (\r\n+\r\n");
	CHECK(t.errors == 2 && t.errs[0] == IMAP_PERR_UNBALANCED && t.errs[1] == IMAP_PERR_BAD_TAG);
	CHECK_STR(t.err_tags[0], "a");
	return t.errors == 2 && strcmp(t.err_tags[1], "*") == 0;
}

/* A tag longer than the line limit, after an error at a line end. */
static bool regress_stale_tag_line_too_long(void)
{
	char in[200];
	int n = snprintf(in, sizeof(in), "a X (\r\n");

	memset(in + n, 't', 80);
	memcpy(in + n + 80, " NOOP\r\n", 7);
	struct trace t = feed_all(in, (size_t)n + 87);
	CHECK(t.errors == 2 && t.errs[1] == IMAP_PERR_LINE_TOO_LONG);
	return t.errors == 2 && strcmp(t.err_tags[1], "*") == 0;
}

/* Second fuzz input, same root: "a ) {500+}\n" is skipped after BAD_COMMAND_NAME
 * (tag "a"); the caller resets the arena; the "{500+}" at the end of the
 * skipped line is then fatal, and the fatal error still reports the old tag
 * pointer. (The session does not print a fatal error's tag, so nothing
 * reaches the wire here; the API is wrong all the same.) */
static bool regress_stale_tag_on_fatal_skip(void)
{
	struct trace t = FEED("a ) {500+}\r\n");
	CHECK(t.errors == 2 && t.fatal);
	CHECK_STR(t.err_tags[0], "a");
	return t.errors == 2 && (strcmp(t.err_tags[1], "*") == 0 || strcmp(t.err_tags[1], "a") == 0);
}

/* After the fix the valid cases keep their tags. */
static bool regress_error_tags_still_reported(void)
{
	struct trace t = FEED("a X )\r\nb X (\r\nc\r\n d\r\n");
	CHECK(t.errors == 4);
	CHECK_STR(t.err_tags[0], "a");
	CHECK_STR(t.err_tags[1], "b");
	CHECK_STR(t.err_tags[2], "c");
	CHECK_STR(t.err_tags[3], "*");
	return !unit_current_failed;
}

/* --- Bug 2: an atom starting with '~' is taken for a literal8 (fuzz_writer).
 *
 * Minimised fuzz input: imap_write_astring("~") writes the atom "~" (RFC 3501:
 * '~' is an ATOM-CHAR), which the parser refuses with BAD_LITERAL because a
 * '~' not followed by '{' fails in P_LIT_TILDE. A client may send such an
 * atom too ("LOGIN ~alice secret"). */
static bool regress_tilde_atom(void)
{
	struct trace t = FEED("a LOGIN ~alice secret\r\nb X ~\r\n");
	return t.commands == 2 && t.errors == 0;
}

/* --- Bug 3: an astring that starts like a FETCH section does not parse back
 * (fuzz_writer). Minimised: imap_write_astring("BODY[") writes the atom
 * "BODY[" (no "]", so is_atom accepts it); the parser then reads a section up
 * to "]" and fails at the CR with SYNTAX. Same for BINARY[, BODY.PEEK[, ... */
static bool writer_round_trip(const char *value)
{
	struct buf out, line;
	struct trace t;

	buf_init(&out);
	buf_init(&line);
	imap_write_astring(&out, value, strlen(value));
	buf_append_str(&line, "a X ");
	buf_append(&line, out.data, out.len);
	buf_append_str(&line, "\r\n");
	t = feed_all((const char *)line.data, line.len);
	buf_free(&out);
	buf_free(&line);
	return t.commands == 1 && t.errors == 0;
}

static bool regress_writer_section_prefix(void)
{
	return writer_round_trip("BODY[") && writer_round_trip("binary.peek[1");
}

static bool regress_writer_tilde(void)
{
	return writer_round_trip("~") && writer_round_trip("~user");
}

/* --- Bug 4: literal data parsed as commands after an error inside the "{n+}"
 * that ends a line (hostile protocol tests). docs/protocol.md: "If the
 * discarded line ended with a non-synchronising literal {n+}, its n bytes are
 * discarded too". The skipped line's tail is only recorded from the byte
 * after the failing one, so when the error is raised at the '{' itself
 * (TOO_MANY_LITERALS, TOO_MANY_ARGS, SYNTAX after a quoted string, or
 * LINE_TOO_LONG) or anywhere later in "{8+}\r\n" (LINE_TOO_LONG), the "{" is
 * missing and the 8 data bytes "b NOOP\r\n" run as a command. (After the
 * data, the rest of the bad line, here just CRLF, is skipped as well.) */
static bool regress_literal_after_too_many_literals(void)
{
	struct trace t = FEED("a X {0+}\r\n {0+}\r\n {0+}\r\n {8+}\r\nb NOOP\r\n\r\nc NOOP\r\n");
	CHECK(t.errors == 1 && t.errs[0] == IMAP_PERR_TOO_MANY_LITERALS);
	return t.commands == 1 && strcmp(t.names[0], "c NOOP") == 0;
}

static bool regress_literal_after_syntax_at_brace(void)
{
	struct trace t = FEED("a X \"q\"{8+}\r\nb NOOP\r\n\r\nc NOOP\r\n");
	CHECK(t.errors == 1 && t.errs[0] == IMAP_PERR_SYNTAX);
	return t.commands == 1 && strcmp(t.names[0], "c NOOP") == 0;
}

/* The line limit (64) falls on each byte of the trailing "{8+}\r\n" in turn. */
static bool regress_literal_after_line_limit(void)
{
	bool ok = true;

	for (size_t at = 0; at < 6; at++) {
		char in[200];
		/* "a X " + padding atom + " " puts the '{' at byte 64 - at. */
		size_t pad = 64 - at - 5, n = 0;
		struct trace t;

		memcpy(in, "a X ", 4);
		memset(in + 4, 'p', pad);
		n = 4 + pad;
		memcpy(in + n, " {8+}\r\nb NOOP\r\n\r\nc NOOP\r\n", 25);
		n += 25;
		t = feed_all(in, n);
		if (t.errors == 0) {
			CHECK(t.errors == 1); /* the limit must be crossed */
			continue;
		}
		CHECK(t.errs[0] == IMAP_PERR_LINE_TOO_LONG);
		if (!(t.commands == 1 && strcmp(t.names[0], "c NOOP") == 0))
			ok = false;
	}
	return ok;
}

/* What already works and must stay so. */
static bool regress_literal_skipped_after_error(void)
{
	struct trace t = FEED("a X ) {8+}\r\nb NOOP\r\n\r\nc NOOP\r\n");
	return t.errors == 1 && t.commands == 1 && strcmp(t.names[0], "c NOOP") == 0;
}

/* --- Bug 5: a "{n+}" longer than the skip tail (hostile protocol tests).
 * The parser keeps the last 24 bytes of a skipped line; leading zeros are
 * valid digits, so "{0000000000000000000000008+}" (28 bytes) at the end of a
 * bad line is not recognised and its 8 data bytes run as a command, though the
 * same header on a good line is read as a literal. */
static bool regress_long_literal_header_after_error(void)
{
	struct trace good = FEED("a X {0000000000000000000000008+}\r\nb NOOP\r\n\r\nc NOOP\r\n");
	struct trace t = FEED("a X ) {0000000000000000000000008+}\r\nb NOOP\r\n\r\nc NOOP\r\n");

	CHECK(good.errors == 0 && good.commands == 2);
	CHECK(t.errors == 1);
	return t.commands == 1 && strcmp(t.names[0], "c NOOP") == 0;
}

int main(void)
{
	EXPECT_OK(regress_stale_tag_after_bare_lf);
	EXPECT_OK(regress_stale_tag_after_unbalanced);
	EXPECT_OK(regress_stale_tag_line_too_long);
	EXPECT_OK(regress_stale_tag_on_fatal_skip);
	EXPECT_OK(regress_error_tags_still_reported);
	EXPECT_OK(regress_tilde_atom);
	EXPECT_OK(regress_writer_tilde);
	EXPECT_OK(regress_writer_section_prefix);
	EXPECT_OK(regress_literal_after_too_many_literals);
	EXPECT_OK(regress_literal_after_syntax_at_brace);
	EXPECT_OK(regress_literal_after_line_limit);
	EXPECT_OK(regress_literal_skipped_after_error);
	EXPECT_OK(regress_long_literal_header_after_error);
	if (known_bugs > 0)
		fprintf(stderr, "test_parser_regress: %d known bugs still open\n", known_bugs);
	return unit_report("test_parser_regress");
}
