/* Team address normalisation (server/core/address.c, docs/delivery.md
 * "Address case rules"): ASCII letters fold to lower case in both parts
 * (RFC 5321 §2.4 allows a case-insensitive local part; directories match
 * mail with caseIgnoreIA5Match); what an RCPT path cannot carry, or an
 * address without exactly one '@' between non-empty parts, is refused.
 * Limits from RFC 5321 §4.5.3.1: 320 octets in all. */
#include "tests/unit/unit.h"
#include "server/core/address.h"

static bool norm(const char *in, char out[ADDRESS_MAX + 1])
{
	return address_normalise(in, strlen(in), out);
}

static void test_folds_ascii_case(void)
{
	char out[ADDRESS_MAX + 1];

	CHECK(norm("Sales@Example.ORG", out));
	CHECK_STR(out, "sales@example.org");
	CHECK(norm("a.b-c_d+e@x.y", out));
	CHECK_STR(out, "a.b-c_d+e@x.y");
	CHECK(norm("x@y", out));
	CHECK_STR(out, "x@y");
}

static void test_refuses(void)
{
	static const char *const bad[] = {
		"", "@", "a@", "@b", "ab", "a@b@c", "a b@c", "a\tb@c", "<a@b>", "a@b,c",
		"a\"b@c", "a(b)@c", "a;b@c", "a:b@c", "a\\b@c", "a[b]@c", "\xc3\xa9@example.org",
		"a\x7f@b",
	};
	char out[ADDRESS_MAX + 1];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out[0] = 'x';
		CHECK(!norm(bad[i], out));
		CHECK(out[0] == '\0');
	}
	CHECK(!address_normalise("a\0b@c", 5, out));
}

static void test_length_limit(void)
{
	char in[ADDRESS_MAX + 2], out[ADDRESS_MAX + 1];

	memset(in, 'a', sizeof(in));
	in[1] = '@';
	CHECK(address_normalise(in, ADDRESS_MAX, out));
	CHECK(strlen(out) == ADDRESS_MAX);
	CHECK(!address_normalise(in, ADDRESS_MAX + 1, out));
}

int main(void)
{
	UNIT_RUN(test_folds_ascii_case);
	UNIT_RUN(test_refuses);
	UNIT_RUN(test_length_limit);
	return unit_report("test_address");
}
