/* RFC 4648 base64, strict decoding (SASL PLAIN responses). */
#include "tests/unit/unit.h"
#include "server/core/base64.h"

static int decode(const char *s, struct buf *out)
{
	buf_clear(out);
	return base64_decode(s, strlen(s), out);
}

static void test_rfc4648_vectors(void)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const coded[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < 7; i++) {
		buf_clear(&b);
		base64_encode(plain[i], strlen(plain[i]), &b);
		CHECK_MEM(b.data, b.len, coded[i], strlen(coded[i]));
		CHECK(decode(coded[i], &b) == 0);
		CHECK_MEM(b.data, b.len, plain[i], strlen(plain[i]));
	}
	buf_free(&b);
}

static void test_sasl_plain_with_nuls(void)
{
	struct buf b;

	buf_init(&b);
	CHECK(decode("AGFsaWNlAHNlY3JldA==", &b) == 0);
	CHECK_MEM(b.data, b.len, "\0alice\0secret", 13);
	buf_free(&b);
}

static void test_rejects(void)
{
	static const char *const bad[] = {
		"Zg", "Zg=", "Zg===", "Z===", "====", "Zm9v\n", " Zm9v", "Zm9v!A==",
		"Zh==",   /* non-zero pad bits */
		"Zm8=Zm8=", /* padding in the middle */
		"Zm-v", "Zm_v", /* URL alphabet */
	};
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_clear(&b);
		buf_append(&b, "keep", 4);
		CHECK(base64_decode(bad[i], strlen(bad[i]), &b) == -1);
		CHECK(b.len == 4);
	}
	buf_free(&b);
}

int main(void)
{
	UNIT_RUN(test_rfc4648_vectors);
	UNIT_RUN(test_sasl_plain_with_nuls);
	UNIT_RUN(test_rejects);
	return unit_report("test_base64");
}
