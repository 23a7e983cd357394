/* libFuzzer target for the response writer's quoting (server/imap/writer.h).
 *
 * Byte 0 of the input chooses the function, the rest is the value:
 *   0 imap_write_astring, 1 imap_write_string, 2 imap_write_nstring,
 *   3 imap_write_nstring(NULL), 4 imap_write_text.
 *
 * Whatever the writer produced is put into a synthetic command line
 * "a X <value>\r\n" and parsed back with the real parser (server/imap/parser.h),
 * fed the way a client's bytes arrive: the line up to the continuation, then
 * the literal data. The command must have exactly one argument holding exactly
 * the original bytes: an atom or a quoted string for what was written as one,
 * a literal (containing the bytes verbatim) for what was written as a literal.
 * Free text (imap_write_text) must keep its length and hold no CR, LF or NUL.
 *
 * A broken invariant calls abort(), which libFuzzer reports as a crash. */
#include "server/core/arena.h"
#include "server/core/buf.h"
#include "server/imap/parser.h"
#include "server/imap/writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FAILED(...) do { \
	fprintf(stderr, "fuzz_writer: " __VA_ARGS__); \
	fputc('\n', stderr); \
	abort(); \
} while (0)

enum writer_fn { W_ASTRING, W_STRING, W_NSTRING, W_NSTRING_NIL, W_TEXT, W_COUNT };

static const char *const fn_names[W_COUNT] = {
	"imap_write_astring", "imap_write_string", "imap_write_nstring",
	"imap_write_nstring(NULL)", "imap_write_text",
};

static void check_text(const uint8_t *value, size_t len, const struct buf *out)
{
	if (out->len != len)
		FAILED("imap_write_text: %zu bytes in, %zu out", len, out->len);
	for (size_t i = 0; i < len; i++) {
		uint8_t c = out->data[i];
		if (c == '\r' || c == '\n' || c == '\0')
			FAILED("imap_write_text: byte 0x%02x at %zu", c, i);
		if (c != value[i] && c != ' ')
			FAILED("imap_write_text: byte %zu changed to 0x%02x", i, c);
	}
}

/* Parses "a X " + written + "\r\n" and checks the single argument. */
static void check_parses_back(enum writer_fn fn, const uint8_t *value, size_t len,
			      const struct buf *written)
{
	/* Big enough limits that only the writer's choices matter. */
	const struct imap_parser_limits limits = {
		.max_line = written->len + 64, .max_literal = written->len + 1,
		.max_literals = 2, .max_depth = 2, .max_args = 4,
	};
	struct imap_parser *p = imap_parser_new(&limits);
	struct arena arena;
	struct buf line;
	const struct imap_command *cmd = NULL;
	const struct imap_arg *a;
	size_t pos = 0, continuations = 0;
	bool is_literal = written->len > 0 && written->data[0] == '{';
	enum imap_arg_type want;

	arena_init(&arena);
	buf_init(&line);
	buf_append(&line, "a X ", 4);
	buf_append(&line, written->data, written->len);
	buf_append(&line, "\r\n", 2);

	while (pos < line.len && cmd == NULL) {
		size_t used = 0;
		enum imap_parse_status st = imap_parser_run(p, &arena, line.data + pos,
							    line.len - pos, &used);
		pos += used;
		switch (st) {
		case IMAP_PARSE_NEED_MORE:
			break;
		case IMAP_PARSE_LITERAL_CONTINUE:
			/* The "+" comes right after "{n}\r\n": the data follows. */
			continuations++;
			if (!is_literal || memchr(line.data + 4, '\n', pos - 4) != line.data + pos - 1)
				FAILED("%s: continuation request at byte %zu", fn_names[fn], pos);
			break;
		case IMAP_PARSE_DONE:
			cmd = imap_parser_command(p);
			break;
		case IMAP_PARSE_ERROR:
			FAILED("%s: output of %zu bytes does not parse: %s", fn_names[fn],
			       written->len, imap_parser_error_text(imap_parser_error(p)));
		}
	}
	if (cmd == NULL || pos != line.len)
		FAILED("%s: command not complete at the end of the line", fn_names[fn]);
	if (cmd->nargs != 1)
		FAILED("%s: output parses as %zu arguments", fn_names[fn], cmd->nargs);
	if (continuations != (is_literal ? 1u : 0u))
		FAILED("%s: %zu continuation requests", fn_names[fn], continuations);

	a = &cmd->args[0];
	if (fn == W_NSTRING_NIL) {
		if (a->type != IMAP_ARG_ATOM || a->u.str.len != 3 ||
		    memcmp(a->u.str.data, "NIL", 3) != 0)
			FAILED("imap_write_nstring(NULL) is not NIL");
		goto out;
	}
	want = is_literal ? IMAP_ARG_LITERAL :
	       written->len > 0 && written->data[0] == '"' ? IMAP_ARG_QUOTED : IMAP_ARG_ATOM;
	if (a->type != want)
		FAILED("%s: argument type %d, want %d", fn_names[fn], (int)a->type, (int)want);
	if (a->type == IMAP_ARG_ATOM) {
		/* An atom only where one may stand, and never one that reads as NIL. */
		if (fn != W_ASTRING)
			FAILED("%s: wrote an atom", fn_names[fn]);
		if (len == 3 && strncasecmp((const char *)value, "NIL", 3) == 0)
			FAILED("imap_write_astring: wrote NIL as an atom");
	}
	if (a->literal8)
		FAILED("%s: wrote a literal8", fn_names[fn]);
	if (a->u.str.len != len || (len > 0 && memcmp(a->u.str.data, value, len) != 0))
		FAILED("%s: %zu bytes in, %zu different bytes parsed back", fn_names[fn], len,
		       a->u.str.len);
	if (is_literal) {
		/* The literal carries the bytes verbatim after its "{n}\r\n". */
		char head[32];
		int n = snprintf(head, sizeof(head), "{%zu}\r\n", len);
		if (written->len != (size_t)n + len || memcmp(written->data, head, (size_t)n) != 0 ||
		    (len > 0 && memcmp(written->data + n, value, len) != 0))
			FAILED("%s: literal is not \"{%zu}\\r\\n\" and the bytes", fn_names[fn], len);
	}
out:
	buf_free(&line);
	arena_free(&arena);
	imap_parser_free(&p);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum writer_fn fn;
	const uint8_t *value;
	size_t len;
	struct buf out;

	if (size == 0)
		return 0;
	fn = (enum writer_fn)(data[0] % W_COUNT);
	value = data + 1;
	len = size - 1;
	buf_init(&out);
	switch (fn) {
	case W_ASTRING: imap_write_astring(&out, (const char *)value, len); break;
	case W_STRING: imap_write_string(&out, (const char *)value, len); break;
	case W_NSTRING: imap_write_nstring(&out, (const char *)value, len); break;
	case W_NSTRING_NIL: imap_write_nstring(&out, NULL, 0); break;
	case W_TEXT: imap_write_text(&out, (const char *)value, len); break;
	default: abort();
	}
	if (fn == W_TEXT)
		check_text(value, len, &out);
	else
		check_parses_back(fn, value, len, &out);
	buf_free(&out);
	return 0;
}
