/* The numeric dialect (seed 001): USER, HELP, rooms (LIRO/LIME/ROOM/JOIN/
 * LEVE/SEND), PRIV, SECU, FILE and QUIT, with 3-digit replies. Deliveries
 * caused by other users carry codes 700-713 (the render hooks below). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "../common/util.h"
#include "../proto/wire.h"
#include "client.h"
#include "dispatch.h"

#define say(c, line) conn_say(&(c)->conn, (line))
#define reply(c, ...) conn_reply(&(c)->conn, __VA_ARGS__)
#define reply_raw(c, p, n) conn_reply_raw(&(c)->conn, (p), (n))

static void
cmd_user(struct client *c, const struct cmdline *cl)
{
	if (c->state == CS_LIVE || c->state == CS_LOGIN_WAIT) {
		say(c, "300 You are already logged in");
		return;
	}
	if (!cl->has_payload ||
	    !wire_valid_name(cl->payload, cl->payload_len)) {
		say(c, "400 Invalid username: 3-14 letters, digits or _");
		return;
	}
	login_begin(c, cl->payload, cl->payload_len);
}

static void
numeric_login_result(struct client *c, int rc)
{
	if (rc == -EEXIST)
		say(c, "300 Username already taken");
	else if (rc == -ENOSPC)
		say(c, "302 User table full");
	else if (rc == -EAGAIN)
		say(c, "303 Cluster unavailable, try again later");
	else if (rc == 0)
		reply(c, "200 Welcome %s!", c->name);
}

static const char *help_lines[] = {
	"200-Commands (case-insensitive):",
	"200-USER <name>          log in (3-14 letters, digits or _)",
	"200-LIRO                 list rooms",
	"200-LIME <room>          list the members of a room",
	"200-ROOM <room>          create a room",
	"200-JOIN <room>          join a room",
	"200-LEVE <room>          leave a room",
	"200-SEND <room> <text>   send to a room",
	"200-PRIV <user> <text>   private message",
	"200-SECU <user> <cipher> encrypted message (the client encrypts)",
	"200-FILE <user> <name> <size>  send a file: wait for 100, then the bytes",
	"200-USEK <key>           client-side: set the SECU key",
	"200-HELP                 this list",
	"200 QUIT                 leave",
};

static void
cmd_help(struct client *c, const struct cmdline *cl)
{
	(void)cl;
	for (size_t i = 0; i < FC_ARRAY_LEN(help_lines); i++)
		say(c, help_lines[i]);
}

/* Reply with a space-joined list built by fill (which returns bytes
 * needed, each name preceded by a space). */
static void
reply_list(struct client *c, const char *head,
	   size_t (*fill)(struct client *, uint32_t, char *, size_t),
	   uint32_t arg)
{
	size_t need = fill(c, arg, NULL, 0);
	char *buf = malloc(need + 1);

	if (buf == NULL) {
		say(c, "500 Out of memory");
		return;
	}
	size_t n = fill(c, arg, buf, need);
	if (n > need)
		n = 0; /* grew meanwhile: show the header only */
	reply_raw(c, head, strlen(head));
	reply_raw(c, buf, n);
	reply_raw(c, "\n", 1);
	free(buf);
}

static size_t
fill_rooms(struct client *c, uint32_t arg, char *buf, size_t cap)
{
	(void)arg;
	return registry_rooms(c->w->reg, buf, cap);
}

static size_t
fill_members(struct client *c, uint32_t room, char *buf, size_t cap)
{
	return registry_room_members(c->w->reg, room, buf, cap);
}

static void
cmd_liro(struct client *c, const struct cmdline *cl)
{
	(void)cl;
	reply_list(c, "200 ROOMS", fill_rooms, 0);
}

/* The single room-name parameter of LIME/ROOM/JOIN/LEVE. */
static bool
room_param(struct client *c, const struct cmdline *cl)
{
	if (!cl->has_payload ||
	    !wire_valid_room(cl->payload, cl->payload_len)) {
		say(c, "400 Invalid room name: 1-32 of A-Z a-z 0-9 _ # . -");
		return false;
	}
	return true;
}

static int
room_lookup(struct client *c, const char *name, size_t len)
{
	int room = registry_room_find(c->w->reg, name, len);

	if (room < 0)
		reply(c, "300 No such room %.*s", (int)len, name);
	return room;
}

static void
cmd_lime(struct client *c, const struct cmdline *cl)
{
	char head[64];

	if (!room_param(c, cl))
		return;
	int room = room_lookup(c, cl->payload, cl->payload_len);
	if (room < 0)
		return;
	snprintf(head, sizeof(head), "200 MEMBERS %.*s", (int)cl->payload_len,
		 cl->payload);
	reply_list(c, head, fill_members, (uint32_t)room);
}

static void
cmd_room(struct client *c, const struct cmdline *cl)
{
	if (!room_param(c, cl))
		return;
	int rc =
		registry_room_create_by(c->w->reg, cl->payload, cl->payload_len,
					c->name, c->w->lim.max_rooms_per_user);
	if (rc == -EEXIST)
		reply(c, "300 Room %.*s already exists", (int)cl->payload_len,
		      cl->payload);
	else if (rc == -ENOSPC)
		say(c, "302 Room table full");
	else if (rc == -EDQUOT)
		say(c, "302 Too many rooms created by you");
	else
		reply(c, "200 Room %.*s created", (int)cl->payload_len,
		      cl->payload);
}

/* A refused JOIN: 300, with the channel mode that refused it (irc). */
static void
join_refused(struct client *c, const char *rn, size_t rl, int rc)
{
	const char *why = rc == -EPERM          ? "banned"
			  : rc == -EACCES       ? "invite only"
			  : rc == -EKEYREJECTED ? "key needed"
			  : rc == -EUSERS       ? "room full"
						: NULL;

	if (why)
		reply(c, "300 Cannot join %.*s: %s", (int)rl, rn, why);
	else
		reply(c, "300 Already in room %.*s", (int)rl, rn);
}

static void
cmd_join(struct client *c, const struct cmdline *cl)
{
	if (!room_param(c, cl))
		return;
	int room = room_lookup(c, cl->payload, cl->payload_len);
	if (room < 0)
		return;
	char nuh[3 * REG_NAME_SZ + 16];
	snprintf(nuh, sizeof(nuh), "%s!%s@numeric", c->name, c->name);
	struct reg_entry e = {nuh, NULL};
	int rc = registry_room_enter(c->w->reg, (uint32_t)room,
				     (uint32_t)c->slot, &e);
	if (rc < 0) {
		join_refused(c, cl->payload, cl->payload_len, rc);
		return;
	}
	login_note_room(c, (uint32_t)room, true);
	reply(c, "200 Joined %.*s", (int)cl->payload_len, cl->payload);
	fanout_simple(c->w, EV_ROOM_JOIN, c, room, NULL, 0);
}

static void
cmd_leve(struct client *c, const struct cmdline *cl)
{
	if (!room_param(c, cl))
		return;
	int room = room_lookup(c, cl->payload, cl->payload_len);
	if (room < 0)
		return;
	if (registry_room_leave(c->w->reg, (uint32_t)room, (uint32_t)c->slot) <
	    0) {
		reply(c, "300 Not in room %.*s", (int)cl->payload_len,
		      cl->payload);
		return;
	}
	login_note_room(c, (uint32_t)room, false);
	reply(c, "200 Left %.*s", (int)cl->payload_len, cl->payload);
	fanout_simple(c->w, EV_ROOM_LEFT, c, room, NULL, 0);
}

/* "<first> <rest>" with both present and non-empty. */
static bool
two_params(struct client *c, const struct cmdline *cl, const char **first,
	   size_t *flen, const char **rest, size_t *rlen)
{
	size_t off;

	*first = cl->payload;
	*flen = wire_next_arg(cl->payload, cl->payload_len, &off);
	*rest = cl->payload + off;
	*rlen = cl->payload_len - off;
	if (*flen == 0 || *rlen == 0) {
		say(c, "400 Invalid parameters");
		return false;
	}
	return true;
}

/* A moderated room (irc +m) takes texts from its operators and voiced
 * members only. */
static bool
may_speak(struct client *c, uint32_t room)
{
	uint32_t s = (uint32_t)c->slot;

	if (!(registry_chan_modes(c->w->reg, room) & CM_MODERATED))
		return true;
	return registry_member_flag(c->w->reg, room, s, RM_OP) ||
	       registry_member_flag(c->w->reg, room, s, RM_VOICE);
}

static void
cmd_send(struct client *c, const struct cmdline *cl)
{
	const char *rn, *text;
	size_t rl, tl;

	if (!two_params(c, cl, &rn, &rl, &text, &tl))
		return;
	if (!wire_valid_room(rn, rl)) {
		say(c, "400 Invalid room name: 1-32 of A-Z a-z 0-9 _ # . -");
		return;
	}
	int room = room_lookup(c, rn, rl);
	if (room < 0)
		return;
	if (!registry_room_has(c->w->reg, (uint32_t)room, (uint32_t)c->slot)) {
		reply(c, "300 Not in room %.*s", (int)rl, rn);
		return;
	}
	if (!may_speak(c, (uint32_t)room)) {
		reply(c, "300 Cannot send to %.*s: moderated", (int)rl, rn);
		return;
	}
	reply(c, "200 Sent to %.*s", (int)rl, rn);
	fanout_simple(c->w, EV_ROOM_MSG, c, room, text, tl);
}

/* Can the user `to` receive this? SECU needs a dialect that shows it,
 * FILE (kind 0) a numeric client. 301 when not. */
static bool
user_can_take(struct client *c, const struct reg_user_view *to, uint16_t kind,
	      const char *what)
{
	const struct dialect_def *d = dialect_by_id(to->dialect);

	if (d && (kind ? d->render[kind] != NULL : d == &numeric_dialect))
		return true;
	reply(c, "301 %s cannot receive %s (%s client)", to->name, what,
	      d ? d->name : "?");
	return false;
}

/* Resolve the target user of PRIV/SECU/FILE: 400 for oneself, 300 when
 * unknown, 301 when its dialect cannot receive this (need: 0 anything,
 * else what user_can_take checks). */
static bool
user_target(struct client *c, const char *name, size_t len, int need,
	    const char *what, struct reg_user_view *to)
{
	if (registry_lookup(c->w->reg, name, len, to) < 0) {
		reply(c, "300 No such user %.*s", (int)len, name);
		return false;
	}
	if (to->slot == (uint32_t)c->slot) {
		reply(c, "400 Cannot send %s to yourself", what);
		return false;
	}
	return need < 0 || user_can_take(c, to, (uint16_t)need, what);
}

static void
cmd_priv(struct client *c, const struct cmdline *cl)
{
	struct reg_user_view to;
	const char *un, *text;
	size_t ul, tl;

	if (!two_params(c, cl, &un, &ul, &text, &tl))
		return;
	if (!user_target(c, un, ul, -1, "a private message", &to))
		return;
	reply(c, "200 Sent to %s", to.name);
	fanout_to(c->w, EV_PM, c, &to, text, tl);
}

static void
cmd_secu(struct client *c, const struct cmdline *cl)
{
	struct reg_user_view to;
	const char *un, *text;
	size_t ul, tl;

	if (!two_params(c, cl, &un, &ul, &text, &tl))
		return;
	if (!user_target(c, un, ul, EV_SECU, "secure messages", &to))
		return;
	reply(c, "200 Sent to %s", to.name);
	fanout_to(c->w, EV_SECU, c, &to, text, tl);
}

static bool
valid_filename(const char *s, size_t len)
{
	if (len == 0 || len > 255 || memchr(s, '/', len) ||
	    (len == 1 && s[0] == '.') || memmem(s, len, "..", 2))
		return false;
	return wire_check_label(s, len) == TEXT_OK && !memchr(s, '\t', len);
}

static void
cmd_file(struct client *c, const struct cmdline *cl)
{
	struct reg_user_view to;
	const char *un, *rest;
	size_t ul, rl, off;
	char num[24];
	uint64_t size;

	if (!two_params(c, cl, &un, &ul, &rest, &rl))
		return;
	size_t fl = wire_next_arg(rest, rl, &off);
	const char *sz = rest + off;
	size_t szl = rl - off;
	if (fl == 0 || szl == 0 || szl >= sizeof(num) || memchr(sz, ' ', szl)) {
		say(c, "400 Usage: FILE <user> <filename> <size>");
		return;
	}
	memcpy(num, sz, szl);
	num[szl] = '\0';
	if (parse_u64(num, &size) < 0) {
		say(c, "400 Invalid file size");
		return;
	}
	if (!valid_filename(rest, fl)) {
		say(c, "400 Invalid file name: a base name, no / or ..");
		return;
	}
	if (size > c->w->lim.max_file_size) {
		reply(c, "400 File too large (limit %" PRIu64 " bytes)",
		      c->w->lim.max_file_size);
		return;
	}
	if (!user_target(c, un, ul, 0, "files", &to))
		return;
	char fname[256];
	memcpy(fname, rest, fl);
	fname[fl] = '\0';
	files_start_upload(c, &to, fname, size);
}

static void
cmd_quit(struct client *c, const struct cmdline *cl)
{
	(void)cl;
	client_close(c, CR_QUIT, NULL);
}

static void
cmd_usek(struct client *c, const struct cmdline *cl)
{
	/* the key never leaves a proper client; telnet users get a hint */
	(void)cl;
	(void)c;
}

static const struct cmd_def cmds[] = {
	{"USER", false, cmd_user}, {"HELP", false, cmd_help},
	{"LIRO", true, cmd_liro},  {"LIME", true, cmd_lime},
	{"ROOM", true, cmd_room},  {"JOIN", true, cmd_join},
	{"LEVE", true, cmd_leve},  {"SEND", true, cmd_send},
	{"PRIV", true, cmd_priv},  {"SECU", true, cmd_secu},
	{"FILE", true, cmd_file},  {"QUIT", false, cmd_quit},
	{"USEK", false, cmd_usek},
};

static void
numeric_line(struct client *c, const char *line, size_t len)
{
	dispatch_line(c, &numeric_dialect, line, len);
}

static int
r_login(struct sendq *q, const struct ev_view *ev)
{
	return render_template(q, "710 $s login", ev);
}

static int
r_logout(struct sendq *q, const struct ev_view *ev)
{
	return render_template(q, "711 $s logout", ev);
}

static int
r_bcst(struct sendq *q, const struct ev_view *ev)
{
	return render_template(q, "703 $s $t", ev);
}

static int
r_pm(struct sendq *q, const struct ev_view *ev)
{
	return render_template(q, "701 $s $t", ev);
}

static int
r_secu(struct sendq *q, const struct ev_view *ev)
{
	return render_template(q, "700 $s $t", ev);
}

static int
r_room_msg(struct sendq *q, const struct ev_view *ev)
{
	return render_template(q, "702 $r $s $t", ev);
}

static int
r_room_join(struct sendq *q, const struct ev_view *ev)
{
	return render_template(q, "712 $r $s joined", ev);
}

static int
r_room_left(struct sendq *q, const struct ev_view *ev)
{
	return render_template(q, "713 $r $s left", ev);
}

#define E903 "903 Output queue exceeded"
#define E901 "901 Too many connections from your address"

/* What a numeric client sees, all of it: docs/PROTOCOL.md's numeric part. */
const struct dialect_def numeric_dialect = {
	.name = "numeric",
	.id = DIALECT_NUMERIC,
	.on_line = numeric_line,
	.cmds = cmds,
	.ncmds = FC_ARRAY_LEN(cmds),
	.bad_ctrl = "402 Line contains control characters",
	.bad_utf8 = "403 Line is not valid UTF-8",
	.need_login = "600 Please log in first: USER <name>",
	.unknown = "500 Unknown command",
	.too_long = "401 Line too long",
	.login_result = numeric_login_result,
	.render =
		{
			[EV_LOGIN] = r_login,
			[EV_LOGOUT] = r_logout,
			[EV_BCST] = r_bcst,
			[EV_PM] = r_pm,
			[EV_SECU] = r_secu,
			[EV_ROOM_MSG] = r_room_msg,
			[EV_ROOM_JOIN] = r_room_join,
			[EV_ROOM_LEFT] = r_room_left,
		},
	.close_lines =
		{
			[CR_SENDQ_HARD] = E903,
			[CR_SENDQ_SOFT] = E903,
			[CR_WORKER_BUDGET] = E903,
			[CR_FLOOD] = "904 Flooding",
			[CR_LOGIN_TIMEOUT] = "902 Login timeout",
			[CR_LINE_TIMEOUT] = "906 Line timeout",
			[CR_SERVER_FULL] = "900 Server full",
			[CR_IP_LIMIT] = E901,
			[CR_CLUSTER_DEAD] =
				"905 Declared dead by the cluster, log in again",
		},
};
