/* directory/: the filters of group and address look-ups, with hostile
 * values, the checks made before any network I/O, the new configuration
 * fields and the defaults of their config keys. The round trips themselves
 * are checked against a real slapd (see the report of the shared-folders
 * change); here nothing listens on the configured URI. */
#include "directory/dir.h"
#include "directory/filter.h"
#include "server/core/config.h"
#include "tests/unit/unit.h"

#include <stdlib.h>

#define GF "(objectClass=g)"

/* Compares a malloc'ed filter with the expected bytes, then frees it. */
#define CHECK_FILTER(got_expr, want) do { \
	char *got_ = (got_expr); \
	CHECK(got_ != NULL); \
	if (got_ != NULL) CHECK_STR(got_, (want)); \
	free(got_); \
} while (0)

static void test_membership_parse(void)
{
	enum dir_membership m = DIR_MEMBERSHIP_MEMBER;

	CHECK(dir_membership_parse(NULL, &m) == 0 && m == DIR_MEMBERSHIP_AUTO);
	m = DIR_MEMBERSHIP_MEMBER;
	CHECK(dir_membership_parse("", &m) == 0 && m == DIR_MEMBERSHIP_AUTO);
	CHECK(dir_membership_parse("auto", &m) == 0 && m == DIR_MEMBERSHIP_AUTO);
	CHECK(dir_membership_parse("member", &m) == 0 && m == DIR_MEMBERSHIP_MEMBER);
	CHECK(dir_membership_parse("uniqueMember", &m) == 0 && m == DIR_MEMBERSHIP_UNIQUE_MEMBER);
	CHECK(dir_membership_parse("memberUid", &m) == 0 && m == DIR_MEMBERSHIP_MEMBER_UID);
	CHECK(dir_membership_parse("memberOf", &m) == 0 && m == DIR_MEMBERSHIP_MEMBER_OF);
	/* Attribute names are case-insensitive, so the setting is too. */
	CHECK(dir_membership_parse("MEMBERUID", &m) == 0 && m == DIR_MEMBERSHIP_MEMBER_UID);
	CHECK(dir_membership_parse("uniquemember", &m) == 0 && m == DIR_MEMBERSHIP_UNIQUE_MEMBER);
	CHECK(dir_membership_parse("members", &m) == -1);
	CHECK(dir_membership_parse("member ", &m) == -1);
	CHECK(dir_membership_parse("groupOfNames", &m) == -1);
}

static void test_groups_filter_plain(void)
{
	const char *dn = "uid=alice,ou=people,dc=example,dc=org";
	size_t dl = strlen(dn);

	CHECK_FILTER(dir_groups_filter(DIR_MEMBERSHIP_MEMBER, GF, dn, dl, "alice", 5),
		"(&(objectClass=g)(member=uid=alice,ou=people,dc=example,dc=org))");
	CHECK_FILTER(dir_groups_filter(DIR_MEMBERSHIP_UNIQUE_MEMBER, GF, dn, dl, "alice", 5),
		"(&(objectClass=g)(uniqueMember=uid=alice,ou=people,dc=example,dc=org))");
	CHECK_FILTER(dir_groups_filter(DIR_MEMBERSHIP_MEMBER_UID, GF, dn, dl, "alice", 5),
		"(&(objectClass=g)(memberUid=alice))");
	CHECK_FILTER(dir_groups_filter(DIR_MEMBERSHIP_AUTO, GF, dn, dl, "alice", 5),
		"(&(objectClass=g)(|(member=uid=alice,ou=people,dc=example,dc=org)"
		"(uniqueMember=uid=alice,ou=people,dc=example,dc=org)(memberUid=alice)))");
	CHECK_FILTER(dir_groups_filter(DIR_MEMBERSHIP_AUTO, DIR_DEFAULT_GROUP_FILTER, "cn=a", 4, "a", 1),
		"(&(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))"
		"(|(member=cn=a)(uniqueMember=cn=a)(memberUid=a)))");
	/* memberOf reads the user's entry: there is no group search filter. */
	CHECK(dir_groups_filter(DIR_MEMBERSHIP_MEMBER_OF, GF, dn, dl, "alice", 5) == NULL);
}

/* Every schema, every special: '*' '(' ')' '\' NUL, and UTF-8 kept as is. */
static void test_groups_filter_hostile(void)
{
	/* A DN whose value holds filter syntax: "x)(objectClass=*". */
	const char dn1[] = "uid=x)(objectClass=*,dc=org";
	/* A DN with an escaped comma, as the server writes it: a backslash. */
	const char dn2[] = "cn=Smith\\, J,dc=org";
	/* NUL cannot come from the server, but the builder must not stop at it. */
	const char dn3[] = "cn=a\0b,dc=org";
	const char login_star[] = "*";
	const char login_inj[] = "a)(memberUid=*";
	const char login_utf8[] = "j\xc3\xb6ns\xe5\x9b\x9e";

	CHECK_FILTER(dir_groups_filter(DIR_MEMBERSHIP_MEMBER, GF, dn1, sizeof(dn1) - 1, "x", 1),
		"(&(objectClass=g)(member=uid=x\\29\\28objectClass=\\2a,dc=org))");
	CHECK_FILTER(dir_groups_filter(DIR_MEMBERSHIP_UNIQUE_MEMBER, GF, dn2, sizeof(dn2) - 1, "x", 1),
		"(&(objectClass=g)(uniqueMember=cn=Smith\\5c, J,dc=org))");
	CHECK_FILTER(dir_groups_filter(DIR_MEMBERSHIP_MEMBER, GF, dn3, sizeof(dn3) - 1, "x", 1),
		"(&(objectClass=g)(member=cn=a\\00b,dc=org))");
	CHECK_FILTER(dir_groups_filter(DIR_MEMBERSHIP_MEMBER_UID, GF, "cn=a", 4,
			login_star, sizeof(login_star) - 1),
		"(&(objectClass=g)(memberUid=\\2a))");
	CHECK_FILTER(dir_groups_filter(DIR_MEMBERSHIP_MEMBER_UID, GF, "cn=a", 4,
			login_inj, sizeof(login_inj) - 1),
		"(&(objectClass=g)(memberUid=a\\29\\28memberUid=\\2a))");
	CHECK_FILTER(dir_groups_filter(DIR_MEMBERSHIP_MEMBER_UID, GF, "cn=a", 4, "a\0b", 3),
		"(&(objectClass=g)(memberUid=a\\00b))");
	CHECK_FILTER(dir_groups_filter(DIR_MEMBERSHIP_MEMBER_UID, GF, "cn=a", 4, "\\", 1),
		"(&(objectClass=g)(memberUid=\\5c))");
	CHECK_FILTER(dir_groups_filter(DIR_MEMBERSHIP_MEMBER_UID, GF, "cn=a", 4,
			login_utf8, sizeof(login_utf8) - 1),
		"(&(objectClass=g)(memberUid=j\xc3\xb6ns\xe5\x9b\x9e))");
	CHECK_FILTER(dir_groups_filter(DIR_MEMBERSHIP_AUTO, GF, dn1, sizeof(dn1) - 1,
			login_inj, sizeof(login_inj) - 1),
		"(&(objectClass=g)(|(member=uid=x\\29\\28objectClass=\\2a,dc=org)"
		"(uniqueMember=uid=x\\29\\28objectClass=\\2a,dc=org)"
		"(memberUid=a\\29\\28memberUid=\\2a)))");
	CHECK_FILTER(dir_groups_filter(DIR_MEMBERSHIP_AUTO, GF, "*", 1, "*", 1),
		"(&(objectClass=g)(|(member=\\2a)(uniqueMember=\\2a)(memberUid=\\2a)))");
	/* Empty values give an equality match on "", never a presence test. */
	CHECK_FILTER(dir_groups_filter(DIR_MEMBERSHIP_AUTO, GF, "", 0, "", 0),
		"(&(objectClass=g)(|(member=)(uniqueMember=)(memberUid=)))");
}

/* The worst case for the size computation: every byte escaped. */
static void test_groups_filter_all_escaped(void)
{
	char dn[600], want[4096];
	size_t w = 0;
	char *f;

	memset(dn, '*', sizeof(dn));
	w += (size_t)snprintf(want + w, sizeof(want) - w, "(&(objectClass=g)(member=");
	for (size_t i = 0; i < sizeof(dn); i++)
		w += (size_t)snprintf(want + w, sizeof(want) - w, "\\2a");
	snprintf(want + w, sizeof(want) - w, "))");
	f = dir_groups_filter(DIR_MEMBERSHIP_MEMBER, GF, dn, sizeof(dn), "x", 1);
	CHECK(f != NULL);
	if (f != NULL)
		CHECK_STR(f, want);
	free(f);
}

static void test_group_name_filter(void)
{
	const char inj[] = "sales)(cn=*";

	CHECK_FILTER(dir_group_name_filter(GF, "cn", "sales", 5), "(&(objectClass=g)(cn=sales))");
	CHECK_FILTER(dir_group_name_filter(GF, "cn", inj, sizeof(inj) - 1),
		"(&(objectClass=g)(cn=sales\\29\\28cn=\\2a))");
	CHECK_FILTER(dir_group_name_filter(GF, "cn", "*", 1), "(&(objectClass=g)(cn=\\2a))");
	CHECK_FILTER(dir_group_name_filter(GF, "cn", "a\\b", 3), "(&(objectClass=g)(cn=a\\5cb))");
	CHECK_FILTER(dir_group_name_filter(GF, "cn", "a\0b", 3), "(&(objectClass=g)(cn=a\\00b))");
	CHECK_FILTER(dir_group_name_filter(GF, "ou", "\xe5\x9b\x9e\xe8\xa6\xa7", 6),
		"(&(objectClass=g)(ou=\xe5\x9b\x9e\xe8\xa6\xa7))");
}

static void test_memberof_filter(void)
{
	const char dn[] = "cn=x)(uid=*,ou=groups\\,old,dc=org";

	CHECK_FILTER(dir_memberof_filter("uid", "cn=sales,ou=groups,dc=example,dc=org", 36),
		"(&(memberOf=cn=sales,ou=groups,dc=example,dc=org)(uid=*))");
	CHECK_FILTER(dir_memberof_filter("uid", dn, sizeof(dn) - 1),
		"(&(memberOf=cn=x\\29\\28uid=\\2a,ou=groups\\5c,old,dc=org)(uid=*))");
	CHECK_FILTER(dir_memberof_filter("sAMAccountName", "cn=a\0", 5),
		"(&(memberOf=cn=a\\00)(sAMAccountName=*))");
}

static void test_mail_filter(void)
{
	const char inj[] = "*)(uid=*";
	const char utf8[] = "j\xc3\xb6ns@b\xc3\xbc" "cher.example";

	CHECK_FILTER(dir_mail_filter(DIR_DEFAULT_MAIL_ATTRIBUTES, "uid", "alice@example.org", 17),
		"(&(|(mail=alice@example.org)(mailAlternateAddress=alice@example.org))(uid=*))");
	CHECK_FILTER(dir_mail_filter("mail", "uid", "a@b", 3), "(&(mail=a@b)(uid=*))");
	CHECK_FILTER(dir_mail_filter("  mail\tmailLocalAddress  proxyAddresses ", "uid", "a@b", 3),
		"(&(|(mail=a@b)(mailLocalAddress=a@b)(proxyAddresses=a@b))(uid=*))");
	CHECK_FILTER(dir_mail_filter("mail", "uid", inj, sizeof(inj) - 1),
		"(&(mail=\\2a\\29\\28uid=\\2a)(uid=*))");
	CHECK_FILTER(dir_mail_filter(DIR_DEFAULT_MAIL_ATTRIBUTES, "uid", "*@example.org", 13),
		"(&(|(mail=\\2a@example.org)(mailAlternateAddress=\\2a@example.org))(uid=*))");
	CHECK_FILTER(dir_mail_filter("mail", "uid", "a\\@b", 4), "(&(mail=a\\5c@b)(uid=*))");
	CHECK_FILTER(dir_mail_filter("mail", "uid", "a\0@b", 4), "(&(mail=a\\00@b)(uid=*))");
	CHECK_FILTER(dir_mail_filter("mail", "uid", utf8, sizeof(utf8) - 1),
		"(&(mail=j\xc3\xb6ns@b\xc3\xbc" "cher.example)(uid=*))");
	/* No attribute, or one that is not an attribute name: no filter. */
	CHECK(dir_mail_filter("", "uid", "a@b", 3) == NULL);
	CHECK(dir_mail_filter("   ", "uid", "a@b", 3) == NULL);
	CHECK(dir_mail_filter("mail (uid=*)", "uid", "a@b", 3) == NULL);
	CHECK(dir_mail_filter("mail=x", "uid", "a@b", 3) == NULL);
}

static void test_filter_valid(void)
{
	CHECK(dir_filter_valid("(objectClass=*)"));
	CHECK(dir_filter_valid(DIR_DEFAULT_GROUP_FILTER));
	CHECK(dir_filter_valid("(&(a=b)(!(c=d)))"));
	CHECK(dir_filter_valid("(cn=a\\29b)"));
	CHECK(!dir_filter_valid(NULL));
	CHECK(!dir_filter_valid(""));
	CHECK(!dir_filter_valid("objectClass=*"));
	CHECK(!dir_filter_valid("(a=b)(c=d)"));  /* two filters: "(&" + this would change meaning */
	CHECK(!dir_filter_valid("(a=b))(|(c=d)"));
	CHECK(!dir_filter_valid("(&(a=b)"));
	CHECK(!dir_filter_valid("(a=b) "));
	CHECK(!dir_filter_valid(")("));
}

static void test_attribute_list(void)
{
	CHECK(dir_attribute_list_count(NULL) == 0);
	CHECK(dir_attribute_list_count("") == 0);
	CHECK(dir_attribute_list_count("mail") == 1);
	CHECK(dir_attribute_list_count(DIR_DEFAULT_MAIL_ATTRIBUTES) == 2);
	CHECK(dir_attribute_list_count(" mail \t  x-y.z;lang-en 1.2.3 ") == 3);
	CHECK(dir_attribute_list_count("mail,other") == -1);
	CHECK(dir_attribute_list_count("mail (x)") == -1);
	CHECK(dir_attribute_list_count("a b c d e f g h i j k l m n o p") == 16);
	CHECK(dir_attribute_list_count("a b c d e f g h i j k l m n o p q") == -1);
	CHECK(dir_attribute_valid("uid") && dir_attribute_valid("2.5.4.3"));
	CHECK(!dir_attribute_valid("") && !dir_attribute_valid("u id") && !dir_attribute_valid("a*"));
}

static void test_dn_under(void)
{
	const char *base = "ou=people,dc=example,dc=org";

	CHECK(dir_dn_under("uid=alice,ou=people,dc=example,dc=org", base));
	CHECK(dir_dn_under("ou=people,dc=example,dc=org", base));
	CHECK(dir_dn_under("uid=a,ou=x,ou=people,dc=example,dc=org", base));
	/* Case, spaces after commas and hex escapes do not matter. */
	CHECK(dir_dn_under("UID=Alice,OU=People, DC=Example,dc=ORG", base));
	CHECK(dir_dn_under("cn=a\\2Cb,ou=people,dc=example,dc=org", "cn=a\\,b,ou=people,dc=example,dc=org"));
	CHECK(dir_dn_under("uid=alice,dc=org", ""));
	CHECK(!dir_dn_under("uid=alice,ou=groups,dc=example,dc=org", base));
	CHECK(!dir_dn_under("dc=example,dc=org", base));
	/* A suffix of the string is not a suffix of the DN: "xou=people". */
	CHECK(!dir_dn_under("uid=a,xou=people,dc=example,dc=org", base));
	CHECK(!dir_dn_under("uid=a,ou=other\\,ou=people,dc=example,dc=org", base));
	CHECK(!dir_dn_under("uid=a,ou=people,dc=example,dc=org,dc=evil", base));
	CHECK(!dir_dn_under("not a dn", base));
	CHECK(!dir_dn_under("uid=a,ou=people,dc=example,dc=org", "not a dn"));
}

static void test_unique_member_dn(void)
{
#define UM(s) dir_unique_member_dn_len((s), sizeof(s) - 1)
	CHECK(UM("uid=a,dc=org") == 12);
	CHECK(UM("uid=a,dc=org#'0101'B") == 12);
	CHECK(UM("uid=a,dc=org#''B") == 12);
	CHECK(UM("uid=a,dc=org#'0121'B") == 20);  /* not a bit string */
	CHECK(UM("uid=a,dc=org'0101'B") == 19);   /* no '#' */
	CHECK(UM("uid=a,dc=org#'0101'") == 19);
	CHECK(UM("cn=B") == 4);
	CHECK(UM("'B") == 2);
	CHECK(UM("#''B") == 0);
	CHECK(UM("") == 0);
#undef UM
}

static const struct dir_config base_config = {
	.uri = "ldap://127.0.0.1:1",
	.bind_dn = "cn=kairan,ou=services,dc=example,dc=org",
	.bind_password = "service-secret",
	.base_dn = "ou=people,dc=example,dc=org",
	.user_filter = "(&(objectClass=inetOrgPerson)(uid=%u))",
	.login_attribute = "uid",
	.timeout_sec = 1,
};

static void test_check_config_groups(void)
{
	struct dir_config c;
	char err[256];

	/* Zero fields are the defaults, and valid. */
	CHECK(dir_check_config(&base_config, err, sizeof(err)) == 0);
	c = base_config;
	c.mail_attributes = "mail";
	c.group_base_dn = "ou=groups,dc=example,dc=org";
	c.group_filter = "(objectClass=posixGroup)";
	c.group_name_attribute = "cn";
	c.group_membership = "memberUid";
	c.starttls = true;
	c.tls_ca_file = "/dev/null";
	CHECK(dir_check_config(&c, err, sizeof(err)) == 0);
	c = base_config; c.mail_attributes = "";
	CHECK(dir_check_config(&c, err, sizeof(err)) == 0);

	c = base_config; c.mail_attributes = "mail, other";
	CHECK(dir_check_config(&c, err, sizeof(err)) == -1);
	CHECK(strstr(err, "mail attributes") != NULL);
	c = base_config; c.group_base_dn = "groups";
	CHECK(dir_check_config(&c, err, sizeof(err)) == -1);
	CHECK(strstr(err, "group base DN") != NULL);
	c = base_config; c.group_filter = "objectClass=groupOfNames";
	CHECK(dir_check_config(&c, err, sizeof(err)) == -1);
	CHECK(strstr(err, "group filter") != NULL);
	c = base_config; c.group_filter = "(a=b)(c=d)";
	CHECK(dir_check_config(&c, err, sizeof(err)) == -1);
	c = base_config; c.group_name_attribute = "common name";
	CHECK(dir_check_config(&c, err, sizeof(err)) == -1);
	CHECK(strstr(err, "group name attribute") != NULL);
	c = base_config; c.group_membership = "groupOfNames";
	CHECK(dir_check_config(&c, err, sizeof(err)) == -1);
	CHECK(strstr(err, "membership") != NULL);
	c = base_config; c.tls_ca_file = "/nonexistent/ca.pem";
	CHECK(dir_check_config(&c, err, sizeof(err)) == -1);
	CHECK(strstr(err, "CA file") != NULL);
}

/* The config keys' defaults, and that they are the directory's defaults. */
static void test_config_defaults(void)
{
	struct config cfg;

	config_defaults(&cfg);
	CHECK_STR(cfg.ldap_mail_attributes, "mail mailAlternateAddress");
	CHECK_STR(cfg.ldap_mail_attributes, DIR_DEFAULT_MAIL_ATTRIBUTES);
	CHECK_STR(cfg.ldap_group_base_dn, "");
	CHECK_STR(cfg.ldap_group_filter, DIR_DEFAULT_GROUP_FILTER);
	CHECK_STR(cfg.ldap_group_filter,
		"(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))");
	CHECK_STR(cfg.ldap_group_name_attribute, DIR_DEFAULT_GROUP_NAME_ATTRIBUTE);
	CHECK_STR(cfg.ldap_group_membership, "auto");
	CHECK(!cfg.ldap_starttls);
	CHECK_STR(cfg.ldap_tls_ca_file, "");
	CHECK(cfg.ldap_tls_require_cert);
	CHECK(cfg.ldap_cache_ttl == 60);
	CHECK_STR(cfg.ldap_team_filter, DIR_DEFAULT_TEAM_FILTER);
	CHECK_STR(cfg.ldap_team_mail_attribute, DIR_DEFAULT_TEAM_MAIL_ATTRIBUTE);
	CHECK(dir_filter_valid(DIR_DEFAULT_TEAM_FILTER));
	CHECK_STR(cfg.teams_from_directory, "no");
	CHECK_STR(cfg.team_rights, "lrswipte");
	config_free(&cfg);
}

/* The same defaults, taken through a dir_config as kairand would fill it,
 * pass dir_check_config. */
static void test_config_defaults_valid(void)
{
	struct config cfg;
	struct dir_config c = base_config;
	char err[256];

	config_defaults(&cfg);
	c.mail_attributes = cfg.ldap_mail_attributes;
	c.group_base_dn = cfg.ldap_group_base_dn;
	c.group_filter = cfg.ldap_group_filter;
	c.group_name_attribute = cfg.ldap_group_name_attribute;
	c.group_membership = cfg.ldap_group_membership;
	c.starttls = cfg.ldap_starttls;
	c.tls_ca_file = cfg.ldap_tls_ca_file;
	c.tls_skip_verify = !cfg.ldap_tls_require_cert;
	CHECK(dir_check_config(&c, err, sizeof(err)) == 0);
	config_free(&cfg);
}

static void test_mail_rejects_without_network(void)
{
	char dn[128] = "junk", login[64] = "junk", err[256];
	char big[DIR_ADDRESS_MAX + 1];
	dir *d = NULL;

	CHECK(dir_open(&base_config, &d) == 0);
	memset(big, 'a', sizeof(big));
	big[10] = '@';
#define MAIL(a, l) dir_lookup_by_mail(d, (a), (l), dn, sizeof(dn), login, sizeof(login), \
		err, sizeof(err))
	CHECK(MAIL("", 0) == DIR_FAIL);
	CHECK(strstr(err, "address") != NULL);
	CHECK_STR(dn, "");
	CHECK_STR(login, "");
	CHECK(MAIL(NULL, 0) == DIR_FAIL);
	CHECK(MAIL("alice", 5) == DIR_FAIL);
	CHECK(MAIL("@example.org", 12) == DIR_FAIL);
	CHECK(MAIL("alice@", 6) == DIR_FAIL);
	CHECK(MAIL("al\0ice@example.org", 18) == DIR_FAIL);
	CHECK(MAIL("alice@example.org\r\n", 19) == DIR_FAIL);
	CHECK(MAIL("\xff@example.org", 13) == DIR_FAIL);
	CHECK(MAIL(big, sizeof(big)) == DIR_FAIL);
	/* At the limit, and hostile but well-formed: these reach the (absent)
	 * network. */
	CHECK(MAIL(big, DIR_ADDRESS_MAX) == DIR_UNAVAILABLE);
	CHECK(MAIL("*)(uid=*@x", 10) == DIR_UNAVAILABLE);
	CHECK(MAIL("j\xc3\xb6ns@example.org", 17) == DIR_UNAVAILABLE);
	CHECK(strchr(err, '\n') == NULL);
	CHECK_STR(dn, "");
	CHECK(dir_lookup_by_mail(NULL, "a@b", 3, NULL, 0, NULL, 0, err, sizeof(err)) == DIR_UNAVAILABLE);
#undef MAIL
	dir_close(&d);
}

static void test_groups_without_network(void)
{
	struct dir_config c = base_config;
	char **list = (char **)1;
	size_t n = 99;
	char err[256];
	dir *d = NULL;

	CHECK(dir_open(&c, &d) == 0);
	CHECK(dir_user_groups(d, "", "alice", &list, &n, err, sizeof(err)) == DIR_FAIL);
	CHECK(list == NULL && n == 0);
	CHECK(dir_user_groups(d, "uid=alice,dc=org", "", &list, &n, err, sizeof(err)) == DIR_FAIL);
	CHECK(dir_user_groups(d, "uid=alice,dc=org", "a\x01", &list, &n, err, sizeof(err)) == DIR_FAIL);
	CHECK(dir_user_groups(d, NULL, NULL, &list, &n, err, sizeof(err)) == DIR_FAIL);
	CHECK(dir_user_groups(d, "uid=alice,dc=org", "alice", &list, &n, err, sizeof(err)) ==
		DIR_UNAVAILABLE);
	CHECK(list == NULL && n == 0);
	CHECK(err[0] != '\0');
	CHECK(dir_group_members(d, "", &list, &n, err, sizeof(err)) == DIR_FAIL);
	CHECK(dir_group_members(d, NULL, &list, &n, err, sizeof(err)) == DIR_FAIL);
	CHECK(dir_group_members(d, "sa\nles", &list, &n, err, sizeof(err)) == DIR_FAIL);
	CHECK(dir_group_members(d, "sales", &list, &n, err, sizeof(err)) == DIR_UNAVAILABLE);
	CHECK(list == NULL && n == 0);
	/* By DN (the admin group): any length, but text without control bytes. */
	CHECK(dir_group_members_by_dn(d, "", &list, &n, err, sizeof(err)) == DIR_FAIL);
	CHECK(dir_group_members_by_dn(d, NULL, &list, &n, err, sizeof(err)) == DIR_FAIL);
	CHECK(dir_group_members_by_dn(d, "cn=a\n,dc=org", &list, &n, err, sizeof(err)) == DIR_FAIL);
	CHECK(dir_group_members_by_dn(d, "cn=admins,dc=org", &list, &n, err, sizeof(err)) ==
		DIR_UNAVAILABLE);
	CHECK(list == NULL && n == 0);
	dir_close(&d);
	CHECK(dir_user_groups(NULL, "a", "a", &list, &n, err, sizeof(err)) == DIR_UNAVAILABLE);
	CHECK(dir_group_members(NULL, "a", &list, &n, err, sizeof(err)) == DIR_UNAVAILABLE);
	CHECK(dir_group_members_by_dn(NULL, "cn=a", &list, &n, err, sizeof(err)) == DIR_UNAVAILABLE);

	/* An unknown schema that skipped dir_check_config: a configuration
	 * error on every call, never "no groups". */
	c.group_membership = "bogus";
	CHECK(dir_open(&c, &d) == 0);
	CHECK(dir_user_groups(d, "uid=a,dc=org", "a", &list, &n, err, sizeof(err)) == DIR_UNAVAILABLE);
	CHECK(strstr(err, "group_membership") != NULL);
	CHECK(dir_group_members(d, "sales", &list, &n, err, sizeof(err)) == DIR_UNAVAILABLE);
	dir_close(&d);

	/* TLS settings with nothing listening: still just unavailable. */
	c = base_config;
	c.starttls = true;
	c.tls_ca_file = "/dev/null";
	CHECK(dir_open(&c, &d) == 0);
	CHECK(dir_user_groups(d, "uid=a,dc=org", "a", &list, &n, err, sizeof(err)) == DIR_UNAVAILABLE);
	dir_close(&d);
	c = base_config;
	c.uri = "ldaps://127.0.0.1:1";
	CHECK(dir_open(&c, &d) == 0);
	CHECK(dir_user_groups(d, "uid=a,dc=org", "a", &list, &n, err, sizeof(err)) == DIR_UNAVAILABLE);
	dir_close(&d);
}

static void test_groups_free(void)
{
	char **list = NULL;

	dir_groups_free(NULL);
	dir_groups_free(&list);
	list = calloc(3, sizeof(*list));
	list[0] = strdup("a");
	list[1] = strdup("b");
	dir_groups_free(&list);
	CHECK(list == NULL);
}

int main(void)
{
	UNIT_RUN(test_membership_parse);
	UNIT_RUN(test_groups_filter_plain);
	UNIT_RUN(test_groups_filter_hostile);
	UNIT_RUN(test_groups_filter_all_escaped);
	UNIT_RUN(test_group_name_filter);
	UNIT_RUN(test_memberof_filter);
	UNIT_RUN(test_mail_filter);
	UNIT_RUN(test_filter_valid);
	UNIT_RUN(test_attribute_list);
	UNIT_RUN(test_dn_under);
	UNIT_RUN(test_unique_member_dn);
	UNIT_RUN(test_check_config_groups);
	UNIT_RUN(test_config_defaults);
	UNIT_RUN(test_config_defaults_valid);
	UNIT_RUN(test_mail_rejects_without_network);
	UNIT_RUN(test_groups_without_network);
	UNIT_RUN(test_groups_free);
	return unit_report("test_directory_groups");
}
