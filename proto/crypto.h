/* Client-side cryptography for both dialects (docs/CRYPTO.md): base64,
 * the okfail end-to-end scheme (X25519 identity, wrapped session keys,
 * AES-256-GCM messages) and numeric's passphrase SECU tokens. */
#ifndef FC_CRYPTO_H
#define FC_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#define FC_KEY_LEN 32         /* session keys and derived keys */
#define FC_PUB_LEN 32         /* raw X25519 public key */
#define FC_NONCE_LEN 12       /* AES-GCM nonce */
#define FC_TAG_LEN 16         /* AES-GCM tag */
#define FC_SALT_LEN 16        /* per-message HKDF salt carried in SECU tokens */
#define FC_PBKDF2_ITER 600000 /* OWASP's 2023 figure for PBKDF2-SHA256 */
#define FC_CRYPTO_NAME_MAX 32 /* longest name bound into a token */
#define FC_FP_LEN 40          /* "xxxx:" x 8, NUL-terminated */
#define FC_SECU_CACHE 32      /* recipient keys kept per keyword */

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
/* n bytes from the CSPRNG. */
int fc_random(unsigned char *buf, size_t n);

/* The two names every token is bound to (AEAD associated data): who sent
 * it and who it is for. A token only opens with the same two names, which
 * are compared ignoring ASCII case (as the server compares names). */
struct fc_pair {
	const char *from, *to;
};

/* A per-run X25519 key pair; pub_b64 is what PM_PUBKEY publishes. */
struct fc_identity {
	EVP_PKEY *pkey;
	char *pub_b64;
};

/* A fresh key pair; FC_CRYPTO_EINTERNAL (and *id cleared) on failure. */
int fc_identity_new(struct fc_identity *id);
/* Free the key pair (safe on a cleared or freed one). */
void fc_identity_free(struct fc_identity *id);

/* PM_SESSIONKEY token: the 32-byte session key sealed by me (names->from)
 * to a peer (names->to): ephemeral-static and static-static X25519, HKDF-
 * SHA256, AES-256-GCM with both names as associated data. Unwrapping needs
 * the sender's public key (the one pinned for its name): a token made by
 * anyone else, or for another pair of names, is FC_CRYPTO_EAUTH. */
int fc_wrap_session(const struct fc_identity *me, const char *peer_pub_b64,
		    const struct fc_pair *names,
		    const unsigned char key[FC_KEY_LEN], char **token);
int fc_unwrap_session(const struct fc_identity *me, const char *sender_pub_b64,
		      const struct fc_pair *names, const char *token,
		      unsigned char key[FC_KEY_LEN]);

/* PRIVATE_MESSAGE token: base64(nonce || ciphertext || tag), bound to
 * names. Opened plaintext is NUL-terminated (not counted in *n). */
int fc_seal(const unsigned char key[FC_KEY_LEN], const struct fc_pair *names,
	    const void *pt, size_t n, char **token);
int fc_open(const unsigned char key[FC_KEY_LEN], const struct fc_pair *names,
	    const char *token, char **pt, size_t *n);

/* A public key's fingerprint, the first 16 bytes of its SHA-256 in hex
 * ("ab12:cd34:..."); FC_CRYPTO_EFORMAT unless a 32-byte X25519 key. */
int fc_fingerprint(const char *pub_b64, char out[FC_FP_LEN]);
/* Whether pub_b64 is a usable X25519 public key. */
bool fc_pub_valid(const char *pub_b64);

/* numeric SECU: a keyword set by USEK. The key of each recipient is
 * PBKDF2-HMAC-SHA256(keyword, its name, FC_PBKDF2_ITER), derived once and
 * cached (FC_SECU_CACHE recipients); each message's key is an HKDF of it
 * with the token's random salt and both names. A receiver only ever needs
 * its own name's key, so tokens with fresh salts cost no PBKDF2 run. */
struct fc_secu_entry {
	bool used;
	char name[FC_CRYPTO_NAME_MAX + 1];
	unsigned char key[FC_KEY_LEN];
};

struct fc_secu {
	bool set;
	char *keyword;
	struct fc_secu_entry cache[FC_SECU_CACHE];
	size_t next;               /* the cache entry replaced next */
	unsigned long derivations; /* PBKDF2 runs so far (kept by clear) */
};

/* USEK: forget the old keyword and its keys, keep the new one (no PBKDF2
 * yet: keys are derived when first needed, or by fc_secu_prepare). */
int fc_secu_set(struct fc_secu *s, const char *keyword);
/* Derive (and cache) the key of recipient name now, e.g. one's own. */
int fc_secu_prepare(struct fc_secu *s, const char *name);
void fc_secu_clear(struct fc_secu *s);
int fc_secu_seal(struct fc_secu *s, const struct fc_pair *names, const void *pt,
		 size_t n, char **token);
int fc_secu_open(struct fc_secu *s, const struct fc_pair *names,
		 const char *token, char **pt, size_t *n);

#endif
