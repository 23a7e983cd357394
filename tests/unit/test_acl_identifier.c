/* ACL identifiers (acl/identifier.h): RFC 4314 §2 forms, validation, the
 * round trip through acl_identifier_format, and name comparison. */
#include "tests/unit/unit.h"
#include "acl/identifier.h"


struct id_case {
	const char *s;
	size_t len;          /* 0: strlen(s) */
	enum acl_id_kind kind;
	bool negative;
	const char *name;    /* NULL for the keywords */
};

static size_t case_len(const char *s, size_t len)
{
	return len ? len : strlen(s);
}

static void test_valid_identifiers(void)
{
	static const struct id_case cases[] = {
		{ "bob", 0, ACL_ID_USER, false, "bob" },
		{ "-bob", 0, ACL_ID_USER, true, "bob" },
		{ "Bob", 0, ACL_ID_USER, false, "Bob" },
		{ "alice@example.com", 0, ACL_ID_USER, false, "alice@example.com" },
		{ "a.b+c_d-e~1", 0, ACL_ID_USER, false, "a.b+c_d-e~1" },
		{ "x:y", 0, ACL_ID_USER, false, "x:y" },
		{ "b-", 0, ACL_ID_USER, false, "b-" },
		{ "j\xc3\xbcrgen", 0, ACL_ID_USER, false, "j\xc3\xbcrgen" },
		{ "\xe6\x97\xa5\xe6\x9c\xac", 0, ACL_ID_USER, false, "\xe6\x97\xa5\xe6\x9c\xac" },
		{ "\xf0\x9f\x98\x80", 0, ACL_ID_USER, false, "\xf0\x9f\x98\x80" },
		{ "\xf4\x8f\xbf\xbf", 0, ACL_ID_USER, false, "\xf4\x8f\xbf\xbf" }, /* U+10FFFF */
		{ "anyone2", 0, ACL_ID_USER, false, "anyone2" },
		{ "group", 0, ACL_ID_USER, false, "group" },
		{ "groupie", 0, ACL_ID_USER, false, "groupie" },
		{ "authenticated-users", 0, ACL_ID_USER, false, "authenticated-users" },
		{ "anyone", 0, ACL_ID_ANYONE, false, NULL },
		{ "-anyone", 0, ACL_ID_ANYONE, true, NULL },
		{ "authenticated", 0, ACL_ID_AUTHENTICATED, false, NULL },
		{ "-authenticated", 0, ACL_ID_AUTHENTICATED, true, NULL },
		{ "group:sales", 0, ACL_ID_GROUP, false, "sales" },
		{ "-group:sales", 0, ACL_ID_GROUP, true, "sales" },
		{ "group:Sales Team", 0, ACL_ID_GROUP, false, "Sales Team" },
		{ "group:R/D", 0, ACL_ID_GROUP, false, "R/D" },
		{ "group:\xc3\x84rger", 0, ACL_ID_GROUP, false, "\xc3\x84rger" },
		{ "group:anyone", 0, ACL_ID_GROUP, false, "anyone" },
		{ "group:group:x", 0, ACL_ID_GROUP, false, "group:x" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct id_case *c = &cases[i];
		size_t len = case_len(c->s, c->len);
		struct acl_identifier id;
		char out[ACL_IDENTIFIER_MAX + 1];
		enum acl_id_error e = acl_identifier_parse(c->s, len, &id);

		if (e != ACL_ID_OK) {
			fprintf(stderr, "  valid case %zu \"%s\": %s\n", i, c->s, acl_id_error_str(e));
			CHECK(e == ACL_ID_OK);
			continue;
		}
		CHECK(id.kind == c->kind);
		CHECK(id.negative == c->negative);
		if (c->name != NULL)
			CHECK_MEM(id.name, id.name_len, c->name, strlen(c->name));
		else
			CHECK(id.name == NULL && id.name_len == 0);
		/* The round trip is byte for byte: nothing is folded. */
		CHECK_MEM(out, acl_identifier_format(&id, out, sizeof(out)), c->s, len);
	}
}

static void test_longest_names(void)
{
	char buf[ACL_IDENTIFIER_MAX + 2];
	char out[ACL_IDENTIFIER_MAX + 1];
	struct acl_identifier id;
	static const char *const prefixes[] = { "", "-", "group:", "-group:" };

	for (size_t p = 0; p < 4; p++) {
		size_t plen = strlen(prefixes[p]);

		memcpy(buf, prefixes[p], plen);
		memset(buf + plen, 'a', ACL_NAME_MAX + 1);
		/* Exactly ACL_NAME_MAX bytes of name: accepted. */
		CHECK(acl_identifier_parse(buf, plen + ACL_NAME_MAX, &id) == ACL_ID_OK);
		CHECK(id.name_len == ACL_NAME_MAX);
		CHECK(acl_identifier_format(&id, out, sizeof(out)) == plen + ACL_NAME_MAX);
		/* One more: refused. */
		CHECK(acl_identifier_parse(buf, plen + ACL_NAME_MAX + 1, &id) == ACL_ID_TOO_LONG);
	}
	/* A multi-byte character straddling the limit counts in bytes. */
	memset(buf, 'a', ACL_NAME_MAX - 1);
	memcpy(buf + ACL_NAME_MAX - 1, "\xc3\xbc", 2);
	CHECK(acl_identifier_parse(buf, ACL_NAME_MAX + 1, &id) == ACL_ID_TOO_LONG);
}

struct bad_case {
	const char *s;
	size_t len;          /* 0: strlen(s) */
	enum acl_id_error want;
};

static void test_invalid_identifiers(void)
{
	static const struct bad_case cases[] = {
		{ "", 0, ACL_ID_EMPTY },
		{ "-", 1, ACL_ID_EMPTY },
		{ "--bob", 0, ACL_ID_RESERVED },
		{ "--anyone", 0, ACL_ID_RESERVED },
		{ "-group:-x", 0, ACL_ID_RESERVED },
		{ "group:-sales", 0, ACL_ID_RESERVED },
		{ "group:", 0, ACL_ID_EMPTY_GROUP },
		{ "-group:", 0, ACL_ID_EMPTY_GROUP },
		/* Case variants of the keywords and of the prefix. */
		{ "Anyone", 0, ACL_ID_RESERVED },
		{ "ANYONE", 0, ACL_ID_RESERVED },
		{ "-aNyOnE", 0, ACL_ID_RESERVED },
		{ "Authenticated", 0, ACL_ID_RESERVED },
		{ "AUTHENTICATED", 0, ACL_ID_RESERVED },
		{ "-authenticateD", 0, ACL_ID_RESERVED },
		{ "Group:sales", 0, ACL_ID_RESERVED },
		{ "GROUP:sales", 0, ACL_ID_RESERVED },
		{ "-GROUP:", 0, ACL_ID_RESERVED },
		/* Spaces. */
		{ "bo b", 0, ACL_ID_BAD_CHAR },
		{ " bob", 0, ACL_ID_BAD_CHAR },
		{ "bob ", 0, ACL_ID_BAD_CHAR },
		{ "anyone ", 0, ACL_ID_BAD_CHAR },
		{ "group: sales", 0, ACL_ID_BAD_CHAR },
		{ "group:sales ", 0, ACL_ID_BAD_CHAR },
		{ "group:a  b", 0, ACL_ID_BAD_CHAR },
		{ "group: ", 0, ACL_ID_BAD_CHAR },
		/* Control characters, NUL included. */
		{ "bo\0b", 4, ACL_ID_CONTROL },
		{ "\0", 1, ACL_ID_CONTROL },
		{ "-\0", 2, ACL_ID_CONTROL },
		{ "anyone\0", 7, ACL_ID_CONTROL },
		{ "group:a\0", 8, ACL_ID_CONTROL },
		{ "bob\r\n", 0, ACL_ID_CONTROL },
		{ "bob\t", 0, ACL_ID_CONTROL },
		{ "bob\x1b[0m", 0, ACL_ID_CONTROL },
		{ "bob\x7f", 0, ACL_ID_CONTROL },
		{ "bob\xc2\x85", 0, ACL_ID_CONTROL },          /* NEL, a C1 control */
		{ "\xc2\x9f", 0, ACL_ID_CONTROL },
		{ "group:a\nb", 0, ACL_ID_CONTROL },
		/* IMAP and LDAP-filter metacharacters, "/" in logins. */
		{ "b*", 0, ACL_ID_BAD_CHAR },
		{ "*", 0, ACL_ID_BAD_CHAR },
		{ "b%", 0, ACL_ID_BAD_CHAR },
		{ "b(", 0, ACL_ID_BAD_CHAR },
		{ "b)", 0, ACL_ID_BAD_CHAR },
		{ "b{3}", 0, ACL_ID_BAD_CHAR },
		{ "b\"", 0, ACL_ID_BAD_CHAR },
		{ "b\\", 0, ACL_ID_BAD_CHAR },
		{ "a/b", 0, ACL_ID_BAD_CHAR },
		{ "-a/b", 0, ACL_ID_BAD_CHAR },
		{ "*)(uid=*", 0, ACL_ID_BAD_CHAR },
		{ "group:a*", 0, ACL_ID_BAD_CHAR },
		{ "group:(cn=x)", 0, ACL_ID_BAD_CHAR },
		{ "group:a\\2a", 0, ACL_ID_BAD_CHAR },
		/* Not UTF-8. */
		{ "\xc0\xaf", 0, ACL_ID_BAD_UTF8 },            /* overlong "/" */
		{ "group:\xc0\x80", 0, ACL_ID_BAD_UTF8 },      /* overlong NUL */
		{ "\xe0\x80\xaf", 0, ACL_ID_BAD_UTF8 },
		{ "\xf0\x80\x80\xaf", 0, ACL_ID_BAD_UTF8 },
		{ "\xed\xa0\x80", 0, ACL_ID_BAD_UTF8 },        /* surrogate */
		{ "\xf4\x90\x80\x80", 0, ACL_ID_BAD_UTF8 },    /* past U+10FFFF */
		{ "\x80", 0, ACL_ID_BAD_UTF8 },
		{ "ab\xc3", 0, ACL_ID_BAD_UTF8 },
		{ "\xe2\x82", 0, ACL_ID_BAD_UTF8 },
		{ "\xc3\x28", 0, ACL_ID_BAD_UTF8 },
		{ "\xff", 0, ACL_ID_BAD_UTF8 },
		{ "\xfe", 0, ACL_ID_BAD_UTF8 },
		{ "\xf8\x88\x80\x80\x80", 0, ACL_ID_BAD_UTF8 },
		{ "-\xe9t\xe9", 0, ACL_ID_BAD_UTF8 },          /* Latin-1 */
	};
	struct acl_identifier id = { ACL_ID_ANYONE, true, "untouched", 9 };

	_Static_assert(sizeof(cases) / sizeof(cases[0]) >= 30, "at least 30 invalid cases");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];
		enum acl_id_error e = acl_identifier_parse(c->s, case_len(c->s, c->len), &id);

		if (e != c->want)
			fprintf(stderr, "  invalid case %zu: got %s, want %s\n", i,
				acl_id_error_str(e), acl_id_error_str(c->want));
		CHECK(e == c->want);
		CHECK(strcmp(acl_id_error_str(e), "valid identifier") != 0);
	}
	/* A failed parse leaves the output alone. */
	CHECK(id.kind == ACL_ID_ANYONE && id.negative && id.name_len == 9);
}

static void test_every_single_byte(void)
{
	/* Every byte alone, as a login: printable ASCII but the refused
	 * characters is a login; everything else is refused. */
	for (unsigned b = 0; b < 256; b++) {
		char c = (char)b;
		struct acl_identifier id;
		enum acl_id_error e = acl_identifier_parse(&c, 1, &id);
		bool ok = b > 0x20 && b < 0x7f && strchr("*%(){}\"\\/-", (int)b) == NULL;

		CHECK((e == ACL_ID_OK) == ok);
		if (ok)
			CHECK(id.kind == ACL_ID_USER && id.name_len == 1);
	}
}

static void test_format_needs_room(void)
{
	struct acl_identifier id;
	char out[16];

	CHECK(acl_identifier_parse("-group:sales", 12, &id) == ACL_ID_OK);
	CHECK(acl_identifier_format(&id, out, 13) == 12);
	CHECK_STR(out, "-group:sales");
	CHECK(acl_identifier_format(&id, out, 12) == 0);
	CHECK(acl_identifier_format(&id, out, 0) == 0);

	/* Built by hand rather than parsed. */
	id = (struct acl_identifier){ ACL_ID_AUTHENTICATED, true, NULL, 0 };
	CHECK(acl_identifier_format(&id, out, sizeof(out)) == 14);
	CHECK_STR(out, "-authenticated");
	id = (struct acl_identifier){ ACL_ID_USER, false, NULL, 0 };
	CHECK(acl_identifier_format(&id, out, sizeof(out)) == 0);
}

static void test_is_user(void)
{
	struct acl_identifier id;

	CHECK(acl_identifier_parse("alice", 5, &id) == ACL_ID_OK);
	CHECK(acl_identifier_is_user(&id, "alice", 5));
	CHECK(!acl_identifier_is_user(&id, "Alice", 5));   /* canonical: exact */
	CHECK(!acl_identifier_is_user(&id, "alice2", 6));
	CHECK(!acl_identifier_is_user(&id, "alic", 4));
	CHECK(!acl_identifier_is_user(&id, "", 0));
	CHECK(acl_identifier_parse("-alice", 6, &id) == ACL_ID_OK);
	CHECK(!acl_identifier_is_user(&id, "alice", 5));   /* negative */
	CHECK(acl_identifier_parse("group:alice", 11, &id) == ACL_ID_OK);
	CHECK(!acl_identifier_is_user(&id, "alice", 5));
	CHECK(acl_identifier_parse("anyone", 6, &id) == ACL_ID_OK);
	CHECK(!acl_identifier_is_user(&id, "anyone", 6));
}

static void test_group_name_equal(void)
{
	CHECK(acl_group_name_equal("sales", 5, "sales", 5));
	CHECK(acl_group_name_equal("Sales", 5, "sALES", 5));
	CHECK(acl_group_name_equal("Sales Team", 10, "sales team", 10));
	CHECK(!acl_group_name_equal("sales", 5, "sale", 4));
	CHECK(!acl_group_name_equal("sales", 5, "sales ", 6));
	CHECK(!acl_group_name_equal("sales", 5, "salez", 5));
	/* ASCII folding only: "@" (0x40) and "`" (0x60) are not letters. */
	CHECK(!acl_group_name_equal("@", 1, "`", 1));
	CHECK(!acl_group_name_equal("[", 1, "{", 1));
	/* Outside ASCII, bytes compare exactly. */
	CHECK(acl_group_name_equal("\xc3\x84rger", 6, "\xc3\x84RGER", 6));
	CHECK(!acl_group_name_equal("\xc3\x84rger", 6, "\xc3\xa4rger", 6));
	CHECK(acl_group_name_equal("a\0b", 3, "A\0B", 3));
	CHECK(!acl_group_name_equal("a\0b", 3, "a\0c", 3));
}

int main(void)
{
	UNIT_RUN(test_valid_identifiers);
	UNIT_RUN(test_longest_names);
	UNIT_RUN(test_invalid_identifiers);
	UNIT_RUN(test_every_single_byte);
	UNIT_RUN(test_format_needs_room);
	UNIT_RUN(test_is_user);
	UNIT_RUN(test_group_name_equal);
	return unit_report("test_acl_identifier");
}
