/* TLS server contexts built from PEM held in memory: the master reads the
 * certificate and key once (before dropping privileges, and again on
 * SIGHUP) and the workers build their SSL_CTX from those bytes. */
#ifndef FC_TLSCTX_H
#define FC_TLSCTX_H

#include <stddef.h>

#include <openssl/ssl.h>

struct tls_pem {
	char *cert;
	size_t cert_len;
	char *key;
	size_t key_len;
};

int tls_pem_load(struct tls_pem *p, const char *cert_file, const char *key_file,
		 char *err, size_t errlen);
void tls_pem_free(struct tls_pem *p);
SSL_CTX *tls_ctx_new(const struct tls_pem *p, char *err, size_t errlen);

#endif
