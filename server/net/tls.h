/* Server TLS contexts (OpenSSL). TLS 1.2 and 1.3 only, Mozilla
 * "intermediate" ciphers and groups, no compression, no renegotiation. */
#ifndef KAIRAN_NET_TLS_H
#define KAIRAN_NET_TLS_H

#include <stddef.h>

struct net_tls;

/* Loads the certificate chain and key. NULL with a one-line reason in err. */
struct net_tls *net_tls_new(const char *cert_path, const char *key_path, char *err, size_t errlen);
/* Loads cert and key again (SIGHUP). On failure the old ones stay in use and
 * -1 is returned with the reason. Connections already open keep the context
 * they started with. */
int net_tls_reload(struct net_tls *t, const char *cert_path, const char *key_path,
		   char *err, size_t errlen);
void net_tls_free(struct net_tls **tp);

#endif
