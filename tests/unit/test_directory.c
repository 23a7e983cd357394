/* directory/: escaping (RFC 4515 filters, RFC 4514 DNs), filter templates,
 * configuration checks, and the checks dir_authenticate makes before any
 * network I/O. The LDAP round trips themselves are covered by the protocol
 * tests against a real slapd. */
#include "directory/dir.h"
#include "tests/unit/unit.h"

#include <time.h>

/* Escapes with a generous buffer and compares the exact output. */
#define CHECK_FILTER_ESC(in, in_len, want) do { \
	char out_[256]; \
	int n_ = dir_escape_filter_value((in), (in_len), out_, sizeof(out_)); \
	CHECK(n_ >= 0); \
	if (n_ >= 0) CHECK_MEM(out_, (size_t)n_, (want), sizeof(want) - 1); \
} while (0)

#define CHECK_DN_ESC(in, in_len, want) do { \
	char out_[256]; \
	int n_ = dir_escape_dn_value((in), (in_len), out_, sizeof(out_)); \
	CHECK(n_ >= 0); \
	if (n_ >= 0) CHECK_MEM(out_, (size_t)n_, (want), sizeof(want) - 1); \
} while (0)

#define CHECK_BUILD(tmpl, value, want) do { \
	char out_[256]; \
	int n_ = dir_build_filter((tmpl), (value), sizeof(value) - 1, out_, sizeof(out_)); \
	CHECK(n_ >= 0); \
	if (n_ >= 0) CHECK_MEM(out_, (size_t)n_, (want), sizeof(want) - 1); \
} while (0)

static void test_filter_escape_specials(void)
{
	CHECK_FILTER_ESC("*", 1, "\\2a");
	CHECK_FILTER_ESC("(", 1, "\\28");
	CHECK_FILTER_ESC(")", 1, "\\29");
	CHECK_FILTER_ESC("\\", 1, "\\5c");
	CHECK_FILTER_ESC("\0", 1, "\\00");
	CHECK_FILTER_ESC("a\0b", 3, "a\\00b");
	CHECK_FILTER_ESC("\0\0", 2, "\\00\\00");
	CHECK_FILTER_ESC("*()\\", 4, "\\2a\\28\\29\\5c");
	CHECK_FILTER_ESC("x)(uid=*", 8, "x\\29\\28uid=\\2a");
	CHECK_FILTER_ESC("\\2a", 3, "\\5c2a");
}

static void test_filter_escape_plain(void)
{
	char out[8] = "junk";

	CHECK_FILTER_ESC("alice", 5, "alice");
	CHECK_FILTER_ESC("a.b-c_d@example.org", 19, "a.b-c_d@example.org");
	CHECK_FILTER_ESC("=<>~&|!:", 8, "=<>~&|!:");
	/* UTF-8 (and any byte >= 0x80) is kept as is. */
	CHECK_FILTER_ESC("j\xc3\xb6ns", 5, "j\xc3\xb6ns");
	CHECK_FILTER_ESC("\xe5\x9b\x9e\xe8\xa6\xa7", 6, "\xe5\x9b\x9e\xe8\xa6\xa7");
	CHECK_FILTER_ESC("\xff", 1, "\xff");
	CHECK(dir_escape_filter_value("", 0, out, sizeof(out)) == 0);
	CHECK_STR(out, "");
}

static void test_filter_escape_overflow(void)
{
	char out[8];

	CHECK(dir_escape_filter_value("abc", 3, out, 4) == 3);
	CHECK_STR(out, "abc");
	CHECK(dir_escape_filter_value("abcd", 4, out, 4) == -1);
	CHECK_STR(out, "");
	CHECK(dir_escape_filter_value("*", 1, out, 4) == 3);
	CHECK_STR(out, "\\2a");
	/* An escape is never cut in half. */
	CHECK(dir_escape_filter_value("a*", 2, out, 4) == -1);
	CHECK_STR(out, "");
	CHECK(dir_escape_filter_value("", 0, out, 1) == 0);
	CHECK(dir_escape_filter_value("", 0, NULL, 0) == -1);
	CHECK(dir_escape_filter_value("a", 1, NULL, 0) == -1);
}

static void test_build_filter(void)
{
	const char *tmpl = "(&(objectClass=inetOrgPerson)(uid=%u))";

	CHECK_BUILD(tmpl, "alice", "(&(objectClass=inetOrgPerson)(uid=alice))");
	CHECK_BUILD(tmpl, "*", "(&(objectClass=inetOrgPerson)(uid=\\2a))");
	CHECK_BUILD(tmpl, "al*", "(&(objectClass=inetOrgPerson)(uid=al\\2a))");
	CHECK_BUILD(tmpl, "x)(uid=*", "(&(objectClass=inetOrgPerson)(uid=x\\29\\28uid=\\2a))");
	CHECK_BUILD(tmpl, "alice)(|(uid=*",
		"(&(objectClass=inetOrgPerson)(uid=alice\\29\\28|\\28uid=\\2a))");
	CHECK_BUILD(tmpl, "\\", "(&(objectClass=inetOrgPerson)(uid=\\5c))");
	CHECK_BUILD(tmpl, "a\0b", "(&(objectClass=inetOrgPerson)(uid=a\\00b))");
	CHECK_BUILD("(|(uid=%u)(mail=%u))", "a*", "(|(uid=a\\2a)(mail=a\\2a))");
	CHECK_BUILD("(uid=%u)(cn=%u)(sn=%u)", "b", "(uid=b)(cn=b)(sn=b)");
	CHECK_BUILD("(description=100%%)(uid=%u)", "c", "(description=100%)(uid=c)");
	CHECK_BUILD("(x=%%u)", "c", "(x=%u)");
	CHECK_BUILD("(x=%%%u)", "c", "(x=%c)");
	CHECK_BUILD("(objectClass=*)", "c", "(objectClass=*)");
	CHECK_BUILD("(uid=%u)", "", "(uid=)");
}

static void test_build_filter_errors(void)
{
	char out[16] = "junk";

	CHECK(dir_build_filter("(uid=%s)", "a", 1, out, sizeof(out)) == -1);
	CHECK_STR(out, "");
	CHECK(dir_build_filter("(uid=%)", "a", 1, out, sizeof(out)) == -1);
	CHECK(dir_build_filter("(uid=a)%", "a", 1, out, sizeof(out)) == -1);
	CHECK(dir_build_filter("%U", "a", 1, out, sizeof(out)) == -1);
	/* "(uid=" + 3 + ")" = 9 bytes + NUL */
	CHECK(dir_build_filter("(uid=%u)", "*", 1, out, 10) == 9);
	CHECK_STR(out, "(uid=\\2a)");
	CHECK(dir_build_filter("(uid=%u)", "*", 1, out, 9) == -1);
	CHECK_STR(out, "");
	CHECK(dir_build_filter("(uid=%u)", "abcdefghijk", 11, out, sizeof(out)) == -1);
	CHECK(dir_build_filter("(uid=%u)", "a", 1, NULL, 0) == -1);
}

static void test_dn_escape(void)
{
	char out[8];

	CHECK_DN_ESC("alice", 5, "alice");
	CHECK_DN_ESC(",", 1, "\\,");
	CHECK_DN_ESC("+", 1, "\\+");
	CHECK_DN_ESC("\"", 1, "\\\"");
	CHECK_DN_ESC("\\", 1, "\\\\");
	CHECK_DN_ESC("<", 1, "\\<");
	CHECK_DN_ESC(">", 1, "\\>");
	CHECK_DN_ESC(";", 1, "\\;");
	CHECK_DN_ESC("=", 1, "\\=");
	CHECK_DN_ESC("\0", 1, "\\00");
	CHECK_DN_ESC("a\0b", 3, "a\\00b");
	CHECK_DN_ESC("Smith, John", 11, "Smith\\, John");
	CHECK_DN_ESC("cn=x,dc=evil", 12, "cn\\=x\\,dc\\=evil");
	CHECK_DN_ESC("#abc", 4, "\\#abc");
	CHECK_DN_ESC("a#b", 3, "a#b");
	CHECK_DN_ESC("ab#", 3, "ab#");
	CHECK_DN_ESC(" a", 2, "\\ a");
	CHECK_DN_ESC("a ", 2, "a\\ ");
	CHECK_DN_ESC("a b", 3, "a b");
	CHECK_DN_ESC(" ", 1, "\\ ");
	CHECK_DN_ESC("  ", 2, "\\ \\ ");
	CHECK_DN_ESC("   ", 3, "\\  \\ ");
	CHECK_DN_ESC(" # ", 3, "\\ #\\ ");
	CHECK_DN_ESC("*()", 3, "*()");
	CHECK_DN_ESC("j\xc3\xb6ns", 5, "j\xc3\xb6ns");
	CHECK(dir_escape_dn_value("", 0, out, sizeof(out)) == 0);
	CHECK_STR(out, "");
	CHECK(dir_escape_dn_value("a,", 2, out, 4) == 3);
	CHECK_STR(out, "a\\,");
	CHECK(dir_escape_dn_value("a,", 2, out, 3) == -1);
	CHECK_STR(out, "");
	CHECK(dir_escape_dn_value("\0", 1, out, 3) == -1);
}

static const struct dir_config good_config = {
	.uri = "ldap://127.0.0.1:1",
	.bind_dn = "cn=kairan,ou=services,dc=example,dc=org",
	.bind_password = "service-secret",
	.base_dn = "ou=people,dc=example,dc=org",
	.user_filter = "(&(objectClass=inetOrgPerson)(uid=%u))",
	.login_attribute = "uid",
	.timeout_sec = 1,
};

static void test_check_config(void)
{
	struct dir_config c;
	char err[256];

	CHECK(dir_check_config(&good_config, err, sizeof(err)) == 0);
	c = good_config; c.bind_dn = NULL; c.bind_password = NULL;
	CHECK(dir_check_config(&c, err, sizeof(err)) == 0);
	c = good_config; c.uri = "ldaps://ldap1.example.org ldap://ldap2.example.org:389";
	CHECK(dir_check_config(&c, err, sizeof(err)) == 0);

	c = good_config; c.uri = "";
	CHECK(dir_check_config(&c, err, sizeof(err)) == -1);
	CHECK(strstr(err, "uri") != NULL);
	c = good_config; c.uri = "http://example.org/";
	CHECK(dir_check_config(&c, err, sizeof(err)) == -1);
	c = good_config; c.base_dn = "not a dn";
	CHECK(dir_check_config(&c, err, sizeof(err)) == -1);
	CHECK(strstr(err, "base DN") != NULL);
	c = good_config; c.base_dn = NULL;
	CHECK(dir_check_config(&c, err, sizeof(err)) == -1);
	c = good_config; c.bind_dn = "kairan";
	CHECK(dir_check_config(&c, err, sizeof(err)) == -1);
	c = good_config; c.bind_password = "";
	CHECK(dir_check_config(&c, err, sizeof(err)) == -1);
	CHECK(strstr(err, "password") != NULL);
	c = good_config; c.user_filter = "(uid=alice)";
	CHECK(dir_check_config(&c, err, sizeof(err)) == -1);
	CHECK(strstr(err, "filter") != NULL);
	c = good_config; c.user_filter = "(&(uid=%u)";
	CHECK(dir_check_config(&c, err, sizeof(err)) == -1);
	c = good_config; c.user_filter = "(uid=%u))(";
	CHECK(dir_check_config(&c, err, sizeof(err)) == -1);
	c = good_config; c.user_filter = "(uid=%s)";
	CHECK(dir_check_config(&c, err, sizeof(err)) == -1);
	c = good_config; c.login_attribute = "";
	CHECK(dir_check_config(&c, err, sizeof(err)) == -1);
	c = good_config; c.login_attribute = "u id";
	CHECK(dir_check_config(&c, err, sizeof(err)) == -1);
	CHECK(strstr(err, "attribute") != NULL);
}

static void test_open_close(void)
{
	dir *d = NULL;

	dir_close(NULL);
	dir_close(&d);
	CHECK(d == NULL);
	CHECK(dir_open(&good_config, &d) == 0);
	CHECK(d != NULL);
	dir_close(&d);
	CHECK(d == NULL);
	dir_close(&d);
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs one authentication against good_config's uri, where nothing listens:
 * DIR_FAIL can only come from the checks made before any network I/O. */
static enum dir_result auth(dir *d, const char *login, size_t login_len,
		const char *password, size_t password_len, char *err, size_t errlen)
{
	char dn[128] = "junk", canon[64] = "junk";
	enum dir_result r = dir_authenticate(d, login, login_len, password, password_len,
		dn, sizeof(dn), canon, sizeof(canon), err, errlen);

	/* Outputs are cleared on every failure. */
	CHECK_STR(dn, "");
	CHECK_STR(canon, "");
	return r;
}

static void test_auth_rejects_without_network(void)
{
	char err[256];
	char big[300];
	dir *d = NULL;

	CHECK(dir_open(&good_config, &d) == 0);
	memset(big, 'a', sizeof(big));

	CHECK(auth(d, "alice", 5, "", 0, err, sizeof(err)) == DIR_FAIL);
	CHECK(strstr(err, "password") != NULL);
	CHECK(auth(d, "alice", 5, NULL, 0, err, sizeof(err)) == DIR_FAIL);
	CHECK(auth(d, "", 0, "secret", 6, err, sizeof(err)) == DIR_FAIL);
	CHECK(strstr(err, "login") != NULL);
	CHECK(auth(d, NULL, 0, "secret", 6, err, sizeof(err)) == DIR_FAIL);
	CHECK(auth(d, "al\0ice", 6, "secret", 6, err, sizeof(err)) == DIR_FAIL);
	CHECK(auth(d, "\0", 1, "secret", 6, err, sizeof(err)) == DIR_FAIL);
	CHECK(auth(d, "alice\r\n", 7, "secret", 6, err, sizeof(err)) == DIR_FAIL);
	CHECK(auth(d, "alice\n", 6, "secret", 6, err, sizeof(err)) == DIR_FAIL);
	CHECK(auth(d, "a\tb", 3, "secret", 6, err, sizeof(err)) == DIR_FAIL);
	CHECK(auth(d, "a\x1b", 2, "secret", 6, err, sizeof(err)) == DIR_FAIL);
	CHECK(auth(d, "a\x7f", 2, "secret", 6, err, sizeof(err)) == DIR_FAIL);
	CHECK(auth(d, big, DIR_LOGIN_MAX + 1, "secret", 6, err, sizeof(err)) == DIR_FAIL);
	CHECK(auth(d, big, sizeof(big), "secret", 6, err, sizeof(err)) == DIR_FAIL);
	/* Not UTF-8: a stray byte, an overlong '/', a surrogate, a cut sequence,
	 * beyond U+10FFFF, and the C1 control U+0085. */
	CHECK(auth(d, "\xff", 1, "secret", 6, err, sizeof(err)) == DIR_FAIL);
	CHECK(auth(d, "a\xc0\xaf", 3, "secret", 6, err, sizeof(err)) == DIR_FAIL);
	CHECK(auth(d, "\xed\xa0\x80", 3, "secret", 6, err, sizeof(err)) == DIR_FAIL);
	CHECK(auth(d, "j\xc3", 2, "secret", 6, err, sizeof(err)) == DIR_FAIL);
	CHECK(auth(d, "\xf4\x90\x80\x80", 4, "secret", 6, err, sizeof(err)) == DIR_FAIL);
	CHECK(auth(d, "\xc2\x85", 2, "secret", 6, err, sizeof(err)) == DIR_FAIL);
	/* err is optional. */
	CHECK(auth(d, "", 0, "secret", 6, NULL, 0) == DIR_FAIL);
	dir_close(&d);
}

static void test_auth_unreachable(void)
{
	char err[256];
	char big[DIR_LOGIN_MAX];
	dir *d = NULL;
	double t0;

	CHECK(dir_open(&good_config, &d) == 0);
	memset(big, 'a', sizeof(big));

	t0 = now_sec();
	CHECK(auth(d, "alice", 5, "secret", 6, err, sizeof(err)) == DIR_UNAVAILABLE);
	CHECK(err[0] != '\0');
	CHECK(strchr(err, '\n') == NULL);
	CHECK(strstr(err, "secret") == NULL);
	/* The handle reconnects on the next call and fails the same way. */
	CHECK(auth(d, "alice", 5, "secret", 6, err, sizeof(err)) == DIR_UNAVAILABLE);
	/* Inputs at the limits pass the checks and reach the (absent) network:
	 * 256 bytes, UTF-8, NUL inside the password, filter specials. */
	CHECK(auth(d, big, sizeof(big), "secret", 6, err, sizeof(err)) == DIR_UNAVAILABLE);
	CHECK(auth(d, "j\xc3\xb6ns", 5, "secret", 6, err, sizeof(err)) == DIR_UNAVAILABLE);
	CHECK(auth(d, "\xe5\x9b\x9e", 3, "secret", 6, err, sizeof(err)) == DIR_UNAVAILABLE);
	CHECK(auth(d, "alice", 5, "se\0cret", 7, err, sizeof(err)) == DIR_UNAVAILABLE);
	CHECK(auth(d, "x)(uid=*", 8, "secret", 6, err, sizeof(err)) == DIR_UNAVAILABLE);
	CHECK(now_sec() - t0 < 5.0);
	dir_close(&d);

	CHECK(dir_authenticate(NULL, "alice", 5, "secret", 6, NULL, 0, NULL, 0,
		err, sizeof(err)) == DIR_UNAVAILABLE);
}

static void test_auth_bad_config(void)
{
	struct dir_config c = good_config;
	char err[256];
	dir *d = NULL;

	c.user_filter = "(uid=%s)";
	CHECK(dir_open(&c, &d) == 0);
	CHECK(auth(d, "alice", 5, "secret", 6, err, sizeof(err)) == DIR_UNAVAILABLE);
	CHECK(strstr(err, "filter") != NULL);
	dir_close(&d);

	c = good_config;
	c.uri = "http://example.org/";
	CHECK(dir_open(&c, &d) == 0);
	CHECK(auth(d, "alice", 5, "secret", 6, err, sizeof(err)) == DIR_UNAVAILABLE);
	CHECK(strstr(err, "uri") != NULL);
	dir_close(&d);
}

int main(void)
{
	UNIT_RUN(test_filter_escape_specials);
	UNIT_RUN(test_filter_escape_plain);
	UNIT_RUN(test_filter_escape_overflow);
	UNIT_RUN(test_build_filter);
	UNIT_RUN(test_build_filter_errors);
	UNIT_RUN(test_dn_escape);
	UNIT_RUN(test_check_config);
	UNIT_RUN(test_open_close);
	UNIT_RUN(test_auth_rejects_without_network);
	UNIT_RUN(test_auth_unreachable);
	UNIT_RUN(test_auth_bad_config);
	return unit_report("test_directory");
}
