/* Modified UTF-7 mailbox names (RFC 3501 §5.1.3) and UTF-8 validity
 * (RFC 3629): real names both ways, every way a name can be non-canonical,
 * and an exhaustive round trip of every Unicode scalar value. */
#include "tests/unit/unit.h"
#include "server/imap/mutf7.h"

#include <stdint.h>
#include <stdlib.h>

static struct buf out;

/* Both directions for a string literal pair (sizeof: NULs count). */
#define ROUND_TRIP(mutf7, utf8) do { \
	buf_clear(&out); \
	CHECK(imap_mutf7_to_utf8((mutf7), sizeof(mutf7) - 1, &out) == 0); \
	CHECK_MEM(out.data, out.len, (utf8), sizeof(utf8) - 1); \
	buf_clear(&out); \
	imap_utf8_to_mutf7((utf8), sizeof(utf8) - 1, &out); \
	CHECK_MEM(out.data, out.len, (mutf7), sizeof(mutf7) - 1); \
} while (0)

/* A rejected name leaves what out held before untouched. */
#define REJECT(mutf7) do { \
	buf_clear(&out); \
	buf_append(&out, "keep", 4); \
	if (imap_mutf7_to_utf8((mutf7), sizeof(mutf7) - 1, &out) != -1) { \
		fprintf(stderr, "  accepted: \"%s\"\n", (mutf7)); \
		CHECK(0); \
	} \
	CHECK_MEM(out.data, out.len, "keep", 4); \
} while (0)

#define VALID(s) imap_utf8_valid((s), sizeof(s) - 1)

static void test_real_names(void)
{
	ROUND_TRIP("INBOX", "INBOX");
	ROUND_TRIP("", "");
	ROUND_TRIP("Entw&APw-rfe", "Entw\xc3\xbcrfe");                 /* Entwürfe */
	ROUND_TRIP("&ZeVnLIqe-", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"); /* 日本語 */
	ROUND_TRIP("&2D3eAA-", "\xf0\x9f\x98\x80");                    /* U+1F600 */
	ROUND_TRIP("A&-B", "A&B");
	ROUND_TRIP("&-", "&");
	ROUND_TRIP("&-&-", "&&");
	ROUND_TRIP("~peter/mail/&ZeVnLIqe-/&U,BTFw-",
		"~peter/mail/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/\xe5\x8f\xb0\xe5\x8c\x97");
	ROUND_TRIP("R&AOk-pertoire", "R\xc3\xa9pertoire");
	ROUND_TRIP("&AOkA6Q-", "\xc3\xa9\xc3\xa9");                   /* one run for two */
	ROUND_TRIP("&AOk-&-", "\xc3\xa9&");                           /* run, then '&' */
	ROUND_TRIP("&-&AOk-", "&\xc3\xa9");
	ROUND_TRIP("&AOk--", "\xc3\xa9-");                            /* a '-' after a run */
	ROUND_TRIP("&AOk- &AOk-", "\xc3\xa9 \xc3\xa9");
	ROUND_TRIP("&AH8-", "\x7f");                                  /* DEL must be encoded */
	ROUND_TRIP("&AAE-", "\x01");                                  /* so must controls */
	ROUND_TRIP("&,,0-", "\xef\xbf\xbd");                          /* U+FFFD: ',' is '/' */
	ROUND_TRIP("&2,,f,w-", "\xf4\x8f\xbf\xbf");                   /* U+10FFFF */
	ROUND_TRIP(" !\"#$%'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~",
		" !\"#$%'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~");
}

static void test_reject_bytes(void)
{
	REJECT("\xc3\xa9");         /* raw 8-bit */
	REJECT("a\tb");
	REJECT("a\nb");
	REJECT("a\x7f");
	REJECT("a\0b");
	REJECT("\0");
	REJECT("&AOk\0-");          /* NUL inside a run */
	REJECT("&AOk\xc3-");
}

static void test_reject_runs(void)
{
	REJECT("&");                /* not closed */
	REJECT("abc&");
	REJECT("&ZeVnLIqe");
	REJECT("x&AOk");
	REJECT("&Ze!-");            /* outside the alphabet */
	REJECT("&U/BTFw-");         /* '/' is plain BASE64, not modified */
	REJECT("&AOk=-");           /* no '=' padding */
	REJECT("&AO k-");
	REJECT("&AOk&-");
	REJECT("&AGE-");            /* 'a' must be direct */
	REJECT("&ACY-");            /* '&' must be "&-" */
	REJECT("&ACA-");            /* space */
	REJECT("&AH4-");            /* '~' */
	REJECT("&AOkAYQ-");         /* é then 'a' in one run */
	REJECT("&AGEA6Q-");
	REJECT("&AAA-");            /* U+0000 */
}

static void test_reject_bits(void)
{
	REJECT("&A-");              /* 6 bits: no unit */
	REJECT("&AO-");             /* 12 bits */
	REJECT("&AOkA-");           /* 24 bits: an odd byte */
	REJECT("&AOkA6-");          /* 30 bits */
	REJECT("&AOkA6QA-");        /* 48 bits: one BASE64 character too many */
	REJECT("&AOl-");            /* padding bits 01 */
	REJECT("&AOm-");            /* padding bits 10 */
	REJECT("&AOkA6R-");         /* padding bits in a 2-unit run */
}

static void test_reject_surrogates(void)
{
	REJECT("&2D0-");            /* high alone */
	REJECT("&3gA-");            /* low alone */
	REJECT("&3gDYPQ-");         /* low before high */
	REJECT("&2D0A6Q-");         /* high then a BMP character */
	REJECT("&2D3YPd4A-");       /* high, high, low */
	REJECT("&2D0-&3gA-");       /* a pair split over two runs */
	REJECT("a&2D0-b");
}

static void test_reject_null_shift(void)
{
	REJECT("&AOk-&AOk-");       /* must have been "&AOkA6Q-" */
	REJECT("x&AOk-&AOk-y");
	REJECT("&AOk-&AOk");
}

/* Whatever bytes come in, decoding either fails cleanly or yields valid
 * UTF-8 that encodes back to exactly the input: there is one spelling. */
static void test_random_input(void)
{
	static const char alphabet[] = "&-AOkZeVn2D3gY+,a /\x80\0";
	struct buf back;

	buf_init(&back);
	srand(4242);
	for (int round = 0; round < 200000; round++) {
		char in[12];
		size_t len = (size_t)(rand() % (int)sizeof(in));
		for (size_t i = 0; i < len; i++)
			in[i] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
		buf_clear(&out);
		if (imap_mutf7_to_utf8(in, len, &out) != 0) {
			CHECK(out.len == 0);
			continue;
		}
		CHECK(imap_utf8_valid((const char *)out.data, out.len));
		buf_clear(&back);
		imap_utf8_to_mutf7((const char *)out.data, out.len, &back);
		CHECK_MEM(back.data, back.len, in, len);
	}
	buf_free(&back);
}

static size_t put_utf8(char *b, uint32_t cp)
{
	if (cp < 0x80) { b[0] = (char)cp; return 1; }
	if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6)); b[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12)); b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	b[0] = (char)(0xf0 | (cp >> 18)); b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	b[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); b[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Every scalar value, alone and between two others: encode, check the
 * output is 7-bit printable, decode, compare. */
static void test_every_code_point(void)
{
	struct buf enc;
	int failures = 0;

	buf_init(&enc);
	for (uint32_t cp = 1; cp <= 0x10ffff && failures < 5; cp++) {
		char u[12];
		size_t n;
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		n = put_utf8(u, cp);
		if (cp % 7 == 0) {       /* sometimes in company */
			n += put_utf8(u + n, 0xe9);
			n += put_utf8(u + n, 'x');
		}
		buf_clear(&enc);
		imap_utf8_to_mutf7(u, n, &enc);
		for (size_t i = 0; i < enc.len; i++)
			if (enc.data[i] < 0x20 || enc.data[i] > 0x7e)
				failures++;
		buf_clear(&out);
		if (!imap_utf8_valid(u, n) || imap_mutf7_to_utf8((const char *)enc.data, enc.len, &out) != 0 ||
		    out.len != n || memcmp(out.data, u, n) != 0) {
			fprintf(stderr, "  U+%04X fails\n", (unsigned)cp);
			failures++;
		}
	}
	CHECK(failures == 0);
	buf_free(&enc);
}

static void test_encode_invalid_utf8(void)
{
	/* Invalid input still gives well-formed output: U+FFFD per bad byte. */
	buf_clear(&out);
	imap_utf8_to_mutf7("a\xff" "b", 3, &out);
	CHECK_MEM(out.data, out.len, "a&,,0-b", 7);
	buf_clear(&out);
	imap_utf8_to_mutf7("\0", 1, &out);
	CHECK_MEM(out.data, out.len, "&,,0-", 5);
	buf_clear(&out);
	imap_utf8_to_mutf7("\xed\xa0\x80", 3, &out);          /* a surrogate */
	CHECK_MEM(out.data, out.len, "&,,3,,f,9-", 10);
	buf_clear(&out);
	imap_utf8_to_mutf7("\xe6\x97", 2, &out);              /* truncated */
	CHECK_MEM(out.data, out.len, "&,,3,,Q-", 8);
}

static void test_utf8_valid(void)
{
	CHECK(VALID(""));
	CHECK(VALID("INBOX"));
	CHECK(VALID("\x01\x7f"));
	CHECK(VALID("\xc2\x80"));               /* U+0080 */
	CHECK(VALID("\xdf\xbf"));               /* U+07FF */
	CHECK(VALID("\xe0\xa0\x80"));           /* U+0800 */
	CHECK(VALID("\xed\x9f\xbf"));           /* U+D7FF */
	CHECK(VALID("\xee\x80\x80"));           /* U+E000 */
	CHECK(VALID("\xef\xbf\xbf"));           /* U+FFFF */
	CHECK(VALID("\xf0\x90\x80\x80"));       /* U+10000 */
	CHECK(VALID("\xf4\x8f\xbf\xbf"));       /* U+10FFFF */

	CHECK(!VALID("\0"));
	CHECK(!VALID("a\0b"));
	CHECK(!VALID("\xc0\x80"));              /* overlong NUL */
	CHECK(!VALID("\xc1\xbf"));
	CHECK(!VALID("\xe0\x9f\xbf"));          /* overlong U+07FF */
	CHECK(!VALID("\xf0\x8f\xbf\xbf"));      /* overlong U+FFFF */
	CHECK(!VALID("\xed\xa0\x80"));          /* U+D800 */
	CHECK(!VALID("\xed\xbf\xbf"));          /* U+DFFF */
	CHECK(!VALID("\xed\xa0\xbd\xed\xb8\x80")); /* CESU-8 surrogate pair */
	CHECK(!VALID("\xf4\x90\x80\x80"));      /* U+110000 */
	CHECK(!VALID("\xf5\x80\x80\x80"));
	CHECK(!VALID("\xff"));
	CHECK(!VALID("\x80"));                  /* lone continuation */
	CHECK(!VALID("\xc3"));                  /* truncated */
	CHECK(!VALID("\xe6\x97"));
	CHECK(!VALID("\xf0\x9f\x98"));
	CHECK(!VALID("\xc3\x28"));              /* bad continuation */
	CHECK(!VALID("\xe6\x97\x28"));
	CHECK(!VALID("\xf0\x9f\x98\x28"));
	/* The length is honoured: a valid prefix of an invalid buffer. */
	CHECK(imap_utf8_valid("ab\xff", 2));
	CHECK(!imap_utf8_valid("\xc3\xa9", 1));
}

/* A slow, obviously-right reference: decode by the bit pattern, then
 * require the shortest form and a scalar value. */
static bool ref_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 :
			(c & 0xf8) == 0xf0 ? 4 : 0;
		uint32_t cp;
		if (n == 0 || i + n > len)
			return false;
		cp = n == 1 ? c : (uint32_t)(c & (0x7f >> n));
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
		if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0)
			return false;
		i += n;
	}
	return true;
}

/* Every 1-, 2- and 3-byte string, and 4-byte strings over the interesting
 * lead bytes, agree with the reference. */
static void test_utf8_exhaustive(void)
{
	unsigned char b[4];
	int mismatches = 0;

	for (uint32_t x = 0; x < 0x1000000 && mismatches < 5; x++) {
		b[0] = (unsigned char)(x >> 16);
		b[1] = (unsigned char)(x >> 8);
		b[2] = (unsigned char)x;
		if (imap_utf8_valid((const char *)b, 3) != ref_valid(b, 3))
			mismatches++;
		if (x < 0x10000 && imap_utf8_valid((const char *)b + 1, 2) != ref_valid(b + 1, 2))
			mismatches++;
		if (x < 0x100 && imap_utf8_valid((const char *)b + 2, 1) != ref_valid(b + 2, 1))
			mismatches++;
	}
	for (uint32_t x = 0; x < 0x1000000 && mismatches < 5; x += 7) {
		b[0] = (unsigned char)(0xef + (x >> 22));  /* EF..F2 */
		b[1] = (unsigned char)(x >> 14);
		b[2] = (unsigned char)(x >> 6);
		b[3] = (unsigned char)(0x80 | (x & 0x3f));
		if (imap_utf8_valid((const char *)b, 4) != ref_valid(b, 4))
			mismatches++;
		b[0] = (unsigned char)(0xf3 + (x >> 22));  /* F3..F6 */
		if (imap_utf8_valid((const char *)b, 4) != ref_valid(b, 4))
			mismatches++;
	}
	CHECK(mismatches == 0);
}

int main(void)
{
	buf_init(&out);
	UNIT_RUN(test_real_names);
	UNIT_RUN(test_reject_bytes);
	UNIT_RUN(test_reject_runs);
	UNIT_RUN(test_reject_bits);
	UNIT_RUN(test_reject_surrogates);
	UNIT_RUN(test_reject_null_shift);
	UNIT_RUN(test_random_input);
	UNIT_RUN(test_every_code_point);
	UNIT_RUN(test_encode_invalid_utf8);
	UNIT_RUN(test_utf8_valid);
	UNIT_RUN(test_utf8_exhaustive);
	buf_free(&out);
	return unit_report("test_mutf7");
}
