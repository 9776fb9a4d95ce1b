/* The okfail dialect (seed 000): INIT/IDENT/BCST/USERS/PM, the relay of
 * end-to-end encryption tokens, QUIT and the PING/PONG heartbeat. Replies
 * and error texts are those of docs/PROTOCOL.md, letter for letter. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../proto/wire.h"
#include "client.h"
#include "dispatch.h"

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
#define F15 "FAIL15 Too many connections from your address"
#define F16 "FAIL16 Public key too long"
#define F17 "FAIL17 Cluster unavailable, try again later"

#define say(c, line) conn_say(&(c)->conn, (line))
#define reply(c, ...) conn_reply(&(c)->conn, __VA_ARGS__)
#define reply_raw(c, p, n) conn_reply_raw(&(c)->conn, (p), (n))

static void
cmd_ident(struct client *c, const struct cmdline *cl)
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

/* okfail.ident.keys, a piece at a time: about KEYS_PIECE bytes (at least
 * one key line) go out each time the client's queue has room, so a login
 * among many big keys costs the server one piece, not the whole list. */
#define KEYS_PIECE (32 * 1024)

static void
okfail_more_keys(struct client *c)
{
	struct worker *w = c->w;
	uint32_t max = registry_limits(w->reg)->max_users;
	size_t cap = registry_limits(w->reg)->key_max + 64;
	char *buf = malloc(cap > KEYS_PIECE ? cap : KEYS_PIECE);

	if (buf == NULL || c->state != CS_LIVE) {
		free(buf);
		c->reply_cursor = UINT32_MAX;
		return;
	}
	cap = cap > KEYS_PIECE ? cap : KEYS_PIECE;
	size_t n = registry_keys_from(w->reg, (uint32_t)c->slot,
				      &c->reply_cursor, buf, cap);
	if (n > 0)
		reply_raw(c, buf, n);
	free(buf);
	if (c->reply_cursor >= max)
		c->reply_cursor = UINT32_MAX;
}

static void
okfail_login_result(struct client *c, int rc)
{
	if (rc == -EEXIST)
		say(c, F01);
	else if (rc == -ENOSPC)
		say(c, F14);
	else if (rc == -EAGAIN)
		say(c, F17);
	else if (rc == 0) {
		reply(c, "OK IDENT %s", c->name);
		c->reply_cursor = 0;
		okfail_more_keys(c);
	}
}

static void
cmd_bcst(struct client *c, const struct cmdline *cl)
{
	if (cl->payload_len == 0) {
		say(c, F12);
		return;
	}
	reply(c, "OK BCST %.*s", (int)cl->payload_len, cl->payload);
	fanout_simple(c->w, EV_BCST, c, -1, cl->payload, cl->payload_len);
}

static void
cmd_users(struct client *c, const struct cmdline *cl)
{
	struct worker *w = c->w;
	size_t n = registry_users(w->reg, w->views,
				  registry_limits(w->reg)->max_users);

	(void)cl;
	if (n <= 1) {
		say(c, F06);
		return;
	}
	reply_raw(c, "OK USERS ", 9);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			reply_raw(c, ":", 1);
		reply_raw(c, w->views[i].name, strlen(w->views[i].name));
	}
	reply_raw(c, "\n", 1);
}

/* "<user> <rest>": look the user up and apply the checks PM, PM_SESSIONKEY
 * and PRIVATE_MESSAGE share. Returns false after replying an error. */
static bool
okfail_target(struct client *c, const struct cmdline *cl,
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
	if (!fanout_reachable(c->w, to)) {
		say(c, F17);
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
cmd_pm(struct client *c, const struct cmdline *cl)
{
	struct reg_user_view to;
	const char *text;
	size_t len;

	if (!okfail_target(c, cl, &to, &text, &len))
		return;
	reply(c, "OK PM %s %.*s", to.name, (int)len, text);
	fanout_to(c->w, EV_PM, c, &to, text, len);
}

static void
cmd_pubkey(struct client *c, const struct cmdline *cl)
{
	if (cl->payload_len == 0) {
		say(c, F12);
		return;
	}
	int rc = registry_set_key(c->w->reg, (uint32_t)c->slot, c->conn.id,
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
okfail_e2e_target(struct client *c, const struct cmdline *cl,
		  struct reg_user_view *to, const char **tok, size_t *len)
{
	const struct dialect_def *d;

	if (!okfail_target(c, cl, to, tok, len))
		return false;
	/* end-to-end tokens only go to a dialect that shows them */
	d = dialect_by_id(to->dialect);
	if (d == NULL || d->render[EV_EPM] == NULL) {
		say(c, F13);
		return false;
	}
	return true;
}

static void
cmd_sessionkey(struct client *c, const struct cmdline *cl)
{
	struct reg_user_view to;
	const char *tok;
	size_t len;

	if (!okfail_e2e_target(c, cl, &to, &tok, &len))
		return;
	reply(c, "OK PM_SESSIONKEY %s", to.name);
	fanout_to(c->w, EV_SESSKEY, c, &to, tok, len);
}

static void
cmd_private(struct client *c, const struct cmdline *cl)
{
	struct reg_user_view to;
	const char *tok;
	size_t len;

	if (!okfail_e2e_target(c, cl, &to, &tok, &len))
		return;
	reply(c, "OK PRIVATE_MESSAGE %s %.*s", to.name, (int)len, tok);
	fanout_to(c->w, EV_EPM, c, &to, tok, len);
}

static void
cmd_quit(struct client *c, const struct cmdline *cl)
{
	(void)cl;
	say(c, "OK GOODBYE");
	client_close(c, CR_QUIT, NULL);
}

static void
cmd_pong(struct client *c, const struct cmdline *cl)
{
	(void)cl;
	if (!client_pong(c))
		say(c, F05);
}

/* Clients acknowledge relayed keys with "OK PM_PUBKEY" etc.: silently. */
static void
cmd_ack(struct client *c, const struct cmdline *cl)
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

static void
okfail_line(struct client *c, const char *line, size_t len)
{
	dispatch_line(c, &okfail_dialect, line, len);
}

static void
okfail_ping(struct client *c)
{
	reply_raw(c, "PING\n", 5);
}

static int
r_joined(struct sendq *q, const struct ev_view *ev)
{
	return render_template(q, "JOINED $s", ev);
}

static int
r_left(struct sendq *q, const struct ev_view *ev)
{
	return render_template(q, "LEFT $s", ev);
}

static int
r_bcst(struct sendq *q, const struct ev_view *ev)
{
	return render_template(q, "BCST $s $t", ev);
}

static int
r_npm(struct sendq *q, const struct ev_view *ev)
{
	return render_template(q, "NPM $s $t", ev);
}

static int
r_pubkey(struct sendq *q, const struct ev_view *ev)
{
	return render_template(q, "PM_PUBKEY $s $t", ev);
}

static int
r_sesskey(struct sendq *q, const struct ev_view *ev)
{
	return render_template(q, "PM_SESSIONKEY $s $t", ev);
}

static int
r_epm(struct sendq *q, const struct ev_view *ev)
{
	return render_template(q, "RECEIVE_PRIVATE_MSG $s $t", ev);
}

#define DSCN_OUTPUT "DSCN Output queue exceeded"

/* What an okfail client sees, all of it: docs/PROTOCOL.md's okfail part. */
const struct dialect_def okfail_dialect = {
	.name = "okfail",
	.id = DIALECT_OKFAIL,
	.greeting = "INIT Welcome to the server!",
	.on_line = okfail_line,
	.cmds = cmds,
	.ncmds = FC_ARRAY_LEN(cmds),
	.bad_ctrl = F10,
	.bad_utf8 = F11,
	.need_login = F03,
	.unknown = F00,
	.too_long = "FAIL09 Line too long",
	.login_result = okfail_login_result,
	.more_reply = okfail_more_keys,
	.ping = okfail_ping,
	.render =
		{
			[EV_LOGIN] = r_joined,
			[EV_LOGOUT] = r_left,
			[EV_BCST] = r_bcst,
			[EV_PM] = r_npm,
			[EV_PUBKEY] = r_pubkey,
			[EV_SESSKEY] = r_sesskey,
			[EV_EPM] = r_epm,
		},
	.close_lines =
		{
			[CR_SENDQ_HARD] = DSCN_OUTPUT,
			[CR_SENDQ_SOFT] = DSCN_OUTPUT,
			[CR_WORKER_BUDGET] = DSCN_OUTPUT,
			[CR_FLOOD] = "DSCN Flooding",
			[CR_LOGIN_TIMEOUT] = "DSCN Login timeout",
			[CR_LINE_TIMEOUT] = "DSCN Line timeout",
			[CR_PONG_TIMEOUT] = "DSCN Pong timeout",
			[CR_SHUTDOWN] = "DSCN", /* then the master's reason */
			[CR_CLUSTER_DEAD] =
				"DSCN Declared dead by the cluster, log in again",
			[CR_SERVER_FULL] = F14,
			[CR_IP_LIMIT] = F15,
		},
};
