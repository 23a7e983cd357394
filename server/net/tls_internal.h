/* Shared between tls.c and conn.c only. */
#ifndef KAIRAN_NET_TLS_INTERNAL_H
#define KAIRAN_NET_TLS_INTERNAL_H

#include <openssl/ssl.h>

/* The current context, with a reference the caller must SSL_CTX_free. */
SSL_CTX *net_tls_current_ctx(struct net_tls *t);

#endif
