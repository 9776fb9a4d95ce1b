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

static void
test_message_round_trip_and_tamper(void **state)
{
	unsigned char key[FC_KEY_LEN], other[FC_KEY_LEN];
	const char msg[] = "hello, end-to-end world";
	char *tok, *tok2, *pt;
	size_t n;

	assert_int_equal(fc_random(key, sizeof(key)), 0);
	assert_int_equal(fc_random(other, sizeof(other)), 0);
	assert_int_equal(fc_seal(key, msg, strlen(msg), &tok), 0);
	assert_null(strchr(tok, ' '));
	assert_null(strstr(tok, "hello"));
	assert_int_equal(fc_open(key, tok, &pt, &n), 0);
	assert_string_equal(pt, msg);
	free(pt);
	/* fresh nonce: the same plaintext never gives the same token */
	assert_int_equal(fc_seal(key, msg, strlen(msg), &tok2), 0);
	assert_string_not_equal(tok, tok2);
	free(tok2);
	assert_int_equal(fc_open(other, tok, &pt, &n), FC_CRYPTO_EAUTH);
	for (size_t pos = 0; pos < FC_NONCE_LEN + strlen(msg) + FC_TAG_LEN;
	     pos += 7) {
		char *bad = flip_bit(tok, pos);
		assert_int_equal(fc_open(key, bad, &pt, &n), FC_CRYPTO_EAUTH);
		free(bad);
	}
	assert_int_equal(fc_open(key, "Zm9v", &pt, &n), FC_CRYPTO_EFORMAT);
	assert_int_equal(fc_open(key, "not base64!", &pt, &n),
			 FC_CRYPTO_EFORMAT);
	free(tok);
}

static void
test_empty_message(void **state)
{
	unsigned char key[FC_KEY_LEN] = {1};
	char *tok, *pt;
	size_t n;
	assert_int_equal(fc_seal(key, "", 0, &tok), 0);
	assert_int_equal(fc_open(key, tok, &pt, &n), 0);
	assert_int_equal(n, 0);
	free(pt);
	free(tok);
}

static void
test_session_wrap(void **state)
{
	struct fc_identity bob, eve;
	unsigned char key[FC_KEY_LEN], got[FC_KEY_LEN];
	char *tok;

	assert_int_equal(fc_identity_new(&bob), 0);
	assert_int_equal(fc_identity_new(&eve), 0);
	assert_string_not_equal(bob.pub_b64, eve.pub_b64);
	assert_int_equal(fc_random(key, sizeof(key)), 0);
	assert_int_equal(fc_wrap_session(bob.pub_b64, key, &tok), 0);
	assert_int_equal(fc_unwrap_session(&bob, tok, got), 0);
	assert_memory_equal(key, got, FC_KEY_LEN);
	/* only bob's private key opens it */
	assert_int_equal(fc_unwrap_session(&eve, tok, got), FC_CRYPTO_EAUTH);
	char *bad = flip_bit(tok, FC_PUB_LEN + FC_NONCE_LEN + 3);
	assert_int_equal(fc_unwrap_session(&bob, bad, got), FC_CRYPTO_EAUTH);
	free(bad);
	bad = flip_bit(tok, 5); /* the ephemeral key itself */
	assert_int_not_equal(fc_unwrap_session(&bob, bad, got), 0);
	free(bad);
	free(tok);
	assert_int_not_equal(fc_wrap_session("Zm9v", key, &tok), 0);
	fc_identity_free(&bob);
	fc_identity_free(&eve);
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
	assert_int_equal(fc_secu_seal(&a, "top secret", 10, &tok), 0);
	/* b has another salt of its own: the token's salt is used */
	assert_int_equal(fc_secu_open(&b, tok, &pt, &n), 0);
	assert_string_equal(pt, "top secret");
	free(pt);
	assert_int_equal(fc_secu_open(&b, tok, &pt, &n), 0); /* cached */
	free(pt);
	assert_int_equal(fc_secu_open(&a, tok, &pt, &n), 0);
	free(pt);
	assert_int_equal(fc_secu_open(&c, tok, &pt, &n), FC_CRYPTO_EAUTH);
	assert_int_equal(fc_secu_open(&none, tok, &pt, &n), FC_CRYPTO_EAUTH);
	char *bad = flip_bit(tok, FC_SALT_LEN + FC_NONCE_LEN + 1);
	assert_int_equal(fc_secu_open(&b, bad, &pt, &n), FC_CRYPTO_EAUTH);
	free(bad);
	/* a message token is not a SECU token and vice versa */
	unsigned char key[FC_KEY_LEN] = {0};
	assert_int_not_equal(fc_open(key, tok, &pt, &n), 0);
	free(tok);
	assert_int_not_equal(fc_secu_seal(&none, "x", 1, &tok), 0);
	fc_secu_clear(&a);
	fc_secu_clear(&b);
	fc_secu_clear(&c);
	assert_false(a.set);
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
