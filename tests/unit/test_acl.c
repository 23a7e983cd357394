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

static void test_response_form_adds_virtual_rights(void)
{
	char text[ACL_RIGHTS_TEXT_MAX];

	/* RFC 4314 §2.1.1: "c" with "k", "d" with any of "x", "t", "e". */
	CHECK(acl_rights_format_response(ACL_ALL, text) == 13);
	CHECK_STR(text, "lrswipkxteacd");
	CHECK(acl_rights_format_response(0, text) == 0);
	CHECK_STR(text, "");
	acl_rights_format_response(ACL_LOOKUP | ACL_READ, text);
	CHECK_STR(text, "lr");
	acl_rights_format_response(ACL_CREATE, text);
	CHECK_STR(text, "kc");
	acl_rights_format_response(ACL_EXPUNGE, text);
	CHECK_STR(text, "ed");
	acl_rights_format_response(ACL_DELETE_MAILBOX | ACL_ADMIN, text);
	CHECK_STR(text, "xad");
	/* Every subset: "c"/"d" exactly when a member is there, and the
	 * letters parse back to the same rights (c = k, d = xte ⊆ rights). */
	for (acl_rights r = 0; r <= ACL_ALL; r++) {
		acl_rights back = 0;
		size_t n = acl_rights_format_response(r, text);
		bool c = strchr(text, 'c') != NULL, d = strchr(text, 'd') != NULL;

		CHECK(c == ((r & ACL_CREATE) != 0));
		CHECK(d == ((r & (ACL_DELETE_MAILBOX | ACL_DELETE_MSG | ACL_EXPUNGE)) != 0));
		CHECK(acl_rights_parse(text, n - c - d, &back) == 0 && back == r);
	}
}

int main(void)
{
	UNIT_RUN(test_round_trip_every_subset);
	UNIT_RUN(test_canonical_order_and_obsolete_letters);
	UNIT_RUN(test_rejects_unknown_letters);
	UNIT_RUN(test_response_form_adds_virtual_rights);
	return unit_report("test_acl");
}
