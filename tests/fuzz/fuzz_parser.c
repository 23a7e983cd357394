/* libFuzzer target for the incremental command parser (server/imap/parser.h).
 *
 * The input is a small header followed by the byte stream a client would
 * send. The header chooses how the stream is cut into the pieces handed to
 * imap_parser_run, so the fuzzer explores splits as well as contents:
 *
 *   byte 0     bits 0-2: n, the number of split bytes that follow (0 = the
 *              whole stream in one call); bit 3: reset the arena with
 *              arena_reset (set) or free it outright (clear), which makes any
 *              pointer the parser kept across commands visible to ASan
 *   bytes 1..n piece sizes, used in turn: byte b gives a piece of b + 1 bytes
 *
 * Every status is handled as server/imap/session.c does: DONE walks the whole
 * argument tree and checks its invariants, LITERAL_CONTINUE goes on, ERROR
 * goes on unless fatal; the arena is reset after each command and each error.
 * The same stream is then parsed again in one piece, and the two runs must
 * produce the same sequence of events: the parser claims to work on any
 * split. Limits are small so that every limit is reached often. A sink as
 * server/imap/literal_sink.c's sends APPEND's top-level literals after the
 * mailbox from 64 bytes on to a fake spool that counts and hashes what it
 * is given, and refuses any other literal over 64 bytes.
 *
 * A broken invariant calls abort(), which libFuzzer reports as a crash. */
#include "server/core/arena.h"
#include "server/imap/parser.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct imap_parser_limits fuzz_limits = {
	.max_line = 4096,
	.max_literal = 8192,
	.max_literals = 10,
	.max_depth = 8,
	.max_args = 500,
	.max_command_literal_bytes = 16384,
	.max_session_literal_bytes = 65536,
};

#define FUZZ_SPOOL_THRESHOLD 64
#define FUZZ_SPOOLS 16

/* The fake spools of one parse: what each was given. */
struct fake_spool {
	uint64_t written;
	uint64_t h;
};
static struct fake_spool spools[FUZZ_SPOOLS];
static size_t nspools;

#define FAILED(...) do { \
	fprintf(stderr, "fuzz_parser: " __VA_ARGS__); \
	fputc('\n', stderr); \
	abort(); \
} while (0)

/* A running digest of everything the parser reported (FNV-1a, 64 bits). */
struct digest {
	uint64_t h;
	size_t events;
};

static void digest_bytes(struct digest *d, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		d->h ^= p[i];
		d->h *= 0x100000001b3ULL;
	}
}

static void digest_u64(struct digest *d, uint64_t v)
{
	digest_bytes(d, &v, sizeof(v));
}

static bool is_tag_char(uint8_t c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\+", c) == NULL;
}

static void check_tag(const char *tag, const char *what)
{
	size_t n;

	if (tag == NULL)
		FAILED("%s: NULL tag", what);
	n = strlen(tag);
	if (n == 0)
		FAILED("%s: empty tag", what);
	for (size_t i = 0; i < n; i++)
		if (!is_tag_char((uint8_t)tag[i]))
			FAILED("%s: invalid byte 0x%02x in tag", what, (uint8_t)tag[i]);
}

static enum imap_literal_place fuzz_place(void *ctx, const char *command, size_t depth,
					  size_t arg_index, uint64_t len, struct spool **spool_r)
{
	bool message = strcmp(command, "APPEND") == 0 && depth == 0 && arg_index >= 1;

	(void)ctx;
	if (!message)
		return len <= FUZZ_SPOOL_THRESHOLD ? IMAP_LITERAL_ARENA : IMAP_LITERAL_REFUSE;
	if (len < FUZZ_SPOOL_THRESHOLD)
		return IMAP_LITERAL_ARENA;
	if (nspools == FUZZ_SPOOLS)
		return IMAP_LITERAL_UNAVAILABLE;
	spools[nspools] = (struct fake_spool){ 0, 0xcbf29ce484222325ULL };
	*spool_r = (struct spool *)&spools[nspools++];
	return IMAP_LITERAL_SPOOL;
}

static void fuzz_write(void *ctx, struct spool *spool, const void *data, size_t len)
{
	struct fake_spool *f = (struct fake_spool *)spool;
	const uint8_t *p = data;

	(void)ctx;
	if (f < spools || f >= spools + nspools)
		FAILED("write to a spool the sink did not make");
	if (len == 0)
		FAILED("empty write to a spool");
	for (size_t i = 0; i < len; i++) {
		f->h ^= p[i];
		f->h *= 0x100000001b3ULL;
	}
	f->written += len;
}

static const struct imap_literal_sink fuzz_sink = { .place = fuzz_place, .write = fuzz_write };

struct tree_counts {
	size_t args, literals;
};

/* Checks one argument array (terminated by EOL after exactly count items)
 * and folds it into the digest. */
static void check_args(const struct imap_arg *args, size_t count, size_t depth,
		       struct tree_counts *tc, struct digest *d)
{
	if (args == NULL)
		FAILED("NULL argument array");
	if (depth > fuzz_limits.max_depth)
		FAILED("nesting %zu over the limit %zu", depth, fuzz_limits.max_depth);
	for (size_t i = 0; i < count; i++) {
		const struct imap_arg *a = &args[i];

		tc->args++;
		digest_u64(d, a->type);
		digest_u64(d, a->literal8);
		switch (a->type) {
		case IMAP_ARG_ATOM:
		case IMAP_ARG_QUOTED:
		case IMAP_ARG_LITERAL: {
			const char *s = a->u.str.data;
			size_t len = a->u.str.len;
			const struct fake_spool *f = (const struct fake_spool *)a->spool;

			if (f != NULL) {
				if (a->type != IMAP_ARG_LITERAL || s != NULL)
					FAILED("spooled argument of type %d with data", (int)a->type);
				if (depth != 0 || i == 0 || len < FUZZ_SPOOL_THRESHOLD)
					FAILED("literal of %zu bytes spooled where no message is", len);
				if (f->written != len)
					FAILED("spooled literal of %zu bytes was given %llu", len,
					       (unsigned long long)f->written);
				tc->literals++;
				digest_u64(d, len);
				digest_u64(d, f->h);
				break;
			}
			if (s == NULL)
				FAILED("string argument with NULL data");
			if (s[len] != '\0')
				FAILED("string argument of %zu bytes not NUL-terminated", len);
			if (a->literal8 && a->type != IMAP_ARG_LITERAL)
				FAILED("literal8 flag on a non-literal");
			if (a->type == IMAP_ARG_ATOM) {
				if (len == 0)
					FAILED("empty atom");
				for (size_t k = 0; k < len; k++) {
					uint8_t c = (uint8_t)s[k];
					if (c == '\0' || c == '\r' || c == '\n')
						FAILED("atom holds byte 0x%02x", c);
				}
			} else if (a->type == IMAP_ARG_QUOTED) {
				if (memchr(s, '\0', len) != NULL || memchr(s, '\r', len) != NULL ||
				    memchr(s, '\n', len) != NULL)
					FAILED("quoted string holds NUL, CR or LF");
			} else {
				tc->literals++;
				if (len > fuzz_limits.max_literal)
					FAILED("literal of %zu bytes over the limit", len);
			}
			digest_u64(d, len);
			digest_bytes(d, s, len);
			break;
		}
		case IMAP_ARG_LIST:
			if (a->literal8)
				FAILED("literal8 flag on a list");
			digest_u64(d, a->u.list.count);
			check_args(a->u.list.items, a->u.list.count, depth + 1, tc, d);
			break;
		default:
			FAILED("argument %zu of %zu has type %d", i, count, (int)a->type);
		}
	}
	if (args[count].type != IMAP_ARG_EOL)
		FAILED("argument array of %zu items not terminated by EOL", count);
}

static void check_command(const struct imap_command *cmd, struct digest *d)
{
	struct tree_counts tc = { 0, 0 };
	size_t n;

	check_tag(cmd->tag, "command");
	n = strnlen(cmd->name, sizeof(cmd->name));
	if (n == 0 || n >= sizeof(cmd->name))
		FAILED("command name of length %zu", n);
	for (size_t i = 0; i < n; i++)
		if (!((cmd->name[i] >= 'A' && cmd->name[i] <= 'Z') ||
		      (cmd->name[i] >= '0' && cmd->name[i] <= '9')))
			FAILED("command name holds byte 0x%02x", (uint8_t)cmd->name[i]);
	digest_bytes(d, cmd->tag, strlen(cmd->tag) + 1);
	digest_bytes(d, cmd->name, n + 1);
	digest_u64(d, cmd->nargs);
	check_args(cmd->args, cmd->nargs, 0, &tc, d);
	if (tc.args > fuzz_limits.max_args)
		FAILED("%zu arguments over the limit", tc.args);
	if (tc.literals > fuzz_limits.max_literals)
		FAILED("%zu literals over the limit", tc.literals);
}

static void arena_recycle(struct arena *arena, bool use_reset)
{
	if (use_reset) {
		arena_reset(arena);
	} else {
		arena_free(arena);
		arena_init(arena);
	}
}

/* Parses data in pieces given by splits (nsplits == 0: one piece) and returns
 * the digest of all events. */
static struct digest parse_stream(const uint8_t *data, size_t len, const uint8_t *splits,
				  size_t nsplits, bool use_reset)
{
	struct imap_parser *p = imap_parser_new(&fuzz_limits);
	struct arena arena;
	struct digest d = { 0xcbf29ce484222325ULL, 0 };
	size_t pos = 0, k = 0;
	bool fatal = false;

	arena_init(&arena);
	imap_parser_set_sink(p, &fuzz_sink);
	nspools = 0;
	while (pos < len && !fatal) {
		size_t piece = nsplits == 0 ? len - pos : (size_t)splits[k++ % nsplits] + 1;
		size_t end = piece > len - pos ? len : pos + piece;

		while (pos < end) {
			size_t used = (size_t)-1;
			enum imap_parse_status st = imap_parser_run(p, &arena, data + pos, end - pos,
								    &used);

			if (used > end - pos)
				FAILED("consumed %zu of %zu bytes", used, end - pos);
			if (used == 0)
				FAILED("status %d without consuming a byte", (int)st);
			pos += used;
			/* Piece boundaries add NEED_MORE events: only the others count. */
			if (st != IMAP_PARSE_NEED_MORE) {
				d.events++;
				digest_u64(&d, st);
			}
			switch (st) {
			case IMAP_PARSE_NEED_MORE:
				if (pos != end)
					FAILED("NEED_MORE with %zu bytes left", end - pos);
				break;
			case IMAP_PARSE_LITERAL_CONTINUE:
				if (!imap_parser_in_command(p))
					FAILED("LITERAL_CONTINUE outside a command");
				break;
			case IMAP_PARSE_DONE:
				if (imap_parser_error(p) != IMAP_PERR_NONE)
					FAILED("DONE with error %d", (int)imap_parser_error(p));
				check_command(imap_parser_command(p), &d);
				arena_recycle(&arena, use_reset);
				nspools = 0;   /* the session closes a command's spools */
				break;
			case IMAP_PARSE_ERROR: {
				enum imap_parse_error e = imap_parser_error(p);
				const char *tag = imap_parser_error_tag(p);
				const char *text = imap_parser_error_text(e);

				if (e <= IMAP_PERR_NONE || e > IMAP_PERR_SPOOL_UNAVAILABLE ||
				    e == IMAP_PERR_FATAL_LINE_TOO_LONG)
					FAILED("ERROR with error code %d", (int)e);
				if (text == NULL || text[0] == '\0')
					FAILED("no text for error %d", (int)e);
				digest_u64(&d, e);
				/* The session writes this tag into the BAD line. */
				if (tag != NULL) {
					check_tag(tag, "error");
					digest_bytes(&d, tag, strlen(tag) + 1);
				}
				if (imap_parser_error_is_fatal(e))
					fatal = true;
				arena_recycle(&arena, use_reset);
				nspools = 0;
				break;
			}
			default:
				FAILED("unknown status %d", (int)st);
			}
			if (st == IMAP_PARSE_NEED_MORE || fatal)
				break;
		}
	}
	imap_parser_free(&p);
	arena_free(&arena);
	return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t nsplits;
	bool use_reset;
	struct digest split, whole;

	if (size == 0)
		return 0;
	nsplits = data[0] & 7;
	use_reset = (data[0] & 8) != 0;
	if (size < 1 + nsplits)
		return 0;
	split = parse_stream(data + 1 + nsplits, size - 1 - nsplits, data + 1, nsplits, use_reset);
	if (nsplits == 0)
		return 0;
	whole = parse_stream(data + 1 + nsplits, size - 1 - nsplits, NULL, 0, use_reset);
	if (split.h != whole.h || split.events != whole.events)
		FAILED("split and whole parses disagree (%zu and %zu events)", split.events,
		       whole.events);
	return 0;
}
