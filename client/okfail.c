/* The okfail dialect (seed 000) and its end-to-end encryption: a key pair
 * per run published with PM_PUBKEY, peers' keys pinned for the connection,
 * one session key per peer and direction sent once with PM_SESSIONKEY,
 * PRIVATE_MESSAGE carrying only ciphertext bound to both names. A peer's
 * keys are erased when it leaves (docs/CRYPTO.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "../common/util.h"
#include "client.h"

/* ---- peers ---- */

static struct peer *
peer_find(struct client *c, const char *name, bool create)
{
	for (size_t i = 0; i < c->npeers; i++)
		if (strcasecmp(c->peers[i].name, name) == 0)
			return &c->peers[i];
	if (!create || !wire_valid_name(name, strlen(name)) ||
	    c->npeers >= CL_MAX_PEERS)
		return NULL;
	struct peer *p = realloc(c->peers, (c->npeers + 1) * sizeof(*p));
	if (p == NULL)
		return NULL;
	c->peers = p;
	p = &c->peers[c->npeers++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	return p;
}

static void
peer_erase_keys(struct peer *p)
{
	OPENSSL_cleanse(p->out, sizeof(p->out));
	OPENSSL_cleanse(p->in, sizeof(p->in));
	p->out_ok = p->in_ok = false;
}

/* LEFT: the keys go, the fingerprint stays to compare with the next key. */
static void
peer_forget(struct client *c, const char *name)
{
	struct peer *p = peer_find(c, name, false);
	if (p == NULL)
		return;
	peer_erase_keys(p);
	free(p->pub);
	p->pub = NULL;
}

void
ok_free(struct client *c)
{
	for (size_t i = 0; i < c->npeers; i++) {
		peer_erase_keys(&c->peers[i]);
		free(c->peers[i].pub);
	}
	c->npeers = 0;
	free(c->peers);
	c->peers = NULL;
	free(c->held_text);
	c->held_text = NULL;
}

/* ---- sending ---- */

void
ok_send_login(struct client *c, const char *name)
{
	net_sendf(c, "IDENT %s", name);
	fifo_push(c, P_LOGIN, NULL, NULL);
}

static bool
send_session_key(struct client *c, struct peer *p)
{
	char *tok;
	struct fc_pair names = {c->name, p->name};
	if (fc_random(p->out, FC_KEY_LEN) != 0 ||
	    fc_wrap_session(&c->id, p->pub, &names, p->out, &tok) != 0) {
		ui_error(c,
			 "cannot encrypt a session key for %s (bad public "
			 "key?)",
			 p->name);
		return false;
	}
	net_sendf(c, "PM_SESSIONKEY %s %s", p->name, tok);
	fifo_push(c, P_INTERNAL, p->name, NULL);
	p->out_ok = true;
	free(tok);
	return true;
}

/* Encrypt and send; false when the peer's public key is not known yet. */
static bool
send_private(struct client *c, const char *peer, const char *text)
{
	struct peer *p = peer_find(c, peer, false);
	size_t n = strlen(text);
	if (p == NULL || p->pub == NULL)
		return false;
	size_t toklen = 4 * ((FC_NONCE_LEN + n + FC_TAG_LEN + 2) / 3);
	if (toklen + strlen(peer) + 18 > CL_MAX_LINE - 2) {
		ui_error(c, "message too long once encrypted; not sent");
		return true;
	}
	if (!p->out_ok && !send_session_key(c, p))
		return true;
	char *tok;
	struct fc_pair names = {c->name, peer};
	if (fc_seal(p->out, &names, text, n, &tok) != 0) {
		ui_error(c, "encryption failed; message not sent");
		return true;
	}
	net_sendf(c, "PRIVATE_MESSAGE %s %s", peer, tok);
	fifo_push(c, P_PRIVMSG, peer, text);
	free(tok);
	return true;
}

static void
release_held(struct client *c)
{
	free(c->held_text);
	c->held_text = NULL;
	c->held_peer[0] = '\0';
}

static void
private_command(struct client *c, char *payload)
{
	char *peer, *text;
	split_arg(payload, &peer, &text);
	if (*peer == '\0' || *text == '\0') {
		ui_error(c, "usage: PRIVATE_MESSAGE <user> <text>");
		return;
	}
	if (strcasecmp(peer, c->name) == 0) {
		ui_error(c, "cannot send a private message to yourself");
		return;
	}
	if (send_private(c, peer, text))
		return;
	/* wait for the key; further commands wait behind this one */
	snprintf(c->held_peer, sizeof(c->held_peer), "%.*s", FC_NAME_MAX, peer);
	c->held_text = strdup(text);
	c->held_deadline = now_ms() + CL_KEY_WAIT_MS;
}

/* KEYS: one's own fingerprint and every pinned peer's, to compare with
 * the peers' own KEYS over another channel (docs/CRYPTO.md). */
static void
keys_command(struct client *c)
{
	char fp[FC_FP_LEN], line[128], human[160];
	fc_fingerprint(c->id.pub_b64, fp);
	snprintf(line, sizeof(line), "KEY %s %s", c->name, fp);
	snprintf(human, sizeof(human), "* your key (%s): %s", c->name, fp);
	ui_show(c, S_INFO, line, human);
	for (size_t i = 0; i < c->npeers; i++) {
		const struct peer *p = &c->peers[i];
		if (p->pub == NULL)
			continue;
		snprintf(line, sizeof(line), "KEY %s %s", p->name, p->fp);
		snprintf(human, sizeof(human), "* key of %s: %s", p->name,
			 p->fp);
		ui_show(c, S_INFO, line, human);
	}
}

bool
ok_command(struct client *c, const char *line, size_t n)
{
	struct cmdline cl;
	wire_split(line, n, &cl);
	if (wire_word_is(&cl, "PRIVATE_MESSAGE")) {
		char *payload = strndup(cl.payload, cl.payload_len);
		if (payload)
			private_command(c, payload);
		free(payload);
		return true;
	}
	if (wire_word_is(&cl, "PM_PUBKEY") || wire_word_is(&cl, "OK") ||
	    wire_word_is(&cl, "PM_SESSIONKEY")) {
		ui_error(c, "%.*s is sent by the client itself",
			 (int)cl.word_len, cl.word);
		return true;
	}
	if (wire_word_is(&cl, "KEYS")) {
		keys_command(c);
		return true;
	}
	if (wire_word_is(&cl, "QUIT")) {
		net_sendf(c, "QUIT");
		fifo_push(c, P_QUIT, NULL, NULL);
		c->quit_sent = true;
		return true;
	}
	return false;
}

void
ok_timers(struct client *c, int64_t now)
{
	if (c->held_text && now >= c->held_deadline) {
		ui_error(c,
			 "no public key for %s within %d s (not logged in, "
			 "or not an okfail client); message not sent",
			 c->held_peer, CL_KEY_WAIT_MS / 1000);
		release_held(c);
	}
}

/* ---- receiving ---- */

static void
on_login_reply(struct client *c, const char *l, bool ok)
{
	ui_show(c, ok ? S_REPLY : S_ERROR, l, NULL);
	if (!ok) {
		if (c->interactive)
			ui_error(c, "choose another name");
		return;
	}
	c->logged_in = true;
	ui_set_prompt(c);
	net_sendf(c, "PM_PUBKEY %s", c->id.pub_b64);
	fifo_push(c, P_INTERNAL, NULL, NULL);
}

static void
on_privmsg_reply(struct client *c, const char *l, bool ok, struct pending *p)
{
	char buf[CL_MAX_LINE * 2], human[CL_MAX_LINE * 2];
	if (!ok) {
		ui_show(c, S_ERROR, l, NULL);
		return;
	}
	snprintf(buf, sizeof(buf), "OK PRIVATE_MESSAGE %s %s", p->peer,
		 p->text ? p->text : "");
	snprintf(human, sizeof(human), "[e2e to %s] %s", p->peer,
		 p->text ? p->text : "");
	ui_show(c, S_E2E, buf, human);
}

static void
on_reply(struct client *c, const char *l, bool ok)
{
	struct pending *p = fifo_head(c);
	if (p == NULL) {
		ui_show(c, ok ? S_REPLY : S_ERROR, l, NULL);
		return;
	}
	if (p->kind == P_PROBE && strncmp(l, "FAIL00", 6) != 0) {
		/* not the probe's answer: a greeting-time refusal (FAIL14) */
		ui_show(c, S_ERROR, l, NULL);
		return;
	}
	switch (p->kind) {
	case P_PROBE: /* dialect detection's HELP: FAIL00, swallowed */
		break;
	case P_LOGIN:
		on_login_reply(c, l, ok);
		break;
	case P_INTERNAL:
		if (!ok)
			ui_error(c, "key exchange%s%s failed: %s",
				 p->peer[0] ? " with " : "", p->peer, l);
		break;
	case P_PRIVMSG:
		on_privmsg_reply(c, l, ok, p);
		break;
	default:
		ui_show(c, ok ? S_REPLY : S_ERROR, l, NULL);
		break;
	}
	fifo_pop(c);
}

/* A key for a name that already has one pinned: refused, loudly. */
static void
key_changed(struct client *c, struct peer *p, const char *key)
{
	char fp[FC_FP_LEN];
	fc_fingerprint(key, fp);
	ui_error(c,
		 "WARNING: %s's public key changed without %s leaving "
		 "(pinned %s, offered %s): the server may be impersonating "
		 "%s; the new key is refused for this connection",
		 p->name, p->name, p->fp, fp, p->name);
}

static void
pin_key(struct client *c, struct peer *p, const char *key)
{
	char fp[FC_FP_LEN];
	fc_fingerprint(key, fp);
	if (p->fp[0] && strcmp(p->fp, fp) != 0)
		ui_error(c,
			 "WARNING: %s left and came back with a new public "
			 "key (was %s, now %s); messages go to the new key",
			 p->name, p->fp, fp);
	peer_erase_keys(p);
	p->pub = strdup(key);
	memcpy(p->fp, fp, sizeof(fp));
}

static void
on_pubkey(struct client *c, char *rest)
{
	char *user, *key;
	split_arg(rest, &user, &key);
	if (!fc_pub_valid(key)) {
		ui_error(c, "unusable public key for %s ignored", user);
		return;
	}
	struct peer *p = peer_find(c, user, true);
	if (p == NULL)
		return;
	if (p->pub && strcmp(p->pub, key) != 0) {
		key_changed(c, p, key);
		return;
	}
	if (p->pub == NULL)
		pin_key(c, p, key);
	net_sendf(c, "OK PM_PUBKEY");
	if (c->held_text && strcasecmp(c->held_peer, user) == 0) {
		send_private(c, c->held_peer, c->held_text);
		release_held(c);
	}
}

static void
on_sessionkey(struct client *c, char *rest)
{
	char *user, *tok;
	split_arg(rest, &user, &tok);
	struct peer *p = peer_find(c, user, false);
	if (p == NULL || p->pub == NULL) {
		ui_error(c,
			 "session key from %s refused: no public key is "
			 "known for %s",
			 user, user);
		return;
	}
	struct fc_pair names = {user, c->name};
	if (fc_unwrap_session(&c->id, p->pub, &names, tok, p->in) != 0) {
		p->in_ok = false;
		ui_error(c,
			 "session key from %s could not be opened (not made "
			 "by %s's key for %s)",
			 user, user, c->name);
		return;
	}
	p->in_ok = true;
	net_sendf(c, "OK PM_SESSIONKEY");
}

static void
on_private(struct client *c, char *rest)
{
	char *user, *tok, *pt;
	size_t n;
	split_arg(rest, &user, &tok);
	struct peer *p = peer_find(c, user, false);
	if (p == NULL || !p->in_ok) {
		ui_error(c,
			 "encrypted message from %s, but no session key "
			 "from %s: not readable",
			 user, user);
		return;
	}
	struct fc_pair names = {user, c->name};
	if (fc_open(p->in, &names, tok, &pt, &n) != 0) {
		ui_error(c,
			 "encrypted message from %s failed to decrypt "
			 "(tampered, wrong key, or not from %s to %s)",
			 user, user, c->name);
		return;
	}
	ui_show_decrypted(c, "RECEIVE_PRIVATE_MSG", "e2e", user, pt, n);
}

/* Deliveries: human layout for the terminal, the line itself for scripts. */
static void
on_delivery(struct client *c, const char *word, char *rest, const char *l)
{
	char human[CL_MAX_LINE * 2], *user, *text;
	split_arg(rest, &user, &text);
	if (strcmp(word, "BCST") == 0) {
		snprintf(human, sizeof(human), "<%s> %s", user, text);
		ui_show(c, S_CHAT, l, human);
	} else if (strcmp(word, "NPM") == 0) {
		snprintf(human, sizeof(human), "[pm from %s, not encrypted] %s",
			 user, text);
		ui_show(c, S_PRIV, l, human);
	} else if (strcmp(word, "JOINED") == 0 || strcmp(word, "LEFT") == 0) {
		if (word[0] == 'L')
			peer_forget(c, user);
		snprintf(human, sizeof(human), "* %s %s", user,
			 word[0] == 'L' ? "left" : "joined");
		ui_show(c, S_PRESENCE, l, human);
	} else {
		ui_show(c, S_PLAIN, l, NULL);
	}
}

void
ok_on_line(struct client *c, const char *line, size_t n)
{
	char l[CL_MAX_LINE + 1], word[32], *rest;
	snprintf(l, sizeof(l), "%.*s", (int)n, line);
	rest = strchr(l, ' ');
	snprintf(word, sizeof(word), "%.*s",
		 (int)(rest ? (size_t)(rest - l) : strlen(l)), l);
	char *r = strdup(rest ? rest + 1 : "");
	if (r == NULL)
		return;
	if (strcmp(word, "PING") == 0)
		net_sendf(c, "PONG");
	else if (strcmp(word, "INIT") == 0) {
		c->greeted = true;
		ui_show(c, S_INFO, l, NULL);
	} else if (strcmp(word, "DSCN") == 0) {
		c->dscn = true;
		ui_show(c, S_ERROR, l, NULL);
	} else if (strcmp(word, "OK") == 0 || strncmp(word, "FAIL", 4) == 0)
		on_reply(c, l, word[0] == 'O');
	else if (strcmp(word, "PM_PUBKEY") == 0)
		on_pubkey(c, r);
	else if (strcmp(word, "PM_SESSIONKEY") == 0)
		on_sessionkey(c, r);
	else if (strcmp(word, "RECEIVE_PRIVATE_MSG") == 0)
		on_private(c, r);
	else
		on_delivery(c, word, r, l);
	free(r);
}
