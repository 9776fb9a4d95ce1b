/* The numeric dialect (seed 001): 3-digit replies, 7xx deliveries, the
 * client-side USEK key for SECU (never sent), and the hooks into file
 * transfer (100 starts an upload, 102 starts a download). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "../common/util.h"
#include "client.h"

void
num_send_login(struct client *c, const char *name)
{
	net_sendf(c, "USER %s", name);
	fifo_push(c, P_LOGIN, NULL, NULL);
}

/* ---- commands ---- */

static void
usek_command(struct client *c, const char *key)
{
	if (*key == '\0') {
		ui_error(c, "usage: USEK <keyword>");
		return;
	}
	/* the one PBKDF2 run a receiver needs: the key for its own name */
	if (fc_secu_set(&c->secu, key) != 0 ||
	    (c->name[0] && fc_secu_prepare(&c->secu, c->name) != 0)) {
		ui_error(c, "cannot derive a key");
		return;
	}
	if (c->interactive)
		ui_show(c, S_INFO,
			"* SECU key set (it never leaves this "
			"client)",
			NULL);
}

static void
secu_command(struct client *c, char *payload)
{
	char *user, *text, *tok;
	split_arg(payload, &user, &text);
	if (*user == '\0' || *text == '\0') {
		ui_error(c, "usage: SECU <user> <text>");
		return;
	}
	if (!c->secu.set) {
		ui_error(c, "no SECU key: set one with USEK <keyword>; "
			    "message not sent");
		return;
	}
	size_t n = strlen(text);
	size_t toklen =
		4 * ((FC_SALT_LEN + FC_NONCE_LEN + n + FC_TAG_LEN + 2) / 3);
	if (toklen + strlen(user) + 6 > CL_MAX_LINE - 2) {
		ui_error(c, "message too long once encrypted; not sent");
		return;
	}
	struct fc_pair names = {c->name, user};
	if (fc_secu_seal(&c->secu, &names, text, n, &tok) != 0) {
		ui_error(c, "encryption failed; message not sent");
		return;
	}
	net_sendf(c, "SECU %s %s", user, tok);
	fifo_push(c, P_USER, user, NULL);
	free(tok);
}

static void
file_command(struct client *c, char *payload)
{
	char *user, *path;
	split_arg(payload, &user, &path);
	if (*user == '\0' || *path == '\0') {
		ui_error(c, "usage: FILE <user> <path>");
		return;
	}
	xfer_start_upload(c, user, path);
}

bool
num_command(struct client *c, const char *line, size_t n)
{
	struct cmdline cl;
	wire_split(line, n, &cl);
	char *payload = strndup(cl.payload, cl.payload_len);
	bool handled = true;

	if (payload == NULL)
		return true;
	if (wire_word_is(&cl, "USEK"))
		usek_command(c, payload);
	else if (wire_word_is(&cl, "SECU"))
		secu_command(c, payload);
	else if (wire_word_is(&cl, "FILE"))
		file_command(c, payload);
	else if (wire_word_is(&cl, "HELP")) {
		net_sendf(c, "HELP");
		fifo_push(c, P_HELP, NULL, NULL);
	} else if (wire_word_is(&cl, "QUIT")) {
		net_sendf(c, "QUIT"); /* no reply: the server closes */
		c->quit_sent = true;
	} else
		handled = false;
	OPENSSL_cleanse(payload, cl.payload_len);
	free(payload);
	return handled;
}

/* ---- replies ---- */

static void
on_reply(struct client *c, const char *l, int code, bool more)
{
	struct pending *p = fifo_head(c);
	enum style st = code >= 300 ? S_ERROR : S_REPLY;

	if (code == 100) {
		if (p && p->kind == P_FILE)
			xfer_on_ready(c);
		return;
	}
	if (p && p->kind == P_PROBE && code == 200) {
		if (!more) /* dialect detection's HELP, swallowed */
			fifo_pop(c);
		return;
	}
	ui_show(c, st, l, NULL);
	if (more || p == NULL)
		return;
	if (p->kind == P_LOGIN && code == 200) {
		c->logged_in = true;
		ui_set_prompt(c);
	} else if (p->kind == P_LOGIN && c->interactive) {
		ui_error(c, "choose another name");
	} else if (p->kind == P_FILE) {
		/* store-and-forward: "200 File f stored for u" now, the
		 * verdict (714) once u has it; a script waits for it */
		if (code == 200 && strstr(l, " stored for ") != NULL)
			c->files_owed++;
		xfer_finish_upload(c);
	}
	fifo_pop(c);
}

static void
on_secure(struct client *c, char *rest)
{
	char *user, *tok, *pt;
	size_t n;
	split_arg(rest, &user, &tok);
	if (!c->secu.set) {
		ui_error(c,
			 "secure message from %s, but no SECU key is set "
			 "(USEK <keyword>): not readable",
			 user);
		return;
	}
	struct fc_pair names = {user, c->name};
	if (fc_secu_open(&c->secu, &names, tok, &pt, &n) != 0) {
		ui_error(c,
			 "secure message from %s could not be decrypted "
			 "with the current key (wrong key, or not from %s "
			 "to %s?)",
			 user, user, c->name);
		return;
	}
	ui_show_decrypted(c, "700", "secure", user, pt, n);
}

static void
on_file_offer(struct client *c, char *rest, const char *l)
{
	char *name, *size, *sender;
	uint64_t sz;
	split_arg(rest, &name, &size);
	split_arg(size, &size, &sender);
	if (parse_u64(size, &sz) < 0) {
		/* cannot know how many bytes follow: the stream is lost */
		ui_error(c, "bad file offer from the server: %s", l);
		session_end(c, 1, NULL);
		return;
	}
	xfer_start_download(c, name, sz, sender);
}

/* 714 <user> <file> delivered | failed <why>: a stored file's verdict. */
static void
on_file_verdict(struct client *c, char *rest, const char *l)
{
	char h[CL_MAX_LINE * 2], *user, *file, *verdict, *why;
	split_arg(rest, &user, &file);
	split_arg(file, &file, &verdict);
	split_arg(verdict, &verdict, &why);
	bool ok = strcmp(verdict, "delivered") == 0;
	if (ok)
		snprintf(h, sizeof(h), "* file %s delivered to %s", file, user);
	else
		snprintf(h, sizeof(h),
			 "* file %s could not be delivered to %s: %s", file,
			 user, why);
	if (c->files_owed > 0)
		c->files_owed--;
	ui_show(c, ok ? S_INFO : S_ERROR, l, h);
}

/* 7xx deliveries in a human layout; the line itself in script mode. */
static void
on_delivery(struct client *c, int code, char *rest, const char *l)
{
	char h[CL_MAX_LINE * 2], *a, *b, *t;
	if (code == 700) {
		on_secure(c, rest);
		return;
	}
	if (code == 714) {
		on_file_verdict(c, rest, l);
		return;
	}
	split_arg(rest, &a, &b);
	enum style st = S_CHAT;
	if (code == 701) {
		snprintf(h, sizeof(h), "[pm from %s, not encrypted] %s", a, b);
		st = S_PRIV;
	} else if (code == 702) {
		split_arg(b, &b, &t);
		snprintf(h, sizeof(h), "[%s] <%s> %s", a, b, t);
	} else if (code == 703) {
		snprintf(h, sizeof(h), "<%s> %s", a, b);
	} else if (code == 710 || code == 711) {
		snprintf(h, sizeof(h), "* %s logged %s", a,
			 code == 710 ? "in" : "out");
		st = S_PRESENCE;
	} else if (code == 712 || code == 713) {
		split_arg(b, &b, &t);
		snprintf(h, sizeof(h), "* %s %s room %s", b,
			 code == 712 ? "joined" : "left", a);
		st = S_PRESENCE;
	} else {
		snprintf(h, sizeof(h), "%s", l);
	}
	ui_show(c, st, l, h);
}

void
num_on_line(struct client *c, const char *line, size_t n)
{
	char l[CL_MAX_LINE + 1];
	snprintf(l, sizeof(l), "%.*s", (int)n, line);
	bool coded = n >= 3 && l[0] >= '1' && l[0] <= '9' && l[1] >= '0' &&
		     l[1] <= '9' && l[2] >= '0' && l[2] <= '9' &&
		     (n == 3 || l[3] == ' ' || l[3] == '-');
	if (!coded) {
		ui_show(c, S_PLAIN, l, NULL);
		return;
	}
	int code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	char *rest = strdup(n > 4 ? l + 4 : "");
	if (rest == NULL)
		return;
	if (code == 102)
		on_file_offer(c, rest, l);
	else if (code >= 700)
		on_delivery(c, code, rest, l);
	else
		on_reply(c, l, code, n > 3 && l[3] == '-');
	free(rest);
}
