#include "server/core/config.h"
#include "server/core/buf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum config_type { CFG_STRING, CFG_LONG, CFG_BOOL };

struct config_key {
	const char *name;
	enum config_type type;
	size_t offset;
	const char *default_value;
	long min, max;              /* bounds for CFG_LONG */
	bool live;                  /* SIGHUP changes it in a running kairand */
};

/* KEY_* keys are fixed for the life of the process: a new value in the file
 * takes a restart, because what they configure (a bound socket, the workers'
 * connections, the indexer, the privileges) is set up once at start. LIVE_*
 * keys are read where they are used, so SIGHUP's new value takes effect
 * (docs/config.md, "Reloading"). A new key is fixed unless shown otherwise. */
#define KEY_STR(name, def) { #name, CFG_STRING, offsetof(struct config, name), def, 0, 0, false }
#define KEY_LONG(name, def, lo, hi) { #name, CFG_LONG, offsetof(struct config, name), def, lo, hi, false }
#define KEY_BOOL(name, def) { #name, CFG_BOOL, offsetof(struct config, name), def, 0, 0, false }
#define LIVE_STR(name, def) { #name, CFG_STRING, offsetof(struct config, name), def, 0, 0, true }
#define LIVE_LONG(name, def, lo, hi) { #name, CFG_LONG, offsetof(struct config, name), def, lo, hi, true }
#define LIVE_BOOL(name, def) { #name, CFG_BOOL, offsetof(struct config, name), def, 0, 0, true }

/* The table is the list of keys; docs/config.md and docs/man/kairan.conf.5
 * document each one (tests/protocol/test_install.py checks). */
static const struct config_key config_keys[] = {
	KEY_STR(imap_listen, "127.0.0.1:143"),
	KEY_STR(imaps_listen, "127.0.0.1:993"),
	KEY_STR(imap_proxy_listen, ""),
	KEY_STR(imaps_proxy_listen, ""),
	LIVE_STR(proxy_trusted, "127.0.0.1 ::1"),
	KEY_STR(lmtp_listen, ""),
	KEY_STR(lmtp_socket, ""),
	LIVE_STR(lmtp_detail_delimiter, "+"),
	/* RFC 5321 §4.5.3.1.8 asks for at least 100; Postfix sends at most
	 * 50 per transaction by default (lmtp_destination_recipient_limit). */
	LIVE_LONG(lmtp_max_recipients, "1000", 1, 100000),
	/* Duplicate suppression (docs/delivery.md): an MTA retries within
	 * hours; a day covers a queue that was stuck overnight. 0: off. */
	LIVE_LONG(lmtp_duplicate_window, "86400", 0, 30L * 86400),
	/* The workers LMTP may hold at once (docs/config.md); 0: three
	 * quarters of workers, at least one (lmtp_worker_share). */
	KEY_LONG(lmtp_workers, "0", 0, 256),
	LIVE_STR(tls_cert, ""),
	LIVE_STR(tls_key, ""),
	KEY_STR(db_dsn, "dbname=kairan"),
	KEY_STR(ldap_uri, "ldap://127.0.0.1:389"),
	KEY_STR(ldap_bind_dn, ""),
	KEY_STR(ldap_bind_password, ""),
	KEY_STR(ldap_base_dn, ""),
	KEY_STR(ldap_user_filter, "(&(objectClass=inetOrgPerson)(uid=%u))"),
	KEY_STR(ldap_login_attribute, "uid"),
	KEY_LONG(ldap_timeout, "5", 1, 300),
	/* The defaults below repeat directory/dir.h's DIR_DEFAULT_* (core does
	 * not include directory/); tests/unit/test_directory_groups.c checks
	 * that they agree. */
	KEY_STR(ldap_mail_attributes, "mail mailAlternateAddress"),
	KEY_STR(ldap_group_base_dn, ""),
	KEY_STR(ldap_group_filter,
		"(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))"),
	KEY_STR(ldap_group_name_attribute, "cn"),
	KEY_STR(ldap_group_membership, "auto"),
	KEY_BOOL(ldap_starttls, "no"),
	KEY_STR(ldap_tls_ca_file, ""),
	KEY_BOOL(ldap_tls_require_cert, "yes"),
	KEY_LONG(ldap_cache_ttl, "60", 0, 3600),
	KEY_LONG(workers, "4", 1, 256),
	LIVE_LONG(max_line_length, "65536", 1024, 16 * 1024 * 1024),
	LIVE_LONG(max_literal_size, "52428800", 1024, 1024L * 1024 * 1024),
	LIVE_LONG(max_literals, "1000", 1, 100000),
	/* LITERAL+ or LITERAL- (RFC 7888); a session keeps the one it was
	 * shown, as it keeps its other limits. */
	LIVE_BOOL(literal_plus, "no"),
	/* Big messages (docs/architecture.md, "Big messages"): a message
	 * literal from this size on goes to a spool file, not to memory. */
	LIVE_LONG(literal_spool_threshold, "1048576", 65536, 1024L * 1024 * 1024),
	LIVE_STR(literal_spool_dir, "/tmp"),
	LIVE_LONG(max_command_literal_bytes, "268435456", 1024, 64L * 1024 * 1024 * 1024),
	LIVE_LONG(max_session_literal_bytes, "17179869184", 0, 1024L * 1024 * 1024 * 1024 * 1024),
	LIVE_LONG(max_nesting, "32", 1, 1000),
	LIVE_LONG(max_nesting_unauth, "4", 1, 1000),
	LIVE_LONG(max_args, "100000", 16, 10000000),
	LIVE_LONG(max_bad_commands, "20", 1, 1000),
	/* Cyrus has a fixed 128 and its users rarely hit it; twice that
	 * leaves room for label-heavy clients while a mailbox's FLAGS line of
	 * ordinary keywords stays within a few KB (docs/config.md). */
	LIVE_LONG(max_keywords_per_mailbox, "256", 0, 100000),
	KEY_LONG(expunge_history_days, "90", 1, 36500),
	KEY_STR(private_keywords, "Old"),
	LIVE_LONG(auth_fail_delay_ms, "1000", 0, 60000),
	LIVE_LONG(auth_fail_delay_max_ms, "15000", 0, 600000),
	LIVE_LONG(max_auth_failures, "3", 1, 1000),
	LIVE_LONG(max_connections_per_ip, "500", 1, 1000000),
	LIVE_LONG(max_connections_per_user, "250", 1, 1000000),
	LIVE_LONG(timeout_preauth, "60", 1, 3600),
	/* Dovecot's imap-login allows three minutes, however busy the client. */
	LIVE_LONG(timeout_login, "180", 1, 3600),
	LIVE_LONG(timeout_command, "120", 1, 3600),
	LIVE_LONG(timeout_literal, "60", 1, 3600),
	LIVE_LONG(max_connection_rate_per_ip, "100", 0, 1000000),
	LIVE_LONG(timeout_idle, "1800", 1, 86400),
	/* RFC 2177 §3 tells clients to re-issue IDLE at least every 29
	 * minutes; lower values than that are for tests (docs/config.md). */
	LIVE_LONG(timeout_idle_command, "1800", 1, 86400),
	/* Two minutes, as Dovecot: well inside the few minutes after which
	 * home routers and carrier NATs forget a quiet TCP connection. */
	LIVE_LONG(idle_keepalive_interval, "120", 0, 86400),
	/* The fallback while no change bus wakes idling sessions. */
	LIVE_LONG(idle_poll_interval_ms, "2000", 0, 3600000),
	LIVE_LONG(search_timeout_ms, "20000", 1, 600000),
	/* RFC 7377 ESEARCH: mailboxes one command may search (cmd_esearch.c). */
	LIVE_LONG(search_max_mailboxes, "1000", 1, 100000),
	KEY_LONG(search_index_quiet_ms, "200", 0, 3600000),
	KEY_LONG(search_index_max_lag_s, "30", 1, 86400),
	/* A batch must finish well inside the indexer's 30 s statement
	 * timeout (schema/db_conn.c), or it would fail every time: one core
	 * indexes about 600 messages a second on the 2-core benchmark
	 * machine, so 5,000 take some 8 s, leaving room for a loaded server. */
	KEY_LONG(search_index_batch, "500", 1, 5000),
	LIVE_BOOL(allow_plaintext_auth, "no"),
	LIVE_BOOL(trust_loopback, "yes"),
	LIVE_BOOL(auto_subscribe_shared, "yes"),
	LIVE_STR(auth_admin_group, ""),
	/* RFC 8437 §8: a server MUST offer a way to turn it off. */
	LIVE_BOOL(allow_unauthenticate, "yes"),
	KEY_BOOL(log_syslog, "no"),
	KEY_STR(user, ""),
	KEY_STR(group, ""),
	KEY_BOOL(allow_root, "no"),
	KEY_STR(metrics_listen, ""),
	KEY_BOOL(metrics_allow_remote, "no"),
	LIVE_STR(log_level, "info"),
	LIVE_STR(log_format, "text"),
	LIVE_STR(trace_dir, ""),
	LIVE_STR(trace_users, ""),
	LIVE_STR(trace_addresses, ""),
	LIVE_STR(teams_from_directory, "no"),
	LIVE_STR(team_rights, "lrswipte"),
	KEY_STR(ldap_team_filter, "(objectClass=*)"),
	KEY_STR(ldap_team_mail_attribute, "mail"),
	/* RFC 9208 (docs/config.md, "Quotas"): 0 is no limit; an account's
	 * own limits (SETQUOTA, kairanctl quota set) override these. */
	LIVE_LONG(quota_storage_default, "0", 0, 1L << 40),
	LIVE_LONG(quota_messages_default, "0", 0, 1L << 40),
	LIVE_BOOL(lmtp_quota_defer, "no"),
	LIVE_STR(ldap_quota_attribute, ""),
};

#define N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

static int config_set(struct config *cfg, const struct config_key *key,
		      const char *value, char *err, size_t errlen)
{
	void *field = (char *)cfg + key->offset;

	switch (key->type) {
	case CFG_STRING: {
		char *copy = strdup(value);
		if (copy == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		free(*(char **)field);
		*(char **)field = copy;
		return 0;
	}
	case CFG_LONG: {
		char *end;
		long v;
		errno = 0;
		v = strtol(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0' || v < key->min || v > key->max) {
			snprintf(err, errlen, "%s must be a number from %ld to %ld", key->name,
				 key->min, key->max);
			return -1;
		}
		*(long *)field = v;
		return 0;
	}
	case CFG_BOOL:
		if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
			*(bool *)field = true;
		else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
			*(bool *)field = false;
		else {
			snprintf(err, errlen, "%s must be yes or no", key->name);
			return -1;
		}
		return 0;
	}
	return -1;
}

void config_defaults(struct config *cfg)
{
	char err[128];

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < N_KEYS; i++)
		if (config_set(cfg, &config_keys[i], config_keys[i].default_value, err, sizeof(err)) < 0)
			abort(); /* a default outside its own bounds is a programming error */
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (config_keys[i].type == CFG_STRING) {
			char **field = (char **)((char *)cfg + config_keys[i].offset);
			free(*field);
			*field = NULL;
		}
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static const struct config_key *config_find(const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}

int config_read(FILE *f, const char *name, struct config *cfg, char *err, size_t errlen)
{
	char line[4096], reason[256];
	unsigned lineno = 0;

	config_defaults(cfg);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *key, *value, *eq;
		const struct config_key *k;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", name, lineno);
			goto fail;
		}
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%u: expected 'key = value'", name, lineno);
			goto fail;
		}
		*eq = '\0';
		value = trim(eq + 1);
		key = trim(key);
		k = config_find(key);
		if (k == NULL) {
			snprintf(err, errlen, "%s:%u: unknown key '%s'", name, lineno, key);
			goto fail;
		}
		if (config_set(cfg, k, value, reason, sizeof(reason)) < 0) {
			snprintf(err, errlen, "%s:%u: %s", name, lineno, reason);
			goto fail;
		}
	}
	return 0;
fail:
	config_free(cfg);
	return -1;
}

int config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	int r;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		/* As after a failed read: defaults, strings freed. */
		config_defaults(cfg);
		config_free(cfg);
		return -1;
	}
	r = config_read(f, path, cfg, err, errlen);
	fclose(f);
	return r;
}

int config_override(struct config *cfg, const char *assignment, char *err, size_t errlen)
{
	const char *eq = strchr(assignment, '=');
	char key[64], reason[256];
	const struct config_key *k;
	size_t len;

	if (eq == NULL || eq == assignment || (size_t)(eq - assignment) >= sizeof(key)) {
		snprintf(err, errlen, "-o %s: expected key=value", assignment);
		return -1;
	}
	len = (size_t)(eq - assignment);
	memcpy(key, assignment, len);
	key[len] = '\0';
	k = config_find(key);
	if (k == NULL) {
		snprintf(err, errlen, "-o %s: unknown key '%s'", assignment, key);
		return -1;
	}
	if (config_set(cfg, k, eq + 1, reason, sizeof(reason)) < 0) {
		snprintf(err, errlen, "-o %s: %s", assignment, reason);
		return -1;
	}
	return 0;
}

int config_split_hostport(const char *spec, char *host_r, size_t hostlen, int *port_r)
{
	const char *colon, *host = spec;
	size_t len;
	char *end;
	long port;

	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (close == NULL || close[1] != ':')
			return -1;
		host = spec + 1;
		len = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(spec, ':');
		if (colon == NULL)
			return -1;
		len = (size_t)(colon - spec);
	}
	if (len == 0 || len >= hostlen)
		return -1;
	memcpy(host_r, host, len);
	host_r[len] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || port < 1 || port > 65535)
		return -1;
	*port_r = (int)port;
	return 0;
}

/* Copies key k's value from src into dst (dst's own string is freed). */
static void config_copy_key(struct config *dst, const struct config *src, const struct config_key *k)
{
	void *to = (char *)dst + k->offset;
	const void *from = (const char *)src + k->offset;

	switch (k->type) {
	case CFG_STRING:
		free(*(char **)to);
		*(char **)to = xstrdup(*(char *const *)from);
		break;
	case CFG_LONG:
		*(long *)to = *(const long *)from;
		break;
	case CFG_BOOL:
		*(bool *)to = *(const bool *)from;
		break;
	}
}

static bool config_key_differs(const struct config *a, const struct config *b, const struct config_key *k)
{
	const void *x = (const char *)a + k->offset, *y = (const char *)b + k->offset;

	switch (k->type) {
	case CFG_STRING:
		return strcmp(*(char *const *)x, *(char *const *)y) != 0;
	case CFG_LONG:
		return *(const long *)x != *(const long *)y;
	case CFG_BOOL:
		return *(const bool *)x != *(const bool *)y;
	}
	return false;
}

void config_keep_fixed(struct config *next, const struct config *cur,
		       void (*changed)(const char *name, void *ctx), void *ctx)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct config_key *k = &config_keys[i];
		if (k->live || !config_key_differs(next, cur, k))
			continue;
		changed(k->name, ctx);
		config_copy_key(next, cur, k);
	}
}

int config_keep_key(struct config *next, const struct config *cur, const char *name)
{
	const struct config_key *k = config_find(name);

	if (k == NULL)
		return -1;
	config_copy_key(next, cur, k);
	return 0;
}

bool config_key_is_live(const char *name)
{
	const struct config_key *k = config_find(name);

	return k != NULL && k->live;
}
