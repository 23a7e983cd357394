#include "server/reload.h"
#include "server/server.h"
#include "server/service_notify.h"
#include "server/lmtp/lmtp.h"
#include "server/core/buf.h"
#include "server/core/log.h"
#include "server/net/tls.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every configuration a reload made, newest first. None is freed before
 * exit: a session holds the one it started with for its whole life, and
 * a worker may be reading one while the loop publishes the next. A
 * configuration is a few kilobytes, so even a reload an hour for a year
 * stays within a few tens of megabytes. */
struct config_generation {
	struct config cfg;
	struct config_generation *older;
};

static struct config_generation *generations;

int config_source_load(const struct config_source *src, struct config *cfg, char *err, size_t errlen)
{
	if (config_load(src->path, cfg, err, errlen) < 0)
		return -1;
	/* -o overrides the file, key by key: a second process over the same
	 * database and directory needs only other listen addresses. */
	for (size_t i = 0; i < src->noverrides; i++)
		if (config_override(cfg, src->overrides[i], err, errlen) < 0) {
			config_free(cfg);
			return -1;
		}
	return 0;
}

/* The fixed keys a reload found changed, named in one line once the
 * reload has succeeded (a failed one says only why it failed). */
struct fixed_keys {
	char names[512];
	size_t len;
};

static void note_fixed_key(const char *name, void *ctx)
{
	struct fixed_keys *f = ctx;
	int n = snprintf(f->names + f->len, sizeof(f->names) - f->len, "%s%s",
			 f->len > 0 ? ", " : "", name);

	if (n > 0)
		f->len += (size_t)n < sizeof(f->names) - f->len ? (size_t)n : sizeof(f->names) - f->len - 1;
}

/* TLS on or off decides what the listeners and CAPABILITY offer, which is
 * set up at start: only the certificate of a server that has one can
 * change. */
static void keep_tls_presence(const struct server *srv, struct config *next, const struct config *cur)
{
	bool wants_tls = next->tls_cert[0] != '\0' || next->tls_key[0] != '\0';

	if (wants_tls == (srv->tls != NULL))
		return;
	log_warning("SIGHUP: turning TLS %s takes a restart: keeping tls_cert and tls_key",
		    wants_tls ? "on" : "off");
	config_keep_key(next, cur, "tls_cert");
	config_keep_key(next, cur, "tls_key");
}

/* 0 with next ready to publish, or -1 with the reason in err. */
static int reload_prepare(struct server *srv, const struct config_source *src, struct config *next,
			  struct fixed_keys *fixed, struct log_settings *log_r, char *err,
			  size_t errlen)
{
	const struct config *cur = srv->cfg;

	if (config_source_load(src, next, err, errlen) < 0)
		return -1;
	if (lmtp_check_config(next, err, errlen) < 0 ||
	    log_settings_parse(next->log_level, next->log_format, log_r, err, errlen) < 0) {
		config_free(next);
		return -1;
	}
	config_keep_fixed(next, cur, note_fixed_key, fixed);
	keep_tls_presence(srv, next, cur);
	/* Last, because it cannot be undone: the new certificate is in
	 * service as soon as this returns. */
	if (srv->tls != NULL && net_tls_reload(srv->tls, next->tls_cert, next->tls_key, err, errlen) < 0) {
		config_free(next);
		return -1;
	}
	return 0;
}

void server_reload(struct server *srv, const struct config_source *src)
{
	struct config_generation *g = xcalloc(1, sizeof(*g));
	struct fixed_keys fixed = { .len = 0 };
	struct log_settings log_settings;
	char err[512];

	service_notify_reloading();
	if (reload_prepare(srv, src, &g->cfg, &fixed, &log_settings, err, sizeof(err)) < 0) {
		/* One line that says what stays in force, then why. */
		log_error("SIGHUP: keeping the old certificate and configuration: %s", err);
		free(g);
	} else {
		g->older = generations;
		generations = g;
		srv->cfg = &g->cfg;
		log_settings_apply(&log_settings);
		if (fixed.len > 0)
			log_warning("SIGHUP: only a restart changes %s: keeping the old value(s)",
				    fixed.names);
		log_info("SIGHUP: reloaded %s%s%s", src->path,
			 srv->tls != NULL ? " and certificate " : "",
			 srv->tls != NULL ? g->cfg.tls_cert : "");
	}
	service_notify("READY=1\nSTATUS=serving %zu IMAP and %zu LMTP connection(s)",
		       srv->nclients, srv->nlmtp);
}

void server_reload_free_all(void)
{
	while (generations != NULL) {
		struct config_generation *g = generations;
		generations = g->older;
		config_free(&g->cfg);
		free(g);
	}
}
