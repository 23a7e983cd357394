/* The LMTP DATA decoder (server/lmtp/data.c): the end of data only at
 * CRLF "." CRLF (RFC 5321 §4.1.1.4), dot-unstuffing (§4.5.2), bare LF
 * normalised, the smuggling look-alikes kept inside the message
 * (docs/delivery.md). Every case is fed whole, a byte at a time and in
 * 3-byte pieces: the decoder must not care how the input is split. The
 * expected outputs are written from those rules, not from the code. */
#include "tests/unit/unit.h"
#include "server/lmtp/data.h"

struct data_case {
	const char *in;
	size_t in_len;
	const char *out;        /* decoded, when done */
	size_t out_len;
	size_t used;            /* bytes that belong to the data */
	bool done;
};

#define C(in, out, used, done) { in, sizeof(in) - 1, out, sizeof(out) - 1, used, done }

static const struct data_case cases[] = {
	C(".\r\n", "", 3, true),
	C("a\r\n.\r\n", "a\r\n", 6, true),
	C("a\r\n.\r\nNOOP\r\n", "a\r\n", 6, true),
	C("..a\r\n.\r\n", ".a\r\n", 8, true),
	C("...\r\n.\r\n", "..\r\n", 8, true),
	C("a\nb\n.\r\n", "a\r\nb\r\n.\r\n", 7, false),   /* after bare LF: no end */
	C("a\nb\r\n.\r\n", "a\r\nb\r\n", 8, true),
	C("a\n.\nb\r\n.\r\n", "a\r\n.\r\nb\r\n", 10, true),
	C("a\r.\nb\r\n.\r\n", "a\r.\r\nb\r\n", 10, true),
	C("a\n.\r\nb\r\n.\r\n", "a\r\n.\r\nb\r\n", 11, true),
	C("a\r\n.\nb\r\n.\r\n", "a\r\n.\r\nb\r\n", 11, true),
	C(".\nb\r\n.\r\n", ".\r\nb\r\n", 8, true),
	C("a\r\n.\r\r\n.\r\n", "a\r\n\r\r\n", 10, true),   /* ".\r" + CRLF: a stuffed CR */
	C("a\r\n. \r\n.\r\n", "a\r\n \r\n", 10, true),
	C("a\rb\r\n.\r\n", "a\rb\r\n", 8, true),
	C("a\r\r\n.\r\n", "a\r\r\n", 7, true),
	C("\r\n.\r\n", "\r\n", 5, true),
	C("a\r\n.", "a\r\n", 4, false),
	C("a\r\n.\r", "a\r\n", 5, false),
};

static void run(const struct data_case *tc, size_t piece)
{
	struct buf out;
	struct lmtp_data d;
	size_t at = 0;
	bool done = false;

	buf_init(&out);
	lmtp_data_init(&d, &out, 1 << 20, 1000);
	while (at < tc->in_len && !done) {
		size_t n = tc->in_len - at < piece ? tc->in_len - at : piece;
		at += lmtp_data_input(&d, tc->in + at, n, &done);
	}
	CHECK(done == tc->done);
	CHECK(at == tc->used);
	if (tc->done)
		CHECK_MEM(out.data, out.len, tc->out, tc->out_len);
	else
		CHECK(out.len <= tc->out_len && memcmp(out.data, tc->out, out.len) == 0);
	CHECK(!d.has_nul && !d.too_big && !d.line_too_long);
	buf_free(&out);
}

static void test_cases(void)
{
	static const size_t pieces[] = { (size_t)-1, 1, 3 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (size_t k = 0; k < 3; k++)
			run(&cases[i], pieces[k]);
}

static void test_limits(void)
{
	struct buf out;
	struct lmtp_data d;
	bool done;
	static const char big[] = "0123456789\r\n0123456789\r\n.\r\n";
	static const char nul[] = "a\0b\r\n.\r\n";
	static const char longline[] = "abcdefghijk\r\n.\r\n";

	buf_init(&out);
	/* Too big: read to the end, keeping no more than the limit. */
	lmtp_data_init(&d, &out, 16, 1000);
	CHECK(lmtp_data_input(&d, big, sizeof(big) - 1, &done) == sizeof(big) - 1);
	CHECK(done && d.too_big && out.len <= 16);
	buf_clear(&out);
	lmtp_data_init(&d, &out, 1000, 1000);
	CHECK(lmtp_data_input(&d, nul, sizeof(nul) - 1, &done) == sizeof(nul) - 1);
	CHECK(done && d.has_nul);
	buf_clear(&out);
	lmtp_data_init(&d, &out, 1000, 10);
	CHECK(lmtp_data_input(&d, longline, sizeof(longline) - 1, &done) == sizeof(longline) - 1);
	CHECK(done && d.line_too_long);
	buf_clear(&out);
	/* A line of exactly the limit is fine; a stuffed dot does not count. */
	lmtp_data_init(&d, &out, 1000, 10);
	CHECK(lmtp_data_input(&d, "..23456789a\r\n.\r\n", 16, &done) == 16);
	CHECK(done && !d.line_too_long);
	buf_free(&out);
}

/* BDAT (RFC 3030 §2): the chunk sizes delimit the message, so "." lines
 * are plain text and nothing ends it; line ends are normalised as for
 * DATA, a CR at a chunk's end joins an LF at the next one's start, and a
 * CR at the very end is data (lmtp_data_finish). */
static void test_chunked(void)
{
	static const char in[] = "..a\n.\r\n.\nb\r";
	static const char want[] = "..a\r\n.\r\n.\r\nb\r\n\r";
	struct buf out;
	struct lmtp_data d;
	bool done;

	buf_init(&out);
	lmtp_data_init_chunked(&d, &out, 1000, 1000);
	for (size_t i = 0; i < sizeof(in) - 1; i++) {
		CHECK(lmtp_data_input(&d, in + i, 1, &done) == 1);
		CHECK(!done);
	}
	CHECK(lmtp_data_input(&d, "\n\r", 2, &done) == 2 && !done);
	lmtp_data_finish(&d);
	CHECK(out.len == sizeof(want) - 1 && memcmp(out.data, want, out.len) == 0);
	buf_free(&out);
}

int main(void)
{
	UNIT_RUN(test_cases);
	UNIT_RUN(test_limits);
	UNIT_RUN(test_chunked);
	return unit_report("test_lmtp_data");
}
