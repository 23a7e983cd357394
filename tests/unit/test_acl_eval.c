/* Effective rights (acl/evaluate.h) and the rights each operation needs
 * (acl/command_rights.h).
 *
 * The exhaustive tests compare acl_evaluate with an oracle written from the
 * rules in evaluate.h's comment, case by case, instead of from the code:
 * every single right and every "all but one" set, for every kind of
 * principal (user, group, anyone, authenticated; each also negative), for
 * owner and non-owner, admin and non-admin, one entry and every pair. */
#include "tests/unit/unit.h"
#include "acl/evaluate.h"
#include "acl/identifier.h"
#include "acl/command_rights.h"
#include "server/imap/store_args.h"

static unsigned long scenarios;

static const acl_rights rl = ACL_LOOKUP, ra = ACL_ADMIN;

/* The caller of the exhaustive tests: alice, in groups "sales" and "Staff". */
static const struct acl_name alice_groups[] = { { "sales", 5 }, { "Staff", 5 } };

static struct acl_caller caller_alice(bool authenticated, bool admin)
{
	struct acl_caller c = { "alice", 5, authenticated, alice_groups, 2, admin };
	return c;
}

/* The principals an entry can name, and what the oracle knows of each. */
struct principal {
	const char *id;       /* positive form; the negative one is "-" id */
	bool matches_auth;    /* matches alice when she is logged in */
	bool matches_anon;    /* matches a session that is not logged in */
	bool is_alice;        /* the positive form is alice's own user entry */
};

static const struct principal principals[] = {
	{ "alice", true, false, true },
	{ "Alice", false, false, false },           /* logins compare exactly */
	{ "bob", false, false, false },
	{ "group:SALES", true, false, false },      /* group names ignore case */
	{ "group:staff", true, false, false },
	{ "group:eng", false, false, false },
	{ "anyone", true, true, false },
	{ "authenticated", true, false, false },
};
#define NPRINCIPALS (sizeof(principals) / sizeof(principals[0]))

/* Every single right, every "all but one", nothing and everything. */
static size_t rights_sets(acl_rights *out)
{
	size_t n = 0;

	out[n++] = 0;
	out[n++] = ACL_ALL;
	for (unsigned b = 0; b < 11; b++) {
		out[n++] = (acl_rights)1 << b;
		out[n++] = ACL_ALL & ~((acl_rights)1 << b);
	}
	return n;
}

struct oracle_entry {
	const struct principal *p;
	bool negative;
	acl_rights rights;
};

/* evaluate.h's rules, spelled out. */
static acl_rights oracle(const struct oracle_entry *e, size_t n, bool authenticated,
			 bool owner, bool admin)
{
	acl_rights granted = 0, denied = 0, always = 0;
	bool own_entry = false;

	if (!authenticated) {
		owner = false;
		admin = false;
	}
	for (size_t i = 0; i < n; i++) {
		bool m = authenticated ? e[i].p->matches_auth : e[i].p->matches_anon;

		if (!m)
			continue;
		if (e[i].negative) {
			denied |= e[i].rights;
		} else {
			granted |= e[i].rights;
			if (e[i].p->is_alice)
				own_entry = true;
		}
	}
	if (owner && !own_entry)
		granted = ACL_ALL;         /* owner default */
	if (owner)
		always |= rl | ra;         /* owner floor */
	if (admin)
		always |= rl | ra;         /* admin floor */
	return (granted & ~denied) | always;
}

static void run(const struct oracle_entry *oe, size_t n, bool authenticated,
		bool owner, bool admin)
{
	struct acl_entry entries[4];
	char ids[4][64], rights[4][12];
	struct acl_caller c = caller_alice(authenticated, admin);
	acl_rights got = 0xdead, want = oracle(oe, n, authenticated, owner, admin);

	for (size_t i = 0; i < n; i++) {
		snprintf(ids[i], sizeof(ids[i]), "%s%s", oe[i].negative ? "-" : "", oe[i].p->id);
		entries[i].identifier = ids[i];
		entries[i].identifier_len = strlen(ids[i]);
		entries[i].rights = rights[i];
		entries[i].rights_len = acl_rights_format(oe[i].rights, rights[i]);
	}
	CHECK(acl_evaluate(&c, owner, entries, n, &got, NULL) == 0);
	if (got != want) {
		char g[12], w[12];
		acl_rights_format(got, g);
		acl_rights_format(want, w);
		fprintf(stderr, "  auth=%d owner=%d admin=%d:", authenticated, owner, admin);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, " [%s %s]", ids[i], rights[i]);
		fprintf(stderr, " got \"%s\", want \"%s\"\n", g, w);
		CHECK(got == want);
	}
	scenarios++;
}

static void test_single_entry_exhaustive(void)
{
	acl_rights sets[24];
	size_t nsets = rights_sets(sets);

	for (size_t p = 0; p < NPRINCIPALS; p++)
		for (int neg = 0; neg < 2; neg++)
			for (size_t s = 0; s < nsets; s++)
				for (int owner = 0; owner < 2; owner++)
					for (int admin = 0; admin < 2; admin++)
						for (int auth = 0; auth < 2; auth++) {
							struct oracle_entry e = { &principals[p], neg, sets[s] };
							run(&e, 1, auth, owner, admin);
						}
}

static void test_entry_pairs_exhaustive(void)
{
	acl_rights sets[24];
	size_t nsets = rights_sets(sets);

	/* Each pair of (principal, sign), with rights that overlap in one
	 * right or in all but one, in both orders. */
	for (size_t p1 = 0; p1 < NPRINCIPALS; p1++)
		for (size_t p2 = 0; p2 < NPRINCIPALS; p2++)
			for (int n1 = 0; n1 < 2; n1++)
				for (int n2 = 0; n2 < 2; n2++)
					for (size_t s = 2; s < nsets; s++)
						for (int owner = 0; owner < 2; owner++)
							for (int admin = 0; admin < 2; admin++) {
								struct oracle_entry e[2] = {
									{ &principals[p1], n1, sets[s] },
									{ &principals[p2], n2, sets[s ^ 1] },
								};
								run(e, 2, true, owner, admin);
							}
}

static void test_no_entries(void)
{
	for (int owner = 0; owner < 2; owner++)
		for (int admin = 0; admin < 2; admin++)
			for (int auth = 0; auth < 2; auth++)
				run(NULL, 0, auth, owner, admin);
}

/* The decisions, each as a hand-written scenario. */
static acl_rights eval(const struct acl_caller *c, bool owner,
		       const struct acl_entry *e, size_t n)
{
	acl_rights r = 0xdead;

	CHECK(acl_evaluate(c, owner, e, n, &r, NULL) == 0);
	return r;
}

#define E(id, rights) { id, sizeof(id) - 1, rights, sizeof(rights) - 1 }

static acl_rights R(const char *letters)
{
	acl_rights r = 0xdead;

	CHECK(acl_rights_parse(letters, strlen(letters), &r) == 0);
	return r;
}

static void test_owner_decisions(void)
{
	struct acl_caller alice = caller_alice(true, false);

	/* No rows: the owner has everything. */
	CHECK(eval(&alice, true, NULL, 0) == ACL_ALL);
	/* Her own entry replaces the default, plus the "l a" floor. */
	{
		struct acl_entry e[] = { E("alice", "lr") };
		CHECK(eval(&alice, true, e, 1) == R("lra"));
	}
	{
		struct acl_entry e[] = { E("alice", "i") };
		CHECK(eval(&alice, true, e, 1) == R("lia"));
	}
	/* Entries for others, groups, anyone do not replace the default. */
	{
		struct acl_entry e[] = { E("bob", "lr"), E("group:sales", "w"), E("anyone", "l") };
		CHECK(eval(&alice, true, e, 3) == ACL_ALL);
	}
	/* ... but are united with her own entry. */
	{
		struct acl_entry e[] = { E("alice", "r"), E("group:sales", "w") };
		CHECK(eval(&alice, true, e, 2) == R("lrwa"));
	}
	/* Negative rights narrow the default; the floor stays. */
	{
		struct acl_entry e[] = { E("-alice", "lrswipkxtea") };
		CHECK(eval(&alice, true, e, 1) == R("la"));
	}
	{
		struct acl_entry e[] = { E("-anyone", "w"), E("-group:Staff", "x") };
		CHECK(eval(&alice, true, e, 2) == (ACL_ALL & ~R("wx")));
	}
	{
		struct acl_entry e[] = { E("alice", "lrs"), E("-alice", "rl") };
		CHECK(eval(&alice, true, e, 2) == R("lsa"));
	}
	/* A negative entry naming her does not count as "her entry". */
	{
		struct acl_entry e[] = { E("-alice", "e") };
		CHECK(eval(&alice, true, e, 1) == (ACL_ALL & ~ACL_EXPUNGE));
	}
	/* The same rows for alice as a non-owner. */
	{
		struct acl_entry e[] = { E("alice", "lr") };
		CHECK(eval(&alice, false, e, 1) == R("lr"));
		CHECK(eval(&alice, false, NULL, 0) == 0);
	}
	{
		struct acl_entry e[] = { E("-alice", "lrswipkxtea"), E("anyone", "lr") };
		CHECK(eval(&alice, false, e, 2) == 0);
	}
}

static void test_admin_decisions(void)
{
	struct acl_caller admin = caller_alice(true, true);

	/* "l a" everywhere: find the mailbox and fix its ACL, not read it. */
	CHECK(eval(&admin, false, NULL, 0) == R("la"));
	{
		struct acl_entry e[] = { E("-anyone", "lrswipkxtea"), E("-alice", "la") };
		CHECK(eval(&admin, false, e, 2) == R("la"));
	}
	/* Reading takes an explicit, visible grant. */
	{
		struct acl_entry e[] = { E("alice", "r") };
		CHECK(eval(&admin, false, e, 1) == R("lra"));
	}
	/* An admin who owns the mailbox is just an owner. */
	CHECK(eval(&admin, true, NULL, 0) == ACL_ALL);
}

static void test_unauthenticated(void)
{
	struct acl_caller anon = caller_alice(false, true);
	struct acl_entry e[] = {
		E("anyone", "l"), E("authenticated", "r"), E("alice", "w"),
		E("group:sales", "i"), E("-authenticated", "l"),
	};

	/* Only "anyone" applies; owner and admin need a login. */
	CHECK(eval(&anon, true, e, 5) == R("l"));
	CHECK(eval(&anon, false, NULL, 0) == 0);
	CHECK(eval(&anon, true, NULL, 0) == 0);
}

static void test_group_matching(void)
{
	static const struct acl_name groups[] = {
		{ "Sales Team", 10 }, { "\xc3\xa4rger", 6 }, { "eng\0x", 5 },
	};
	struct acl_caller c = { "carol", 5, true, groups, 3, false };
	struct acl_identifier id;

	CHECK(acl_identifier_parse("group:sales team", 16, &id) == ACL_ID_OK);
	CHECK(acl_identifier_matches(&id, &c));
	CHECK(acl_identifier_parse("group:Sales", 11, &id) == ACL_ID_OK);
	CHECK(!acl_identifier_matches(&id, &c));
	CHECK(acl_identifier_parse("group:\xc3\xa4rger", 12, &id) == ACL_ID_OK);
	CHECK(acl_identifier_matches(&id, &c));
	/* Non-ASCII letters are not folded. */
	CHECK(acl_identifier_parse("group:\xc3\x84rger", 12, &id) == ACL_ID_OK);
	CHECK(!acl_identifier_matches(&id, &c));
	/* A group value with a NUL inside does not match its prefix. */
	CHECK(acl_identifier_parse("group:eng", 9, &id) == ACL_ID_OK);
	CHECK(!acl_identifier_matches(&id, &c));
	/* No groups at all. */
	c.ngroups = 0;
	CHECK(acl_identifier_parse("group:sales team", 16, &id) == ACL_ID_OK);
	CHECK(!acl_identifier_matches(&id, &c));
	/* An empty login matches no user entry. */
	c.login = "";
	c.login_len = 0;
	CHECK(acl_identifier_parse("carol", 5, &id) == ACL_ID_OK);
	CHECK(!acl_identifier_matches(&id, &c));
}

static void test_corrupt_rows_fail_closed(void)
{
	struct acl_caller alice = caller_alice(true, false);
	struct acl_caller admin = caller_alice(true, true);
	struct acl_entry bad_id[] = { E("anyone", "lrs"), E("Anyone", "w") };
	struct acl_entry bad_rights[] = { E("anyone", "lrs"), E("-bob", "w"), E("alice", "lr1") };
	struct acl_entry bad_upper[] = { E("-anyone", "W") };
	acl_rights r = 0xdead;
	size_t bad = 99;

	CHECK(acl_evaluate(&alice, false, bad_id, 2, &r, &bad) == -1);
	CHECK(bad == 1 && r == 0);
	CHECK(acl_evaluate(&alice, true, bad_id, 2, &r, &bad) == -1);
	CHECK(bad == 1 && r == R("la"));
	CHECK(acl_evaluate(&admin, false, bad_rights, 3, &r, &bad) == -1);
	CHECK(bad == 2 && r == R("la"));
	/* A corrupt negative row: nothing but the floors, never "all minus
	 * nothing". */
	CHECK(acl_evaluate(&alice, true, bad_upper, 1, &r, NULL) == -1);
	CHECK(r == R("la"));
}

static void test_may_know_exists(void)
{
	for (acl_rights r = 0; r <= ACL_ALL; r++)
		CHECK(acl_may_know_exists(r) == ((r & ACL_LOOKUP) || (r & ACL_READ)));
}

/* The command table, row by row, against RFC 4314 §4 and RFC 6851 §4.2. */
static void test_command_table(void)
{
	static const struct {
		enum acl_operation op;
		const char *rights;
		bool any;
	} rows[] = {
		{ ACL_OP_NONE, "", false },
		{ ACL_OP_LIST, "l", false },
		{ ACL_OP_SUBSCRIBE, "", false },
		{ ACL_OP_UNSUBSCRIBE, "", false },
		{ ACL_OP_CREATE, "k", false },
		{ ACL_OP_DELETE, "x", false },
		{ ACL_OP_RENAME_SOURCE, "x", false },
		{ ACL_OP_RENAME_TARGET, "k", false },
		{ ACL_OP_SELECT, "r", false },
		{ ACL_OP_EXAMINE, "r", false },
		{ ACL_OP_STATUS, "r", false },
		{ ACL_OP_APPEND, "i", false },
		{ ACL_OP_COPY, "i", false },
		{ ACL_OP_MOVE_SOURCE, "te", false },
		{ ACL_OP_MOVE_TARGET, "i", false },
		{ ACL_OP_EXPUNGE, "e", false },
		{ ACL_OP_STORE, "", false },
		{ ACL_OP_SETACL, "a", false },
		{ ACL_OP_DELETEACL, "a", false },
		{ ACL_OP_GETACL, "a", false },
		{ ACL_OP_LISTRIGHTS, "a", false },
		{ ACL_OP_MYRIGHTS, "lrikxa", true },
	};

	_Static_assert(sizeof(rows) / sizeof(rows[0]) == ACL_OP_COUNT, "every operation");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum acl_operation op = rows[i].op;
		acl_rights need = R(rows[i].rights);

		CHECK(acl_required_for(op) == need);
		CHECK(acl_required_any(op) == rows[i].any);
		CHECK(acl_operation_name(op) != NULL && strcmp(acl_operation_name(op), "unknown") != 0);
		/* acl_check over every set of rights. */
		for (acl_rights r = 0; r <= ACL_ALL; r++) {
			bool ok = rows[i].any ? (r & need) != 0 : (r & need) == need;
			enum acl_decision want = ok ? ACL_ALLOW :
				(r & (ACL_LOOKUP | ACL_READ)) ? ACL_DENY_NOPERM : ACL_DENY_NONEXISTENT;

			CHECK(acl_check(op, r) == want);
			scenarios++;
		}
	}
	/* Out of range fails closed. */
	CHECK(acl_check(ACL_OP_COUNT, ACL_ALL) != ACL_ALLOW);
	CHECK(acl_check((enum acl_operation)-1, ACL_ALL) != ACL_ALLOW);
	CHECK(acl_required_for(ACL_OP_COUNT) == ACL_ALL);
	CHECK_STR(acl_operation_name(ACL_OP_COUNT), "unknown");
}

static void test_command_examples(void)
{
	/* LISTRIGHTS is "a", not "any right" (the Cyrus bug STYLE.md cites). */
	CHECK(acl_check(ACL_OP_LISTRIGHTS, R("lrswipkxte")) == ACL_DENY_NOPERM);
	CHECK(acl_check(ACL_OP_MYRIGHTS, R("i")) == ACL_ALLOW);
	CHECK(acl_check(ACL_OP_MYRIGHTS, R("swpte")) == ACL_DENY_NONEXISTENT);
	/* A drop box: "i" alone lets APPEND in and says nothing else. */
	CHECK(acl_check(ACL_OP_APPEND, R("i")) == ACL_ALLOW);
	CHECK(acl_check(ACL_OP_SELECT, R("i")) == ACL_DENY_NONEXISTENT);
	CHECK(acl_check(ACL_OP_SELECT, R("l")) == ACL_DENY_NOPERM);
	CHECK(acl_check(ACL_OP_MOVE_SOURCE, R("lrt")) == ACL_DENY_NOPERM);
	CHECK(acl_check(ACL_OP_MOVE_SOURCE, R("te")) == ACL_ALLOW);
	/* Top level: the personal namespace belongs to its owner. */
	CHECK(acl_check(ACL_OP_CREATE, acl_namespace_root_rights(true)) == ACL_ALLOW);
	CHECK(acl_check(ACL_OP_CREATE, acl_namespace_root_rights(false)) != ACL_ALLOW);
	CHECK(acl_fetch_may_set_seen(R("s")));
	CHECK(!acl_fetch_may_set_seen(R("lrwipkxtea")));
}

static void test_flag_bits_match_imap(void)
{
	CHECK(ACL_FLAG_SEEN == IMAP_FLAG_SEEN);
	CHECK(ACL_FLAG_ANSWERED == IMAP_FLAG_ANSWERED);
	CHECK(ACL_FLAG_FLAGGED == IMAP_FLAG_FLAGGED);
	CHECK(ACL_FLAG_DELETED == IMAP_FLAG_DELETED);
	CHECK(ACL_FLAG_DRAFT == IMAP_FLAG_DRAFT);
}

static void test_store_rights_exhaustive(void)
{
	const unsigned all_flags = ACL_FLAG_SEEN | ACL_FLAG_ANSWERED | ACL_FLAG_FLAGGED |
				   ACL_FLAG_DELETED | ACL_FLAG_DRAFT;

	CHECK(acl_store_rights(ACL_FLAG_SEEN, false) == ACL_SEEN);
	CHECK(acl_store_rights(ACL_FLAG_DELETED, false) == ACL_DELETE_MSG);
	CHECK(acl_store_rights(ACL_FLAG_FLAGGED, false) == ACL_WRITE);
	CHECK(acl_store_rights(0, true) == ACL_WRITE);
	CHECK(acl_store_rights(0, false) == 0);
	CHECK(acl_store_rights(ACL_FLAG_SEEN | ACL_FLAG_DELETED | ACL_FLAG_DRAFT, false) ==
	      (ACL_SEEN | ACL_DELETE_MSG | ACL_WRITE));
	/* A flag bit this table does not know needs "w", not nothing. */
	CHECK(acl_store_rights(64, false) == ACL_WRITE);

	for (unsigned flags = 0; flags <= all_flags; flags++)
		for (int kw = 0; kw < 2; kw++)
			for (acl_rights r = 0; r <= ACL_ALL; r++) {
				acl_rights need = 0;
				unsigned allowed = 0, got_flags = 0xffff;
				bool got_kw = !kw, any;

				if (flags & ACL_FLAG_SEEN)
					need |= ACL_SEEN;
				if (flags & ACL_FLAG_DELETED)
					need |= ACL_DELETE_MSG;
				if ((flags & (ACL_FLAG_ANSWERED | ACL_FLAG_FLAGGED | ACL_FLAG_DRAFT)) || kw)
					need |= ACL_WRITE;
				CHECK(acl_store_rights(flags, kw) == need);

				if (r & ACL_SEEN)
					allowed |= ACL_FLAG_SEEN;
				if (r & ACL_DELETE_MSG)
					allowed |= ACL_FLAG_DELETED;
				if (r & ACL_WRITE)
					allowed |= ACL_FLAG_ANSWERED | ACL_FLAG_FLAGGED | ACL_FLAG_DRAFT;
				any = acl_store_permitted(r, flags, kw, &got_flags, &got_kw);
				CHECK(got_flags == (flags & allowed));
				CHECK(got_kw == (kw && (r & ACL_WRITE)));
				/* §4: fail only when nothing asked for is allowed. */
				CHECK(any == ((flags == 0 && !kw) || (flags & allowed) || (kw && (r & ACL_WRITE))));
				/* Everything allowed exactly when all needed rights are held. */
				CHECK(((r & need) == need) == (got_flags == flags && got_kw == (bool)kw));
				scenarios++;
			}
}

int main(void)
{
	UNIT_RUN(test_single_entry_exhaustive);
	UNIT_RUN(test_entry_pairs_exhaustive);
	UNIT_RUN(test_no_entries);
	UNIT_RUN(test_owner_decisions);
	UNIT_RUN(test_admin_decisions);
	UNIT_RUN(test_unauthenticated);
	UNIT_RUN(test_group_matching);
	UNIT_RUN(test_corrupt_rows_fail_closed);
	UNIT_RUN(test_may_know_exists);
	UNIT_RUN(test_command_table);
	UNIT_RUN(test_command_examples);
	UNIT_RUN(test_flag_bits_match_imap);
	UNIT_RUN(test_store_rights_exhaustive);
	printf("test_acl_eval: %lu scenarios checked against the oracles\n", scenarios);
	return unit_report("test_acl_eval");
}
