/* server/mime: section lookup in the part map (RFC 3501 §6.4.5), the map's
 * JSON format, content-transfer decoding for BINARY[], the limits, and
 * hostile input that must not take long. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "tests/unit/unit.h"
#include "server/mime/mime.h"

/* The structure of the example in RFC 3501 §6.4.5; every leaf holds its
 * own part number as text. */
static const char rfc3501_example[] =
	"Subject: top\r\nContent-Type: multipart/mixed; boundary=top\r\n\r\n"
	"--top\r\nContent-Type: text/plain\r\n\r\nP1\r\n"
	"--top\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nUDI=\r\n"
	"--top\r\nContent-Type: message/rfc822\r\n\r\n"
		"Subject: inner3\r\nContent-Type: multipart/mixed; boundary=m3\r\n\r\n"
		"--m3\r\nContent-Type: text/plain\r\n\r\nP3.1\r\n"
		"--m3\r\nContent-Type: application/octet-stream\r\n\r\nP3.2\r\n--m3--\r\n"
	"--top\r\nContent-Type: multipart/mixed; boundary=m4\r\n\r\n"
		"--m4\r\nContent-Type: image/gif\r\n\r\nP4.1\r\n"
		"--m4\r\nContent-Type: message/rfc822\r\n\r\n"
			"Subject: inner4.2\r\nContent-Type: multipart/mixed; boundary=m42\r\n\r\n"
			"--m42\r\nContent-Type: text/plain\r\n\r\nP4.2.1\r\n"
			"--m42\r\nContent-Type: multipart/alternative; boundary=m422\r\n\r\n"
				"--m422\r\nContent-Type: text/plain\r\n\r\nP4.2.2.1\r\n"
				"--m422\r\nContent-Type: text/richtext\r\n\r\nP4.2.2.2\r\n--m422--\r\n"
			"--m42--\r\n"
		"--m4--\r\n"
	"--top--\r\n";

static int find(const struct mime_message *m, const char *spec, struct mime_section *s)
{
	uint32_t path[8];
	size_t depth = 0;

	for (const char *p = spec; *p != '\0'; p++) {
		if (*p == '.')
			continue;
		path[depth++] = (uint32_t)strtoul(p, (char **)&p, 10);
		p--;
	}
	return mime_section_find(m->parts.data, m->parts.len, path, depth, s);
}

#define RANGE_IS(raw, r, want) CHECK_MEM((raw) + (r).off, (size_t)(r).len, (want), strlen(want))

static void test_rfc3501_sections(void)
{
	static const char *const leaves[] = { "1", "3.1", "3.2", "4.1", "4.2.1", "4.2.2.1", "4.2.2.2" };
	const char *raw = rfc3501_example;
	struct mime_message m;
	struct mime_section s;
	char want[32];

	mime_message_init(&m);
	mime_parse(raw, sizeof(rfc3501_example) - 1, NULL, &m);
	CHECK(m.degraded == 0);
	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		snprintf(want, sizeof(want), "P%s", leaves[i]);
		CHECK(find(&m, leaves[i], &s) == 0);
		RANGE_IS(raw, s.body, want);
		CHECK(!s.is_message && !s.is_multipart);
		CHECK(strncmp(raw + s.header.off, "Content-Type: ", 14) == 0);
		CHECK(memcmp(raw + s.header.off + s.header.len - 4, "\r\n\r\n", 4) == 0);
	}
	CHECK(find(&m, "2", &s) == 0 && s.encoding == MIME_ENC_BASE64);
	RANGE_IS(raw, s.body, "UDI=");
	/* HEADER and TEXT of the whole message. */
	CHECK(find(&m, "", &s) == 0 && s.is_message && s.is_multipart);
	CHECK(s.header.off == 0 && strncmp(raw + s.header.len - 4, "\r\n\r\n", 4) == 0);
	CHECK(s.body.off == s.header.len && s.body.off + s.body.len == sizeof(rfc3501_example) - 1);
	/* 3 and 4.2: message/rfc822 with HEADER and TEXT; BODY[3] is both. */
	CHECK(find(&m, "3", &s) == 0 && s.is_message && !s.is_multipart);
	CHECK(s.msg_header.off == s.body.off && s.msg_text.off == s.msg_header.off + s.msg_header.len);
	CHECK(s.msg_text.off + s.msg_text.len == s.body.off + s.body.len);
	CHECK(strncmp(raw + s.msg_header.off, "Subject: inner3\r\n", 17) == 0);
	CHECK(strncmp(raw + s.msg_text.off, "--m3\r\n", 6) == 0);
	CHECK(find(&m, "4.2", &s) == 0 && s.is_message);
	CHECK(strncmp(raw + s.msg_header.off, "Subject: inner4.2\r\n", 19) == 0);
	CHECK(find(&m, "4", &s) == 0 && s.is_multipart && !s.is_message);
	CHECK(strncmp(raw + s.body.off, "--m4\r\n", 6) == 0);
	CHECK(find(&m, "4.2.2", &s) == 0 && s.is_multipart);
	CHECK(strncmp(raw + s.header.off, "Content-Type: multipart/alternative", 35) == 0);
	/* Parts that do not exist. */
	static const char *const missing[] = { "5", "0", "1.1", "2.1", "3.3", "4.3", "4.2.3", "4.2.2.3",
		"4.2.1.1", "3.1.1" };
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++)
		CHECK(find(&m, missing[i], &s) == -1);
	mime_message_free(&m);
}

/* A message that is not multipart has one part, itself; inside a
 * message/rfc822 part, x.1 is the encapsulated message's body. */
static void test_single_part_sections(void)
{
	static const char plain[] = "Subject: s\r\n\r\nbody";
	static const char fwd[] = "Content-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\ninner";
	struct mime_message m;
	struct mime_section s;

	mime_message_init(&m);
	mime_parse(plain, sizeof(plain) - 1, NULL, &m);
	CHECK(find(&m, "1", &s) == 0 && !s.is_message);
	RANGE_IS(plain, s.body, "body");
	RANGE_IS(plain, s.header, "Subject: s\r\n\r\n");
	CHECK(find(&m, "1.1", &s) == -1 && find(&m, "2", &s) == -1);
	mime_message_free(&m);

	mime_message_init(&m);
	mime_parse(fwd, sizeof(fwd) - 1, NULL, &m);
	CHECK(find(&m, "1", &s) == 0 && s.is_message);
	RANGE_IS(fwd, s.body, "Subject: in\r\n\r\ninner");
	RANGE_IS(fwd, s.msg_text, "inner");
	CHECK(find(&m, "1.1", &s) == 0 && !s.is_message);
	RANGE_IS(fwd, s.body, "inner");
	RANGE_IS(fwd, s.header, "Subject: in\r\n\r\n");
	CHECK(find(&m, "1.2", &s) == -1 && find(&m, "1.1.1", &s) == -1);
	mime_message_free(&m);
}

static int find_in(const char *map, const uint32_t *path, size_t depth, struct mime_section *s)
{
	return mime_section_find((const uint8_t *)map, strlen(map), path, depth, s);
}

/* PostgreSQL's jsonb output adds spaces; broken maps are refused. */
static void test_partmap_format(void)
{
	static const uint32_t p2[] = { 2 }, p21[] = { 2, 1 };
	struct mime_section s;

	CHECK(find_in("[1, [0, 10, 10, 50, 1, 0, 3], [12, 2, 14, 5, 0, 3, 0],\n [20, 3, 23, 9, 2, 1, 1],"
			" [23, 4, 27, 5, 0, 0, 0]]", p21, 2, &s) == 0);
	CHECK(s.header.off == 23 && s.header.len == 4 && s.body.off == 27 && s.body.len == 5);
	CHECK(find_in("[1,[0,10,10,50,1,0,3],[12,2,14,5,0,3,0],[20,3,23,9,2,1,1],[23,4,27,5,0,0,0]]",
			p2, 1, &s) == 0);
	CHECK(s.is_message && s.encoding == MIME_ENC_8BIT && s.msg_header.off == 23 && s.msg_text.len == 5);
	static const char *const bad[] = {
		"", "[", "[2,[0,0,0,0,0,0,0]]", "[1]", "[1,[0,0,0,0,0,0]]", "[1,[0,0,0,0,3,0,0]]",
		"[1,[0,0,0,0,0,9,0]]", "[1,[0,0,0,0,0,0,-1]]", "[1,{\"a\":1}]", "[1,[0,0,0,0,1,0,5]]",
		"[1,[0,0,0,0,0,0,99999999999999999999999]]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(find_in(bad[i], p2, i == 0 ? 0 : 1, &s) == -1);
	CHECK(find_in("[1,[0,0,0,0,1,0,5]]", NULL, 0, &s) == 0);   /* depth 0 needs only the root */
}

static int decode(const char *in, enum mime_encoding enc, struct buf *out)
{
	buf_clear(out);
	return mime_decode_content(in, strlen(in), enc, out);
}

static void test_decode(void)
{
	struct buf b;

	buf_init(&b);
	CHECK(decode("aGVs\r\nbG8=\r\n", MIME_ENC_BASE64, &b) == 0);
	CHECK_MEM(b.data, b.len, "hello", 5);
	CHECK(decode(" aGVsbG8 ", MIME_ENC_BASE64, &b) == 0);     /* padding may be missing */
	CHECK_MEM(b.data, b.len, "hello", 5);
	CHECK(decode("aGk=aGk=", MIME_ENC_BASE64, &b) == 0);       /* concatenated chunks */
	CHECK_MEM(b.data, b.len, "hihi", 4);
	CHECK(decode("AAEC", MIME_ENC_BASE64, &b) == 0);
	CHECK_MEM(b.data, b.len, "\0\1\2", 3);
	buf_append(&b, "keep", 4);
	size_t before = b.len;
	CHECK(mime_decode_content("aGVs!bG8=", 9, MIME_ENC_BASE64, &b) == -1 && b.len == before);
	CHECK(decode("aGVsb", MIME_ENC_BASE64, &b) == -1);          /* a dangling sixth bit */
	CHECK(decode("a=3Db=\r\nc  \r\nd=ZZ=4 =\r\n", MIME_ENC_QP, &b) == 0);
	CHECK_MEM(b.data, b.len, "a=bc\r\nd=ZZ=4 ", 13);
	CHECK(decode("caf=c3=A9\nx=\n", MIME_ENC_QP, &b) == 0);     /* lower case hex, bare LF */
	CHECK_MEM(b.data, b.len, "caf\303\251\nx", 7);
	CHECK(decode("as is\r\n", MIME_ENC_8BIT, &b) == 0);
	CHECK_MEM(b.data, b.len, "as is\r\n", 7);
	CHECK(decode("begin 644 x\n", MIME_ENC_OTHER, &b) == -1);
	buf_free(&b);
}

static size_t map_nodes(const struct mime_message *m)
{
	size_t n = 0;
	for (size_t i = 0; i < m->parts.len; i++)
		n += m->parts.data[i] == '[';
	return n - 1;
}

static void test_limits(void)
{
	struct buf raw;
	struct mime_message m;
	struct mime_limits l;

	/* 40 nested multiparts: the one at depth 32 becomes an opaque leaf. */
	buf_init(&raw);
	for (int i = 0; i < 40; i++)
		buf_appendf(&raw, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i);
	buf_append_str(&raw, "\r\nleaf\r\n");
	mime_message_init(&m);
	mime_parse((const char *)raw.data, raw.len, NULL, &m);
	CHECK(m.degraded & MIME_DEGRADED_DEPTH);
	CHECK(map_nodes(&m) == 33);
	CHECK(strstr((const char *)m.body.data, "(\"application\" \"octet-stream\" NIL NIL NIL \"7bit\"") != NULL);
	mime_message_free(&m);

	/* 1500 parts: the map stops at max_parts. */
	buf_clear(&raw);
	buf_append_str(&raw, "Content-Type: multipart/mixed; boundary=b\r\n\r\n");
	for (int i = 0; i < 1500; i++)
		buf_append_str(&raw, "--b\r\n\r\nx\r\n");
	buf_append_str(&raw, "--b--\r\n");
	mime_message_init(&m);
	mime_parse((const char *)raw.data, raw.len, NULL, &m);
	CHECK(m.degraded == MIME_DEGRADED_PARTS);
	CHECK(map_nodes(&m) == 1000);
	mime_message_free(&m);

	/* Header limits: fields and bytes. */
	mime_limits_default(&l);
	l.max_fields = 10;
	buf_clear(&raw);
	for (int i = 0; i < 20; i++)
		buf_appendf(&raw, "X-%d: %d\r\n", i, i);
	buf_append_str(&raw, "\r\nbody");
	mime_message_init(&m);
	mime_parse((const char *)raw.data, raw.len, &l, &m);
	CHECK(m.nfields == 10 && (m.degraded & MIME_DEGRADED_HEADER));
	mime_message_free(&m);
	l.max_fields = 5000;
	l.max_header_bytes = 30;
	mime_message_init(&m);
	mime_parse((const char *)raw.data, raw.len, &l, &m);
	CHECK(m.nfields == 4 && (m.degraded & MIME_DEGRADED_HEADER));
	mime_message_free(&m);
	buf_free(&raw);
}

/* Hostile input must take well under a second of CPU each (5 s under the
 * sanitizers, which slow everything down several times). The parse's own
 * CPU time, not the wall clock: a quadratic parse is CPU, and a machine
 * busy with other work must not fail the test. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define MAX_SECONDS 5.0
#else
#define MAX_SECONDS 1.0
#endif

static double timed_parse(const struct buf *raw, unsigned *degraded)
{
	struct timespec a, b;
	struct mime_message m;

	mime_message_init(&m);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	mime_parse((const char *)raw->data, raw->len, NULL, &m);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	*degraded = m.degraded;
	mime_message_free(&m);
	return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

static void test_hostile(void)
{
	struct buf raw;
	unsigned degraded;
	double t;

	buf_init(&raw);
	for (int i = 0; i < 100000; i++)
		buf_appendf(&raw, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i);
	t = timed_parse(&raw, &degraded);
	fprintf(stderr, "  100,000 nested multiparts (%zu bytes): %.3f s\n", raw.len, t);
	CHECK(t < MAX_SECONDS && (degraded & MIME_DEGRADED_DEPTH));

	buf_clear(&raw);
	buf_append_str(&raw, "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n");
	for (int i = 0; i < 1000000; i++)
		buf_append_str(&raw, "--b\r\n");
	t = timed_parse(&raw, &degraded);
	fprintf(stderr, "  1,000,000 boundaries (%zu bytes): %.3f s\n", raw.len, t);
	CHECK(t < MAX_SECONDS && (degraded & MIME_DEGRADED_PARTS));

	buf_clear(&raw);
	buf_append_str(&raw, "Subject: ");
	buf_reserve(&raw, 20 << 20);
	memset(raw.data + raw.len, 'a', 20 << 20);
	raw.len += 20 << 20;
	t = timed_parse(&raw, &degraded);
	fprintf(stderr, "  20 MB header without line break: %.3f s\n", t);
	CHECK(t < MAX_SECONDS && (degraded & MIME_DEGRADED_HEADER));

	/* 20 MB of unterminated encoded words, and of "--" lines against
	 * 32 open boundaries. */
	buf_clear(&raw);
	buf_append_str(&raw, "Subject: ");
	while (raw.len < (20u << 20))
		buf_append_str(&raw, "=?utf-8?q?a");
	t = timed_parse(&raw, &degraded);
	fprintf(stderr, "  20 MB of broken encoded words: %.3f s\n", t);
	CHECK(t < MAX_SECONDS);
	buf_clear(&raw);
	for (int i = 0; i < 31; i++)
		buf_appendf(&raw, "Content-Type: multipart/mixed; boundary=\"bound%d\"\r\n\r\n--bound%d\r\n", i, i);
	buf_append_str(&raw, "\r\n");
	while (raw.len < (20u << 20))
		buf_append_str(&raw, "--bound1x\r\n");
	t = timed_parse(&raw, &degraded);
	fprintf(stderr, "  20 MB of near-delimiter lines at depth 31: %.3f s\n", t);
	CHECK(t < MAX_SECONDS);
	buf_free(&raw);
}

int main(void)
{
	UNIT_RUN(test_rfc3501_sections);
	UNIT_RUN(test_single_part_sections);
	UNIT_RUN(test_partmap_format);
	UNIT_RUN(test_decode);
	UNIT_RUN(test_limits);
	UNIT_RUN(test_hostile);
	return unit_report("test_mime_section");
}
