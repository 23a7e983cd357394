/* The spool of a big message (server/core/spool.h): an unnamed file that
 * takes bytes as they come and gives them back whole or by chunks. */
#include "tests/unit/unit.h"
#include "server/core/spool.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_written_bytes_read_back(void)
{
	struct spool *s = spool_new("/tmp");
	char data[10000], back[4096];
	const char *map;
	int err;

	CHECK(s != NULL);
	if (s == NULL)
		return;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7);
	/* In pieces, as a literal arrives. */
	spool_write(s, data, 1);
	spool_write(s, data + 1, 4999);
	spool_write(s, data + 5000, 5000);
	CHECK(spool_size(s) == sizeof(data));
	CHECK(!spool_failed(s, &err) && err == 0);
	CHECK(spool_read(s, 0, back, sizeof(back)) == (ssize_t)sizeof(back));
	CHECK_MEM(back, sizeof(back), data, sizeof(back));
	CHECK(spool_read(s, 8192, back, sizeof(back)) == 10000 - 8192);
	CHECK_MEM(back, 10000 - 8192, data + 8192, 10000 - 8192);
	CHECK(spool_read(s, 10000, back, sizeof(back)) == 0);
	map = spool_map(s);
	CHECK(map != NULL && map == spool_map(s));  /* mapped once */
	if (map != NULL)
		CHECK_MEM(map, sizeof(data), data, sizeof(data));
	spool_unmap(s);
	spool_unmap(s);
	spool_free(&s);
	CHECK(s == NULL);
	spool_free(&s);
}

/* It has no name: nothing is left in the directory, even while open. */
static void test_nameless(void)
{
	char dir[] = "/tmp/kairan-spool-test-XXXXXX";
	struct spool *s;

	CHECK(mkdtemp(dir) != NULL);
	s = spool_new(dir);
	CHECK(s != NULL);
	spool_write(s, "x", 1);
	CHECK(rmdir(dir) == 0);   /* fails with ENOTEMPTY if the file had a name */
	spool_free(&s);
}

static void test_no_directory(void)
{
	struct spool *s;

	errno = 0;
	s = spool_new("/nonexistent/kairan-spool");
	CHECK(s == NULL && errno == ENOENT);
}

static void test_empty_cannot_be_mapped(void)
{
	struct spool *s = spool_new("/tmp");

	CHECK(s != NULL && spool_map(s) == NULL);
	spool_free(&s);
}

int main(void)
{
	UNIT_RUN(test_written_bytes_read_back);
	UNIT_RUN(test_nameless);
	UNIT_RUN(test_no_directory);
	UNIT_RUN(test_empty_cannot_be_mapped);
	return unit_report("test_spool");
}
