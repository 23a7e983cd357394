/* The configuration reader: values with '=' and spaces, strict keys. */
#include "tests/unit/unit.h"
#include "server/core/config.h"

#include <stdlib.h>
#include <unistd.h>

static char path[64];

static int load(const char *text, struct config *cfg, char *err, size_t errlen)
{
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/kairan-test-config-%d", (int)getpid());
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	int r = config_load(path, cfg, err, errlen);
	unlink(path);
	return r;
}

static void test_values(void)
{
	struct config cfg;
	char err[256];

	CHECK(load("# comment\n\n db_dsn = host=/tmp port=5 dbname=k \nworkers=7\n"
		   "log_syslog = yes\nldap_user_filter = (&(a=b)(uid=%u))\n", &cfg, err, sizeof(err)) == 0);
	CHECK_STR(cfg.db_dsn, "host=/tmp port=5 dbname=k");
	CHECK(cfg.workers == 7 && cfg.log_syslog);
	CHECK_STR(cfg.ldap_user_filter, "(&(a=b)(uid=%u))");
	CHECK_STR(cfg.imap_listen, "127.0.0.1:143"); /* default kept */
	config_free(&cfg);
}

/* The search indexer's policy (docs/config.md, SEARCH). */
static void test_search_index_keys(void)
{
	struct config cfg;
	char err[256];

	CHECK(load("workers = 2\n", &cfg, err, sizeof(err)) == 0);
	CHECK(cfg.search_index_quiet_ms == 200 && cfg.search_index_max_lag_s == 30 &&
	      cfg.search_index_batch == 500);
	config_free(&cfg);
	CHECK(load("search_index_quiet_ms = 0\nsearch_index_max_lag_s = 86400\n"
		   "search_index_batch = 5000\n", &cfg, err, sizeof(err)) == 0);
	CHECK(cfg.search_index_quiet_ms == 0 && cfg.search_index_max_lag_s == 86400 &&
	      cfg.search_index_batch == 5000);
	config_free(&cfg);
	CHECK(load("search_index_batch = 5001\n", &cfg, err, sizeof(err)) == -1);
	CHECK(strstr(err, "search_index_batch must be a number from 1 to 5000") != NULL);
	CHECK(load("search_index_max_lag_s = 0\n", &cfg, err, sizeof(err)) == -1);
	CHECK(load("search_index_quiet_ms = -5\n", &cfg, err, sizeof(err)) == -1);
}

static void test_errors(void)
{
	struct config cfg;
	char err[256];

	CHECK(load("no_such_key = 1\n", &cfg, err, sizeof(err)) == -1);
	CHECK(strstr(err, ":1: unknown key 'no_such_key'") != NULL);
	CHECK(load("workers = 0\n", &cfg, err, sizeof(err)) == -1);
	CHECK(strstr(err, "workers must be a number from 1 to 256") != NULL);
	CHECK(load("workers = 4x\n", &cfg, err, sizeof(err)) == -1);
	CHECK(load("log_syslog = maybe\n", &cfg, err, sizeof(err)) == -1);
	CHECK(load("\njust words\n", &cfg, err, sizeof(err)) == -1);
	CHECK(strstr(err, ":2: expected 'key = value'") != NULL);
	CHECK(config_load("/nonexistent/kairan.conf", &cfg, err, sizeof(err)) == -1);
}

/* kairand -o key=value: over the file, checked the same way. */
static void test_override(void)
{
	struct config cfg;
	char err[256];

	CHECK(load("workers = 7\nimap_listen = 127.0.0.1:1143\n", &cfg, err, sizeof(err)) == 0);
	CHECK(config_override(&cfg, "imap_listen=127.0.0.1:2143", err, sizeof(err)) == 0);
	CHECK(config_override(&cfg, "workers=3", err, sizeof(err)) == 0);
	CHECK_STR(cfg.imap_listen, "127.0.0.1:2143");
	CHECK(cfg.workers == 3);
	CHECK(config_override(&cfg, "db_dsn=host=/tmp dbname=k", err, sizeof(err)) == 0);
	CHECK_STR(cfg.db_dsn, "host=/tmp dbname=k");   /* '=' in a value is the value's */
	CHECK(config_override(&cfg, "nope=1", err, sizeof(err)) == -1);
	CHECK(strstr(err, "unknown key 'nope'") != NULL);
	CHECK(config_override(&cfg, "workers=lots", err, sizeof(err)) == -1);
	CHECK(config_override(&cfg, "=1", err, sizeof(err)) == -1);
	CHECK(config_override(&cfg, "workers", err, sizeof(err)) == -1);
	CHECK(cfg.workers == 3);
	config_free(&cfg);
}

static char changed_keys[256];
static size_t changed_len;

static void note_changed(const char *name, void *ctx)
{
	int n;

	(void)ctx;
	n = snprintf(changed_keys + changed_len, sizeof(changed_keys) - changed_len, "%s ", name);
	if (n > 0)
		changed_len += (size_t)n < sizeof(changed_keys) - changed_len ? (size_t)n :
			       sizeof(changed_keys) - changed_len - 1;
}

/* SIGHUP (docs/config.md, "Reloading"): fixed keys keep the value in
 * force and are named; live keys take the new one. */
static void test_keep_fixed(void)
{
	struct config cur, next;
	char err[256];

	CHECK(load("workers = 4\ntimeout_idle = 100\ndb_dsn = dbname=a\n", &cur, err, sizeof(err)) == 0);
	CHECK(load("workers = 2\ntimeout_idle = 200\ndb_dsn = dbname=b\n", &next, err, sizeof(err)) == 0);
	changed_keys[0] = '\0';
	changed_len = 0;
	config_keep_fixed(&next, &cur, note_changed, NULL);
	CHECK_STR(changed_keys, "db_dsn workers ");
	CHECK(next.workers == 4 && next.timeout_idle == 200);
	CHECK_STR(next.db_dsn, "dbname=a");
	CHECK(config_key_is_live("timeout_idle") && config_key_is_live("tls_key"));
	CHECK(!config_key_is_live("workers") && !config_key_is_live("imap_listen"));
	CHECK(!config_key_is_live("no_such_key"));
	CHECK(config_keep_key(&next, &cur, "timeout_idle") == 0 && next.timeout_idle == 100);
	CHECK(config_keep_key(&next, &cur, "no_such_key") == -1);
	config_free(&cur);
	config_free(&next);
}

/* docs/kairan.conf.example (installed by make install) loads as it is, and
 * with every commented-out "#key = default" line switched on: each key it
 * names exists and each default it shows is in range. Run from the
 * repository's root, as make unit does. */
static void test_example_config(void)
{
	FILE *in = fopen("docs/kairan.conf.example", "r");
	struct config cfg;
	char line[1024], err[256], *all = NULL;
	size_t alllen = 0;
	FILE *out = open_memstream(&all, &alllen);
	int keys = 0;

	CHECK(in != NULL && out != NULL);
	if (in == NULL || out == NULL)
		return;
	while (fgets(line, sizeof(line), in) != NULL) {
		char *eq = strstr(line, " = ");
		if (line[0] == '#' && line[1] >= 'a' && line[1] <= 'z' && eq != NULL &&
		    strspn(line + 1, "abcdefghijklmnopqrstuvwxyz_") == (size_t)(eq - line - 1)) {
			fputs(line + 1, out);
			keys++;
		} else
			fputs(line, out);
	}
	fclose(in);
	fclose(out);
	CHECK(config_load("docs/kairan.conf.example", &cfg, err, sizeof(err)) == 0);
	config_free(&cfg);
	CHECK(keys > 40);
	CHECK(load(all, &cfg, err, sizeof(err)) == 0);
	config_free(&cfg);
	free(all);
}

static void test_hostport(void)
{
	char host[256];
	int port;

	CHECK(config_split_hostport("127.0.0.1:1143", host, sizeof(host), &port) == 0);
	CHECK_STR(host, "127.0.0.1");
	CHECK(port == 1143);
	CHECK(config_split_hostport("[::1]:993", host, sizeof(host), &port) == 0);
	CHECK_STR(host, "::1");
	CHECK(config_split_hostport("host", host, sizeof(host), &port) == -1);
	CHECK(config_split_hostport("host:0", host, sizeof(host), &port) == -1);
	CHECK(config_split_hostport("host:65536", host, sizeof(host), &port) == -1);
	CHECK(config_split_hostport(":143", host, sizeof(host), &port) == -1);
}

int main(void)
{
	UNIT_RUN(test_values);
	UNIT_RUN(test_search_index_keys);
	UNIT_RUN(test_errors);
	UNIT_RUN(test_hostport);
	UNIT_RUN(test_override);
	UNIT_RUN(test_keep_fixed);
	UNIT_RUN(test_example_config);
	return unit_report("test_config");
}
