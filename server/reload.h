/* SIGHUP: the configuration file read again, and the TLS certificate and
 * key with it, on the event loop's thread (docs/config.md, "Reloading").
 * All or nothing: a file that does not parse, a value out of range or a
 * certificate that does not load leaves everything as it was and logs one
 * error line. */
#ifndef KAIRAN_SERVER_RELOAD_H
#define KAIRAN_SERVER_RELOAD_H

#include <stddef.h>

#include "server/core/config.h"

struct server;

/* Where the configuration comes from: the file of -c, then each -o
 * "key=value" over it, at start and at every reload alike. The strings
 * must live as long as the process. */
struct config_source {
	const char *path;
	const char *const *overrides;
	size_t noverrides;
};

/* Reads the file and the overrides into cfg. 0, or -1 with a one-line
 * reason in err (cfg is then freed). */
int config_source_load(const struct config_source *src, struct config *cfg, char *err, size_t errlen);

/* Reads the configuration again and, if it is sound, makes it the one in
 * force (srv->cfg): new values of live keys take effect; a changed key
 * that only a restart can change is logged and keeps its old value. The
 * certificate is reloaded from the new tls_cert and tls_key for new
 * connections; open ones keep theirs. Tells the service manager
 * RELOADING=1, then READY=1, whatever the outcome. */
void server_reload(struct server *srv, const struct config_source *src);

/* Frees the configurations that reloads replaced; at exit, once no
 * session or worker can read them. */
void server_reload_free_all(void);

#endif
