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

/* Associated data binds each token to its use and to the names of its
 * sender and receiver: "kind\0from\0to". A token of one kind can never be
 * replayed as another, nor as coming from or going to someone else. */
static const char AAD_MSG[] = "forkchat-e2e-v2";
static const char AAD_WRAP[] = "forkchat-wrap-v2";
static const char AAD_SECU[] = "forkchat-secu-v2";
static const char HKDF_INFO[] = "forkchat-session-v2";
static const char SECU_SALT[] = "forkchat-secu-key-v2";
static const char SECU_INFO[] = "forkchat-secu-msg-v2";

#define AAD_MAX 128

struct aad {
	unsigned char b[AAD_MAX];
	size_t n;
};

/* Names are one name ignoring ASCII case (the server's rule), so they are
 * bound in lower case: n bytes of name into out. */
static void
name_fold(unsigned char *out, const char *name, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];
		out[i] = ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch;
	}
}

/* kind NUL from NUL to; -1 when a name is too long to be one. */
static int
aad_make(struct aad *a, const char *kind, const struct fc_pair *p)
{
	size_t k = strlen(kind), f = strlen(p->from), t = strlen(p->to);
	if (f > FC_CRYPTO_NAME_MAX || t > FC_CRYPTO_NAME_MAX ||
	    k + f + t + 2 > AAD_MAX)
		return -1;
	memcpy(a->b, kind, k + 1);
	name_fold(a->b + k + 1, p->from, f);
	a->b[k + 1 + f] = '\0';
	name_fold(a->b + k + f + 2, p->to, t);
	a->n = k + f + t + 2;
	return 0;
}

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
gcm_seal(const unsigned char *key, const struct aad *aad, const void *pt,
	 size_t n, unsigned char *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len, ok = ctx != NULL && n < INT32_MAX &&
		      fc_random(out, FC_NONCE_LEN) == 0;

	ok = ok &&
	     EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, out) == 1;
	ok = ok && EVP_EncryptUpdate(ctx, NULL, &len, aad->b, (int)aad->n) == 1;
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
gcm_open(const unsigned char *key, const struct aad *aad,
	 const unsigned char *in, size_t n, unsigned char *out)
{
	if (n < FC_NONCE_LEN + FC_TAG_LEN || n > INT32_MAX)
		return FC_CRYPTO_EFORMAT;
	size_t ctlen = n - FC_NONCE_LEN - FC_TAG_LEN;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len, ok = ctx != NULL;

	ok = ok &&
	     EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, in) == 1;
	ok = ok && EVP_DecryptUpdate(ctx, NULL, &len, aad->b, (int)aad->n) == 1;
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
seal_token(const unsigned char *key, const struct aad *aad,
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
open_token(const char *token, size_t plen, const struct aad *aad,
	   key_picker pick, void *arg, char **pt, size_t *n)
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
fc_seal(const unsigned char key[FC_KEY_LEN], const struct fc_pair *names,
	const void *pt, size_t n, char **token)
{
	struct aad a;
	if (aad_make(&a, AAD_MSG, names) < 0)
		return FC_CRYPTO_EFORMAT;
	return seal_token(key, &a, NULL, 0, pt, n, token);
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
fc_open(const unsigned char key[FC_KEY_LEN], const struct fc_pair *names,
	const char *token, char **pt, size_t *n)
{
	struct aad a;
	if (aad_make(&a, AAD_MSG, names) < 0)
		return FC_CRYPTO_EFORMAT;
	return open_token(token, 0, &a, pick_fixed, (void *)key, pt, n);
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

static int
x25519(EVP_PKEY *mine, EVP_PKEY *peer, unsigned char out[32])
{
	size_t n = 32;
	EVP_PKEY_CTX *dh = EVP_PKEY_CTX_new(mine, NULL);
	int ok = dh && EVP_PKEY_derive_init(dh) == 1 &&
		 EVP_PKEY_derive_set_peer(dh, peer) == 1 &&
		 EVP_PKEY_derive(dh, out, &n) == 1 && n == 32;
	EVP_PKEY_CTX_free(dh);
	return ok ? FC_CRYPTO_OK : FC_CRYPTO_EINTERNAL;
}

static int
hkdf(const unsigned char *ikm, size_t ikmlen, const unsigned char *salt,
     size_t saltlen, const unsigned char *info, size_t infolen,
     unsigned char key[FC_KEY_LEN])
{
	size_t klen = FC_KEY_LEN;
	EVP_PKEY_CTX *kdf = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	int ok = kdf && EVP_PKEY_derive_init(kdf) == 1 &&
		 EVP_PKEY_CTX_set_hkdf_md(kdf, EVP_sha256()) == 1 &&
		 EVP_PKEY_CTX_set1_hkdf_salt(kdf, salt, (int)saltlen) == 1 &&
		 EVP_PKEY_CTX_set1_hkdf_key(kdf, ikm, (int)ikmlen) == 1 &&
		 EVP_PKEY_CTX_add1_hkdf_info(kdf, info, (int)infolen) == 1 &&
		 EVP_PKEY_derive(kdf, key, &klen) == 1;
	EVP_PKEY_CTX_free(kdf);
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

/* A peer's public key from its base64 form; NULL unless 32 raw bytes. */
static EVP_PKEY *
pub_from_b64(const char *b64, unsigned char raw[FC_PUB_LEN])
{
	unsigned char *d = NULL;
	size_t n = 0;
	EVP_PKEY *k = NULL;
	if (fc_b64_decode(b64, strlen(b64), &d, &n) == 0 && n == FC_PUB_LEN) {
		memcpy(raw, d, FC_PUB_LEN);
		k = pub_from_raw(raw, n);
	}
	free(d);
	return k;
}

/* The wrap key of one exchange: both DH results (ephemeral-static, which
 * only the recipient can redo, and static-static, which only the sender
 * could have done) through HKDF-SHA256 with all three public keys,
 * eph_pub || recipient_pub || sender_pub, as the salt. */
struct wrap_keys {
	EVP_PKEY *a1, *b1; /* X25519(a1, b1): eph <-> recipient */
	EVP_PKEY *a2, *b2; /* X25519(a2, b2): sender <-> recipient */
	unsigned char salt[3 * FC_PUB_LEN];
};

static int
derive_wrap_key(const struct wrap_keys *w, unsigned char key[FC_KEY_LEN])
{
	unsigned char ikm[64];
	int rc = x25519(w->a1, w->b1, ikm);
	if (rc == 0)
		rc = x25519(w->a2, w->b2, ikm + 32);
	if (rc == 0)
		rc = hkdf(ikm, sizeof(ikm), w->salt, sizeof(w->salt),
			  (const unsigned char *)HKDF_INFO, strlen(HKDF_INFO),
			  key);
	OPENSSL_cleanse(ikm, sizeof(ikm));
	return rc;
}

int
fc_wrap_session(const struct fc_identity *me, const char *peer_pub_b64,
		const struct fc_pair *names,
		const unsigned char key[FC_KEY_LEN], char **token)
{
	struct wrap_keys w = {0};
	struct aad a;
	unsigned char wk[FC_KEY_LEN];
	EVP_PKEY *peer = pub_from_b64(peer_pub_b64, w.salt + FC_PUB_LEN);
	EVP_PKEY *eph = peer ? EVP_PKEY_Q_keygen(NULL, NULL, "X25519") : NULL;
	int rc = FC_CRYPTO_EFORMAT;

	w.a1 = eph;
	w.b1 = w.b2 = peer;
	w.a2 = me->pkey;
	if (eph && aad_make(&a, AAD_WRAP, names) == 0 &&
	    raw_pub(eph, w.salt) == 0 &&
	    raw_pub(me->pkey, w.salt + 2 * FC_PUB_LEN) == 0)
		rc = derive_wrap_key(&w, wk);
	if (rc == 0)
		rc = seal_token(wk, &a, w.salt, FC_PUB_LEN, key, FC_KEY_LEN,
				token);
	OPENSSL_cleanse(wk, sizeof(wk));
	EVP_PKEY_free(eph);
	EVP_PKEY_free(peer);
	return rc;
}

struct unwrap_arg {
	const struct fc_identity *me;
	EVP_PKEY *sender;
	const unsigned char *sender_raw;
};

static int
pick_unwrap(void *arg, const unsigned char *prefix,
	    unsigned char key[FC_KEY_LEN])
{
	const struct unwrap_arg *u = arg;
	struct wrap_keys w = {0};
	EVP_PKEY *eph = pub_from_raw(prefix, FC_PUB_LEN);
	int rc = FC_CRYPTO_EFORMAT;

	w.a1 = w.a2 = u->me->pkey;
	w.b1 = eph;
	w.b2 = u->sender;
	memcpy(w.salt, prefix, FC_PUB_LEN);
	memcpy(w.salt + 2 * FC_PUB_LEN, u->sender_raw, FC_PUB_LEN);
	if (eph && raw_pub(u->me->pkey, w.salt + FC_PUB_LEN) == 0)
		rc = derive_wrap_key(&w, key);
	EVP_PKEY_free(eph);
	return rc;
}

int
fc_unwrap_session(const struct fc_identity *me, const char *sender_pub_b64,
		  const struct fc_pair *names, const char *token,
		  unsigned char key[FC_KEY_LEN])
{
	unsigned char sraw[FC_PUB_LEN];
	struct unwrap_arg u = {me, pub_from_b64(sender_pub_b64, sraw), sraw};
	struct aad a;
	char *pt = NULL;
	size_t n = 0;
	int rc = FC_CRYPTO_EFORMAT;

	if (u.sender && aad_make(&a, AAD_WRAP, names) == 0)
		rc = open_token(token, FC_PUB_LEN, &a, pick_unwrap, &u, &pt,
				&n);
	EVP_PKEY_free(u.sender);
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

int
fc_fingerprint(const char *pub_b64, char out[FC_FP_LEN])
{
	unsigned char raw[FC_PUB_LEN], md[32];
	EVP_PKEY *k = pub_from_b64(pub_b64, raw);
	if (k == NULL)
		return FC_CRYPTO_EFORMAT;
	EVP_PKEY_free(k);
	if (EVP_Digest(raw, sizeof(raw), md, NULL, EVP_sha256(), NULL) != 1)
		return FC_CRYPTO_EINTERNAL;
	for (int i = 0; i < 8; i++)
		snprintf(out + 5 * i, FC_FP_LEN - 5 * (size_t)i, "%02x%02x%s",
			 md[2 * i], md[2 * i + 1], i < 7 ? ":" : "");
	return FC_CRYPTO_OK;
}

bool
fc_pub_valid(const char *pub_b64)
{
	unsigned char raw[FC_PUB_LEN];
	EVP_PKEY *k = pub_from_b64(pub_b64, raw);
	EVP_PKEY_free(k);
	return k != NULL;
}

/* ---- numeric SECU ---- */

/* The key of one recipient: PBKDF2-HMAC-SHA256(keyword, salt = SECU_SALT
 * NUL name), FC_PBKDF2_ITER iterations: the only expensive step, done once
 * per keyword and recipient and cached. */
static int
secu_recipient_key(struct fc_secu *s, const char *name,
		   unsigned char key[FC_KEY_LEN])
{
	unsigned char salt[sizeof(SECU_SALT) + FC_CRYPTO_NAME_MAX];
	char folded[FC_CRYPTO_NAME_MAX + 1];
	size_t n = strlen(name);
	if (n > FC_CRYPTO_NAME_MAX)
		return FC_CRYPTO_EFORMAT;
	name_fold((unsigned char *)folded, name, n + 1);
	for (size_t i = 0; i < FC_SECU_CACHE; i++)
		if (s->cache[i].used && strcmp(s->cache[i].name, folded) == 0) {
			memcpy(key, s->cache[i].key, FC_KEY_LEN);
			return FC_CRYPTO_OK;
		}
	memcpy(salt, SECU_SALT, sizeof(SECU_SALT));
	memcpy(salt + sizeof(SECU_SALT), folded, n);
	struct fc_secu_entry *e = &s->cache[s->next];
	s->next = (s->next + 1) % FC_SECU_CACHE;
	s->derivations++;
	if (PKCS5_PBKDF2_HMAC(s->keyword, (int)strlen(s->keyword), salt,
			      (int)(sizeof(SECU_SALT) + n), FC_PBKDF2_ITER,
			      EVP_sha256(), FC_KEY_LEN, e->key) != 1) {
		OPENSSL_cleanse(e, sizeof(*e));
		return FC_CRYPTO_EINTERNAL;
	}
	e->used = true;
	memcpy(e->name, folded, n + 1);
	memcpy(key, e->key, FC_KEY_LEN);
	return FC_CRYPTO_OK;
}

/* The key of one message: HKDF-SHA256 of the recipient's key with the
 * token's random salt and both names as info; cheap, so a token with a
 * fresh salt costs microseconds, not a PBKDF2 run. */
static int
secu_message_key(struct fc_secu *s, const struct fc_pair *names,
		 const unsigned char salt[FC_SALT_LEN],
		 unsigned char key[FC_KEY_LEN])
{
	unsigned char rk[FC_KEY_LEN];
	struct aad info;
	int rc = aad_make(&info, SECU_INFO, names) == 0
			 ? secu_recipient_key(s, names->to, rk)
			 : FC_CRYPTO_EFORMAT;
	if (rc == 0)
		rc = hkdf(rk, sizeof(rk), salt, FC_SALT_LEN, info.b, info.n,
			  key);
	OPENSSL_cleanse(rk, sizeof(rk));
	return rc;
}

int
fc_secu_set(struct fc_secu *s, const char *keyword)
{
	fc_secu_clear(s);
	s->keyword = strdup(keyword);
	if (s->keyword == NULL)
		return FC_CRYPTO_EINTERNAL;
	s->set = true;
	return FC_CRYPTO_OK;
}

int
fc_secu_prepare(struct fc_secu *s, const char *name)
{
	unsigned char key[FC_KEY_LEN];
	if (!s->set)
		return FC_CRYPTO_EAUTH;
	int rc = secu_recipient_key(s, name, key);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

void
fc_secu_clear(struct fc_secu *s)
{
	unsigned long runs = s->derivations;
	if (s->keyword) {
		OPENSSL_cleanse(s->keyword, strlen(s->keyword));
		free(s->keyword);
	}
	OPENSSL_cleanse(s, sizeof(*s));
	s->keyword = NULL;
	s->set = false;
	s->derivations = runs;
}

int
fc_secu_seal(struct fc_secu *s, const struct fc_pair *names, const void *pt,
	     size_t n, char **token)
{
	unsigned char salt[FC_SALT_LEN], key[FC_KEY_LEN];
	struct aad a;
	if (!s->set)
		return FC_CRYPTO_EAUTH;
	int rc = aad_make(&a, AAD_SECU, names) == 0
			 ? fc_random(salt, sizeof(salt))
			 : FC_CRYPTO_EFORMAT;
	if (rc == 0)
		rc = secu_message_key(s, names, salt, key);
	if (rc == 0)
		rc = seal_token(key, &a, salt, FC_SALT_LEN, pt, n, token);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

struct secu_arg {
	struct fc_secu *s;
	const struct fc_pair *names;
};

static int
pick_secu(void *arg, const unsigned char *salt, unsigned char key[FC_KEY_LEN])
{
	const struct secu_arg *a = arg;
	return secu_message_key(a->s, a->names, salt, key);
}

int
fc_secu_open(struct fc_secu *s, const struct fc_pair *names, const char *token,
	     char **pt, size_t *n)
{
	struct secu_arg arg = {s, names};
	struct aad a;
	if (!s->set)
		return FC_CRYPTO_EAUTH;
	if (aad_make(&a, AAD_SECU, names) < 0)
		return FC_CRYPTO_EFORMAT;
	return open_token(token, FC_SALT_LEN, &a, pick_secu, &arg, pt, n);
}
