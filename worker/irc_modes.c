/* The irc dialect's channel operators: MODE on channels (o v n t m i s p k
 * l b e I), TOPIC, KICK and INVITE, the JOIN refusals and the @/+ prefixes
 * (docs/PROTOCOL.md irc.mode.*). The state is the room's, in the registry
 * (ipc/registry_chan.c); the changes reach the other members as lines. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/util.h"
#include "irc_priv.h"

#define MODE_PARAMS 4 /* ISUPPORT MODES: parameters of one MODE */
#define KICK_TARGETS 4

/* ---- helpers ---- */

static bool
is_op(struct client *c, int room)
{
	return room >= 0 && registry_member_flag(c->w->reg, (uint32_t)room,
						 (uint32_t)c->slot, RM_OP);
}

/* A line from c to the room's other IRC members (and c itself when
 * echo): ":<c> <text>". */
static void chan_line(struct client *c, int room, bool echo, const char *fmt,
		      ...) __attribute__((format(printf, 4, 5)));

static void
chan_line(struct client *c, int room, bool echo, const char *fmt, ...)
{
	char text[IRC_LINE_MAX + 1], pfx[160];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (echo) {
		self_prefix(c, pfx, sizeof(pfx));
		send_line(c, ":%s %s", pfx, text);
	}
	struct fanout_args a = {.kind = EV_ROOM_MSG,
				.flags = EVF_RAW_ONLY | EVF_LINE,
				.from = c,
				.room = room,
				.text = text,
				.len = strlen(text)};
	fanout_ex(c->w, &a);
}

void
irc_member_prefix(struct worker *w, int room, uint32_t slot, bool multi,
		  char out[3])
{
	size_t n = 0;

	if (room >= 0 &&
	    registry_member_flag(w->reg, (uint32_t)room, slot, RM_OP))
		out[n++] = '@';
	if (room >= 0 && (multi || n == 0) &&
	    registry_member_flag(w->reg, (uint32_t)room, slot, RM_VOICE))
		out[n++] = '+';
	out[n] = '\0';
}

bool
irc_chan_visible(struct client *c, int room)
{
	if (room < 0)
		return true;
	uint32_t m = registry_chan_modes(c->w->reg, (uint32_t)room);
	return !(m & (CM_SECRET | CM_PRIVATE)) || is_member(c, room);
}

char
irc_chan_symbol(struct client *c, int room)
{
	uint32_t m =
		room < 0 ? 0 : registry_chan_modes(c->w->reg, (uint32_t)room);

	return m & CM_SECRET ? '@' : m & CM_PRIVATE ? '*' : '=';
}

bool
irc_may_send(struct client *c, int room)
{
	if (room < 0)
		return is_member(c, room);
	uint32_t m = registry_chan_modes(c->w->reg, (uint32_t)room);
	if ((m & CM_NOEXT) && !is_member(c, room))
		return false;
	if (!(m & CM_MODERATED))
		return true;
	return is_op(c, room) ||
	       registry_member_flag(c->w->reg, (uint32_t)room,
				    (uint32_t)c->slot, RM_VOICE);
}

void
irc_status_msg(struct client *c, const struct irc_param *t,
	       const struct irc_param *text, bool notice)
{
	char chan[64];
	struct irc_param cp = {t->p + 1, t->len - 1};
	int room = chan_lookup(c, &cp, false, notice);

	if (room == -2)
		return;
	chan_name(c, room, chan, sizeof(chan));
	if (room < 0 || !irc_may_send(c, room)) {
		if (!notice)
			num(c, 404, "%c%s :Cannot send to channel", t->p[0],
			    chan);
		return;
	}
	char line[IRC_LINE_MAX + 1];
	int n = snprintf(line, sizeof(line), "%s %c%s :%.*s",
			 notice ? "NOTICE" : "PRIVMSG", t->p[0], chan,
			 (int)text->len, text->p);
	struct fanout_args a = {
		.kind = EV_ROOM_MSG,
		.flags = EVF_RAW_ONLY | EVF_LINE |
			 (t->p[0] == '@' ? EVF_TO_OPS : EVF_TO_VOICED),
		.from = c,
		.room = room,
		.text = line,
		.len = n > 0 ? (size_t)n : 0};
	fanout_ex(c->w, &a);
}

bool
irc_status_wants(struct client *c, const struct ev_body *ev)
{
	uint32_t s = (uint32_t)c->slot;

	if (!(ev->flags & (EVF_TO_OPS | EVF_TO_VOICED)))
		return true;
	if (registry_member_flag(c->w->reg, ev->room, s, RM_OP))
		return true;
	return (ev->flags & EVF_TO_VOICED) &&
	       registry_member_flag(c->w->reg, ev->room, s, RM_VOICE);
}

void
irc_flags_save(struct client *c, uint8_t *flags)
{
	for (size_t i = 0; i < c->nrooms; i++) {
		uint32_t r = c->rooms[i], s = (uint32_t)c->slot;
		flags[i] =
			(uint8_t)(registry_member_flag(c->w->reg, r, s, RM_OP) |
				  registry_member_flag(c->w->reg, r, s,
						       RM_VOICE)
					  << 1);
	}
}

void
irc_flags_restore(struct client *c, const uint8_t *flags)
{
	for (size_t i = 0; i < c->nrooms; i++) {
		uint32_t r = c->rooms[i], s = (uint32_t)c->slot;
		registry_member_set(c->w->reg, r, s, RM_OP, flags[i] & 1);
		registry_member_set(c->w->reg, r, s, RM_VOICE, flags[i] & 2);
	}
}

void
irc_join_refused(struct client *c, const char *chan, int rc)
{
	static const struct {
		int rc, code;
		char mode;
	} why[] = {{-EPERM, 474, 'b'},
		   {-EACCES, 473, 'i'},
		   {-EKEYREJECTED, 475, 'k'},
		   {-EUSERS, 471, 'l'}};

	for (size_t i = 0; i < FC_ARRAY_LEN(why); i++)
		if (why[i].rc == rc)
			num(c, why[i].code, "%s :Cannot join channel (+%c)",
			    chan, why[i].mode);
}

/* ---- TOPIC ---- */

bool
irc_topic_burst(struct client *c, int room, const char *chan)
{
	struct reg_chan_view v;

	if (room < 0 || registry_chan_get(c->w->reg, (uint32_t)room, &v) < 0 ||
	    v.topic[0] == '\0')
		return false;
	num(c, 332, "%s :%s", chan, v.topic);
	num(c, 333, "%s %s %lld", chan, v.topic_by, (long long)v.topic_time);
	return true;
}

void
irc_cmd_topic(struct client *c, const struct irc_msg *m)
{
	char chan[64], pfx[160];
	int room = chan_lookup(c, &m->params[0], false, false);

	if (room == -2)
		return;
	chan_name(c, room, chan, sizeof(chan));
	if (m->nparams < 2) {
		if (!irc_topic_burst(c, room, chan))
			num(c, 331, "%s :No topic is set", chan);
		return;
	}
	if (!is_member(c, room)) {
		num(c, 442, "%s :You're not on that channel", chan);
		return;
	}
	uint32_t modes =
		room < 0 ? CM_TOPIC
			 : registry_chan_modes(c->w->reg, (uint32_t)room);
	if (room < 0 || ((modes & CM_TOPIC) && !is_op(c, room))) {
		num(c, 482, "%s :You're not channel operator", chan);
		return;
	}
	const struct irc_param *t = &m->params[1];
	size_t len = t->len < REG_TOPIC_SZ - 1 ? t->len : REG_TOPIC_SZ - 1;
	self_prefix(c, pfx, sizeof(pfx));
	registry_chan_topic(c->w->reg, (uint32_t)room, t->p, len, pfx,
			    (int64_t)time(NULL));
	chan_line(c, room, true, "TOPIC %s :%.*s", chan, (int)len, t->p);
}

/* ---- MODE #c ---- */

/* One MODE command's result: the applied changes, echoed as one line. */
struct mode_out {
	char flags[64];
	size_t nflags;
	char args[IRC_LINE_MAX];
	size_t nargs;
	char sign;  /* the last sign written to flags */
	int params; /* parameters used so far */
};

static void
out_add(struct mode_out *o, bool on, char f, const char *arg)
{
	char s = on ? '+' : '-';

	if (o->nflags + 3 >= sizeof(o->flags))
		return;
	if (o->sign != s)
		o->flags[o->nflags++] = o->sign = s;
	o->flags[o->nflags++] = f;
	o->flags[o->nflags] = '\0';
	if (arg == NULL)
		return;
	int k = snprintf(o->args + o->nargs, sizeof(o->args) - o->nargs, " %s",
			 arg);
	if (k > 0 && (size_t)k < sizeof(o->args) - o->nargs)
		o->nargs += (size_t)k;
}

static void
mode_is(struct client *c, int room, const char *chan)
{
	struct reg_chan_view v;
	char flags[16] = "+", args[64] = "";
	static const char letters[] = "ntmispkl";
	size_t n = 1;

	if (room < 0 || registry_chan_get(c->w->reg, (uint32_t)room, &v) < 0) {
		num(c, 324, "%s +nt", chan);
		num(c, 329, "%s %lld", chan, (long long)time(NULL));
		return;
	}
	for (size_t i = 0; letters[i]; i++)
		if (v.modes & (1u << i))
			flags[n++] = letters[i];
	flags[n] = '\0';
	bool in = is_member(c, room);
	if (v.modes & CM_KEY && v.modes & CM_LIMIT)
		snprintf(args, sizeof(args), " %s %u", in ? v.key : "*",
			 v.limit);
	else if (v.modes & CM_KEY)
		snprintf(args, sizeof(args), " %s", in ? v.key : "*");
	else if (v.modes & CM_LIMIT)
		snprintf(args, sizeof(args), " %u", v.limit);
	num(c, 324, "%s %s%s", chan, flags, args);
	num(c, 329, "%s %lld", chan, (long long)v.created);
}

static const struct {
	int code;
	const char *text;
} list_ends[] = {
	{368, "End of channel ban list"},
	{349, "End of channel exception list"},
	{347, "End of channel invite list"},
};

static void
mode_list(struct client *c, int room, const char *chan, char type)
{
	struct reg_mask_view v[REG_MAX_MASKS];
	int i = type == 'b' ? 0 : type == 'e' ? 1 : 2;
	static const int item[] = {367, 348, 346};
	size_t n = room < 0 ? 0
			    : registry_chan_masks(c->w->reg, (uint32_t)room,
						  type, v, REG_MAX_MASKS);

	for (size_t k = 0; k < n; k++)
		num(c, item[i], "%s %s %s %lld", chan, v[k].mask, v[k].by,
		    (long long)v[k].when);
	num(c, list_ends[i].code, "%s :%s", chan, list_ends[i].text);
}

/* "nick" -> "nick!*@*", "u@h" -> "*!u@h", "n!u" -> "n!u@*". */
static bool
mask_norm(const char *in, char *out, size_t cap)
{
	const char *bang = strchr(in, '!'), *at = strchr(in, '@');
	int n;

	if (in[0] == '\0')
		return false;
	if (!bang && !at)
		n = snprintf(out, cap, "%s!*@*", in);
	else if (!bang)
		n = snprintf(out, cap, "*!%s", in);
	else if (!at)
		n = snprintf(out, cap, "%s@*", in);
	else
		n = snprintf(out, cap, "%s", in);
	return n > 0 && (size_t)n < cap;
}

static void
mode_mask(struct client *c, int room, const char *chan, bool on, char f,
	  const char *arg, struct mode_out *o)
{
	char mask[REG_MASK_SZ];

	if (arg == NULL)
		return;
	if (!mask_norm(arg, mask, sizeof(mask))) {
		num(c, 696, "%s %c %s :Invalid mask", chan, f, arg);
		return;
	}
	int rc = registry_chan_mask(c->w->reg, (uint32_t)room, f, mask, on,
				    c->name, (int64_t)time(NULL));
	if (rc == -ENOSPC)
		num(c, 478, "%s %s :Channel list is full", chan, mask);
	else if (rc > 0)
		out_add(o, on, f, mask);
}

static void
mode_member(struct client *c, int room, const char *chan, bool on, char f,
	    const char *arg, struct mode_out *o)
{
	struct reg_user_view v;

	if (arg == NULL)
		return;
	struct irc_param p = {arg, strlen(arg)};
	if (!lookup_user(c, &p, &v)) {
		num(c, 401, "%s :No such nick/channel", arg);
		return;
	}
	if (!registry_room_has(c->w->reg, (uint32_t)room, v.slot)) {
		num(c, 441, "%s %s :They aren't on that channel", v.name, chan);
		return;
	}
	if (registry_member_set(c->w->reg, (uint32_t)room, v.slot,
				f == 'o' ? RM_OP : RM_VOICE, on) > 0)
		out_add(o, on, f, v.name);
}

static bool
key_valid(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n >= REG_KEY_SZ)
		return false;
	for (size_t i = 0; i < n; i++)
		if (k[i] <= ' ' || k[i] > '~' || k[i] == ',')
			return false;
	return true;
}

static void
mode_key(struct client *c, int room, const char *chan, bool on, const char *arg,
	 struct mode_out *o)
{
	if (on && !key_valid(arg)) {
		num(c, 696, "%s k * :Invalid key", chan);
		return;
	}
	if (registry_chan_mode(c->w->reg, (uint32_t)room, CM_KEY, on, arg, 0) >
	    0)
		out_add(o, on, 'k', on ? arg : "*");
}

static void
mode_limit(struct client *c, int room, const char *chan, bool on,
	   const char *arg, struct mode_out *o)
{
	char *end = NULL;

	if (on && arg == NULL)
		return;
	long n = on ? strtol(arg, &end, 10) : 0;
	if (on && (end == arg || *end || n <= 0 || n > 1000000)) {
		num(c, 696, "%s l %s :Invalid limit", chan, arg);
		return;
	}
	if (registry_chan_mode(c->w->reg, (uint32_t)room, CM_LIMIT, on, NULL,
			       (uint32_t)n) > 0)
		out_add(o, on, 'l', on ? arg : NULL);
}

static uint32_t
simple_mode(char f)
{
	static const char letters[] = "ntmisp";

	const char *at = f ? strchr(letters, f) : NULL;
	return at ? 1u << (at - letters) : 0;
}

/* Does the letter take a parameter (when set: on)? 1 yes, 0 no, -1
 * unknown. */
static int
mode_takes(char f, bool on)
{
	if (strchr("beIovk", f))
		return 1;
	if (f == 'l')
		return on;
	return simple_mode(f) ? 0 : -1;
}

struct mode_req {
	struct client *c;
	const struct irc_msg *m;
	int room;
	const char *chan;
	int next; /* the next parameter */
	bool op;
	bool denied; /* 482 sent */
};

static const char *
next_arg(struct mode_req *q, char *buf, size_t cap)
{
	if (q->next >= q->m->nparams)
		return NULL;
	return irc_param_str(q->m, q->next++, buf, cap);
}

static bool
need_op(struct mode_req *q)
{
	if (q->op)
		return true;
	if (!q->denied)
		num(q->c, 482, "%s :You're not channel operator", q->chan);
	q->denied = true;
	return false;
}

static void
mode_one(struct mode_req *q, bool on, char f, struct mode_out *o)
{
	char buf[IRC_LINE_MAX];
	int takes = mode_takes(f, on);

	if (takes < 0) {
		num(q->c, 472, "%c :is unknown mode char to me", f);
		return;
	}
	const char *arg = takes ? next_arg(q, buf, sizeof(buf)) : NULL;
	if (strchr("beI", f) && arg == NULL) {
		mode_list(q->c, q->room, q->chan, f);
		return;
	}
	if (takes && arg == NULL && f != 'k')
		return; /* a missing parameter: the change is ignored */
	if (!need_op(q) || (takes && ++o->params > MODE_PARAMS))
		return;
	if (strchr("beI", f))
		mode_mask(q->c, q->room, q->chan, on, f, arg, o);
	else if (f == 'o' || f == 'v')
		mode_member(q->c, q->room, q->chan, on, f, arg, o);
	else if (f == 'k')
		mode_key(q->c, q->room, q->chan, on, arg ? arg : "", o);
	else if (f == 'l')
		mode_limit(q->c, q->room, q->chan, on, arg, o);
	else if (registry_chan_mode(q->c->w->reg, (uint32_t)q->room,
				    simple_mode(f), on, NULL, 0) > 0)
		out_add(o, on, f, NULL);
}

/* MODE &all: its lists are empty, its modes +nt and nobody changes them. */
static void
mode_all(struct client *c, const struct irc_msg *m, const char *chan)
{
	char f = m->params[1].len ? m->params[1].p[m->params[1].len - 1] : 0;
	int i = f == 'b' ? 0 : f == 'e' ? 1 : f == 'I' ? 2 : -1;

	if (i >= 0 && m->nparams == 2 && m->params[1].len <= 2)
		num(c, list_ends[i].code, "%s :%s", chan, list_ends[i].text);
	else if (!is_member(c, -1))
		num(c, 442, "%s :You're not on that channel", chan);
	else
		num(c, 482, "%s :You're not channel operator", chan);
}

void
irc_mode_chan(struct client *c, const struct irc_msg *m, int room)
{
	char chan[64];
	struct mode_out o = {.sign = 0};
	struct mode_req q = {c, m, room, chan, 2, is_op(c, room), false};
	bool on = true;

	chan_name(c, room, chan, sizeof(chan));
	if (m->nparams == 1) {
		mode_is(c, room, chan);
		return;
	}
	if (room < 0) {
		mode_all(c, m, chan);
		return;
	}
	const struct irc_param *p = &m->params[1];
	for (size_t i = 0; i < p->len && !client_closing(c); i++) {
		if (p->p[i] == '+' || p->p[i] == '-')
			on = p->p[i] == '+';
		else
			mode_one(&q, on, p->p[i], &o);
	}
	if (o.nflags > 0)
		chan_line(c, room, true, "MODE %s %s%s", chan, o.flags, o.args);
}

/* ---- KICK ---- */

static void
kick_one(struct client *c, int room, const char *chan,
	 const struct irc_param *who, const char *reason)
{
	struct reg_user_view v;
	char line[IRC_LINE_MAX], pfx[160];

	if (!lookup_user(c, who, &v)) {
		num(c, 401, "%.*s :No such nick/channel", (int)who->len,
		    who->p);
		return;
	}
	if (registry_room_leave(c->w->reg, (uint32_t)room, v.slot) < 0) {
		num(c, 441, "%s %s :They aren't on that channel", v.name, chan);
		return;
	}
	chan_line(c, room, true, "KICK %s %s :%s", chan, v.name, reason);
	struct fanout_args left = {.kind = EV_ROOM_LEFT,
				   .flags = EVF_PLAIN_ONLY,
				   .from = c,
				   .name = v.name,
				   .room = room};
	fanout_ex(c->w, &left);
	self_prefix(c, pfx, sizeof(pfx));
	int n = snprintf(line, sizeof(line), "%s KICK %s %s :%s", pfx, chan,
			 v.name, reason);
	struct fanout_args kicked = {.kind = EV_ROOM_LEFT,
				     .flags = EVF_KICKED,
				     .from = c,
				     .name = v.name,
				     .room = room,
				     .to = &v,
				     .text = line,
				     .len = n > 0 ? (size_t)n : 0};
	fanout_ex(c->w, &kicked);
}

/* Pairs of channel and nick: one channel for every nick, or as many
 * channels as nicks. */
static bool
kick_item(const struct irc_param *list, size_t i, struct irc_param *out)
{
	size_t at = 0;

	for (size_t k = 0; k < i; k++) {
		const char *comma = memchr(list->p + at, ',', list->len - at);
		if (comma == NULL)
			return false;
		at = (size_t)(comma - list->p) + 1;
	}
	const char *comma = memchr(list->p + at, ',', list->len - at);
	out->p = list->p + at;
	out->len = comma ? (size_t)(comma - out->p) : list->len - at;
	return out->len > 0;
}

static void
kick_pair(struct client *c, const struct irc_param *cp,
	  const struct irc_param *who, const char *reason)
{
	char chan[64];
	int room = chan_lookup(c, cp, false, false);

	if (room == -2)
		return;
	chan_name(c, room, chan, sizeof(chan));
	if (!is_member(c, room))
		num(c, 442, "%s :You're not on that channel", chan);
	else if (!is_op(c, room))
		num(c, 482, "%s :You're not channel operator", chan);
	else
		kick_one(c, room, chan, who, reason);
}

void
irc_cmd_kick(struct client *c, const struct irc_msg *m)
{
	char reason[IRC_LINE_MAX];
	struct irc_param cp, who;
	bool one_chan = memchr(m->params[0].p, ',', m->params[0].len) == NULL;

	if (m->nparams > 2 && m->params[2].len > 0)
		irc_param_str(m, 2, reason, sizeof(reason));
	else
		snprintf(reason, sizeof(reason), "%s", c->name);
	for (size_t i = 0; i < KICK_TARGETS && !client_closing(c); i++) {
		if (!kick_item(&m->params[1], i, &who))
			break;
		if (!kick_item(&m->params[0], one_chan ? 0 : i, &cp))
			break;
		kick_pair(c, &cp, &who, reason);
	}
}

/* ---- INVITE ---- */

static void
invite_list(struct client *c)
{
	uint32_t max = registry_limits(c->w->reg)->max_rooms;
	char chan[64];

	for (uint32_t r = 0; r < max; r++) {
		if (!registry_room_name(c->w->reg, r) ||
		    !registry_member_flag(c->w->reg, r, (uint32_t)c->slot,
					  RM_INVITED))
			continue;
		chan_name(c, (int)r, chan, sizeof(chan));
		num(c, 336, "%s", chan);
	}
	num(c, 337, ":End of /INVITE list");
}

/* May c invite to the room: 442 off it, 443 the target on it, 482 +i and
 * not an operator. */
static bool
invite_allowed(struct client *c, int room, const char *chan,
	       const struct reg_user_view *v)
{
	if (room == -1) {
		num(c, 482, "%s :You're not channel operator", chan);
		return false;
	}
	if (!is_member(c, room)) {
		num(c, 442, "%s :You're not on that channel", chan);
		return false;
	}
	if (registry_room_has(c->w->reg, (uint32_t)room, v->slot)) {
		num(c, 443, "%s %s :is already on channel", v->name, chan);
		return false;
	}
	uint32_t modes = registry_chan_modes(c->w->reg, (uint32_t)room);
	if ((modes & CM_INVITE) && !is_op(c, room)) {
		num(c, 482, "%s :You're not channel operator", chan);
		return false;
	}
	return true;
}

void
irc_cmd_invite(struct client *c, const struct irc_msg *m)
{
	struct reg_user_view v;
	char chan[64], line[IRC_LINE_MAX];

	if (m->nparams == 0) {
		invite_list(c);
		return;
	}
	if (m->nparams < 2) {
		num(c, 461, "INVITE :Not enough parameters");
		return;
	}
	if (!lookup_user(c, &m->params[0], &v)) {
		num(c, 401, "%.*s :No such nick/channel", (int)m->params[0].len,
		    m->params[0].p);
		return;
	}
	int room = chan_lookup(c, &m->params[1], false, true);
	if (room == -2)
		irc_param_str(m, 1, chan, sizeof(chan));
	else
		chan_name(c, room, chan, sizeof(chan));
	if (room != -2 && !invite_allowed(c, room, chan, &v))
		return;
	if (room >= 0)
		registry_member_set(c->w->reg, (uint32_t)room, v.slot,
				    RM_INVITED, true);
	num(c, 341, "%s %s", v.name, chan);
	int n = snprintf(line, sizeof(line), "INVITE %s %s", v.name, chan);
	struct fanout_args a = {.kind = EV_PM,
				.flags = EVF_RAW_ONLY | EVF_LINE,
				.from = c,
				.room = -1,
				.to = &v,
				.text = line,
				.len = n > 0 ? (size_t)n : 0};
	fanout_ex(c->w, &a);
}
