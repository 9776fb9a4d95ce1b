/* Unit tests for proto/crypto.c: base64 strictness, round trips of every
 * token kind, and that tampering or a wrong key is always refused (never
 * garbage plaintext). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../proto/crypto.h"

static void
test_b64_vectors(void **state)
{
	static const char *plain[] = {"",     "f",     "fo",    "foo",
				      "foob", "fooba", "foobar"};
	static const char *enc[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
				    "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	for (size_t i = 0; i < 7; i++) {
		char *s;
		assert_int_equal(fc_b64_encode((const unsigned char *)plain[i],
					       strlen(plain[i]), &s),
				 0);
		assert_string_equal(s, enc[i]);
		free(s);
		if (i == 0)
			continue;
		unsigned char *d;
		size_t n;
		assert_int_equal(fc_b64_decode(enc[i], strlen(enc[i]), &d, &n),
				 0);
		assert_int_equal(n, strlen(plain[i]));
		assert_memory_equal(d, plain[i], n);
		free(d);
	}
}

static void
test_b64_rejects(void **state)
{
	static const char *bad[] = {"",     "Zg=",   "Zg=a",
				    "Z===", "Zm 9v", "Zm9v\n",
				    "Zm9*", "=Zm9",  "Zg==Zg=="};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned char *d;
		size_t n;
		assert_int_equal(fc_b64_decode(bad[i], strlen(bad[i]), &d, &n),
				 FC_CRYPTO_EFORMAT);
	}
}

/* Flip one bit of the byte at position pos of a token's decoded form. */
static char *
flip_bit(const char *token, size_t pos)
{
	unsigned char *raw;
	size_t n;
	char *out;
	assert_int_equal(fc_b64_decode(token, strlen(token), &raw, &n), 0);
	assert_true(pos < n);
	raw[pos] ^= 0x01;
	assert_int_equal(fc_b64_encode(raw, n, &out), 0);
	free(raw);
	return out;
}

static const struct fc_pair AB = {"alice", "bob"};
static const struct fc_pair FB = {"frank", "bob"};
static const struct fc_pair AC = {"alice", "carol"};
static const struct fc_pair BA = {"bob", "alice"};

static void
test_message_round_trip_and_tamper(void **state)
{
	unsigned char key[FC_KEY_LEN], other[FC_KEY_LEN];
	const char msg[] = "hello, end-to-end world";
	char *tok, *tok2, *pt;
	size_t n;

	assert_int_equal(fc_random(key, sizeof(key)), 0);
	assert_int_equal(fc_random(other, sizeof(other)), 0);
	assert_int_equal(fc_seal(key, &AB, msg, strlen(msg), &tok), 0);
	assert_null(strchr(tok, ' '));
	assert_null(strstr(tok, "hello"));
	assert_int_equal(fc_open(key, &AB, tok, &pt, &n), 0);
	assert_string_equal(pt, msg);
	free(pt);
	/* fresh nonce: the same plaintext never gives the same token */
	assert_int_equal(fc_seal(key, &AB, msg, strlen(msg), &tok2), 0);
	assert_string_not_equal(tok, tok2);
	free(tok2);
	assert_int_equal(fc_open(other, &AB, tok, &pt, &n), FC_CRYPTO_EAUTH);
	for (size_t pos = 0; pos < FC_NONCE_LEN + strlen(msg) + FC_TAG_LEN;
	     pos += 7) {
		char *bad = flip_bit(tok, pos);
		assert_int_equal(fc_open(key, &AB, bad, &pt, &n),
				 FC_CRYPTO_EAUTH);
		free(bad);
	}
	assert_int_equal(fc_open(key, &AB, "Zm9v", &pt, &n), FC_CRYPTO_EFORMAT);
	assert_int_equal(fc_open(key, &AB, "not base64!", &pt, &n),
			 FC_CRYPTO_EFORMAT);
	free(tok);
}

/* item 8: a message is bound to its sender and receiver */
static void
test_item8_message_bound_to_names(void **state)
{
	unsigned char key[FC_KEY_LEN] = {7};
	char *tok, *pt;
	size_t n;

	assert_int_equal(fc_seal(key, &AB, "hi", 2, &tok), 0);
	assert_int_equal(fc_open(key, &FB, tok, &pt, &n), FC_CRYPTO_EAUTH);
	assert_int_equal(fc_open(key, &AC, tok, &pt, &n), FC_CRYPTO_EAUTH);
	assert_int_equal(fc_open(key, &BA, tok, &pt, &n), FC_CRYPTO_EAUTH);
	/* names are one name ignoring ASCII case, as on the server */
	struct fc_pair ab_case = {"Alice", "BOB"};
	assert_int_equal(fc_open(key, &ab_case, tok, &pt, &n), 0);
	assert_string_equal(pt, "hi");
	free(pt);
	/* "ab"+"c" and "a"+"bc" are different pairs */
	struct fc_pair x = {"ab", "c"}, y = {"a", "bc"};
	free(tok);
	assert_int_equal(fc_seal(key, &x, "hi", 2, &tok), 0);
	assert_int_equal(fc_open(key, &y, tok, &pt, &n), FC_CRYPTO_EAUTH);
	free(tok);
}

static void
test_empty_message(void **state)
{
	unsigned char key[FC_KEY_LEN] = {1};
	char *tok, *pt;
	size_t n;
	assert_int_equal(fc_seal(key, &AB, "", 0, &tok), 0);
	assert_int_equal(fc_open(key, &AB, tok, &pt, &n), 0);
	assert_int_equal(n, 0);
	free(pt);
	free(tok);
}

static void
test_session_wrap(void **state)
{
	struct fc_identity alice, bob, eve;
	unsigned char key[FC_KEY_LEN], got[FC_KEY_LEN];
	char *tok;

	assert_int_equal(fc_identity_new(&alice), 0);
	assert_int_equal(fc_identity_new(&bob), 0);
	assert_int_equal(fc_identity_new(&eve), 0);
	assert_string_not_equal(bob.pub_b64, eve.pub_b64);
	assert_int_equal(fc_random(key, sizeof(key)), 0);
	assert_int_equal(fc_wrap_session(&alice, bob.pub_b64, &AB, key, &tok),
			 0);
	assert_int_equal(fc_unwrap_session(&bob, alice.pub_b64, &AB, tok, got),
			 0);
	assert_memory_equal(key, got, FC_KEY_LEN);
	/* only bob's private key opens it */
	assert_int_equal(fc_unwrap_session(&eve, alice.pub_b64, &AB, tok, got),
			 FC_CRYPTO_EAUTH);
	char *bad = flip_bit(tok, FC_PUB_LEN + FC_NONCE_LEN + 3);
	assert_int_equal(fc_unwrap_session(&bob, alice.pub_b64, &AB, bad, got),
			 FC_CRYPTO_EAUTH);
	free(bad);
	bad = flip_bit(tok, 5); /* the ephemeral key itself */
	assert_int_not_equal(
		fc_unwrap_session(&bob, alice.pub_b64, &AB, bad, got), 0);
	free(bad);
	free(tok);
	assert_int_not_equal(fc_wrap_session(&alice, "Zm9v", &AB, key, &tok),
			     0);
	fc_identity_free(&alice);
	fc_identity_free(&bob);
	fc_identity_free(&eve);
}

/* item 8: a wrapped session key is bound to its sender's key and to both
 * names: replayed as frank's (even with frank's key said to be alice's),
 * made by someone else for bob's public key, or meant for another pair,
 * it does not open */
static void
test_item8_wrap_bound_to_sender_and_pair(void **state)
{
	struct fc_identity alice, bob, eve;
	unsigned char key[FC_KEY_LEN] = {9}, got[FC_KEY_LEN];
	char *tok;

	assert_int_equal(fc_identity_new(&alice), 0);
	assert_int_equal(fc_identity_new(&bob), 0);
	assert_int_equal(fc_identity_new(&eve), 0);
	assert_int_equal(fc_wrap_session(&alice, bob.pub_b64, &AB, key, &tok),
			 0);
	assert_int_equal(fc_unwrap_session(&bob, alice.pub_b64, &FB, tok, got),
			 FC_CRYPTO_EAUTH);
	assert_int_equal(fc_unwrap_session(&bob, eve.pub_b64, &AB, tok, got),
			 FC_CRYPTO_EAUTH);
	free(tok);
	/* eve (the server) wraps a key to bob's public key, claiming alice */
	assert_int_equal(fc_wrap_session(&eve, bob.pub_b64, &AB, key, &tok), 0);
	assert_int_equal(fc_unwrap_session(&bob, alice.pub_b64, &AB, tok, got),
			 FC_CRYPTO_EAUTH);
	free(tok);
	/* the same public key published under two names: a key alice wrapped
	 * for "carol" (really bob's key) does not open as alice -> bob */
	assert_int_equal(fc_wrap_session(&alice, bob.pub_b64, &AC, key, &tok),
			 0);
	assert_int_equal(fc_unwrap_session(&bob, alice.pub_b64, &AB, tok, got),
			 FC_CRYPTO_EAUTH);
	free(tok);
	fc_identity_free(&alice);
	fc_identity_free(&bob);
	fc_identity_free(&eve);
}

static void
test_fingerprint(void **state)
{
	struct fc_identity a;
	char fp[FC_FP_LEN], fp2[FC_FP_LEN];
	assert_int_equal(fc_identity_new(&a), 0);
	assert_true(fc_pub_valid(a.pub_b64));
	assert_false(fc_pub_valid("Zm9v"));
	assert_int_equal(fc_fingerprint(a.pub_b64, fp), 0);
	assert_int_equal(strlen(fp), 39);
	assert_int_equal(fc_fingerprint(a.pub_b64, fp2), 0);
	assert_string_equal(fp, fp2);
	assert_int_equal(fc_fingerprint("Zm9v", fp), FC_CRYPTO_EFORMAT);
	fc_identity_free(&a);
}

static void
test_secu(void **state)
{
	struct fc_secu a = {0}, b = {0}, c = {0}, none = {0};
	char *tok, *pt;
	size_t n;

	assert_int_equal(fc_secu_set(&a, "correct horse"), 0);
	assert_int_equal(fc_secu_set(&b, "correct horse"), 0);
	assert_int_equal(fc_secu_set(&c, "wrong horse"), 0);
	assert_int_equal(fc_secu_seal(&a, &AB, "top secret", 10, &tok), 0);
	assert_int_equal(fc_secu_open(&b, &AB, tok, &pt, &n), 0);
	assert_string_equal(pt, "top secret");
	free(pt);
	assert_int_equal(fc_secu_open(&b, &AB, tok, &pt, &n), 0); /* cached */
	free(pt);
	assert_int_equal(b.derivations, 1);
	assert_int_equal(fc_secu_open(&c, &AB, tok, &pt, &n), FC_CRYPTO_EAUTH);
	assert_int_equal(fc_secu_open(&none, &AB, tok, &pt, &n),
			 FC_CRYPTO_EAUTH);
	char *bad = flip_bit(tok, FC_SALT_LEN + FC_NONCE_LEN + 1);
	assert_int_equal(fc_secu_open(&b, &AB, bad, &pt, &n), FC_CRYPTO_EAUTH);
	free(bad);
	bad = flip_bit(tok, 3); /* the salt */
	assert_int_equal(fc_secu_open(&b, &AB, bad, &pt, &n), FC_CRYPTO_EAUTH);
	free(bad);
	/* a message token is not a SECU token and vice versa */
	unsigned char key[FC_KEY_LEN] = {0};
	assert_int_not_equal(fc_open(key, &AB, tok, &pt, &n), 0);
	/* item 8: bound to the sender and the receiver */
	assert_int_equal(fc_secu_open(&b, &FB, tok, &pt, &n), FC_CRYPTO_EAUTH);
	assert_int_equal(fc_secu_open(&b, &AC, tok, &pt, &n), FC_CRYPTO_EAUTH);
	free(tok);
	assert_int_not_equal(fc_secu_seal(&none, &AB, "x", 1, &tok), 0);
	fc_secu_clear(&a);
	fc_secu_clear(&b);
	fc_secu_clear(&c);
	assert_false(a.set);
}

/* item 7: 100 bogus tokens with fresh salts cost no PBKDF2 run at all once
 * the receiver's own key is derived, and a friend's message still opens */
static void
test_item7_bogus_tokens_cost_no_derivation(void **state)
{
	struct fc_secu a = {0}, b = {0};
	char *tok, *pt;
	size_t n;

	assert_true(FC_PBKDF2_ITER >= 600000);
	assert_int_equal(fc_secu_set(&a, "kw"), 0);
	assert_int_equal(fc_secu_set(&b, "kw"), 0);
	assert_int_equal(fc_secu_prepare(&b, "bob"), 0);
	assert_int_equal(b.derivations, 1);
	for (int i = 0; i < 100; i++) {
		unsigned char raw[FC_SALT_LEN + FC_NONCE_LEN + 8 + FC_TAG_LEN];
		char *bogus;
		assert_int_equal(fc_random(raw, sizeof(raw)), 0);
		assert_int_equal(fc_b64_encode(raw, sizeof(raw), &bogus), 0);
		struct fc_pair from = {i % 2 ? "mallory" : "alice", "bob"};
		assert_int_equal(fc_secu_open(&b, &from, bogus, &pt, &n),
				 FC_CRYPTO_EAUTH);
		free(bogus);
	}
	assert_int_equal(b.derivations, 1);
	assert_int_equal(fc_secu_seal(&a, &AB, "friend", 6, &tok), 0);
	assert_int_equal(fc_secu_open(&b, &AB, tok, &pt, &n), 0);
	assert_string_equal(pt, "friend");
	free(pt);
	free(tok);
	/* the sender derives once per recipient, then reuses it */
	assert_int_equal(fc_secu_seal(&a, &AB, "again", 5, &tok), 0);
	free(tok);
	assert_int_equal(a.derivations, 1);
	/* "SECU BOB ..." reaches the user bob: the same key */
	struct fc_pair to_upper = {"alice", "BOB"};
	assert_int_equal(fc_secu_seal(&a, &to_upper, "case", 4, &tok), 0);
	assert_int_equal(a.derivations, 1);
	assert_int_equal(fc_secu_open(&b, &AB, tok, &pt, &n), 0);
	free(pt);
	free(tok);
	fc_secu_clear(&a);
	fc_secu_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_vectors),
		cmocka_unit_test(test_b64_rejects),
		cmocka_unit_test(test_message_round_trip_and_tamper),
		cmocka_unit_test(test_empty_message),
		cmocka_unit_test(test_session_wrap),
		cmocka_unit_test(test_secu),
		cmocka_unit_test(test_item8_message_bound_to_names),
		cmocka_unit_test(test_item8_wrap_bound_to_sender_and_pair),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_item7_bogus_tokens_cost_no_derivation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
