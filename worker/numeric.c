/* The numeric dialect (seed 001): USER, HELP, rooms (LIRO/LIME/ROOM/JOIN/
 * LEVE/SEND), PRIV, SECU, FILE and QUIT, with 3-digit replies. Deliveries
 * caused by other users carry codes 700-713 (see fanout.c). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "../common/log.h"
#include "../common/util.h"
#include "../proto/wire.h"
#include "dispatch.h"
#include "worker.h"

#define say conn_say

static void
cmd_user(struct conn *c, const struct cmdline *cl)
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

void
numeric_login_result(struct conn *c, int rc)
{
	if (rc == -EEXIST)
		say(c, "300 Username already taken");
	else if (rc == -ENOSPC)
		say(c, "302 User table full");
	else if (rc == 0)
		conn_reply(c, "200 Welcome %s!", c->name);
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
cmd_help(struct conn *c, const struct cmdline *cl)
{
	(void)cl;
	for (size_t i = 0; i < FC_ARRAY_LEN(help_lines); i++)
		say(c, help_lines[i]);
}

/* Reply with a space-joined list built by fill (which returns bytes
 * needed, each name preceded by a space). */
static void
reply_list(struct conn *c, const char *head,
	   size_t (*fill)(struct conn *, uint32_t, char *, size_t),
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
	conn_reply_raw(c, head, strlen(head));
	conn_reply_raw(c, buf, n);
	conn_reply_raw(c, "\n", 1);
	free(buf);
}

static size_t
fill_rooms(struct conn *c, uint32_t arg, char *buf, size_t cap)
{
	(void)arg;
	return registry_rooms(c->w->reg, buf, cap);
}

static size_t
fill_members(struct conn *c, uint32_t room, char *buf, size_t cap)
{
	return registry_room_members(c->w->reg, room, buf, cap);
}

static void
cmd_liro(struct conn *c, const struct cmdline *cl)
{
	(void)cl;
	reply_list(c, "200 ROOMS", fill_rooms, 0);
}

/* The single room-name parameter of LIME/ROOM/JOIN/LEVE. */
static bool
room_param(struct conn *c, const struct cmdline *cl)
{
	if (!cl->has_payload ||
	    !wire_valid_room(cl->payload, cl->payload_len)) {
		say(c, "400 Invalid room name: 1-32 of A-Z a-z 0-9 _ # . -");
		return false;
	}
	return true;
}

static int
room_lookup(struct conn *c, const char *name, size_t len)
{
	int room = registry_room_find(c->w->reg, name, len);

	if (room < 0)
		conn_reply(c, "300 No such room %.*s", (int)len, name);
	return room;
}

static void
cmd_lime(struct conn *c, const struct cmdline *cl)
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
cmd_room(struct conn *c, const struct cmdline *cl)
{
	if (!room_param(c, cl))
		return;
	int rc = registry_room_create(c->w->reg, cl->payload, cl->payload_len);
	if (rc == -EEXIST)
		conn_reply(c, "300 Room %.*s already exists",
			   (int)cl->payload_len, cl->payload);
	else if (rc == -ENOSPC)
		say(c, "302 Room table full");
	else
		conn_reply(c, "200 Room %.*s created", (int)cl->payload_len,
			   cl->payload);
}

static void
cmd_join(struct conn *c, const struct cmdline *cl)
{
	if (!room_param(c, cl))
		return;
	int room = room_lookup(c, cl->payload, cl->payload_len);
	if (room < 0)
		return;
	if (registry_room_join(c->w->reg, (uint32_t)room, (uint32_t)c->slot) <
	    0) {
		conn_reply(c, "300 Already in room %.*s", (int)cl->payload_len,
			   cl->payload);
		return;
	}
	login_note_room(c, (uint32_t)room, true);
	conn_reply(c, "200 Joined %.*s", (int)cl->payload_len, cl->payload);
	fanout_simple(c->w, EV_ROOM_JOIN, c, room, NULL, 0);
}

static void
cmd_leve(struct conn *c, const struct cmdline *cl)
{
	if (!room_param(c, cl))
		return;
	int room = room_lookup(c, cl->payload, cl->payload_len);
	if (room < 0)
		return;
	if (registry_room_leave(c->w->reg, (uint32_t)room, (uint32_t)c->slot) <
	    0) {
		conn_reply(c, "300 Not in room %.*s", (int)cl->payload_len,
			   cl->payload);
		return;
	}
	login_note_room(c, (uint32_t)room, false);
	conn_reply(c, "200 Left %.*s", (int)cl->payload_len, cl->payload);
	fanout_simple(c->w, EV_ROOM_LEFT, c, room, NULL, 0);
}

/* "<first> <rest>" with both present and non-empty. */
static bool
two_params(struct conn *c, const struct cmdline *cl, const char **first,
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

static void
cmd_send(struct conn *c, const struct cmdline *cl)
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
		conn_reply(c, "300 Not in room %.*s", (int)rl, rn);
		return;
	}
	conn_reply(c, "200 Sent to %.*s", (int)rl, rn);
	fanout_simple(c->w, EV_ROOM_MSG, c, room, text, tl);
}

/* Resolve the target user of PRIV/SECU/FILE: 400 for oneself, 300 when
 * unknown, 301 when its dialect cannot receive this. */
static bool
user_target(struct conn *c, const char *name, size_t len, bool numeric_only,
	    const char *what, struct reg_user_view *to)
{
	if (registry_lookup(c->w->reg, name, len, to) < 0) {
		conn_reply(c, "300 No such user %.*s", (int)len, name);
		return false;
	}
	if (to->slot == (uint32_t)c->slot) {
		conn_reply(c, "400 Cannot send %s to yourself", what);
		return false;
	}
	if (numeric_only && to->dialect != DIALECT_NUMERIC) {
		conn_reply(c, "301 %s cannot receive %s (okfail client)",
			   to->name, what);
		return false;
	}
	return true;
}

static void
cmd_priv(struct conn *c, const struct cmdline *cl)
{
	struct reg_user_view to;
	const char *un, *text;
	size_t ul, tl;

	if (!two_params(c, cl, &un, &ul, &text, &tl))
		return;
	if (!user_target(c, un, ul, false, "a private message", &to))
		return;
	conn_reply(c, "200 Sent to %s", to.name);
	fanout_to(c->w, EV_PM, c, &to, text, tl);
}

static void
cmd_secu(struct conn *c, const struct cmdline *cl)
{
	struct reg_user_view to;
	const char *un, *text;
	size_t ul, tl;

	if (!two_params(c, cl, &un, &ul, &text, &tl))
		return;
	if (!user_target(c, un, ul, true, "secure messages", &to))
		return;
	conn_reply(c, "200 Sent to %s", to.name);
	fanout_to(c->w, EV_SECU, c, &to, text, tl);
}

static bool
valid_filename(const char *s, size_t len)
{
	if (len == 0 || len > 255 || memchr(s, '/', len) ||
	    (len == 1 && s[0] == '.') || memmem(s, len, "..", 2))
		return false;
	return wire_check_text(s, len) == TEXT_OK && !memchr(s, '\t', len);
}

static void
cmd_file(struct conn *c, const struct cmdline *cl)
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
		conn_reply(c, "400 File too large (limit %" PRIu64 " bytes)",
			   c->w->lim.max_file_size);
		return;
	}
	if (!user_target(c, un, ul, true, "files", &to))
		return;
	char fname[256];
	memcpy(fname, rest, fl);
	fname[fl] = '\0';
	files_start_upload(c, &to, fname, size);
}

static void
cmd_quit(struct conn *c, const struct cmdline *cl)
{
	(void)cl;
	conn_close_soon(c, "quit");
}

static void
cmd_usek(struct conn *c, const struct cmdline *cl)
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

static const struct dialect_def numeric = {
	cmds,
	FC_ARRAY_LEN(cmds),
	"402 Line contains control characters",
	"403 Line is not valid UTF-8",
	"600 Please log in first: USER <name>",
	"500 Unknown command",
};

void
numeric_line(struct conn *c, const char *line, size_t len)
{
	dispatch_line(c, &numeric, line, len);
}
