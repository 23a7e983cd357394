/* RFC 4314 §2.1 rights letters. */
#include "tests/unit/unit.h"
#include "acl/acl.h"

static void test_round_trip_every_subset(void)
{
	char text[12];

	for (acl_rights r = 0; r <= ACL_ALL; r++) {
		acl_rights back = 0;
		size_t n = acl_rights_format(r, text);
		CHECK(n == (size_t)__builtin_popcount(r));
		CHECK(acl_rights_parse(text, n, &back) == 0 && back == r);
	}
}

static void test_canonical_order_and_obsolete_letters(void)
{
	char text[12];
	acl_rights r;

	CHECK(acl_rights_parse("aetxkpiwsrl", 11, &r) == 0 && r == ACL_ALL);
	acl_rights_format(r, text);
	CHECK_STR(text, "lrswipkxtea");
	/* §2.1.1: "c" is "k", "d" is "xte". */
	CHECK(acl_rights_parse("c", 1, &r) == 0 && r == ACL_CREATE);
	CHECK(acl_rights_parse("d", 1, &r) == 0 &&
	      r == (ACL_DELETE_MAILBOX | ACL_DELETE_MSG | ACL_EXPUNGE));
	CHECK(acl_rights_parse("", 0, &r) == 0 && r == 0);
}

static void test_rejects_unknown_letters(void)
{
	acl_rights r;

	CHECK(acl_rights_parse("lrz", 3, &r) == -1);
	CHECK(acl_rights_parse("L", 1, &r) == -1);
	CHECK(acl_rights_parse("l\0r", 3, &r) == -1);
	CHECK(acl_rights_parse("-l", 2, &r) == -1);
}

int main(void)
{
	UNIT_RUN(test_round_trip_every_subset);
	UNIT_RUN(test_canonical_order_and_obsolete_letters);
	UNIT_RUN(test_rejects_unknown_letters);
	return unit_report("test_acl");
}
