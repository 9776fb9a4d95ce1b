/* Server-side TLS setup with OpenSSL: TLS 1.2 and 1.3 only, OpenSSL's
 * modern defaults for ciphers, partial writes from a buffer that may move
 * (our output queue compacts), no renegotiation, no compression. */
#include "tlsctx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#define PEM_MAX (256 * 1024)

static char *
read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(PEM_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	*len = fread(buf, 1, PEM_MAX, f);
	if (ferror(f) || !feof(f)) {
		snprintf(err, errlen, "%s: unreadable or larger than %d bytes",
			 path, PEM_MAX);
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[*len] = '\0';
	return buf;
}

int
tls_pem_load(struct tls_pem *p, const char *cert_file, const char *key_file,
	     char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->cert = read_file(cert_file, &p->cert_len, err, errlen);
	if (p->cert == NULL)
		return -1;
	p->key = read_file(key_file, &p->key_len, err, errlen);
	if (p->key == NULL) {
		tls_pem_free(p);
		return -1;
	}
	return 0;
}

void
tls_pem_free(struct tls_pem *p)
{
	if (p->key)
		OPENSSL_cleanse(p->key, p->key_len);
	free(p->cert);
	free(p->key);
	memset(p, 0, sizeof(*p));
}

static void
tls_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s: %s", what, e ? buf : "unknown error");
	ERR_clear_error();
}

static int
tls_ctx_certs(SSL_CTX *ctx, const struct tls_pem *p, char *err, size_t errlen)
{
	BIO *b = BIO_new_mem_buf(p->cert, (int)p->cert_len);
	X509 *x = b ? PEM_read_bio_X509_AUX(b, NULL, NULL, NULL) : NULL;

	if (x == NULL || SSL_CTX_use_certificate(ctx, x) != 1) {
		tls_err(err, errlen, "tls-cert");
		X509_free(x);
		BIO_free(b);
		return -1;
	}
	X509_free(x);
	/* the rest of the file is the chain */
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1)
			X509_free(x);
	ERR_clear_error();
	BIO_free(b);
	b = BIO_new_mem_buf(p->key, (int)p->key_len);
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (k == NULL || SSL_CTX_use_PrivateKey(ctx, k) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		tls_err(err, errlen, "tls-key");
		EVP_PKEY_free(k);
		return -1;
	}
	EVP_PKEY_free(k);
	return 0;
}

SSL_CTX *
tls_ctx_new(const struct tls_pem *p, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		tls_err(err, errlen, "SSL_CTX_new");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
					 SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				      SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (tls_ctx_certs(ctx, p, err, errlen) < 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}
