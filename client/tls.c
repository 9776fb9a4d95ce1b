/* The client's transport (OpenSSL for TLS): the handshake, done before the
 * poll loop with a deadline, and tls_read/tls_write, through which every
 * byte to and from the server passes, plain or TLS, returning an io_result.
 * Non-blocking TLS can need the opposite direction (a read may have to
 * write, a write may have to read): those wishes are kept in
 * c->tls_rd_wants_out / c->tls_wr_wants_in for the poll loop. Errors are
 * described in c->tls_err; the caller reports them. */
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
tls_set_error(struct client *c, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	if (e == 0) {
		snprintf(c->tls_err, sizeof(c->tls_err), "TLS: %s", what);
		return;
	}
	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(c->tls_err, sizeof(c->tls_err), "TLS: %s: %s", what, buf);
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
		tls_set_error(c, what);
		return -1;
	}
	return 0;
}

static SSL_CTX *
ctx_new(struct client *c)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		tls_set_error(c, "SSL_CTX_new");
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
		snprintf(c->tls_err, sizeof(c->tls_err),
			 "TLS: certificate verify failed: %s",
			 X509_verify_cert_error_string(vr));
		ERR_clear_error();
		return;
	}
	if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
		/* ret 0: the peer closed mid-handshake, e.g. not a TLS port */
		snprintf(c->tls_err, sizeof(c->tls_err),
			 "TLS: handshake with %s:%s failed: %s", c->host,
			 c->port,
			 ret == 0 || errno == 0
				 ? "connection closed (not a TLS "
				   "server?)"
				 : strerror(errno));
		return;
	}
	char what[300];
	snprintf(what, sizeof(what), "handshake with %s:%s failed", c->host,
		 c->port);
	tls_set_error(c, what);
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
			snprintf(c->tls_err, sizeof(c->tls_err),
				 "TLS: handshake with %s:%s timed out", c->host,
				 c->port);
			return -1;
		}
	}
}

int
tls_start(struct client *c)
{
	c->ssl_ctx = ctx_new(c);
	if (c->ssl_ctx == NULL)
		return -1;
	c->ssl = SSL_new(c->ssl_ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    ssl_set_peer_name(c) < 0) {
		tls_set_error(c, "cannot set up the connection");
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

/* Map an SSL_read/SSL_write failure onto an io_result; the direction TLS
 * waits for is noted in *want_other when it is the opposite one. */
static enum io_result
tls_result(struct client *c, int ret, bool *want_other, int other)
{
	int err = SSL_get_error(c->ssl, ret);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
		*want_other = err == other;
		return IO_AGAIN;
	}
	if (err == SSL_ERROR_ZERO_RETURN)
		return IO_CLOSED;
	if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
		c->io_err = errno;
		return errno == 0 || errno == ECONNRESET || errno == EPIPE
			       ? IO_CLOSED
			       : IO_ERROR;
	}
	unsigned long e = ERR_get_error();
	snprintf(c->tls_err, sizeof(c->tls_err), "TLS: %s",
		 e ? ERR_reason_error_string(e) : "protocol error");
	ERR_clear_error();
	c->io_err = EPROTO;
	return IO_ERROR;
}

/* read(2)/write(2)'s results as an io_result; *done counts the bytes. */
static enum io_result
plain_result(struct client *c, ssize_t r, size_t *done)
{
	*done = r > 0 ? (size_t)r : 0;
	if (r > 0)
		return IO_DONE;
	if (r == 0)
		return IO_CLOSED;
	if (errno == EAGAIN || errno == EINTR)
		return IO_AGAIN;
	c->io_err = errno;
	return errno == ECONNRESET || errno == EPIPE ? IO_CLOSED : IO_ERROR;
}

enum io_result
tls_read(struct client *c, void *buf, size_t n, size_t *got)
{
	if (c->ssl == NULL)
		return plain_result(c, read(c->fd, buf, n), got);
	c->tls_rd_wants_out = false;
	ERR_clear_error();
	int ret = SSL_read(c->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
	*got = ret > 0 ? (size_t)ret : 0;
	if (ret > 0)
		return IO_DONE;
	return tls_result(c, ret, &c->tls_rd_wants_out, SSL_ERROR_WANT_WRITE);
}

enum io_result
tls_write(struct client *c, const void *buf, size_t n, size_t *put)
{
	if (c->ssl == NULL)
		return plain_result(c, write(c->fd, buf, n), put);
	c->tls_wr_wants_in = false;
	ERR_clear_error();
	int ret = SSL_write(c->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
	*put = ret > 0 ? (size_t)ret : 0;
	if (ret > 0)
		return IO_DONE;
	return tls_result(c, ret, &c->tls_wr_wants_in, SSL_ERROR_WANT_READ);
}

bool
tls_pending(const struct client *c)
{
	return c->ssl != NULL && SSL_pending(c->ssl) > 0;
}

const char *
tls_strerror(const struct client *c)
{
	if (c->io_err == EPROTO && c->tls_err[0])
		return c->tls_err;
	return c->io_err ? strerror(c->io_err) : "connection closed";
}
