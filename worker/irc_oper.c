/* Server operators for the irc dialect: OPER against the operator block
 * of --irc-oper (a PBKDF2-SHA256 hash, checked with OpenSSL; the given
 * password is wiped once hashed), and what operators may do: KILL any IRC
 * user on any worker, WALLOPS to the users with +w. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/log.h"
#include "irc_priv.h"

#define OPER_KEY_MAX 64
/* Each check costs the worker's loop a PBKDF2 (≈35 ms at 100,000
 * iterations here): a worker hashes at most OPER_BURST at once and one
 * more every OPER_REFILL_MS, so no client can stall it with wrong OPERs. */
#define OPER_BURST 4
#define OPER_REFILL_MS 500

struct oper_block {
	char name[REG_NAME_SZ];
	unsigned iter;
	unsigned char salt[OPER_KEY_MAX], key[OPER_KEY_MAX];
	size_t salt_len, key_len;
};

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Hex digits into bytes: their count, or 0 when not hex or too long. */
static size_t
unhex(const char *s, size_t len, unsigned char *out, size_t cap)
{
	if (len == 0 || len % 2 || len / 2 > cap)
		return 0;
	for (size_t i = 0; i < len; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return 0;
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	return len / 2;
}

/* "name:pbkdf2-sha256$ITER$SALTHEX$KEYHEX" into b: 0, or -1. */
static int
oper_parse(const char *spec, struct oper_block *b)
{
	const char *colon = strchr(spec, ':');
	static const char tag[] = "pbkdf2-sha256$";

	if (colon == NULL || (size_t)(colon - spec) >= sizeof(b->name) ||
	    strncmp(colon + 1, tag, sizeof(tag) - 1) != 0)
		return -1;
	memcpy(b->name, spec, (size_t)(colon - spec));
	b->name[colon - spec] = '\0';
	const char *p = colon + sizeof(tag);
	char *end;
	unsigned long iter = strtoul(p, &end, 10);
	if (*end != '$' || iter == 0 || iter > 10000000)
		return -1;
	b->iter = (unsigned)iter;
	const char *salt = end + 1, *key = strchr(salt, '$');
	if (key == NULL)
		return -1;
	b->salt_len = unhex(salt, (size_t)(key - salt), b->salt, OPER_KEY_MAX);
	b->key_len = unhex(key + 1, strlen(key + 1), b->key, OPER_KEY_MAX);
	return b->salt_len && b->key_len ? 0 : -1;
}

/* Does the password (pw, len bytes) hash to the block's key? */
static bool
oper_password_ok(const struct oper_block *b, const char *pw, size_t len)
{
	unsigned char got[OPER_KEY_MAX];
	bool ok = PKCS5_PBKDF2_HMAC(pw, (int)len, b->salt, (int)b->salt_len,
				    (int)b->iter, EVP_sha256(), (int)b->key_len,
				    got) == 1 &&
		  CRYPTO_memcmp(got, b->key, b->key_len) == 0;

	OPENSSL_cleanse(got, sizeof(got));
	return ok;
}

/* May this worker hash one more OPER password now? Takes a token. */
static bool
oper_token(void)
{
	static double tokens = OPER_BURST;
	static long long last_ms;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	long long now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (last_ms != 0)
		tokens += (double)(now - last_ms) / OPER_REFILL_MS;
	last_ms = now;
	if (tokens > OPER_BURST)
		tokens = OPER_BURST;
	if (tokens < 1)
		return false;
	tokens -= 1;
	return true;
}

void
irc_cmd_oper(struct client *c, const struct irc_msg *m)
{
	struct oper_block b;
	const struct irc_param *name = &m->params[0], *pw = &m->params[1];

	if (oper_parse(c->w->lim.irc_oper, &b) < 0) {
		num(c, 491, ":No O-lines for your host");
		return;
	}
	bool named = irc_eq(name->p, name->len, b.name, strlen(b.name));
	if (named && !oper_token()) {
		OPENSSL_cleanse((void *)pw->p, pw->len);
		num(c, 263, "OPER :Too many OPER attempts, try again later");
		return;
	}
	bool ok = named && oper_password_ok(&b, pw->p, pw->len);
	/* the line buffer held the password: wipe our view of it */
	OPENSSL_cleanse((void *)pw->p, pw->len);
	if (!ok) {
		log_info("irc: failed OPER as '%.*s' from %s", (int)name->len,
			 name->p, c->conn.ip);
		num(c, 464, ":Password incorrect");
		return;
	}
	IRC(c)->oper = true;
	irc_publish(c);
	send_line(c, ":%s MODE %s :+o", irc_me(c), irc_me(c));
	num(c, 381, ":You are now an IRC operator");
	log_info("irc: %s is now an operator", c->name);
}

static bool
need_oper(struct client *c)
{
	if (IRC(c)->oper)
		return true;
	num(c, 481, ":Permission Denied- You're not an IRC operator");
	return false;
}

/* KILL nick [reason]: the victim's worker closes it (irc_killed); the
 * reason goes to the log, as an event's header has no room for it. */
void
irc_cmd_kill(struct client *c, const struct irc_msg *m)
{
	struct reg_user_view v;
	char reason[256];
	const struct irc_param *t = &m->params[0];

	if (!need_oper(c))
		return;
	if (registry_lookup(c->w->reg, t->p, t->len, &v) < 0) {
		num(c, 401, "%.*s :No such nick/channel", (int)t->len, t->p);
		return;
	}
	if (v.dialect != DIALECT_IRC) {
		num(c, 483, "%s :Only IRC users can be killed", v.name);
		return;
	}
	irc_param_str(m, 1, reason, sizeof(reason));
	struct fanout_args a = {.kind = EV_PM,
				.flags = EVF_RAW_ONLY | EVF_KILL,
				.from = c,
				.room = -1,
				.to = &v};
	log_info("irc: %s kills %s (%s)", c->name, v.name, reason);
	fanout_ex(c->w, &a);
}

void
irc_cmd_wallops(struct client *c, const struct irc_msg *m)
{
	const struct irc_param *t = &m->params[0];

	if (!need_oper(c))
		return;
	struct fanout_args a = {.kind = EV_BCST,
				.flags = EVF_RAW_ONLY | EVF_WALLOPS,
				.from = c,
				.room = -1,
				.text = t->p,
				.len = t->len};
	fanout_ex(c->w, &a);
}

/* A KILL for c (irc_wants): close it, naming the killer. */
void
irc_killed(struct client *c, const char *killer)
{
	client_close(c, CR_QUIT, irc_set_quit(c, "Killed (%s)", killer));
}
