/* A blocking client connection, plain or TLS (server/net/client.h). */
#include "server/net/client.h"
#include "server/core/buf.h"

#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct net_client {
	int fd;
	char *host;
	SSL_CTX *ctx;
	SSL *ssl;       /* NULL: plain */
};

static int tls_fail(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char reason[256] = "connection closed";

	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	snprintf(err, errlen, "%s: %s", what, reason);
	return -1;
}

int net_client_starttls(struct net_client *c, const struct net_client_tls *tls,
			char *err, size_t errlen)
{
	long verify;

	ERR_clear_error();
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (c->ctx == NULL)
		return tls_fail(err, errlen, "TLS");
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	if (!tls->insecure) {
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
		if ((tls->ca_file != NULL ? SSL_CTX_load_verify_locations(c->ctx, tls->ca_file, NULL)
					  : SSL_CTX_set_default_verify_paths(c->ctx)) != 1)
			return tls_fail(err, errlen, tls->ca_file != NULL ? tls->ca_file : "trust store");
	}
	c->ssl = SSL_new(c->ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_set_tlsext_host_name(c->ssl, c->host) != 1)
		return tls_fail(err, errlen, "TLS");
	if (!tls->insecure && SSL_set1_host(c->ssl, c->host) != 1)
		return tls_fail(err, errlen, "TLS");
	if (SSL_connect(c->ssl) != 1) {
		verify = SSL_get_verify_result(c->ssl);
		if (verify != X509_V_OK) {
			ERR_clear_error();
			snprintf(err, errlen, "TLS: the certificate of %s: %s", c->host,
				 X509_verify_cert_error_string(verify));
			return -1;
		}
		return tls_fail(err, errlen, "TLS handshake");
	}
	return 0;
}

int net_client_connect(const char *host, const char *port, const struct net_client_tls *tls,
		       int timeout_s, struct net_client **c_r, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	struct timeval tv = { .tv_sec = timeout_s };
	struct net_client *c;
	int fd = -1, gai, e = 0;

	*c_r = NULL;
	if ((gai = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		/* The timeout covers connect too (Linux: SO_SNDTIMEO). */
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			e = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "%s port %s: %s", host, port, strerror(e));
		return -1;
	}
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->host = xstrdup(host);
	*c_r = c;
	if (tls != NULL && net_client_starttls(c, tls, err, errlen) < 0) {
		net_client_close(c_r);
		return -1;
	}
	return 0;
}

static const char *io_error(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK ? "timed out" : strerror(e);
}

ssize_t net_client_read(struct net_client *c, void *buf, size_t len, char *err, size_t errlen)
{
	ssize_t n;

	if (c->ssl == NULL) {
		n = read(c->fd, buf, len);
		if (n < 0)
			snprintf(err, errlen, "reading from %s: %s", c->host, io_error(errno));
		return n;
	}
	ERR_clear_error();
	n = SSL_read(c->ssl, buf, (int)(len > 1 << 30 ? 1 << 30 : len));
	if (n > 0)
		return n;
	switch (SSL_get_error(c->ssl, (int)n)) {
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (errno == 0)
			return 0;  /* closed without close_notify: the end all the same */
		snprintf(err, errlen, "reading from %s: %s", c->host, io_error(errno));
		return -1;
	default:
		return tls_fail(err, errlen, "reading (TLS)");
	}
}

int net_client_write(struct net_client *c, const void *buf, size_t len, char *err, size_t errlen)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n;

		ERR_clear_error();
		n = c->ssl != NULL ? SSL_write(c->ssl, p, (int)(len > 1 << 30 ? 1 << 30 : len))
				   : send(c->fd, p, len, MSG_NOSIGNAL);
		if (n <= 0) {
			if (c->ssl != NULL && SSL_get_error(c->ssl, (int)n) == SSL_ERROR_SSL)
				return tls_fail(err, errlen, "writing (TLS)");
			snprintf(err, errlen, "writing to %s: %s", c->host, io_error(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void net_client_close(struct net_client **cp)
{
	struct net_client *c = *cp;

	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	close(c->fd);
	free(c->host);
	free(c);
	*cp = NULL;
}
