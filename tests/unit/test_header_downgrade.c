/* The downgrade of stored header data for clients that did not enable
 * UTF-8 (server/imap/header_downgrade.h; RFC 2047 §2 and §5, RFC 6858 §3):
 * the expected outputs are written out by hand from the RFCs. */
#include "tests/unit/unit.h"
#include "server/imap/header_downgrade.h"
#include "server/imap/writer.h"

#include <string.h>

static struct buf out;

#define ENCODE(in, want) do { \
	buf_clear(&out); \
	imap_encode_words((in), sizeof(in) - 1, &out); \
	CHECK_MEM(out.data, out.len, (want), sizeof(want) - 1); \
} while (0)

#define ENVELOPE(in, want) do { \
	buf_clear(&out); \
	CHECK(imap_envelope_downgrade((in), sizeof(in) - 1, &out) == 0); \
	CHECK_MEM(out.data, out.len, (want), sizeof(want) - 1); \
} while (0)

static void test_words(void)
{
	/* "Grüße" is 47 72 C3 BC C3 9F 65: R3LDvMOfZQ== in BASE64. */
	ENCODE("Gr\xc3\xbc\xc3\x9f" "e", "=?UTF-8?B?R3LDvMOfZQ==?=");
	/* ASCII words around the 8-bit ones stay as they are. */
	ENCODE("Re: Gr\xc3\xbc\xc3\x9f" "e now", "Re: =?UTF-8?B?R3LDvMOfZQ==?= now");
	ENCODE("plain", "plain");
	/* Not UTF-8 (a raw Latin-1 "é"): every byte, labelled ISO-8859-1. */
	ENCODE("caf\xe9", "=?ISO-8859-1?B?Y2Fm6Q==?=");
	/* An overlong form is not UTF-8 either. */
	ENCODE("\xc0\xaf", "=?ISO-8859-1?B?wK8=?=");
}

/* RFC 2047 §2: no encoded-word over 75 characters, and §5: none splits
 * a character. 20 "é" are 40 bytes: one word; 30 are 60: two, the first
 * with 22 (44 bytes, the 45th would split one). */
static void test_long_text_splits_on_characters(void)
{
	char in[60];
	const char *p, *q;

	for (size_t i = 0; i < 30; i++)
		memcpy(in + 2 * i, "\xc3\xa9", 2);
	buf_clear(&out);
	imap_encode_words(in, sizeof(in), &out);
	p = (const char *)out.data;
	q = memchr(p, ' ', out.len);
	CHECK(q != NULL);
	if (q == NULL)
		return;
	CHECK(q - p <= 75);
	CHECK(out.len - (size_t)(q + 1 - p) <= 75);
	/* 44 bytes are 60 BASE64 characters without padding. */
	CHECK(q - p == 10 + 60 + 2);
	CHECK(memcmp(q + 1, "=?UTF-8?B?", 10) == 0);
}

/* The same limit in ISO-8859-1: 42 bytes a word (56 BASE64 characters). */
static void test_long_latin1_text(void)
{
	char in[50];
	const char *p, *q;

	memset(in, '\xe9', sizeof(in));
	buf_clear(&out);
	imap_encode_words(in, sizeof(in), &out);
	p = (const char *)out.data;
	q = memchr(p, ' ', out.len);
	CHECK(q != NULL && q - p == 15 + 56 + 2);
}

static void test_envelope(void)
{
	/* Nothing 8-bit: byte for byte. */
	ENVELOPE("(NIL \"s\" ((\"A\" NIL \"a\" \"x.org\")) NIL NIL NIL NIL NIL NIL NIL)",
		 "(NIL \"s\" ((\"A\" NIL \"a\" \"x.org\")) NIL NIL NIL NIL NIL NIL NIL)");
	/* A subject in a literal, an 8-bit name. */
	ENVELOPE("(NIL {2}\r\n\xc3\xa9 ((\"J\xc3\xbc\" NIL \"j\" \"x.org\")) NIL NIL NIL NIL NIL NIL NIL)",
		 "(NIL \"=?UTF-8?B?w6k=?=\" ((\"=?UTF-8?B?SsO8?=\" NIL \"j\" \"x.org\")) "
		 "NIL NIL NIL NIL NIL NIL NIL)");
	/* RFC 6858 §3: an 8-bit mailbox makes an empty group named after
	 * the address ("é@x" is C3 A9 40 78). */
	ENVELOPE("(NIL NIL NIL NIL NIL ((NIL NIL {2}\r\n\xc3\xa9 \"x\")(NIL NIL \"b\" \"y\")) NIL NIL NIL NIL)",
		 "(NIL NIL NIL NIL NIL ((NIL NIL \"=?UTF-8?B?w6lAeA==?=\" NIL)(NIL NIL NIL NIL)"
		 "(NIL NIL \"b\" \"y\")) NIL NIL NIL NIL)");
	/* Inside a group, where groups cannot nest. */
	ENVELOPE("(NIL NIL NIL NIL NIL ((NIL NIL \"g\" NIL)(NIL NIL {2}\r\n\xc3\xa9 \"x\")(NIL NIL NIL NIL)) "
		 "NIL NIL NIL NIL)",
		 "(NIL NIL NIL NIL NIL ((NIL NIL \"g\" NIL)(\"=?UTF-8?B?w6lAeA==?=\" NIL \"invalid\" "
		 "\"invalid\")(NIL NIL NIL NIL)) NIL NIL NIL NIL)");
}

static void check_refused(int (*fn)(const char *, size_t, struct buf *), const char *in)
{
	buf_clear(&out);
	buf_append_str(&out, "kept");
	CHECK(fn(in, strlen(in), &out) < 0);
	CHECK_MEM(out.data, out.len, "kept", 4);
}

/* Anything that is not the syntax expected is refused, out unchanged. */
static void test_malformed(void)
{
	static const char *const envelopes[] = {
		"", "(", ")", "(NIL", "(NIL) x", "((NIL))", "(NIL NIL (x) NIL)",
		"(NIL NIL ((NIL NIL \"a\")) NIL)", "(NIL NIL ((NIL NIL \"a\" x)) NIL)",
	};
	static const char *const any[] = {
		"(NIL {5}\r\nab)", "(NIL {99999999999999999999}\r\n)", "(NIL {}\r\n)",
		"(NIL {2}ab)", "(NIL \"open", "(NIL \"a\r\nb\")", "(NIL \"a\\", ")(", "((NIL)",
	};

	for (size_t i = 0; i < sizeof(envelopes) / sizeof(envelopes[0]); i++)
		check_refused(imap_envelope_downgrade, envelopes[i]);
	for (size_t i = 0; i < sizeof(any) / sizeof(any[0]); i++) {
		check_refused(imap_envelope_downgrade, any[i]);
		check_refused(imap_bodystructure_downgrade, any[i]);
	}
}

#define BODYSTRUCTURE(in, want) do { \
	buf_clear(&out); \
	CHECK(imap_bodystructure_downgrade((in), sizeof(in) - 1, &out) == 0); \
	CHECK_MEM(out.data, out.len, (want), sizeof(want) - 1); \
} while (0)

/* Parameter values take RFC 2231's form (§4, §7: "Ü" is C3 9C; " " and
 * "*" are not attribute-chars); other strings take encoded-words. */
static void test_bodystructure(void)
{
	BODYSTRUCTURE("(\"application\" \"pdf\" NIL NIL NIL \"7bit\" 4 NIL "
		      "(\"attachment\" (\"filename\" {6}\r\n\xc3\x9c" "a b*)) NIL NIL)",
		      "(\"application\" \"pdf\" NIL NIL NIL \"7bit\" 4 NIL "
		      "(\"attachment\" (\"filename*\" \"utf-8''%C3%9Ca%20b%2A\")) NIL NIL)");
	BODYSTRUCTURE("(\"text\" \"plain\" (\"charset\" \"x\" \"name\" {1}\r\n\xe9) NIL {2}\r\n\xc3\xa9 "
		      "\"8bit\" 1 1)",
		      "(\"text\" \"plain\" (\"charset\" \"x\" \"name*\" \"iso-8859-1''%E9\") NIL "
		      "\"=?UTF-8?B?w6k=?=\" \"8bit\" 1 1)");
	/* A language list is strings only, but has no 8-bit bytes; an odd
	 * list of strings is not parameters. */
	BODYSTRUCTURE("(\"a\" \"b\" ({1}\r\n\xe9))", "(\"a\" \"b\" (\"=?ISO-8859-1?B?6Q==?=\"))");
}

int main(void)
{
	buf_init(&out);
	UNIT_RUN(test_words);
	UNIT_RUN(test_long_text_splits_on_characters);
	UNIT_RUN(test_long_latin1_text);
	UNIT_RUN(test_envelope);
	UNIT_RUN(test_malformed);
	UNIT_RUN(test_bodystructure);
	buf_free(&out);
	return unit_report("test_header_downgrade");
}
