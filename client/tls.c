/* TLS for the client (OpenSSL): the handshake, done before the poll loop
 * with a deadline, and conn_read/conn_write, through which every byte to
 * and from the server passes, plain or TLS. Non-blocking TLS can need the
 * opposite direction (a read may have to write, a write may have to read):
 * those wishes are kept in c->tls_rd_wants_out / c->tls_wr_wants_in for
 * the poll loop. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "../common/util.h"
#include "client.h"

#define TLS_HANDSHAKE_MS 10000

static void
tls_print_errors(const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	if (e == 0) {
		fprintf(stderr, "forkchat: TLS: %s\n", what);
		return;
	}
	ERR_error_string_n(e, buf, sizeof(buf));
	fprintf(stderr, "forkchat: TLS: %s: %s\n", what, buf);
	ERR_clear_error();
}

static int
ctx_trust(struct client *c, SSL_CTX *ctx)
{
	if (c->tls_insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return 0;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	int ok = c->tls_ca ? SSL_CTX_load_verify_locations(ctx, c->tls_ca, NULL)
			   : SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		char what[300];
		snprintf(what, sizeof(what), "cannot load CA %s",
			 c->tls_ca ? c->tls_ca : "store");
		tls_print_errors(what);
		return -1;
	}
	return 0;
}

static SSL_CTX *
ctx_new(struct client *c)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		tls_print_errors("SSL_CTX_new");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* partial + moving: net_flush retries from a buffer that may have
	 * been memmove'd or realloc'd and grown since the WANT_WRITE */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* the protocol itself says when a session is over (QUIT, DSCN, file
	 * sizes); a close without close_notify is just a close */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (ctx_trust(c, ctx) < 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* An IP literal is matched against IP SANs, a name against DNS SANs (and
 * only a name is sent as SNI, as RFC 6066 requires). */
static int
ssl_set_peer_name(struct client *c)
{
	X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
	if (X509_VERIFY_PARAM_set1_ip_asc(vp, c->host) == 1)
		return 0;
	if (SSL_set_tlsext_host_name(c->ssl, c->host) != 1)
		return -1;
	return c->tls_insecure                       ? 0
	       : SSL_set1_host(c->ssl, c->host) == 1 ? 0
						     : -1;
}

static void
report_handshake_failure(struct client *c, int ret, int err)
{
	long vr = SSL_get_verify_result(c->ssl);
	if (!c->tls_insecure && vr != X509_V_OK) {
		fprintf(stderr,
			"forkchat: TLS: certificate verify failed: %s\n",
			X509_verify_cert_error_string(vr));
		ERR_clear_error();
		return;
	}
	if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
		/* ret 0: the peer closed mid-handshake, e.g. not a TLS port */
		fprintf(stderr,
			"forkchat: TLS: handshake with %s:%s failed: %s\n",
			c->host, c->port,
			ret == 0 || errno == 0 ? "connection closed (not a TLS "
						 "server?)"
					       : strerror(errno));
		return;
	}
	char what[300];
	snprintf(what, sizeof(what), "handshake with %s:%s failed", c->host,
		 c->port);
	tls_print_errors(what);
}

/* Drive SSL_connect on the non-blocking socket, polling as it asks. */
static int
handshake(struct client *c)
{
	int64_t deadline = now_ms() + TLS_HANDSHAKE_MS;
	for (;;) {
		ERR_clear_error();
		int ret = SSL_connect(c->ssl);
		if (ret == 1)
			return 0;
		int err = SSL_get_error(c->ssl, ret);
		if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
			report_handshake_failure(c, ret, err);
			return -1;
		}
		int64_t left = deadline - now_ms();
		struct pollfd p = {
			.fd = c->fd,
			.events = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
		};
		if (left <= 0 ||
		    (poll(&p, 1, (int)left) < 0 && errno != EINTR)) {
			fprintf(stderr,
				"forkchat: TLS: handshake with %s:%s "
				"timed out\n",
				c->host, c->port);
			return -1;
		}
	}
}

int
tls_start(struct client *c)
{
	if (c->tls_insecure)
		fprintf(stderr, "forkchat: warning: --insecure: the server's "
				"certificate is NOT verified\n");
	c->ssl_ctx = ctx_new(c);
	if (c->ssl_ctx == NULL)
		return -1;
	c->ssl = SSL_new(c->ssl_ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    ssl_set_peer_name(c) < 0) {
		tls_print_errors("cannot set up the connection");
		return -1;
	}
	return handshake(c);
}

/* Send close_notify without waiting for the answer, then free. */
void
tls_end(struct client *c)
{
	if (c->ssl) {
		if (!c->closed && SSL_is_init_finished(c->ssl))
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ssl_ctx);
	c->ssl = NULL;
	c->ssl_ctx = NULL;
}

/* Map an SSL_read/SSL_write failure onto read(2)'s conventions: 0 for a
 * close, -1 with EAGAIN to wait, -1 with another errno for an error. The
 * direction TLS waits for is noted in *want_other when it is the opposite
 * one. */
static ssize_t
tls_result(struct client *c, int ret, bool *want_other, int other)
{
	int err = SSL_get_error(c->ssl, ret);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
		*want_other = err == other;
		errno = EAGAIN;
		return -1;
	}
	if (err == SSL_ERROR_ZERO_RETURN)
		return 0;
	if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
		return errno == 0 ? 0 : -1;
	unsigned long e = ERR_get_error();
	snprintf(c->tls_err, sizeof(c->tls_err), "TLS: %s",
		 e ? ERR_reason_error_string(e) : "protocol error");
	ERR_clear_error();
	errno = EPROTO;
	return -1;
}

ssize_t
conn_read(struct client *c, void *buf, size_t n)
{
	if (c->ssl == NULL)
		return read(c->fd, buf, n);
	c->tls_rd_wants_out = false;
	ERR_clear_error();
	int ret = SSL_read(c->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
	if (ret > 0)
		return ret;
	return tls_result(c, ret, &c->tls_rd_wants_out, SSL_ERROR_WANT_WRITE);
}

ssize_t
conn_write(struct client *c, const void *buf, size_t n)
{
	if (c->ssl == NULL)
		return write(c->fd, buf, n);
	c->tls_wr_wants_in = false;
	ERR_clear_error();
	int ret = SSL_write(c->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
	if (ret > 0)
		return ret;
	return tls_result(c, ret, &c->tls_wr_wants_in, SSL_ERROR_WANT_READ);
}

/* Decrypted bytes already inside OpenSSL: poll() will not report them. */
bool
conn_pending(struct client *c)
{
	return c->ssl != NULL && SSL_pending(c->ssl) > 0;
}

/* A description of the last conn_read/conn_write error. */
const char *
conn_strerror(struct client *c, int err)
{
	return err == EPROTO && c->tls_err[0] ? c->tls_err : strerror(err);
}
