#include "server/net/tls.h"
#include "server/net/tls_internal.h"
#include "server/core/buf.h"

#include <openssl/err.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* Mozilla "intermediate" configuration (TLS 1.2 ciphers; TLS 1.3 suites are
 * OpenSSL's defaults, which are the same list). */
#define TLS12_CIPHERS "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
	"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
#define TLS_GROUPS "X25519:prime256v1:secp384r1"

struct net_tls {
	pthread_mutex_t lock;   /* reload may race with handshakes in other loops */
	SSL_CTX *ctx;
};

static void tls_error(char *err, size_t errlen, const char *what, const char *path)
{
	unsigned long e = ERR_get_error();
	char reason[256] = "unknown error";

	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	snprintf(err, errlen, "%s %s: %s", what, path, reason);
}

static SSL_CTX *tls_make_ctx(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		tls_error(err, errlen, "cannot create TLS context", "");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
			    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
			 SSL_MODE_RELEASE_BUFFERS);
	/* No resumption: IMAP clients keep their connection for hours and
	 * rarely resume, while OpenSSL's server cache would keep every
	 * session (two per TLS 1.3 handshake, as NO_TICKET makes the tickets
	 * stateful) for five minutes after it, several KiB each: about a
	 * third of an idle TLS session's memory (docs/architecture.md,
	 * "Memory per session"). */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, TLS_GROUPS) != 1) {
		tls_error(err, errlen, "cannot set TLS ciphers", "");
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
		tls_error(err, errlen, "cannot load certificate", cert_path);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1) {
		tls_error(err, errlen, "cannot load private key", key_path);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		tls_error(err, errlen, "private key does not match certificate", cert_path);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

struct net_tls *net_tls_new(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
	struct net_tls *t;
	SSL_CTX *ctx = tls_make_ctx(cert_path, key_path, err, errlen);

	if (ctx == NULL)
		return NULL;
	t = xcalloc(1, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	t->ctx = ctx;
	return t;
}

int net_tls_reload(struct net_tls *t, const char *cert_path, const char *key_path,
		   char *err, size_t errlen)
{
	SSL_CTX *ctx = tls_make_ctx(cert_path, key_path, err, errlen), *old;

	if (ctx == NULL)
		return -1;
	pthread_mutex_lock(&t->lock);
	old = t->ctx;
	t->ctx = ctx;
	pthread_mutex_unlock(&t->lock);
	SSL_CTX_free(old); /* open connections hold their own references */
	return 0;
}

SSL_CTX *net_tls_current_ctx(struct net_tls *t)
{
	SSL_CTX *ctx;

	pthread_mutex_lock(&t->lock);
	ctx = t->ctx;
	SSL_CTX_up_ref(ctx);
	pthread_mutex_unlock(&t->lock);
	return ctx;
}

void net_tls_free(struct net_tls **tp)
{
	if (*tp == NULL)
		return;
	SSL_CTX_free((*tp)->ctx);
	pthread_mutex_destroy(&(*tp)->lock);
	free(*tp);
	*tp = NULL;
}
