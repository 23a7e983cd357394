/* libFuzzer target for LMTP's input handling without a socket: the command
 * grammar (server/lmtp/parse.h) and the message decoder for DATA and BDAT
 * (server/lmtp/data.h), the two places where a client's bytes are
 * interpreted (docs/delivery.md).
 *
 * Input layout:
 *
 *   byte 0     bits 0-3: the piece size for the decoder runs (n + 1 bytes)
 *   the rest   the stream: lines ended by LF as commands, and the whole of
 *              it as message data
 *
 * Each line (without LF and a CR before it; a line holding NUL is skipped,
 * as session.c refuses it before parsing) goes through lmtp_parse_verb and
 * then the parser of its verb: MAIL's path and parameters, RCPT's path,
 * BDAT's arguments. Contracts checked: a refusal is a whole reply "ddd
 * d.d.d text"; an accepted path is at most LMTP_PATH_MAX bytes, holds no
 * NUL, and is valid UTF-8 exactly when it has bytes outside ASCII; an
 * accepted SIZE is within the limit; an accepted BDAT is 1-19 digits and
 * an optional " LAST", and its size is what strtoull reads.
 *
 * The stream is then decoded in DATA mode and in BDAT mode, once in one
 * call and once in pieces: the two runs must agree (the decoder claims to
 * work on any split), the output must hold no bare LF and no more than the
 * limit, and the DATA run must stop right after a CRLF "." CRLF.
 *
 * A broken contract calls abort(), which libFuzzer reports as a crash. */
#include "server/core/buf.h"
#include "server/imap/mutf7.h"
#include "server/lmtp/data.h"
#include "server/lmtp/parse.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FAILED(...) do { \
	fprintf(stderr, "fuzz_lmtp: " __VA_ARGS__); \
	fputc('\n', stderr); \
	abort(); \
} while (0)

#define FUZZ_MAX_SIZE 4096
#define FUZZ_LINE_MAX 200

static void check_reply(const char *reply)
{
	if (strlen(reply) < 11 || reply[0] < '2' || reply[0] > '5' || reply[3] != ' ' ||
	    reply[4] != reply[0] || reply[5] != '.' || reply[7] != '.')
		FAILED("not a whole reply: \"%s\"", reply);
}

/* An accepted path: utf8 is what lmtp_parse_path said about it. */
static void check_path(const char *path, bool utf8)
{
	size_t len = strlen(path);
	bool high = false;

	if (len > LMTP_PATH_MAX)
		FAILED("a path of %zu bytes accepted", len);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)path[i] >= 0x80)
			high = true;
		else if ((unsigned char)path[i] < ' ' || path[i] == 0x7f)
			FAILED("a control byte in an accepted path");
	if (high != utf8)
		FAILED("the UTF-8 flag is wrong for \"%s\"", path);
	if (high && !imap_utf8_valid(path, len))
		FAILED("an accepted path is not UTF-8");
}

/* The path at *p (after "FROM:" or "TO:"): checked when accepted. */
static bool path(const char **p)
{
	bool utf8 = false;
	const char *before = *p;
	char *s = lmtp_parse_path(p, &utf8);

	if (s == NULL)
		return false;
	if (*p <= before || (*p)[-1] != '>')
		FAILED("the path of \"%s\" does not end at '>'", before);
	check_path(s, utf8);
	free(s);
	return true;
}

static void command(char *line)
{
	char *args;
	const char *p, *reply;
	struct lmtp_mail_params mp;
	uint64_t size;
	bool last, fault;

	switch (lmtp_parse_verb(line, &args)) {
	case LMTP_VERB_MAIL:
		if ((p = lmtp_after_keyword(args, "FROM:")) == NULL || !path(&p))
			return;
		reply = lmtp_parse_mail_params(p, FUZZ_MAX_SIZE, &mp, &fault);
		if (reply != NULL)
			check_reply(reply);
		else if (mp.has_size && mp.size > FUZZ_MAX_SIZE)
			FAILED("SIZE=%llu accepted", (unsigned long long)mp.size);
		break;
	case LMTP_VERB_RCPT:
		if ((p = lmtp_after_keyword(args, "TO:")) != NULL)
			path(&p);
		break;
	case LMTP_VERB_BDAT:
		reply = lmtp_parse_bdat(args, &size, &last);
		if (reply != NULL) {
			check_reply(reply);
			break;
		}
		{
			size_t digits = strspn(args, "0123456789");
			if (digits == 0 || digits > LMTP_BDAT_DIGITS_MAX ||
			    strtoull(args, NULL, 10) != size ||
			    (last ? strcasecmp(args + digits, " LAST") != 0 : args[digits] != '\0'))
				FAILED("BDAT \"%s\" accepted as %llu%s", args, (unsigned long long)size,
				       last ? " LAST" : "");
		}
		break;
	default:
		break;
	}
}

static void commands(const uint8_t *data, size_t size)
{
	char line[1024];

	while (size > 0) {
		const uint8_t *lf = memchr(data, '\n', size);
		size_t n = lf != NULL ? (size_t)(lf - data) : size;
		size_t used = lf != NULL ? n + 1 : n;

		if (n > 0 && data[n - 1] == '\r')
			n--;
		if (n < sizeof(line) && memchr(data, '\0', n) == NULL) {
			memcpy(line, data, n);
			line[n] = '\0';
			command(line);
		}
		data += used;
		size -= used;
	}
}

struct run {
	struct buf out;
	size_t used;
	bool done, too_big, has_nul, line_too_long;
};

static void decode(const uint8_t *data, size_t size, bool chunked, size_t piece, struct run *r)
{
	struct lmtp_data d;

	buf_init(&r->out);
	if (chunked)
		lmtp_data_init_chunked(&d, &r->out, FUZZ_MAX_SIZE, FUZZ_LINE_MAX);
	else
		lmtp_data_init(&d, &r->out, FUZZ_MAX_SIZE, FUZZ_LINE_MAX);
	r->used = 0;
	r->done = false;
	while (r->used < size && !r->done) {
		size_t n = size - r->used < piece ? size - r->used : piece;
		size_t u = lmtp_data_input(&d, (const char *)data + r->used, n, &r->done);
		if (u > n || (!r->done && u != n))
			FAILED("used %zu of %zu", u, n);
		r->used += u;
	}
	if (chunked) {
		if (r->done)
			FAILED("BDAT data ended by its content");
		lmtp_data_finish(&d);
	}
	r->too_big = d.too_big;
	r->has_nul = d.has_nul;
	r->line_too_long = d.line_too_long;
	if (r->out.len > FUZZ_MAX_SIZE)
		FAILED("%zu bytes kept over a limit of %d", r->out.len, FUZZ_MAX_SIZE);
	for (size_t i = 0; i < r->out.len; i++)
		if (r->out.data[i] == '\n' && (i == 0 || r->out.data[i - 1] != '\r'))
			FAILED("a bare LF in the output at %zu", i);
	if (r->done && (r->used < 3 || memcmp(data + r->used - 3, ".\r\n", 3) != 0))
		FAILED("DATA ended without CRLF \".\" CRLF");
}

static void decoders(const uint8_t *data, size_t size, size_t piece)
{
	for (int chunked = 0; chunked < 2; chunked++) {
		struct run whole, pieces;

		decode(data, size, chunked, size > 0 ? size : 1, &whole);
		decode(data, size, chunked, piece, &pieces);
		if (whole.used != pieces.used || whole.done != pieces.done ||
		    whole.too_big != pieces.too_big || whole.has_nul != pieces.has_nul ||
		    whole.line_too_long != pieces.line_too_long || whole.out.len != pieces.out.len ||
		    (whole.out.len > 0 && memcmp(whole.out.data, pieces.out.data, whole.out.len) != 0))
			FAILED("%s decoding depends on the split", chunked ? "BDAT" : "DATA");
		buf_free(&whole.out);
		buf_free(&pieces.out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t piece;

	if (size == 0)
		return 0;
	piece = (size_t)(data[0] & 0x0f) + 1;
	commands(data + 1, size - 1);
	decoders(data + 1, size - 1, piece);
	return 0;
}
