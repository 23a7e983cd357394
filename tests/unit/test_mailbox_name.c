/* Mailbox name validation and INBOX normalisation (RFC 3501 §5.1,
 * §6.3.3), and names written back to the wire (§5.1.3, §4.3). */
#include "tests/unit/unit.h"
#include "server/imap/mailbox_name.h"

#include <stdbool.h>

static char scratch[4096];

/* Checks a copy of s (the check writes into the name); on success the
 * result is compared with want, on failure want is NULL. */
static void expect(const char *s, bool create, const char *want)
{
	size_t len = strlen(s);
	const char *error = NULL;
	int r;

	memcpy(scratch, s, len + 1);
	r = imap_mailbox_name_check(scratch, &len, create, &error);
	if (want == NULL) {
		if (r == 0)
			fprintf(stderr, "  accepted: \"%s\"\n", s);
		CHECK(r == -1 && error != NULL);
		return;
	}
	if (r != 0)
		fprintf(stderr, "  refused \"%s\": %s\n", s, error);
	CHECK(r == 0);
	CHECK_MEM(scratch, len, want, strlen(want));
	CHECK(scratch[len] == '\0');
}

static void test_valid(void)
{
	expect("foo", false, "foo");
	expect("a/b/c", false, "a/b/c");
	expect("with space", false, "with space");
	expect("quo\"te", false, "quo\"te");
	expect("50% off_\\", false, "50% off_\\");
	expect("Entw\xc3\xbcrfe", false, "Entw\xc3\xbcrfe");
}

/* §5.1: INBOX in any case, and as the prefix of a child. */
static void test_inbox(void)
{
	expect("inbox", false, "INBOX");
	expect("InBoX", false, "INBOX");
	expect("inbox/Sub", false, "INBOX/Sub");
	expect("inboxes", false, "inboxes");
	expect("Inbox2/x", false, "Inbox2/x");
	CHECK(imap_mailbox_is_inbox("INBOX", 5));
	CHECK(!imap_mailbox_is_inbox("INBOX/a", 7));
	CHECK(imap_mailbox_in_inbox("INBOX/a", 7));
	CHECK(!imap_mailbox_in_inbox("INBOXa", 6));
}

static void test_invalid(void)
{
	const char *problem;

	expect("", false, NULL);
	expect("/foo", false, NULL);
	expect("foo/", false, NULL);
	expect("a//b", false, NULL);
	expect("a\tb", false, NULL);
	expect("a\x7f", false, NULL);
	expect("a\xc2\x85", false, NULL);          /* U+0085, a C1 control */
	expect("a\xc2\xa0", false, "a\xc2\xa0");   /* U+00A0 is not */
	/* RFC 9755 §3: no LINE or PARAGRAPH SEPARATOR in a new name (an old
	 * one still names its mailbox); U+2027 is fine. */
	expect("a\xe2\x80\xa8", false, "a\xe2\x80\xa8");
	CHECK(!imap_mailbox_name_creatable("a\xe2\x80\xa8", 4, &problem));
	CHECK(!imap_mailbox_name_creatable("a\xe2\x80\xa9" "b", 5, &problem));
	CHECK(imap_mailbox_name_creatable("a\xe2\x80\xa7", 4, &problem));
}

/* §6.3.3: one trailing delimiter on CREATE is a hint, not part of the name. */
static void test_create(void)
{
	expect("foo/", true, "foo");
	expect("inbox/", true, "INBOX");
	expect("a/b/", true, "a/b");
	expect("foo//", true, NULL);
	expect("/", true, NULL);
	expect("foo", true, "foo");
}

static void test_limits(void)
{
	static char name[2000];

	memset(name, 'x', 1000);
	name[1000] = '\0';
	expect(name, false, name);
	name[1000] = 'x';
	name[1001] = '\0';
	expect(name, false, NULL);
	/* 32 levels are allowed, 33 are not. */
	for (size_t i = 0; i < 65; i++)
		name[i] = i % 2 == 0 ? 'a' + (char)(i % 26) : '/';
	name[63] = '\0';
	expect(name, false, name);
	name[63] = '/';
	name[65] = '\0';
	expect(name, false, NULL);
}

/* §5.1.3 on the way out, and quoting (§4.3) where an atom will not do. */
static void test_write(void)
{
	static struct imap_session legacy, utf8 = { .utf8_accept = true };
	struct imap_session *s = &legacy;
	struct buf out;

	buf_init(&out);
	imap_write_mailbox(s, &out, "INBOX", 5);
	CHECK_MEM(out.data, out.len, "INBOX", 5);
	buf_clear(&out);
	imap_write_mailbox(s, &out, "Entw\xc3\xbcrfe", 9);
	CHECK_MEM(out.data, out.len, "Entw&APw-rfe", 12);
	buf_clear(&out);
	imap_write_mailbox(s, &out, "a \"b\"", 5);
	CHECK_MEM(out.data, out.len, "\"a \\\"b\\\"\"", 9);
	buf_clear(&out);
	imap_write_mailbox(s, &out, "50%", 3);
	CHECK_MEM(out.data, out.len, "\"50%\"", 5);
	buf_clear(&out);
	imap_write_mailbox(s, &out, "", 0);
	CHECK_MEM(out.data, out.len, "\"\"", 2);
	/* RFC 9755 §3: UTF-8 as it is, quoted, once enabled; "&" is "&". */
	buf_clear(&out);
	imap_write_mailbox(&utf8, &out, "Entw\xc3\xbcrfe", 9);
	CHECK_MEM(out.data, out.len, "\"Entw\xc3\xbcrfe\"", 11);
	buf_clear(&out);
	imap_write_mailbox(&utf8, &out, "R&D", 3);
	CHECK_MEM(out.data, out.len, "R&D", 3);
	buf_clear(&out);
	CHECK(imap_name_from_client(&utf8, "R&AOk-", 6, &out) == 0);
	CHECK_MEM(out.data, out.len, "R&AOk-", 6);
	buf_clear(&out);
	CHECK(imap_name_from_client(&legacy, "R&AOk-", 6, &out) == 0);
	CHECK_MEM(out.data, out.len, "R\xc3\xa9", 3);
	buf_clear(&out);
	CHECK(imap_name_from_client(&utf8, "R\xe9", 2, &out) < 0 && out.len == 0);
	CHECK(imap_name_from_client(&legacy, "R\xc3\xa9", 3, &out) < 0 && out.len == 0);
	buf_free(&out);
}

int main(void)
{
	UNIT_RUN(test_valid);
	UNIT_RUN(test_inbox);
	UNIT_RUN(test_invalid);
	UNIT_RUN(test_create);
	UNIT_RUN(test_limits);
	UNIT_RUN(test_write);
	return unit_report("test_mailbox_name");
}
