/* The okfail dialect (seed 000): INIT/IDENT/BCST/USERS/PM, the relay of
 * end-to-end encryption tokens, QUIT and the PING/PONG heartbeat. Replies
 * and error texts are those of docs/PROTOCOL.md, letter for letter. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../proto/wire.h"
#include "dispatch.h"
#include "worker.h"

#define F00 "FAIL00 Unknown command"
#define F01 "FAIL01 User already logged in"
#define F02 "FAIL02 Username has an invalid format or length"
#define F03 "FAIL03 USER MUST LOGIN FIRST"
#define F04 "FAIL04 User cannot login twice"
#define F05 "FAIL05 Pong without ping"
#define F06 "FAIL06 YOU ARE THE ONLY CONNECTED USER"
#define F07 "FAIL07 USER DOES NOT EXIST"
#define F08 "FAIL08 CANNOT SEND PRIVATE MESSAGE TO YOURSELF"
#define F10 "FAIL10 Line contains control characters"
#define F11 "FAIL11 Line is not valid UTF-8"
#define F12 "FAIL12 Missing parameter"
#define F13 "FAIL13 Recipient cannot receive encrypted messages"
#define F14 "FAIL14 Server full"
#define F16 "FAIL16 Public key too long"

#define say conn_say

void
okfail_greet(struct conn *c)
{
	say(c, "INIT Welcome to the server!");
}

static void
cmd_ident(struct conn *c, const struct cmdline *cl)
{
	if (c->state == CS_LIVE || c->state == CS_LOGIN_WAIT) {
		say(c, F04);
		return;
	}
	if (!cl->has_payload ||
	    !wire_valid_name(cl->payload, cl->payload_len)) {
		say(c, F02);
		return;
	}
	login_begin(c, cl->payload, cl->payload_len);
}

static void
okfail_send_keys(struct conn *c)
{
	struct worker *w = c->w;
	size_t need = registry_keys(w->reg, (uint32_t)c->slot, NULL, 0);

	if (need == 0)
		return;

	/* keys published meanwhile can make the first size short: retry */
	for (int tries = 0; tries < 4; tries++) {
		char *buf = malloc(need);
		if (buf == NULL)
			return;
		size_t n = registry_keys(w->reg, (uint32_t)c->slot, buf, need);
		if (n <= need)
			conn_reply_raw(c, buf, n);
		free(buf);
		if (n <= need)
			return;
		need = n;
	}
}

void
okfail_login_result(struct conn *c, int rc)
{
	if (rc == -EEXIST)
		say(c, F01);
	else if (rc == -ENOSPC)
		say(c, F14);
	else if (rc == 0) {
		conn_reply(c, "OK IDENT %s", c->name);
		okfail_send_keys(c);
	}
}

static void
cmd_bcst(struct conn *c, const struct cmdline *cl)
{
	if (cl->payload_len == 0) {
		say(c, F12);
		return;
	}
	conn_reply(c, "OK BCST %.*s", (int)cl->payload_len, cl->payload);
	fanout_simple(c->w, EV_BCST, c, -1, cl->payload, cl->payload_len);
}

static void
cmd_users(struct conn *c, const struct cmdline *cl)
{
	struct worker *w = c->w;
	size_t n = registry_users(w->reg, w->views,
				  registry_limits(w->reg)->max_users);

	(void)cl;
	if (n <= 1) {
		say(c, F06);
		return;
	}
	conn_reply_raw(c, "OK USERS ", 9);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			conn_reply_raw(c, ":", 1);
		conn_reply_raw(c, w->views[i].name, strlen(w->views[i].name));
	}
	conn_reply_raw(c, "\n", 1);
}

/* "<user> <rest>": look the user up and apply the checks PM, PM_SESSIONKEY
 * and PRIVATE_MESSAGE share. Returns false after replying an error. */
static bool
okfail_target(struct conn *c, const struct cmdline *cl,
	      struct reg_user_view *to, const char **rest, size_t *rest_len)
{
	size_t off;
	size_t ul = wire_next_arg(cl->payload, cl->payload_len, &off);

	if (ul == 0) {
		say(c, F12);
		return false;
	}
	if (registry_lookup(c->w->reg, cl->payload, ul, to) < 0) {
		say(c, F07);
		return false;
	}
	if (to->slot == (uint32_t)c->slot) {
		say(c, F08);
		return false;
	}
	*rest = cl->payload + off;
	*rest_len = cl->payload_len - off;
	if (*rest_len == 0) {
		say(c, F12);
		return false;
	}
	return true;
}

static void
cmd_pm(struct conn *c, const struct cmdline *cl)
{
	struct reg_user_view to;
	const char *text;
	size_t len;

	if (!okfail_target(c, cl, &to, &text, &len))
		return;
	conn_reply(c, "OK PM %s %.*s", to.name, (int)len, text);
	fanout_to(c->w, EV_PM, c, &to, text, len);
}

static void
cmd_pubkey(struct conn *c, const struct cmdline *cl)
{
	if (cl->payload_len == 0) {
		say(c, F12);
		return;
	}
	int rc = registry_set_key(c->w->reg, (uint32_t)c->slot, c->id,
				  cl->payload, cl->payload_len);
	if (rc == -E2BIG) {
		say(c, F16);
		return;
	}
	login_note_key(c, cl->payload, cl->payload_len);
	say(c, "OK PM_PUBKEY");
	fanout_simple(c->w, EV_PUBKEY, c, -1, cl->payload, cl->payload_len);
}

static bool
okfail_e2e_target(struct conn *c, const struct cmdline *cl,
		  struct reg_user_view *to, const char **tok, size_t *len)
{
	if (!okfail_target(c, cl, to, tok, len))
		return false;
	if (to->dialect != DIALECT_OKFAIL) {
		say(c, F13);
		return false;
	}
	return true;
}

static void
cmd_sessionkey(struct conn *c, const struct cmdline *cl)
{
	struct reg_user_view to;
	const char *tok;
	size_t len;

	if (!okfail_e2e_target(c, cl, &to, &tok, &len))
		return;
	conn_reply(c, "OK PM_SESSIONKEY %s", to.name);
	fanout_to(c->w, EV_SESSKEY, c, &to, tok, len);
}

static void
cmd_private(struct conn *c, const struct cmdline *cl)
{
	struct reg_user_view to;
	const char *tok;
	size_t len;

	if (!okfail_e2e_target(c, cl, &to, &tok, &len))
		return;
	conn_reply(c, "OK PRIVATE_MESSAGE %s %.*s", to.name, (int)len, tok);
	fanout_to(c->w, EV_EPM, c, &to, tok, len);
}

static void
cmd_quit(struct conn *c, const struct cmdline *cl)
{
	(void)cl;
	say(c, "OK GOODBYE");
	conn_close_soon(c, "quit");
}

static void
cmd_pong(struct conn *c, const struct cmdline *cl)
{
	(void)cl;
	if (c->pings_out == 0) {
		say(c, F05);
		return;
	}
	c->pings_out = 0;
	c->pong_due = 0;
}

/* Clients acknowledge relayed keys with "OK PM_PUBKEY" etc.: silently. */
static void
cmd_ack(struct conn *c, const struct cmdline *cl)
{
	if (!cl->has_payload)
		say(c, F00);
}

static const struct cmd_def cmds[] = {
	{"IDENT", false, cmd_ident},
	{"BCST", true, cmd_bcst},
	{"USERS", true, cmd_users},
	{"PM", true, cmd_pm},
	{"PM_PUBKEY", true, cmd_pubkey},
	{"PM_SESSIONKEY", true, cmd_sessionkey},
	{"PRIVATE_MESSAGE", true, cmd_private},
	{"QUIT", false, cmd_quit},
	{"PONG", false, cmd_pong},
	{"OK", false, cmd_ack},
};

static const struct dialect_def okfail = {
	cmds, sizeof(cmds) / sizeof(cmds[0]), F10, F11, F03, F00,
};

void
okfail_line(struct conn *c, const char *line, size_t len)
{
	dispatch_line(c, &okfail, line, len);
}
