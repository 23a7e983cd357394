/* The session's set of announced keywords (server/imap/keyword_set.c),
 * checked against a plain list: what the set says is known must be exactly
 * what was added, in the order it was added. */
#include "tests/unit/unit.h"
#include "server/imap/keyword_set.h"

#include <stdlib.h>

static void test_add_has(void)
{
	struct imap_keyword_set set = { 0 };
	struct buf out;

	CHECK(!imap_keyword_set_has(&set, "$Junk", 5));
	CHECK(imap_keyword_set_has_all(&set, ""));
	CHECK(!imap_keyword_set_has_all(&set, "$Junk"));
	CHECK(imap_keyword_set_add(&set, "$Junk", 5));
	CHECK(!imap_keyword_set_add(&set, "$Junk", 5));
	CHECK(imap_keyword_set_has(&set, "$Junk", 5));
	/* Exact bytes: the spelling a client was told is the one it sees. */
	CHECK(!imap_keyword_set_has(&set, "$junk", 5));
	CHECK(!imap_keyword_set_has(&set, "$Jun", 4));
	CHECK(imap_keyword_set_add_list(&set, "$Junk NonJunk $Label1"));
	CHECK(!imap_keyword_set_add_list(&set, "$Label1 $Junk"));
	CHECK(imap_keyword_set_has_all(&set, "NonJunk $Junk"));
	CHECK(!imap_keyword_set_has_all(&set, "NonJunk $Label2"));
	buf_init(&out);
	imap_keyword_set_write(&set, &out);
	CHECK_MEM(out.data, out.len, "$Junk NonJunk $Label1", 21);
	buf_free(&out);
	imap_keyword_set_free(&set);
	CHECK(set.count == 0 && !imap_keyword_set_has(&set, "$Junk", 5));
}

/* Enough keywords to grow the table several times, and long ones: the set
 * has no length limit of its own (keywords of 256 bytes and more used to
 * be dropped). */
static void test_many_and_long(void)
{
	struct imap_keyword_set set = { 0 };
	static char name[70000];
	char small[32];
	bool ok = true;

	for (int i = 0; i < 5000; i++) {
		int n = snprintf(small, sizeof(small), "kw%d", i);
		ok &= imap_keyword_set_add(&set, small, (size_t)n);
	}
	CHECK(ok && set.count == 5000);
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(small, sizeof(small), "kw%d", i);
		ok &= imap_keyword_set_has(&set, small, (size_t)n) &&
		      set.lens[i] == (size_t)n && memcmp(set.names[i], small, (size_t)n) == 0;
	}
	CHECK(ok);
	CHECK(!imap_keyword_set_has(&set, "kw5000", 6));
	CHECK(set.nslots >= 2 * set.count);

	memset(name, 'x', sizeof(name) - 1);
	CHECK(imap_keyword_set_add(&set, name, 300));
	CHECK(imap_keyword_set_add(&set, name, sizeof(name) - 1));
	CHECK(imap_keyword_set_has(&set, name, 300));
	CHECK(!imap_keyword_set_has(&set, name, 299));
	CHECK(imap_keyword_set_has_all(&set, name));     /* NUL-terminated, 69,999 bytes */
	CHECK(set.names[5001][sizeof(name) - 1] == '\0');
	imap_keyword_set_free(&set);
}

int main(void)
{
	UNIT_RUN(test_add_has);
	UNIT_RUN(test_many_and_long);
	return unit_report("test_keyword_set");
}
