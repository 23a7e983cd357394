/* RFC 8474 object ids (server/imap/objectid.c): the §7 grammar at its
 * bounds, and EMAILIDs that parse back only in the spelling Kairan writes. */
#include "tests/unit/unit.h"
#include "server/imap/objectid.h"

static void test_grammar(void)
{
	char long_id[IMAP_OBJECTID_MAX + 2];

	memset(long_id, 'a', sizeof(long_id));
	CHECK(imap_objectid_valid("M1V2", 4));
	CHECK(imap_objectid_valid("a_b-C9", 6));
	CHECK(imap_objectid_valid(long_id, IMAP_OBJECTID_MAX));
	CHECK(!imap_objectid_valid(long_id, IMAP_OBJECTID_MAX + 1));
	CHECK(!imap_objectid_valid("", 0));
	CHECK(!imap_objectid_valid("a.b", 3));
	CHECK(!imap_objectid_valid("a b", 3));
	CHECK(!imap_objectid_valid("a\0b", 3));
	CHECK(!imap_objectid_valid("\xc3\xa9", 2));
}

static void test_ids(void)
{
	char buf[IMAP_OBJECTID_BUF];
	int64_t id = 0;

	CHECK_STR(imap_mailboxid(buf, 42, 1765104000u), "M42V1765104000");
	CHECK_STR(imap_mailboxid(buf, INT64_MAX, UINT32_MAX), "M9223372036854775807V4294967295");
	CHECK(imap_objectid_valid(buf, strlen(buf)));
	CHECK_STR(imap_emailid(buf, 1027), "E1027");
	CHECK(imap_emailid_parse("E1027", 5, &id) && id == 1027);
	CHECK(imap_emailid_parse("E9223372036854775807", 20, &id) && id == INT64_MAX);
	CHECK(!imap_emailid_parse("E9223372036854775808", 20, &id));
	CHECK(!imap_emailid_parse("E01", 3, &id));
	CHECK(!imap_emailid_parse("E0", 2, &id));
	CHECK(!imap_emailid_parse("E", 1, &id));
	CHECK(!imap_emailid_parse("e12", 3, &id));
	CHECK(!imap_emailid_parse("E12a", 4, &id));
	CHECK(!imap_emailid_parse("M12V3", 5, &id));
}

int main(void)
{
	UNIT_RUN(test_grammar);
	UNIT_RUN(test_ids);
	return unit_report("test_objectid");
}
