/* libFuzzer target for the configuration reader (server/core/config.h):
 * the file an administrator writes and kairand's -o overrides, read the
 * way server/reload.c reads them at start and on SIGHUP.
 *
 * Input layout:
 *
 *   byte 0     bits 0-2: k, the number of -o assignments at the end
 *   the rest   the file's text, then k assignments, each ended by a NUL
 *              (as argv holds them); the text itself may hold NULs
 *
 * The text is read from memory with config_read, the assignments applied
 * with config_override, then SIGHUP's step runs against the defaults
 * (config_keep_fixed) and the listen addresses are split as the listeners
 * split them. Contracts checked: 0 or -1 and nothing else; a failure
 * leaves a NUL-terminated reason that names where it failed (on one line
 * for the file) and no string behind; success leaves every string set (a
 * value from the file without a line feed);
 * only fixed keys are reported as changed by a reload; a split address
 * has a host and a port from 1 to 65535. LeakSanitizer reports any leak.
 *
 * A broken contract calls abort(), which libFuzzer reports as a crash. */
#include "server/core/config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAILED(...) do { \
	fprintf(stderr, "fuzz_config: " __VA_ARGS__); \
	fputc('\n', stderr); \
	abort(); \
} while (0)

#define FILE_NAME "fuzz.conf"

/* The string fields, so that their contract can be checked; f holds 32. */
static size_t string_fields(struct config *c, char **f[])
{
	size_t n = 0;

	f[n++] = &c->imap_listen;
	f[n++] = &c->imaps_listen;
	f[n++] = &c->lmtp_listen;
	f[n++] = &c->lmtp_socket;
	f[n++] = &c->lmtp_detail_delimiter;
	f[n++] = &c->tls_cert;
	f[n++] = &c->tls_key;
	f[n++] = &c->db_dsn;
	f[n++] = &c->ldap_uri;
	f[n++] = &c->ldap_bind_dn;
	f[n++] = &c->ldap_bind_password;
	f[n++] = &c->ldap_base_dn;
	f[n++] = &c->ldap_user_filter;
	f[n++] = &c->ldap_login_attribute;
	f[n++] = &c->ldap_mail_attributes;
	f[n++] = &c->ldap_group_base_dn;
	f[n++] = &c->ldap_group_filter;
	f[n++] = &c->ldap_group_name_attribute;
	f[n++] = &c->ldap_group_membership;
	f[n++] = &c->ldap_tls_ca_file;
	f[n++] = &c->auth_admin_group;
	f[n++] = &c->user;
	f[n++] = &c->group;
	f[n++] = &c->metrics_listen;
	return n;
}

/* set: every string is set (lf: and holds no line feed, as a value read
 * from a file cannot; -o takes its value as given); else none is. */
static void check_strings(struct config *c, bool set, bool lf)
{
	char **f[32];
	size_t n = string_fields(c, f);

	for (size_t i = 0; i < n; i++) {
		const char *s = *f[i];

		if (!set) {
			if (s != NULL)
				FAILED("string %zu left behind after a failure", i);
			continue;
		}
		if (s == NULL)
			FAILED("string %zu not set", i);
		if (!lf && strchr(s, '\n') != NULL)
			FAILED("string %zu holds a line feed", i);
	}
}

/* lf: the reason may hold a line feed, because it quotes an -o argument
 * as given. */
static void check_reason(const char *err, size_t errlen, const char *prefix, bool lf)
{
	size_t len = strnlen(err, errlen);

	if (len == errlen)
		FAILED("reason not NUL-terminated");
	if (len == 0)
		FAILED("failure without a reason");
	if (!lf && strchr(err, '\n') != NULL)
		FAILED("reason of more than one line: %s", err);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		FAILED("reason does not start with \"%s\": %s", prefix, err);
}

static void note_changed(const char *name, void *ctx)
{
	(void)ctx;
	if (config_key_is_live(name))
		FAILED("SIGHUP reports the live key %s as fixed", name);
}

static void check_listen(const char *spec)
{
	char host[256];
	int port = -1;

	if (spec[0] == '\0' || config_split_hostport(spec, host, sizeof(host), &port) < 0)
		return;
	if (host[0] == '\0' || strnlen(host, sizeof(host)) == sizeof(host))
		FAILED("split host of \"%s\" empty or unterminated", spec);
	if (port < 1 || port > 65535)
		FAILED("split port %d of \"%s\"", port, spec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *assign[8];
	size_t k, text_len, n = 0;
	struct config cfg, defaults, cur;
	char err[256];
	char *text;
	FILE *f;
	int r;

	if (size == 0)
		return 0;
	k = data[0] & 7;
	/* The assignments are the last k NUL-terminated strings. */
	text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	text_len = size - 1;
	while (n < k && text_len > 0 && text[text_len - 1] == '\0') {
		size_t start = text_len - 1;

		while (start > 0 && text[start - 1] != '\0')
			start--;
		assign[n++] = text + start;
		text_len = start;
	}
	/* fmemopen of 0 bytes is an error in older C libraries: an empty file. */
	f = fmemopen(text_len > 0 ? text : (char *)"", text_len, "r");
	if (f == NULL)
		FAILED("fmemopen failed");
	memset(err, 0x55, sizeof(err));
	r = config_read(f, FILE_NAME, &cfg, err, sizeof(err));
	fclose(f);
	if (r != 0 && r != -1)
		FAILED("config_read returned %d", r);
	if (r < 0) {
		check_reason(err, sizeof(err), FILE_NAME ":", false);
		check_strings(&cfg, false, false);
		free(text);
		return 0;
	}
	check_strings(&cfg, true, false);
	/* The command line's order, as kairand applies them. */
	for (size_t i = n; i-- > 0;) {
		memset(err, 0x55, sizeof(err));
		r = config_override(&cfg, assign[i], err, sizeof(err));
		if (r != 0 && r != -1)
			FAILED("config_override returned %d", r);
		if (r < 0)
			check_reason(err, sizeof(err), "-o ", true);
		check_strings(&cfg, true, true);
	}
	check_listen(cfg.imap_listen);
	check_listen(cfg.imaps_listen);
	check_listen(cfg.lmtp_listen);
	check_listen(cfg.metrics_listen);
	/* SIGHUP: the running configuration is the defaults. */
	config_defaults(&defaults);
	config_defaults(&cur);
	config_keep_fixed(&cfg, &cur, note_changed, NULL);
	if (config_keep_key(&cfg, &defaults, "imap_listen") != 0 ||
	    config_keep_key(&cfg, &defaults, "no_such_key") != -1)
		FAILED("config_keep_key");
	check_strings(&cfg, true, true);
	config_free(&cfg);
	config_free(&defaults);
	config_free(&cur);
	free(text);
	return 0;
}
