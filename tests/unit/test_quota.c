/* The quota arithmetic of server/imap/quota.c, from RFC 9208: STORAGE in
 * units of 1024 octets rounded up (§3.1), a limit reached is not passed,
 * an account's own limit over kairan.conf's default, no default for a
 * shared account; and the ldap_quota_attribute value parser. */
#include "tests/unit/unit.h"
#include "server/imap/quota.h"

static void test_usage_units(void)
{
	struct db_quota q = { .bytes = 0 };

	CHECK(quota_usage(&q, DB_QUOTA_STORAGE) == 0);
	q.bytes = 1;
	CHECK(quota_usage(&q, DB_QUOTA_STORAGE) == 1);
	q.bytes = 1024;
	CHECK(quota_usage(&q, DB_QUOTA_STORAGE) == 1);
	q.bytes = 1025;
	CHECK(quota_usage(&q, DB_QUOTA_STORAGE) == 2);
	q.messages = 7;
	CHECK(quota_usage(&q, DB_QUOTA_MESSAGE) == 7);
}

static void test_limits_and_defaults(void)
{
	struct config cfg = { .quota_storage_default = 100, .quota_messages_default = 0 };
	struct db_quota q = { .limit = { DB_QUOTA_DEFAULT, DB_QUOTA_DEFAULT } };

	CHECK(quota_limit(&q, &cfg, DB_QUOTA_STORAGE) == 100);
	CHECK(quota_limit(&q, &cfg, DB_QUOTA_MESSAGE) == -1);     /* 0: no default */
	q.limit[DB_QUOTA_STORAGE] = DB_QUOTA_NONE;
	CHECK(quota_limit(&q, &cfg, DB_QUOTA_STORAGE) == -1);
	q.limit[DB_QUOTA_STORAGE] = 0;
	CHECK(quota_limit(&q, &cfg, DB_QUOTA_STORAGE) == 0);
	q.limit[DB_QUOTA_STORAGE] = DB_QUOTA_DEFAULT;
	q.shared = true;
	CHECK(quota_limit(&q, &cfg, DB_QUOTA_STORAGE) == -1);
}

static void test_exceeded(void)
{
	struct config cfg = { 0 };
	struct db_quota q = { .bytes = 1000, .messages = 2, .limit = { 1, 3 } };
	enum db_quota_resource over = DB_QUOTA_NRESOURCES;

	CHECK(!quota_exceeded(&q, &cfg, 24, 1, &over));            /* exactly at both limits */
	CHECK(quota_exceeded(&q, &cfg, 25, 1, &over) && over == DB_QUOTA_STORAGE);
	CHECK(quota_exceeded(&q, &cfg, 0, 2, &over) && over == DB_QUOTA_MESSAGE);
	q.limit[DB_QUOTA_STORAGE] = DB_QUOTA_NONE;
	CHECK(!quota_exceeded(&q, &cfg, UINT32_MAX, 1, &over));
}

static void test_directory_value(void)
{
	int64_t l[DB_QUOTA_NRESOURCES];

	CHECK(quota_directory_parse("", l) == 0 && l[0] == -1 && l[1] == -1);
	CHECK(quota_directory_parse("10240", l) == 0 && l[0] == 10240 && l[1] == -1);
	CHECK(quota_directory_parse("storage=64 messages=5", l) == 0 && l[0] == 64 && l[1] == 5);
	CHECK(quota_directory_parse("MESSAGES=0", l) == 0 && l[0] == -1 && l[1] == 0);
	CHECK(quota_directory_parse("  storage=1  ", l) == 0 && l[0] == 1);
	CHECK(quota_directory_parse("1099511627776", l) == 0 && l[0] == 1099511627776);
	CHECK(quota_directory_parse("1099511627777", l) == -1);          /* past 2^40 */
	CHECK(quota_directory_parse("99999999999999999999", l) == -1);
	CHECK(quota_directory_parse("-1", l) == -1);
	CHECK(quota_directory_parse("storage=", l) == -1);
	CHECK(quota_directory_parse("bytes=5", l) == -1);
	CHECK(quota_directory_parse("storage=1x", l) == -1);
	CHECK(quota_directory_parse("10 MB", l) == -1);
}

int main(void)
{
	UNIT_RUN(test_usage_units);
	UNIT_RUN(test_limits_and_defaults);
	UNIT_RUN(test_exceeded);
	UNIT_RUN(test_directory_value);
	return unit_report("test_quota");
}
