/* Client-side cryptography for both dialects (docs/CRYPTO.md): base64,
 * the okfail end-to-end scheme (X25519 identity, wrapped session keys,
 * AES-256-GCM messages) and numeric's passphrase SECU tokens. */
#ifndef FC_CRYPTO_H
#define FC_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#define FC_KEY_LEN 32   /* session keys and derived keys */
#define FC_PUB_LEN 32   /* raw X25519 public key */
#define FC_NONCE_LEN 12 /* AES-GCM nonce */
#define FC_TAG_LEN 16   /* AES-GCM tag */
#define FC_SALT_LEN 16  /* PBKDF2 salt carried in SECU tokens */
#define FC_PBKDF2_ITER 100000

enum fc_crypto_err {
	FC_CRYPTO_OK = 0,
	FC_CRYPTO_EFORMAT = -1, /* not base64, or too short to be a token */
	FC_CRYPTO_EAUTH = -2,   /* wrong key or tampered token */
	FC_CRYPTO_EINTERNAL = -3,
};

/* base64 (standard alphabet, padded, no line breaks). Results are malloc'd;
 * decode is strict: bad characters, bad padding or length are refused. */
int fc_b64_encode(const unsigned char *in, size_t n, char **out);
int fc_b64_decode(const char *in, size_t n, unsigned char **out,
		  size_t *outlen);
int fc_random(unsigned char *buf, size_t n);

/* A per-run X25519 key pair; pub_b64 is what PM_PUBKEY publishes. */
struct fc_identity {
	EVP_PKEY *pkey;
	char *pub_b64;
};

int fc_identity_new(struct fc_identity *id);
void fc_identity_free(struct fc_identity *id);

/* PM_SESSIONKEY token: the 32-byte session key sealed to a peer's public
 * key (ephemeral X25519 + HKDF-SHA256 + AES-256-GCM). */
int fc_wrap_session(const char *peer_pub_b64,
		    const unsigned char key[FC_KEY_LEN], char **token);
int fc_unwrap_session(const struct fc_identity *id, const char *token,
		      unsigned char key[FC_KEY_LEN]);

/* PRIVATE_MESSAGE token: base64(nonce || ciphertext || tag). Opened
 * plaintext is NUL-terminated (the NUL is not counted in *n). */
int fc_seal(const unsigned char key[FC_KEY_LEN], const void *pt, size_t n,
	    char **token);
int fc_open(const unsigned char key[FC_KEY_LEN], const char *token, char **pt,
	    size_t *n);

/* numeric SECU: a keyword set by USEK, stretched with PBKDF2-HMAC-SHA256.
 * The sender's salt is drawn once per USEK; the receiver caches the key
 * derived for the last salt it saw, so each message costs no PBKDF2. */
struct fc_secu {
	bool set;
	char *keyword;
	unsigned char salt[FC_SALT_LEN];
	unsigned char key[FC_KEY_LEN];
	bool have_last;
	unsigned char last_salt[FC_SALT_LEN];
	unsigned char last_key[FC_KEY_LEN];
};

int fc_secu_set(struct fc_secu *s, const char *keyword);
void fc_secu_clear(struct fc_secu *s);
int fc_secu_seal(struct fc_secu *s, const void *pt, size_t n, char **token);
int fc_secu_open(struct fc_secu *s, const char *token, char **pt, size_t *n);

#endif
