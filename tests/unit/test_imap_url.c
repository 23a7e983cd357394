/* RFC 5092 message-part URLs as CATENATE takes them (server/imap/imap_url.c):
 * the path grammar, percent-decoding, limits, and hostile input. */
#include "tests/unit/unit.h"
#include "server/imap/imap_url.h"

#include <stdlib.h>

static struct arena a;

static struct imap_url parse_ok(const char *s)
{
	struct imap_url u;
	const char *why = NULL;

	if (imap_url_parse(&a, s, strlen(s), &u, &why) != 0) {
		fprintf(stderr, "  refused \"%s\": %s\n", s, why);
		CHECK(0);
	}
	return u;
}

static void parse_bad(const char *s, size_t len)
{
	struct imap_url u;
	const char *why = NULL;

	if (imap_url_parse(&a, s, len, &u, &why) != -1 || why == NULL) {
		fprintf(stderr, "  accepted \"%.*s\"\n", (int)len, s);
		CHECK(0);
	}
}

#define BAD(s) parse_bad((s), sizeof(s) - 1)

static void test_absolute(void)
{
	struct imap_url u = parse_ok("/INBOX;UIDVALIDITY=385759045/;UID=20/;SECTION=1.MIME");

	CHECK_STR(u.mailbox, "INBOX");
	CHECK(u.uidvalidity == 385759045 && u.uid == 20 && !u.partial);
	CHECK_STR(u.section, "1.MIME");
	u = parse_ok("/Other%20Users/b%C3%B6b/Sent/;uid=4294967295/;partial=0.1");
	CHECK_STR(u.mailbox, "Other Users/böb/Sent");
	CHECK(u.uidvalidity == 0 && u.uid == UINT32_MAX && u.section == NULL);
	CHECK(u.partial && u.offset == 0 && u.has_length && u.length == 1);
	u = parse_ok("/a;UIDVALIDITY=1/;UID=2/;SECTION=HEADER.FIELDS%20(TO%20CC)/;PARTIAL=4294967295");
	CHECK_STR(u.section, "HEADER.FIELDS (TO CC)");
	CHECK(u.partial && u.offset == UINT32_MAX && !u.has_length);
}

static void test_relative(void)
{
	struct imap_url u = parse_ok(";UID=7/;SECTION=TEXT");

	CHECK(u.mailbox == NULL && u.uid == 7);
	CHECK_STR(u.section, "TEXT");
}

static void test_hostile(void)
{
	char *long_url = malloc(IMAP_URL_MAX + 2);

	BAD("");
	BAD("/INBOX");
	BAD("/INBOX/");
	BAD("/INBOX/;UID=");
	BAD("/INBOX/;UID=0");
	BAD("/INBOX/;UID=01");
	BAD("/INBOX/;UID=4294967296");
	BAD("/INBOX/;UID=99999999999999999999");
	BAD("/INBOX;UIDVALIDITY=0/;UID=1");
	BAD("/INBOX;UIDVALIDITY=1;UID=1");
	BAD("/INBOX/;UID=1/;PARTIAL=");
	BAD("/INBOX/;UID=1/;PARTIAL=1.");
	BAD("/INBOX/;UID=1/;PARTIAL=1.0");
	BAD("/INBOX/;UID=1/;PARTIAL=4294967296");
	BAD("/INBOX/;UID=1/;SECTION=");
	BAD("/INBOX/;UID=1/;SECTION=1 2");
	BAD("/INBOX/;UID=1/x");
	BAD("/INBOX/;UID=1;UID=2");
	BAD("/%/;UID=1");
	BAD("/%4/;UID=1");
	BAD("/%G0/;UID=1");
	BAD("/a%00b/;UID=1");
	BAD("/a%0Db/;UID=1");
	BAD("/%FF%FE/;UID=1");
	BAD("/a b/;UID=1");
	BAD("/a\"b/;UID=1");
	BAD("/a\0b/;UID=1");
	BAD("imap://host/INBOX/;UID=1");
	BAD("IMAP:/INBOX/;UID=1");
	BAD("//;UID=1");
	memset(long_url, 'a', IMAP_URL_MAX + 1);
	memcpy(long_url, ";UID=1", 6);
	parse_bad(long_url, IMAP_URL_MAX + 1);
	free(long_url);
}

int main(void)
{
	arena_init(&a);
	UNIT_RUN(test_absolute);
	UNIT_RUN(test_relative);
	UNIT_RUN(test_hostile);
	arena_free(&a);
	return unit_report("test_imap_url");
}
