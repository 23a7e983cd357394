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
	return unit_report("test_config");
}
