/* directory/cache.c: TTL expiry with an injected clock, LRU eviction by
 * entries and by bytes, copies that outlive eviction, several threads at
 * once, and the cached look-ups failing closed when the directory is down
 * (here: nothing listens on the configured URI). */
#include "directory/cache.h"
#include "tests/unit/unit.h"

#include <pthread.h>
#include <stdlib.h>

struct fake_clock {
	int64_t now;
};

static int64_t fake_now(void *arg)
{
	return ((struct fake_clock *)arg)->now;
}

static dir_cache *new_cache(unsigned ttl, size_t entries, size_t bytes, struct fake_clock *clk)
{
	dir_cache *c = NULL;

	CHECK(dir_cache_new(ttl, entries, bytes, &c) == 0);
	if (c != NULL && clk != NULL)
		dir_cache_set_clock(c, fake_now, clk);
	return c;
}

static int put_groups(dir_cache *c, const char *key, const char *dn, const char *g1, const char *g2)
{
	char *groups[3] = { (char *)g1, (char *)g2, NULL };

	return dir_cache_put(c, key, &(struct dir_cache_item){ .dn = dn, .groups = groups });
}

/* 1 and the groups joined with ',' into out, or the get's result. */
static int get_groups(dir_cache *c, const char *key, const char *dn, char *out, size_t outsize)
{
	char **groups = NULL;
	size_t n = 0;
	int r = dir_cache_get(c, key, dn, NULL, 0, NULL, 0, &groups, &n);

	out[0] = '\0';
	if (r == 1) {
		size_t len = 0;

		for (size_t i = 0; i < n; i++)
			len += (size_t)snprintf(out + len, outsize - len, "%s%s", i ? "," : "", groups[i]);
		CHECK(groups[n] == NULL);
		dir_groups_free(&groups);
	}
	return r;
}

static void test_put_get(void)
{
	struct fake_clock clk = { 1000 };
	dir_cache *c = new_cache(60, 0, 0, &clk);
	char dn[64], login[16], out[256];
	char **groups = NULL;
	size_t n = 7;

	CHECK(dir_cache_enabled(c));
	CHECK(get_groups(c, "g:alice", NULL, out, sizeof(out)) == 0);
	CHECK(put_groups(c, "g:alice", "uid=alice,dc=org", "sales", "support") == 0);
	CHECK(get_groups(c, "g:alice", "uid=alice,dc=org", out, sizeof(out)) == 1);
	CHECK_STR(out, "sales,support");
	CHECK(get_groups(c, "g:alice", NULL, out, sizeof(out)) == 1);
	CHECK(get_groups(c, "g:bob", NULL, out, sizeof(out)) == 0);
	CHECK(get_groups(c, "m:alice", NULL, out, sizeof(out)) == 0);
	CHECK(dir_cache_count(c) == 1);

	/* An entry with no groups gives an empty list, not NULL. */
	CHECK(dir_cache_put(c, "m:a@b", &(struct dir_cache_item){ .dn = "uid=a,dc=org",
		.login = "a" }) == 0);
	CHECK(dir_cache_get(c, "m:a@b", NULL, dn, sizeof(dn), login, sizeof(login),
		&groups, &n) == 1);
	CHECK_STR(dn, "uid=a,dc=org");
	CHECK_STR(login, "a");
	CHECK(groups != NULL && groups[0] == NULL && n == 0);
	dir_groups_free(&groups);
	/* A value that does not fit its buffer is a miss, outputs untouched. */
	snprintf(login, sizeof(login), "zz");
	CHECK(dir_cache_get(c, "m:a@b", NULL, dn, 5, login, sizeof(login), NULL, NULL) == 0);
	CHECK_STR(login, "zz");
	CHECK(dir_cache_get(c, "m:a@b", NULL, dn, sizeof(dn), login, 0, NULL, NULL) == 0);
	/* ... but the entry stays: it is fine, the buffer was small. */
	CHECK(dir_cache_count(c) == 2);

	/* put replaces. */
	CHECK(put_groups(c, "g:alice", "uid=alice,dc=org", "ops", NULL) == 0);
	CHECK(get_groups(c, "g:alice", NULL, out, sizeof(out)) == 1);
	CHECK_STR(out, "ops");
	CHECK(dir_cache_count(c) == 2);
	dir_cache_remove(c, "g:alice");
	dir_cache_remove(c, "g:alice");
	CHECK(get_groups(c, "g:alice", NULL, out, sizeof(out)) == 0);
	CHECK(dir_cache_count(c) == 1);
	dir_cache_free(&c);
	CHECK(c == NULL);
	dir_cache_free(&c);
	dir_cache_free(NULL);
}

static void test_ttl_expiry(void)
{
	struct fake_clock clk = { 5000 };
	dir_cache *c = new_cache(60, 0, 0, &clk);
	char out[64];

	CHECK(put_groups(c, "g:alice", "uid=alice,dc=org", "sales", NULL) == 0);
	clk.now += 59999;
	CHECK(get_groups(c, "g:alice", NULL, out, sizeof(out)) == 1);
	clk.now += 1; /* exactly the TTL: expired */
	CHECK(get_groups(c, "g:alice", NULL, out, sizeof(out)) == 0);
	/* The expired entry is gone, not just hidden. */
	CHECK(dir_cache_count(c) == 0);
	CHECK(dir_cache_bytes(c) == 0);

	/* A refresh restarts the clock. */
	CHECK(put_groups(c, "g:alice", "uid=alice,dc=org", "sales", "ops") == 0);
	clk.now += 30000;
	CHECK(get_groups(c, "g:alice", NULL, out, sizeof(out)) == 1);
	CHECK_STR(out, "sales,ops");
	/* A hit does not make an entry younger. */
	clk.now += 30000;
	CHECK(get_groups(c, "g:alice", NULL, out, sizeof(out)) == 0);

	/* A clock that goes backwards: the age is unknown, treat as expired. */
	CHECK(put_groups(c, "g:bob", "uid=bob,dc=org", "sales", NULL) == 0);
	clk.now -= 1;
	CHECK(get_groups(c, "g:bob", NULL, out, sizeof(out)) == 0);
	dir_cache_free(&c);

	/* TTL 1 s at millisecond resolution. */
	clk.now = 0;
	c = new_cache(1, 0, 0, &clk);
	CHECK(put_groups(c, "g:a", NULL, "x", NULL) == 0);
	clk.now = 999;
	CHECK(get_groups(c, "g:a", NULL, out, sizeof(out)) == 1);
	clk.now = 1000;
	CHECK(get_groups(c, "g:a", NULL, out, sizeof(out)) == 0);
	dir_cache_free(&c);
}

/* The entry is for another DN (the login now names another entry): a miss,
 * and the entry is dropped. */
static void test_dn_mismatch(void)
{
	dir_cache *c = new_cache(60, 0, 0, NULL);
	char out[64];

	CHECK(put_groups(c, "g:alice", "uid=alice,ou=old,dc=org", "sales", NULL) == 0);
	CHECK(get_groups(c, "g:alice", "uid=alice,ou=new,dc=org", out, sizeof(out)) == 0);
	CHECK(dir_cache_count(c) == 0);
	CHECK(put_groups(c, "g:alice", NULL, "sales", NULL) == 0);
	CHECK(get_groups(c, "g:alice", "uid=alice,dc=org", out, sizeof(out)) == 0);
	dir_cache_free(&c);
}

static void test_ttl_zero(void)
{
	dir_cache *c = new_cache(0, 0, 0, NULL);
	char out[64];

	CHECK(!dir_cache_enabled(c));
	CHECK(!dir_cache_enabled(NULL));
	CHECK(put_groups(c, "g:alice", NULL, "sales", NULL) == 0);
	CHECK(get_groups(c, "g:alice", NULL, out, sizeof(out)) == 0);
	CHECK(dir_cache_count(c) == 0);
	dir_cache_free(&c);
}

static void test_lru_entries(void)
{
	struct fake_clock clk = { 0 };
	dir_cache *c = new_cache(60, 3, 0, &clk);
	char out[64];

	CHECK(put_groups(c, "g:a", NULL, "A", NULL) == 0);
	CHECK(put_groups(c, "g:b", NULL, "B", NULL) == 0);
	CHECK(put_groups(c, "g:c", NULL, "C", NULL) == 0);
	CHECK(get_groups(c, "g:a", NULL, out, sizeof(out)) == 1); /* a is now the newest */
	CHECK(put_groups(c, "g:d", NULL, "D", NULL) == 0);        /* evicts b */
	CHECK(dir_cache_count(c) == 3);
	CHECK(get_groups(c, "g:b", NULL, out, sizeof(out)) == 0);
	CHECK(get_groups(c, "g:a", NULL, out, sizeof(out)) == 1);
	CHECK(get_groups(c, "g:c", NULL, out, sizeof(out)) == 1);
	CHECK(get_groups(c, "g:d", NULL, out, sizeof(out)) == 1);
	/* Order is now a, c, d (oldest first): e evicts a. */
	CHECK(put_groups(c, "g:e", NULL, "E", NULL) == 0);
	CHECK(get_groups(c, "g:a", NULL, out, sizeof(out)) == 0);
	CHECK(dir_cache_count(c) == 3);
	dir_cache_free(&c);
}

/* 20,000 keys through a 1,000-entry cache. */
static void test_lru_many(void)
{
	dir_cache *c = new_cache(60, 1000, 0, NULL);
	char key[32], out[64];
	int hits = 0;

	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "g:user%d", i);
		CHECK(put_groups(c, key, NULL, key, NULL) == 0);
	}
	CHECK(dir_cache_count(c) == 1000);
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "g:user%d", i);
		if (get_groups(c, key, NULL, out, sizeof(out)) == 1) {
			hits++;
			CHECK(i >= 19000);
			CHECK_STR(out, key);
		}
	}
	CHECK(hits == 1000);
	dir_cache_free(&c);
}

static void test_lru_bytes(void)
{
	char big[3000], out[4096];
	dir_cache *c = new_cache(60, 0, 8192, NULL);
	size_t b;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(put_groups(c, "g:a", NULL, big, NULL) == 0);
	CHECK(put_groups(c, "g:b", NULL, big, NULL) == 0);
	b = dir_cache_bytes(c);
	CHECK(b > 6000 && b <= 8192);
	CHECK(put_groups(c, "g:c", NULL, big, NULL) == 0); /* over 8 KiB: a goes */
	CHECK(dir_cache_count(c) == 2);
	CHECK(dir_cache_bytes(c) <= 8192);
	CHECK(get_groups(c, "g:a", NULL, out, sizeof(out)) == 0);
	CHECK(get_groups(c, "g:c", NULL, out, sizeof(out)) == 1);
	CHECK(strlen(out) == sizeof(big) - 1);
	dir_cache_free(&c);

	/* An item bigger than the whole cache is not stored, and the older
	 * entry of its key goes anyway (it is older than what was learnt). */
	c = new_cache(60, 0, 2048, NULL);
	CHECK(put_groups(c, "g:a", NULL, "small", NULL) == 0);
	CHECK(put_groups(c, "g:a", NULL, big, NULL) == 0);
	CHECK(dir_cache_count(c) == 0);
	CHECK(dir_cache_bytes(c) == 0);
	dir_cache_free(&c);
}

/* What get returns is the caller's: eviction and removal do not touch it. */
static void test_copies_outlive_entries(void)
{
	dir_cache *c = new_cache(60, 1, 0, NULL);
	char **groups = NULL;
	size_t n = 0;

	CHECK(put_groups(c, "g:a", NULL, "sales", "ops") == 0);
	CHECK(dir_cache_get(c, "g:a", NULL, NULL, 0, NULL, 0, &groups, &n) == 1);
	CHECK(put_groups(c, "g:b", NULL, "other", NULL) == 0); /* evicts a */
	dir_cache_remove(c, "g:b");
	CHECK(n == 2 && groups != NULL);
	if (groups != NULL && n == 2) {
		CHECK_STR(groups[0], "sales");
		CHECK_STR(groups[1], "ops");
	}
	dir_groups_free(&groups);
	dir_cache_free(&c);
}

/* Several threads put, get and remove overlapping keys in a cache small
 * enough to evict all the time; every hit must be exactly what was put for
 * that key. Run under ASan/UBSan (and, by hand, TSan). */
#define T_THREADS 8
#define T_ROUNDS 20000
#define T_KEYS 64

struct thread_arg {
	dir_cache *c;
	unsigned seed;
	int hits, bad;
};

static void *hammer(void *p)
{
	struct thread_arg *t = p;
	char key[32], g1[40], g2[40], dn[64], out[128], want[128];

	for (int i = 0; i < T_ROUNDS; i++) {
		int k = (int)(rand_r(&t->seed) % T_KEYS), op = (int)(rand_r(&t->seed) % 10);

		snprintf(key, sizeof(key), "g:user%d", k);
		snprintf(dn, sizeof(dn), "uid=user%d,dc=org", k);
		snprintf(g1, sizeof(g1), "group-a-%d", k);
		snprintf(g2, sizeof(g2), "group-b-%d", k);
		if (op < 4) {
			if (put_groups(t->c, key, dn, g1, g2) != 0)
				t->bad++;
		} else if (op < 9) {
			int r = get_groups(t->c, key, dn, out, sizeof(out));

			snprintf(want, sizeof(want), "%s,%s", g1, g2);
			if (r == 1) {
				t->hits++;
				if (strcmp(out, want) != 0)
					t->bad++;
			} else if (r != 0) {
				t->bad++;
			}
		} else {
			dir_cache_remove(t->c, key);
		}
	}
	return NULL;
}

static void test_threads(void)
{
	dir_cache *c = new_cache(60, 16, 0, NULL);
	pthread_t th[T_THREADS];
	struct thread_arg args[T_THREADS];
	int hits = 0, bad = 0;

	for (int i = 0; i < T_THREADS; i++) {
		args[i] = (struct thread_arg){ c, (unsigned)i * 7919u + 1, 0, 0 };
		CHECK(pthread_create(&th[i], NULL, hammer, &args[i]) == 0);
	}
	for (int i = 0; i < T_THREADS; i++) {
		pthread_join(th[i], NULL);
		hits += args[i].hits;
		bad += args[i].bad;
	}
	CHECK(bad == 0);
	CHECK(hits > 0);
	CHECK(dir_cache_count(c) <= 16);
	dir_cache_free(&c);
}

/* The cached look-ups, against a directory where nothing listens. */
static const struct dir_config down_config = {
	.uri = "ldap://127.0.0.1:1",
	.base_dn = "dc=example,dc=org",
	.user_filter = "(uid=%u)",
	.login_attribute = "uid",
	.timeout_sec = 1,
};

static void test_cached_groups_fail_closed(void)
{
	struct fake_clock clk = { 0 };
	dir_cache *c = new_cache(60, 0, 0, &clk);
	const char *dn = "uid=alice,dc=example,dc=org";
	char **groups = NULL;
	size_t n = 0;
	char err[256];
	dir *d = NULL;

	CHECK(dir_open(&down_config, &d) == 0);
	/* Seeded as dir_user_groups_cached stores it: "g:" and the login. */
	CHECK(put_groups(c, "g:alice", dn, "sales", NULL) == 0);
	/* Fresh: answered without the directory. */
	snprintf(err, sizeof(err), "junk");
	CHECK(dir_user_groups_cached(c, d, dn, "alice", &groups, &n, err, sizeof(err)) == DIR_OK);
	CHECK(n == 1 && groups != NULL && strcmp(groups[0], "sales") == 0);
	CHECK_STR(err, "");
	dir_groups_free(&groups);
	/* Another DN for the login: asks the directory, which is down. */
	CHECK(dir_user_groups_cached(c, d, "uid=alice,ou=x,dc=example,dc=org", "alice",
		&groups, &n, err, sizeof(err)) == DIR_UNAVAILABLE);
	CHECK(groups == NULL && n == 0);

	/* Expired while the directory is down: no stale answer, and the entry
	 * is gone, so it cannot come back either. */
	CHECK(put_groups(c, "g:alice", dn, "sales", NULL) == 0);
	clk.now += 60000;
	CHECK(dir_user_groups_cached(c, d, dn, "alice", &groups, &n, err, sizeof(err)) ==
		DIR_UNAVAILABLE);
	CHECK(groups == NULL && n == 0);
	CHECK(err[0] != '\0');
	CHECK(dir_cache_count(c) == 0);

	/* dir_cache_forget_user makes the next call ask the directory. */
	CHECK(put_groups(c, "g:alice", dn, "sales", NULL) == 0);
	dir_cache_forget_user(c, "alice");
	dir_cache_forget_user(c, NULL);
	dir_cache_forget_user(NULL, "alice");
	CHECK(dir_user_groups_cached(c, d, dn, "alice", &groups, &n, err, sizeof(err)) ==
		DIR_UNAVAILABLE);

	/* No cache: straight to the directory. */
	CHECK(dir_user_groups_cached(NULL, d, dn, "alice", &groups, &n, err, sizeof(err)) ==
		DIR_UNAVAILABLE);
	dir_close(&d);
	dir_cache_free(&c);
}

static void test_cached_mail(void)
{
	struct fake_clock clk = { 0 };
	dir_cache *c = new_cache(60, 0, 0, &clk);
	char dn[64] = "junk", login[32] = "junk", err[256];
	dir *d = NULL;

	CHECK(dir_open(&down_config, &d) == 0);
	/* Seeded as dir_lookup_by_mail_cached stores it: "m:" and the address
	 * with ASCII letters lower-cased. */
	CHECK(dir_cache_put(c, "m:alice@example.org", &(struct dir_cache_item){
		.dn = "uid=alice,dc=example,dc=org", .login = "alice" }) == 0);
	CHECK(dir_lookup_by_mail_cached(c, d, "Alice@EXAMPLE.org", 17, dn, sizeof(dn),
		login, sizeof(login), err, sizeof(err)) == DIR_OK);
	CHECK_STR(dn, "uid=alice,dc=example,dc=org");
	CHECK_STR(login, "alice");
	/* Rejected addresses never reach the cache or the directory. */
	CHECK(dir_lookup_by_mail_cached(c, d, "alice@example.org\0", 18, dn, sizeof(dn),
		login, sizeof(login), err, sizeof(err)) == DIR_FAIL);
	CHECK_STR(dn, "");
	/* Expired, directory down: fails closed and forgets. */
	clk.now += 60000;
	CHECK(dir_lookup_by_mail_cached(c, d, "alice@example.org", 17, dn, sizeof(dn),
		login, sizeof(login), err, sizeof(err)) == DIR_UNAVAILABLE);
	CHECK_STR(dn, "");
	CHECK_STR(login, "");
	CHECK(dir_cache_count(c) == 0);
	dir_close(&d);
	dir_cache_free(&c);
}

int main(void)
{
	UNIT_RUN(test_put_get);
	UNIT_RUN(test_ttl_expiry);
	UNIT_RUN(test_dn_mismatch);
	UNIT_RUN(test_ttl_zero);
	UNIT_RUN(test_lru_entries);
	UNIT_RUN(test_lru_many);
	UNIT_RUN(test_lru_bytes);
	UNIT_RUN(test_copies_outlive_entries);
	UNIT_RUN(test_threads);
	UNIT_RUN(test_cached_groups_fail_closed);
	UNIT_RUN(test_cached_mail);
	return unit_report("test_directory_cache");
}
