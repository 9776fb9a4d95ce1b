/* Client-side cryptography on OpenSSL's EVP layer only: base64, X25519
 * identities, HKDF/PBKDF2 key derivation and AES-256-GCM. Token layouts
 * are documented in docs/CRYPTO.md; every token carries its own nonce. */
#include "crypto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

/* Associated data binds each token to its use, so a token of one kind can
 * never be replayed as another. */
static const char AAD_MSG[] = "forkchat-e2e-v1";
static const char AAD_WRAP[] = "forkchat-wrap-v1";
static const char AAD_SECU[] = "forkchat-secu-v1";
static const char HKDF_INFO[] = "forkchat-session-v1";

/* ---- base64 ---- */

int
fc_b64_encode(const unsigned char *in, size_t n, char **out)
{
	if (n > INT32_MAX / 2)
		return FC_CRYPTO_EINTERNAL;
	char *s = malloc(4 * ((n + 2) / 3) + 1);
	if (s == NULL)
		return FC_CRYPTO_EINTERNAL;
	EVP_EncodeBlock((unsigned char *)s, in, (int)n);
	*out = s;
	return FC_CRYPTO_OK;
}

static bool
b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* EVP_DecodeBlock skips whitespace and counts padding as zero bytes, so the
 * shape is checked here first and the padding subtracted after. */
static int
b64_padding(const char *in, size_t n)
{
	if (n == 0 || n % 4 != 0 || n > INT32_MAX / 2)
		return -1;
	int pad = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '=' && i >= n - 2) {
			pad++;
			continue;
		}
		if (pad > 0 || !b64_char(c))
			return -1;
	}
	return pad;
}

int
fc_b64_decode(const char *in, size_t n, unsigned char **out, size_t *outlen)
{
	int pad = b64_padding(in, n);
	if (pad < 0)
		return FC_CRYPTO_EFORMAT;
	unsigned char *buf = malloc(n / 4 * 3 + 1);
	if (buf == NULL)
		return FC_CRYPTO_EINTERNAL;
	int len = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)n);
	if (len < pad) {
		free(buf);
		return FC_CRYPTO_EFORMAT;
	}
	*out = buf;
	*outlen = (size_t)(len - pad);
	return FC_CRYPTO_OK;
}

int
fc_random(unsigned char *buf, size_t n)
{
	return RAND_bytes(buf, (int)n) == 1 ? FC_CRYPTO_OK
					    : FC_CRYPTO_EINTERNAL;
}

/* ---- AES-256-GCM over a byte layout nonce || ciphertext || tag ---- */

static int
gcm_seal(const unsigned char *key, const char *aad, const void *pt, size_t n,
	 unsigned char *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len, ok = ctx != NULL && n < INT32_MAX &&
		      fc_random(out, FC_NONCE_LEN) == 0;

	ok = ok &&
	     EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, out) == 1;
	ok = ok &&
	     EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)aad,
			       (int)strlen(aad)) == 1;
	ok = ok &&
	     EVP_EncryptUpdate(ctx, out + FC_NONCE_LEN, &len, pt, (int)n) == 1;
	ok = ok && EVP_EncryptFinal_ex(ctx, out + FC_NONCE_LEN + n, &len) == 1;
	ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, FC_TAG_LEN,
				       out + FC_NONCE_LEN + n) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? FC_CRYPTO_OK : FC_CRYPTO_EINTERNAL;
}

/* Opens in[0..n) into out (n - nonce - tag bytes); a bad tag is EAUTH. */
static int
gcm_open(const unsigned char *key, const char *aad, const unsigned char *in,
	 size_t n, unsigned char *out)
{
	if (n < FC_NONCE_LEN + FC_TAG_LEN || n > INT32_MAX)
		return FC_CRYPTO_EFORMAT;
	size_t ctlen = n - FC_NONCE_LEN - FC_TAG_LEN;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len, ok = ctx != NULL;

	ok = ok &&
	     EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, in) == 1;
	ok = ok &&
	     EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)aad,
			       (int)strlen(aad)) == 1;
	ok = ok && EVP_DecryptUpdate(ctx, out, &len, in + FC_NONCE_LEN,
				     (int)ctlen) == 1;
	ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, FC_TAG_LEN,
				       (void *)(in + n - FC_TAG_LEN)) == 1;
	if (!ok) {
		EVP_CIPHER_CTX_free(ctx);
		return FC_CRYPTO_EINTERNAL;
	}
	ok = EVP_DecryptFinal_ex(ctx, out + ctlen, &len) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		OPENSSL_cleanse(out, ctlen);
	return ok ? FC_CRYPTO_OK : FC_CRYPTO_EAUTH;
}

/* Seal with an optional clear prefix (ephemeral key, salt) in front of the
 * nonce, and base64 the whole. */
static int
seal_token(const unsigned char *key, const char *aad,
	   const unsigned char *prefix, size_t plen, const void *pt, size_t n,
	   char **token)
{
	size_t total = plen + FC_NONCE_LEN + n + FC_TAG_LEN;
	unsigned char *raw = malloc(total);
	if (raw == NULL)
		return FC_CRYPTO_EINTERNAL;
	if (plen)
		memcpy(raw, prefix, plen);
	int rc = gcm_seal(key, aad, pt, n, raw + plen);
	if (rc == 0)
		rc = fc_b64_encode(raw, total, token);
	free(raw);
	return rc;
}

/* Open a token whose decoded bytes start with plen clear bytes; the key is
 * chosen by pick() from that prefix. Plaintext is NUL-terminated. */
typedef int (*key_picker)(void *arg, const unsigned char *prefix,
			  unsigned char key[FC_KEY_LEN]);

static int
open_token(const char *token, size_t plen, const char *aad, key_picker pick,
	   void *arg, char **pt, size_t *n)
{
	unsigned char *raw, key[FC_KEY_LEN];
	size_t rawlen;
	int rc = fc_b64_decode(token, strlen(token), &raw, &rawlen);
	if (rc != 0)
		return rc;
	rc = FC_CRYPTO_EFORMAT;
	if (rawlen >= plen + FC_NONCE_LEN + FC_TAG_LEN)
		rc = pick(arg, raw, key);
	char *out = NULL;
	size_t outlen = 0;
	if (rc == 0) {
		outlen = rawlen - plen - FC_NONCE_LEN - FC_TAG_LEN;
		out = malloc(outlen + 1);
		rc = out ? gcm_open(key, aad, raw + plen, rawlen - plen,
				    (unsigned char *)out)
			 : FC_CRYPTO_EINTERNAL;
	}
	OPENSSL_cleanse(key, sizeof(key));
	free(raw);
	if (rc != 0) {
		free(out);
		return rc;
	}
	out[outlen] = '\0';
	*pt = out;
	*n = outlen;
	return FC_CRYPTO_OK;
}

/* ---- messages under a session key ---- */

int
fc_seal(const unsigned char key[FC_KEY_LEN], const void *pt, size_t n,
	char **token)
{
	return seal_token(key, AAD_MSG, NULL, 0, pt, n, token);
}

static int
pick_fixed(void *arg, const unsigned char *prefix,
	   unsigned char key[FC_KEY_LEN])
{
	(void)prefix;
	memcpy(key, arg, FC_KEY_LEN);
	return FC_CRYPTO_OK;
}

int
fc_open(const unsigned char key[FC_KEY_LEN], const char *token, char **pt,
	size_t *n)
{
	return open_token(token, 0, AAD_MSG, pick_fixed, (void *)key, pt, n);
}

/* ---- X25519 identity and session-key wrapping ---- */

int
fc_identity_new(struct fc_identity *id)
{
	unsigned char pub[FC_PUB_LEN];
	size_t publen = sizeof(pub);

	memset(id, 0, sizeof(*id));
	id->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	if (id->pkey == NULL ||
	    EVP_PKEY_get_raw_public_key(id->pkey, pub, &publen) != 1 ||
	    fc_b64_encode(pub, publen, &id->pub_b64) != 0) {
		fc_identity_free(id);
		return FC_CRYPTO_EINTERNAL;
	}
	return FC_CRYPTO_OK;
}

void
fc_identity_free(struct fc_identity *id)
{
	EVP_PKEY_free(id->pkey);
	free(id->pub_b64);
	id->pkey = NULL;
	id->pub_b64 = NULL;
}

static EVP_PKEY *
pub_from_raw(const unsigned char *raw, size_t n)
{
	if (n != FC_PUB_LEN)
		return NULL;
	return EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, raw, n);
}

/* HKDF-SHA256(ikm = X25519(mine, peer), salt = eph_pub || recipient_pub):
 * both public keys in the salt tie the wrap key to this exchange. */
static int
derive_wrap_key(EVP_PKEY *mine, EVP_PKEY *peer, const unsigned char *salt,
		unsigned char key[FC_KEY_LEN])
{
	unsigned char shared[32];
	size_t slen = sizeof(shared), klen = FC_KEY_LEN;
	EVP_PKEY_CTX *dh = EVP_PKEY_CTX_new(mine, NULL);
	int ok = dh && EVP_PKEY_derive_init(dh) == 1 &&
		 EVP_PKEY_derive_set_peer(dh, peer) == 1 &&
		 EVP_PKEY_derive(dh, shared, &slen) == 1;
	EVP_PKEY_CTX_free(dh);

	EVP_PKEY_CTX *kdf =
		ok ? EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL) : NULL;
	ok = kdf && EVP_PKEY_derive_init(kdf) == 1 &&
	     EVP_PKEY_CTX_set_hkdf_md(kdf, EVP_sha256()) == 1 &&
	     EVP_PKEY_CTX_set1_hkdf_salt(kdf, salt, 2 * FC_PUB_LEN) == 1 &&
	     EVP_PKEY_CTX_set1_hkdf_key(kdf, shared, (int)slen) == 1 &&
	     EVP_PKEY_CTX_add1_hkdf_info(kdf, (const unsigned char *)HKDF_INFO,
					 (int)strlen(HKDF_INFO)) == 1 &&
	     EVP_PKEY_derive(kdf, key, &klen) == 1;
	EVP_PKEY_CTX_free(kdf);
	OPENSSL_cleanse(shared, sizeof(shared));
	return ok ? FC_CRYPTO_OK : FC_CRYPTO_EINTERNAL;
}

static int
raw_pub(EVP_PKEY *k, unsigned char out[FC_PUB_LEN])
{
	size_t n = FC_PUB_LEN;
	return EVP_PKEY_get_raw_public_key(k, out, &n) == 1 && n == FC_PUB_LEN
		       ? 0
		       : -1;
}

int
fc_wrap_session(const char *peer_pub_b64, const unsigned char key[FC_KEY_LEN],
		char **token)
{
	unsigned char *praw = NULL, salt[2 * FC_PUB_LEN], wk[FC_KEY_LEN];
	size_t plen = 0;
	int rc =
		fc_b64_decode(peer_pub_b64, strlen(peer_pub_b64), &praw, &plen);
	if (rc != 0)
		return rc;
	EVP_PKEY *peer = pub_from_raw(praw, plen);
	EVP_PKEY *eph = peer ? EVP_PKEY_Q_keygen(NULL, NULL, "X25519") : NULL;
	rc = FC_CRYPTO_EFORMAT;
	if (eph && raw_pub(eph, salt) == 0) {
		memcpy(salt + FC_PUB_LEN, praw, FC_PUB_LEN);
		rc = derive_wrap_key(eph, peer, salt, wk);
	}
	if (rc == 0)
		rc = seal_token(wk, AAD_WRAP, salt, FC_PUB_LEN, key, FC_KEY_LEN,
				token);
	OPENSSL_cleanse(wk, sizeof(wk));
	EVP_PKEY_free(eph);
	EVP_PKEY_free(peer);
	free(praw);
	return rc;
}

static int
pick_unwrap(void *arg, const unsigned char *prefix,
	    unsigned char key[FC_KEY_LEN])
{
	const struct fc_identity *id = arg;
	unsigned char salt[2 * FC_PUB_LEN];
	EVP_PKEY *eph = pub_from_raw(prefix, FC_PUB_LEN);
	int rc = FC_CRYPTO_EFORMAT;

	memcpy(salt, prefix, FC_PUB_LEN);
	if (eph && raw_pub(id->pkey, salt + FC_PUB_LEN) == 0)
		rc = derive_wrap_key(id->pkey, eph, salt, key);
	EVP_PKEY_free(eph);
	return rc;
}

int
fc_unwrap_session(const struct fc_identity *id, const char *token,
		  unsigned char key[FC_KEY_LEN])
{
	char *pt;
	size_t n;
	int rc = open_token(token, FC_PUB_LEN, AAD_WRAP, pick_unwrap,
			    (void *)id, &pt, &n);
	if (rc != 0)
		return rc;
	if (n == FC_KEY_LEN)
		memcpy(key, pt, FC_KEY_LEN);
	else
		rc = FC_CRYPTO_EFORMAT;
	OPENSSL_cleanse(pt, n);
	free(pt);
	return rc;
}

/* ---- numeric SECU ---- */

static int
pbkdf2(const char *keyword, const unsigned char *salt,
       unsigned char key[FC_KEY_LEN])
{
	return PKCS5_PBKDF2_HMAC(keyword, (int)strlen(keyword), salt,
				 FC_SALT_LEN, FC_PBKDF2_ITER, EVP_sha256(),
				 FC_KEY_LEN, key) == 1
		       ? FC_CRYPTO_OK
		       : FC_CRYPTO_EINTERNAL;
}

int
fc_secu_set(struct fc_secu *s, const char *keyword)
{
	fc_secu_clear(s);
	s->keyword = strdup(keyword);
	if (s->keyword == NULL || fc_random(s->salt, FC_SALT_LEN) != 0 ||
	    pbkdf2(keyword, s->salt, s->key) != 0) {
		fc_secu_clear(s);
		return FC_CRYPTO_EINTERNAL;
	}
	s->set = true;
	return FC_CRYPTO_OK;
}

void
fc_secu_clear(struct fc_secu *s)
{
	if (s->keyword) {
		OPENSSL_cleanse(s->keyword, strlen(s->keyword));
		free(s->keyword);
	}
	OPENSSL_cleanse(s, sizeof(*s));
	s->keyword = NULL;
	s->set = false;
}

int
fc_secu_seal(struct fc_secu *s, const void *pt, size_t n, char **token)
{
	if (!s->set)
		return FC_CRYPTO_EAUTH;
	return seal_token(s->key, AAD_SECU, s->salt, FC_SALT_LEN, pt, n, token);
}

/* The salt comes from the token: a sender's USEK salt is derived once and
 * reused until that sender changes its key. */
static int
pick_secu(void *arg, const unsigned char *salt, unsigned char key[FC_KEY_LEN])
{
	struct fc_secu *s = arg;

	if (memcmp(salt, s->salt, FC_SALT_LEN) == 0) {
		memcpy(key, s->key, FC_KEY_LEN);
		return FC_CRYPTO_OK;
	}
	if (!s->have_last || memcmp(salt, s->last_salt, FC_SALT_LEN) != 0) {
		if (pbkdf2(s->keyword, salt, s->last_key) != 0)
			return FC_CRYPTO_EINTERNAL;
		memcpy(s->last_salt, salt, FC_SALT_LEN);
		s->have_last = true;
	}
	memcpy(key, s->last_key, FC_KEY_LEN);
	return FC_CRYPTO_OK;
}

int
fc_secu_open(struct fc_secu *s, const char *token, char **pt, size_t *n)
{
	if (!s->set)
		return FC_CRYPTO_EAUTH;
	return open_token(token, FC_SALT_LEN, AAD_SECU, pick_secu, s, pt, n);
}
