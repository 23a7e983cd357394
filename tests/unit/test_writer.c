/* The response writer must never let a value break framing (RFC 3501 §4.3). */
#include "tests/unit/unit.h"
#include "server/imap/writer.h"

static struct buf out;

#define WRITE(fn, s) do { buf_clear(&out); fn(&out, (s), sizeof(s) - 1); } while (0)
#define EXPECT(fn, s, want) do { \
	WRITE(fn, s); \
	CHECK_MEM(out.data, out.len, want, sizeof(want) - 1); \
} while (0)

static void test_astring_atoms(void)
{
	EXPECT(imap_write_astring, "INBOX", "INBOX");
	EXPECT(imap_write_astring, "Sent/2026", "Sent/2026");
	/* NIL as an atom would read as NIL: it must be quoted. */
	EXPECT(imap_write_astring, "NIL", "\"NIL\"");
	EXPECT(imap_write_astring, "nil", "\"nil\"");
	EXPECT(imap_write_astring, "", "\"\"");
}

static void test_quoting(void)
{
	EXPECT(imap_write_astring, "with space", "\"with space\"");
	EXPECT(imap_write_astring, "q\"uote", "\"q\\\"uote\"");
	EXPECT(imap_write_astring, "back\\slash", "\"back\\\\slash\"");
	EXPECT(imap_write_astring, "a(b)", "\"a(b)\"");
	EXPECT(imap_write_astring, "a]b", "\"a]b\"");
	EXPECT(imap_write_astring, "%*", "\"%*\"");
	EXPECT(imap_write_string, "atom", "\"atom\"");
}

static void test_literals(void)
{
	EXPECT(imap_write_astring, "line\r\nbreak", "{11}\r\nline\r\nbreak");
	EXPECT(imap_write_astring, "nul\0byte", "{8}\r\nnul\0byte");
	EXPECT(imap_write_astring, "caf\xc3\xa9", "{5}\r\ncaf\xc3\xa9");
	EXPECT(imap_write_astring, "lf\n", "{3}\r\nlf\n");
}

static void test_nstring_and_text(void)
{
	buf_clear(&out);
	imap_write_nstring(&out, NULL, 0);
	CHECK_MEM(out.data, out.len, "NIL", 3);
	EXPECT(imap_write_nstring, "x", "\"x\"");
	EXPECT(imap_write_text, "a\r\nb\0c", "a  b c");
}

static void test_long_values_are_literals(void)
{
	char big[2000];

	memset(big, 'a', sizeof(big));
	buf_clear(&out);
	imap_write_string(&out, big, sizeof(big));
	CHECK(out.len == sizeof(big) + 8 && memcmp(out.data, "{2000}\r\n", 8) == 0);
}

/* RFC 9755 §3 (uQUOTED-CHAR): UTF-8 quoted for a client that enabled it;
 * what is not UTF-8, or would break the line, stays a literal. */
static void test_utf8_astring(void)
{
	EXPECT(imap_write_utf8_astring, "INBOX", "INBOX");
	EXPECT(imap_write_utf8_astring, "\xc3\x89t\xc3\xa9", "\"\xc3\x89t\xc3\xa9\"");
	EXPECT(imap_write_utf8_astring, "a \"\xe6\x97\xa5\"", "\"a \\\"\xe6\x97\xa5\\\"\"");
	EXPECT(imap_write_utf8_astring, "caf\xe9", "{4}\r\ncaf\xe9");
	EXPECT(imap_write_utf8_astring, "\xc0\xaf", "{2}\r\n\xc0\xaf");
	EXPECT(imap_write_utf8_astring, "\xc3\xa9\r\n", "{4}\r\n\xc3\xa9\r\n");
	EXPECT(imap_write_utf8_astring, "nul\0", "{4}\r\nnul\0");
}

int main(void)
{
	buf_init(&out);
	UNIT_RUN(test_astring_atoms);
	UNIT_RUN(test_quoting);
	UNIT_RUN(test_literals);
	UNIT_RUN(test_nstring_and_text);
	UNIT_RUN(test_long_values_are_literals);
	UNIT_RUN(test_utf8_astring);
	buf_free(&out);
	return unit_report("test_writer");
}
