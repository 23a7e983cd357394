/* SETACL rights changes and LISTRIGHTS (acl/modify.h), RFC 4314 §3.1, §3.4,
 * §3.7 and §2.1.1. */
#include "tests/unit/unit.h"
#include "acl/modify.h"
#include "acl/evaluate.h"
#include "acl/identifier.h"

static acl_rights R(const char *letters)
{
	acl_rights r = 0xdead;

	CHECK(acl_rights_parse(letters, strlen(letters), &r) == 0);
	return r;
}

static void test_change_parse(void)
{
	static const struct {
		const char *s;
		enum acl_change_mode mode;
		const char *rights;
	} good[] = {
		{ "", ACL_CHANGE_REPLACE, "" },
		{ "+", ACL_CHANGE_ADD, "" },
		{ "-", ACL_CHANGE_REMOVE, "" },
		{ "lrs", ACL_CHANGE_REPLACE, "lrs" },
		{ "+lr", ACL_CHANGE_ADD, "lr" },
		{ "-w", ACL_CHANGE_REMOVE, "w" },
		{ "aetxkpiwsrl", ACL_CHANGE_REPLACE, "lrswipkxtea" },
		{ "llll", ACL_CHANGE_REPLACE, "l" },
		/* §2.1.1: "c" is "k", "d" is "xte" (Kairan's reading). */
		{ "c", ACL_CHANGE_REPLACE, "k" },
		{ "+d", ACL_CHANGE_ADD, "xte" },
		{ "-cd", ACL_CHANGE_REMOVE, "kxte" },
		{ "lrswida", ACL_CHANGE_REPLACE, "lrswixtea" },
	};
	static const char *const bad[] = {
		"L", "+L", "lrW", "1", "+0", "l9", "++l", "+-l", "-+l", "l+r", "l-r",
		"lr ", " lr", "z", "lrn", "\"lr\"", "l,r",
	};
	struct acl_change c;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK(acl_change_parse(good[i].s, strlen(good[i].s), &c) == 0);
		CHECK(c.mode == good[i].mode);
		CHECK(c.rights == R(good[i].rights));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(acl_change_parse(bad[i], strlen(bad[i]), &c) == -1);
	/* NUL inside, and a lone sign followed by NUL. */
	CHECK(acl_change_parse("l\0r", 3, &c) == -1);
	CHECK(acl_change_parse("+\0", 2, &c) == -1);
	/* Every byte after "+": only the 11 letters, "c" and "d" pass. */
	for (unsigned b = 0; b < 256; b++) {
		char s[2] = { '+', (char)b };
		bool ok = b != 0 && strchr("lrswipkxteacd", (int)b) != NULL;
		CHECK((acl_change_parse(s, 2, &c) == 0) == ok);
	}
}

static void test_change_apply_exhaustive(void)
{
	/* Every stored set (or none) x every requested set x mode x owner. */
	for (int owner = 0; owner < 2; owner++)
		for (int has = 0; has < 2; has++)
			for (acl_rights stored = 0; stored <= (has ? ACL_ALL : 0); stored++)
				for (acl_rights req = 0; req <= ACL_ALL; req += 7) {
					acl_rights base = has ? stored : (owner ? ACL_ALL : 0);
					acl_rights want[3] = { req, base | req, base & ~req };

					for (int m = 0; m < 3; m++) {
						struct acl_change c = { (enum acl_change_mode)m, req };
						acl_rights got = acl_change_apply(&c, has ? &stored : NULL, owner);
						acl_rights w = want[m] | (owner ? ACL_OWNER_IMPLICIT : 0);

						CHECK(got == w);
						/* The owner's row is never deleted. */
						if (owner)
							CHECK(got != 0);
					}
				}
}

static acl_rights setacl(const char *arg, const acl_rights *stored, bool owner)
{
	struct acl_change c;

	CHECK(acl_change_parse(arg, strlen(arg), &c) == 0);
	return acl_change_apply(&c, stored, owner);
}

static void test_change_examples(void)
{
	acl_rights lr = R("lr"), all = ACL_ALL;
	char text[12];

	/* Someone else: no row is no rights; "" deletes the row. */
	CHECK(setacl("+w", NULL, false) == R("w"));
	CHECK(setacl("-w", NULL, false) == 0);
	CHECK(setacl("lrs", &lr, false) == R("lrs"));
	CHECK(setacl("+sd", &lr, false) == R("lrsxte"));
	CHECK(setacl("-l", &lr, false) == R("r"));
	CHECK(setacl("", &lr, false) == 0);
	CHECK(setacl("-lr", &lr, false) == 0);
	/* The owner without a row has ALL: "+w" changes nothing and "-w"
	 * takes away only "w", never everything else. */
	CHECK(setacl("+w", NULL, true) == ACL_ALL);
	CHECK(setacl("-w", NULL, true) == (ACL_ALL & ~ACL_WRITE));
	/* "" and "-la" cannot remove the implicit rights nor empty the row. */
	CHECK(setacl("", NULL, true) == R("la"));
	CHECK(setacl("-la", &all, true) == ACL_ALL);
	CHECK(setacl("r", &all, true) == R("lra"));
	/* Stored canonically, without the virtual rights. */
	acl_rights_format(setacl("dcaw", NULL, false), text);
	CHECK_STR(text, "wkxtea");
	/* Stray high bits in a stored value do not survive. */
	{
		acl_rights junk = ACL_READ | 0x80000000u;
		CHECK(setacl("+l", &junk, false) == R("lr"));
	}
}

static void listrights_text(const char *identifier, const char *owner, char *out)
{
	struct acl_identifier id;
	struct acl_listrights lr;

	CHECK(acl_identifier_parse(identifier, strlen(identifier), &id) == ACL_ID_OK);
	acl_listrights(acl_identifier_is_user(&id, owner, strlen(owner)), &lr);
	CHECK(acl_listrights_format(&lr, out, ACL_LISTRIGHTS_TEXT_MAX) > 0);
}

static void test_listrights(void)
{
	static const char *const others[] = {
		"bob", "-alice", "Alice", "anyone", "-anyone", "authenticated",
		"group:sales", "-group:sales", "group:alice",
	};
	char out[ACL_LISTRIGHTS_TEXT_MAX];
	struct acl_listrights lr;

	listrights_text("alice", "alice", out);
	CHECK_STR(out, "la r s w i p k x t e c d");
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		listrights_text(others[i], "alice", out);
		CHECK_STR(out, "\"\" l r s w i p k x t e c d a");
	}

	acl_listrights(true, &lr);
	CHECK(lr.required == ACL_OWNER_IMPLICIT && lr.optional == (ACL_ALL & ~ACL_OWNER_IMPLICIT));
	acl_listrights(false, &lr);
	CHECK(lr.required == 0 && lr.optional == ACL_ALL);

	/* §3.7: no right twice, even if both sets name it. */
	lr.required = R("lx");
	lr.optional = ACL_ALL;
	CHECK(acl_listrights_format(&lr, out, sizeof(out)) > 0);
	CHECK_STR(out, "lx r s w i p k t e c d a");
	/* Everything required: nothing optional. */
	lr.required = ACL_ALL;
	lr.optional = ACL_ALL;
	CHECK(acl_listrights_format(&lr, out, sizeof(out)) == 11);
	CHECK_STR(out, "lrswipkxtea");
	/* "c" and "d" only with their members. */
	lr.required = 0;
	lr.optional = R("lr");
	acl_listrights_format(&lr, out, sizeof(out));
	CHECK_STR(out, "\"\" l r");
	lr.optional = R("e");
	acl_listrights_format(&lr, out, sizeof(out));
	CHECK_STR(out, "\"\" e d");

	/* Too small a buffer: 0, never a cut answer. */
	acl_listrights(false, &lr);
	CHECK(acl_listrights_format(&lr, out, 28) == 0);
	CHECK(acl_listrights_format(&lr, out, 29) == 28);
}

static void test_listrights_never_repeats(void)
{
	/* Over every required/optional pair of a sample: each letter at most
	 * once in the whole response, and the required atom first. */
	for (acl_rights req = 0; req <= ACL_ALL; req += 5)
		for (acl_rights opt = 0; opt <= ACL_ALL; opt += 3) {
			struct acl_listrights lr = { req, opt };
			char out[ACL_LISTRIGHTS_TEXT_MAX];
			size_t n = acl_listrights_format(&lr, out, sizeof(out));
			int seen[256] = { 0 };

			CHECK(n > 0 && n < sizeof(out));
			for (size_t i = 0; i < n; i++)
				if (out[i] != ' ' && out[i] != '"')
					CHECK(++seen[(unsigned char)out[i]] == 1);
		}
}

int main(void)
{
	UNIT_RUN(test_change_parse);
	UNIT_RUN(test_change_apply_exhaustive);
	UNIT_RUN(test_change_examples);
	UNIT_RUN(test_listrights);
	UNIT_RUN(test_listrights_never_repeats);
	return unit_report("test_acl_modify");
}
