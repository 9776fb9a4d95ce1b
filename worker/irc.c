/* The irc dialect (RFC 1459/2812 as modern clients speak it, see
 * docs/PROTOCOL.md "irc"): registration (NICK/USER/CAP/PASS), the welcome
 * burst, channels as rooms and &all as the okfail broadcast, queries (WHO,
 * WHOIS, NAMES, LIST, MODE, ...), and how every chat event reads for an IRC
 * client. Wire formatting lives in proto/irc.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/log.h"
#include "../common/util.h"
#include "../ipc/userinfo.h"
#include "../proto/irc.h"
#include "client.h"
#include "dispatch.h"
#include "irc_priv.h"

#define IRC_VERSION "forkchatd-1.0.0"
#define IRC_NETWORK "forkchat"
#define IRC_TOPICLEN 300
#define IRC_TARGETS 4      /* TARGMAX for PRIVMSG/NOTICE */
#define IRC_NAMES_ROOM 400 /* bytes of names per 353 line */

typedef void (*irc_fn)(struct client *c, const struct irc_msg *m);

struct irc_cmd {
	const char *word;
	int min_params;
	bool before_reg; /* allowed before registration */
	irc_fn fn;
};

/* ---- output ---- */

static const char *
srv(const struct client *c)
{
	return c->w->lim.server_name;
}

/* The client's nick as replies address it: "*" until it has one. */
static const char *
me(const struct client *c)
{
	if (c->state == CS_LIVE)
		return c->name;
	return c->dstate && IRC(c)->nick[0] ? IRC(c)->nick : "*";
}

/* One formatted line, cut to IRC's limit with its CR LF, into OUT; its
 * length, or 0 when the format fails. */
static size_t
format_line(char out[IRC_LINE_MAX + 1], const char *fmt, va_list ap)
{
	char tmp[2 * IRC_LINE_MAX];

	if (vsnprintf(tmp, sizeof(tmp), fmt, ap) < 0)
		return 0;
	return irc_line(out, IRC_LINE_MAX + 1, "%s", tmp);
}

static void
vsend(struct client *c, const char *fmt, va_list ap)
{
	char out[IRC_LINE_MAX + 1];
	size_t len = format_line(out, fmt, ap);

	if (len > 0)
		irc_out(c, out, len);
}

void
send_line(struct client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsend(c, fmt, ap);
	va_end(ap);
}

/* ":server NNN nick <text>" */
void
num(struct client *c, int code, const char *fmt, ...)
{
	char tmp[2 * IRC_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n >= 0)
		send_line(c, ":%s %03d %s %s", srv(c), code, me(c), tmp);
}

const char *
irc_srv(const struct client *c)
{
	return srv(c);
}

const char *
irc_me(const struct client *c)
{
	return me(c);
}

/* "ERROR :Closing link: nick[host] (why)", then close. */
/* Close with "ERROR :Closing link: nick[host] (why)". */
static void
irc_close(struct client *c, const char *why)
{
	client_close(c, CR_QUIT, why);
}

/* ---- the user's own details ---- */

void
self_prefix(const struct client *c, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s!%s@%s", c->name, IRC(c)->user, c->conn.ip);
}

/* c needs every login and broadcast while in &all, monitoring nicks or
 * taking WALLOPS (+w): the fanout skips them on a worker where no one does. */
void
irc_hear_update(struct client *c)
{
	struct irc_conn *s = IRC(c);

	login_hear_all(c, s->in_all || s->nmonitor > 0 || s->wallops);
}

/* Publish what WHOIS, WHO and the away reply of other workers read. */
void
irc_publish(struct client *c)
{
	struct uinfo u;

	if (c->slot < 0)
		return;
	memset(&u, 0, sizeof(u));
	u.conn_id = c->conn.id;
	snprintf(u.nick, sizeof(u.nick), "%s", c->name);
	snprintf(u.prev, sizeof(u.prev), "%s", IRC(c)->prev);
	snprintf(u.user, sizeof(u.user), "%s", IRC(c)->user);
	snprintf(u.host, sizeof(u.host), "%s", c->conn.ip);
	snprintf(u.real, sizeof(u.real), "%s", IRC(c)->real);
	snprintf(u.away, sizeof(u.away), "%s",
		 IRC(c)->away ? IRC(c)->away : "");
	u.signon = IRC(c)->signon;
	u.invisible = IRC(c)->invisible;
	u.oper = IRC(c)->oper;
	u.bot = IRC(c)->bot;
	u.last_msg = IRC(c)->last_msg;
	userinfo_put(c->w->uinfo, (uint32_t)c->slot, &u);
}

static const char *dialect_host[] = {"okfail", "numeric", "irc"};

/* user@host of any user: what an IRC user published, else its dialect */
static void
user_host(struct worker *w, const struct reg_user_view *v, struct uinfo *u)
{
	if (userinfo_get(w->uinfo, v->slot, v->conn_id, v->name, u) == 0)
		return;
	memset(u, 0, sizeof(*u));
	snprintf(u->user, sizeof(u->user), "%s", v->name);
	snprintf(u->host, sizeof(u->host), "%s",
		 dialect_host[v->dialect < 3 ? v->dialect : 2]);
	snprintf(u->real, sizeof(u->real), "%s", v->name);
}

void
user_nuh(struct worker *w, const struct reg_user_view *v, char *buf, size_t cap)
{
	struct uinfo u;

	user_host(w, v, &u);
	snprintf(buf, cap, "%s!%s@%s", v->name, u.user, u.host);
}

void
irc_user_host(struct worker *w, const struct reg_user_view *v, struct uinfo *u)
{
	user_host(w, v, u);
}

/* ---- the welcome burst ---- */

/* At most 13 tokens a line (15 parameters with the nick and the text). */
static const char *isupport[] = {
	"AWAYLEN=200 CASEMAPPING=ascii CHANLIMIT=#&: CHANMODES=beI,k,l,imnpst "
	"CHANNELLEN=33 CHANTYPES=#& ELIST=MNU EXCEPTS INVEX LINELEN=512",
	"MAXLIST=beI:64 MODES=4 NETWORK=" IRC_NETWORK " NICKLEN=14 "
	"PREFIX=(ov)@+ STATUSMSG=@+ TARGMAX=PRIVMSG:4,NOTICE:4,JOIN:,PART:,"
	"NAMES:,LIST:,WHOIS:1,WHOWAS:,ISON:,USERHOST:5,KICK:4 TOPICLEN=300",
	"USERLEN=15 BOT=B MONITOR=100 UTF8ONLY WHOX",
};

static void
send_isupport(struct client *c)
{
	for (size_t i = 0; i < FC_ARRAY_LEN(isupport); i++)
		num(c, 5, "%s :are supported by this server", isupport[i]);
}

/* A reply built by appending, for the lines every registration sends
 * (printf was most of a registration's cost); n counts past cap. */
struct outbuf {
	char *p;
	size_t n, cap;
};

static void
out_str(struct outbuf *o, const char *s)
{
	size_t l = strlen(s);

	if (o->n + l <= o->cap)
		memcpy(o->p + o->n, s, l);
	o->n += l;
}

static void
out_u32(struct outbuf *o, uint32_t v)
{
	char d[12];
	size_t k = sizeof(d);

	d[--k] = '\0';
	do
		d[--k] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	out_str(o, d + k);
}

/* ":server NNN nick " */
static void
out_num(struct outbuf *o, const struct client *c, const char *code)
{
	out_str(o, ":");
	out_str(o, srv(c));
	out_str(o, code);
	out_str(o, me(c));
	out_str(o, " ");
}

/* "U M :Current <scope> users U, max M" */
static void
out_current(struct outbuf *o, const char *scope, uint32_t u, uint32_t m)
{
	out_u32(o, u);
	out_str(o, " ");
	out_u32(o, m);
	out_str(o, " :Current ");
	out_str(o, scope);
	out_str(o, " users ");
	out_u32(o, u);
	out_str(o, ", max ");
	out_u32(o, m);
	out_str(o, "\r\n");
}

/* 251-266 (every field is bounded: each line stays far below 512 bytes) */
static void
lusers_put(struct outbuf *o, const struct client *c)
{
	uint32_t users = registry_user_count(c->w->reg);
	uint32_t rooms = registry_room_count(c->w->reg);
	uint32_t peak = userinfo_peak(c->w->uinfo, users);

	out_num(o, c, " 251 ");
	out_str(o, ":There are ");
	out_u32(o, users);
	out_str(o, " users and 0 invisible on 1 servers\r\n");
	out_num(o, c, " 254 ");
	out_u32(o, rooms + 1);
	out_str(o, " :channels formed\r\n");
	out_num(o, c, " 255 ");
	out_str(o, ":I have ");
	out_u32(o, users);
	out_str(o, " clients and 0 servers\r\n");
	out_num(o, c, " 265 ");
	out_current(o, "local", users, peak);
	out_num(o, c, " 266 ");
	out_current(o, "global", users, peak);
}

static void
send_lusers(struct client *c)
{
	char buf[5 * IRC_LINE_MAX];
	struct outbuf o = {buf, 0, sizeof(buf)};

	lusers_put(&o, c);
	if (o.n <= o.cap)
		conn_reply_raw(&c->conn, buf, o.n);
}

static void
send_motd(struct client *c)
{
	const char *path = c->w->lim.motd;
	FILE *f = path[0] ? fopen(path, "r") : NULL;
	char line[IRC_LINE_MAX];

	if (f == NULL) {
		num(c, 422, ":MOTD File is missing");
		return;
	}
	num(c, 375, ":- %s Message of the day - ", srv(c));
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		num(c, 372, ":- %s", line);
	}
	fclose(f);
	num(c, 376, ":End of /MOTD command.");
}

/* When this worker began serving IRC: the server's creation time (003)
 * and every channel's (329), as no room keeps one. */
static time_t
irc_epoch(void)
{
	static time_t t;

	if (t == 0)
		t = time(NULL);
	return t;
}

#define NICK_MARK '\001' /* where the nick goes in the welcome template */

/* 001-005 as every user reads them, NICK_MARK for the nick: made for a
 * new server name (at start, after a SIGHUP), copied at each registration
 * instead of formatting its seven lines again. */
static struct {
	char srv[sizeof(((struct fc_limits *)0)->server_name)];
	char text[8 * IRC_LINE_MAX];
	size_t len;
} welcome;

static void
welcome_make(const char *s)
{
	char created[64];
	time_t t = irc_epoch();
	size_t n;

	strftime(created, sizeof(created), "%a %b %d %Y at %H:%M:%S UTC",
		 gmtime(&t));
	n = (size_t)snprintf(
		welcome.text, sizeof(welcome.text),
		":%s 001 \1 :Welcome to the " IRC_NETWORK " IRC Network, \1\r\n"
		":%s 002 \1 :Your host is %s, running version " IRC_VERSION
		"\r\n"
		":%s 003 \1 :This server was created %s\r\n"
		":%s 004 \1 %s " IRC_VERSION " Biow beIiklmnopstv beIklov\r\n",
		s, s, s, s, created, s, s);
	for (size_t i = 0;
	     i < FC_ARRAY_LEN(isupport) && n < sizeof(welcome.text); i++)
		n += (size_t)snprintf(welcome.text + n,
				      sizeof(welcome.text) - n,
				      ":%s 005 \1 %s :are supported by this "
				      "server\r\n",
				      s, isupport[i]);
	welcome.len = n < sizeof(welcome.text) ? n : 0;
	snprintf(welcome.srv, sizeof(welcome.srv), "%s", s);
}

/* The template with nick in place of every NICK_MARK into out. */
static size_t
welcome_fill(const char *nick, char *out, size_t cap)
{
	size_t nl = strlen(nick), n = 0;
	const char *p = welcome.text, *end = p + welcome.len;

	while (p < end) {
		const char *m = memchr(p, NICK_MARK, (size_t)(end - p));
		size_t k = (size_t)((m ? m : end) - p);
		if (n + k + nl > cap)
			return 0;
		memcpy(out + n, p, k);
		n += k;
		p += k;
		if (m) {
			memcpy(out + n, nick, nl);
			n += nl;
			p++;
		}
	}
	return n;
}

/* 001-005 (the template), LUSERS and, without --motd, 422 as one reply;
 * a MOTD file's lines after it. */
static void
send_welcome(struct client *c)
{
	char buf[sizeof(welcome.text) + 16 * REG_NAME_SZ + 6 * IRC_LINE_MAX];
	struct outbuf o = {buf, 0, sizeof(buf)};
	bool no_motd = c->w->lim.motd[0] == '\0';

	if (welcome.len == 0 || strcmp(welcome.srv, srv(c)) != 0)
		welcome_make(srv(c));
	o.n = welcome_fill(c->name, buf,
			   sizeof(welcome.text) + 16 * REG_NAME_SZ);
	lusers_put(&o, c);
	if (no_motd) {
		out_num(&o, c, " 422 ");
		out_str(&o, ":MOTD File is missing\r\n");
	}
	if (o.n <= o.cap)
		conn_reply_raw(&c->conn, buf, o.n);
	if (!no_motd)
		send_motd(c);
}

/* ---- NAMES ---- */

/* " @nick!user@host" for each " nick" of list: the member's prefixes
 * (multi-prefix: all of them) and, with userhost-in-names, its user@host;
 * the caller frees it. */
static char *
names_decorated(struct client *c, int room, const char *list, size_t n,
		size_t *len)
{
	size_t cap = n * 24 + 256, out = 0;
	char *buf = malloc(cap), pfx[3], nuh[160];
	struct reg_user_view v;

	for (size_t i = 0; buf && i < n;) {
		const char *sp = memchr(list + i + 1, ' ', n - i - 1);
		size_t e = sp ? (size_t)(sp - list) : n;
		if (registry_lookup(c->w->reg, list + i + 1, e - i - 1, &v) ==
		    0) {
			irc_member_prefix(c->w, room, v.slot, IRC(c)->mprefix,
					  pfx);
			user_nuh(c->w, &v, nuh, sizeof(nuh));
			int k = snprintf(buf + out, cap - out, " %s%s", pfx,
					 IRC(c)->uhnames ? nuh : v.name);
			if (k > 0 && (size_t)k < cap - out)
				out += (size_t)k;
		}
		i = e;
	}
	*len = out;
	return buf;
}

/* 353 lines for the space-joined names in list (leading space each). */
static void
send_names_list(struct client *c, int room, const char *chan, const char *list,
		size_t n)
{
	size_t i = 0;
	char *hosts = NULL, sym = irc_chan_symbol(c, room);

	if (IRC(c)->uhnames || room >= 0) {
		hosts = names_decorated(c, room, list, n, &n);
		if (hosts == NULL)
			return;
		list = hosts;
	}

	while (i < n) {
		size_t end = i, last = i;
		while (end < n && end - i < IRC_NAMES_ROOM) {
			last = end;
			const char *sp =
				memchr(list + end + 1, ' ', n - end - 1);
			end = sp ? (size_t)(sp - list) : n;
		}
		if (end - i <= IRC_NAMES_ROOM || last == i)
			last = end;
		num(c, 353, "%c %s :%.*s", sym, chan, (int)(last - i - 1),
		    list + i + 1);
		i = last;
	}
	free(hosts);
}

static void
send_names_all(struct client *c)
{
	struct worker *w = c->w;
	size_t n = registry_users(w->reg, w->views,
				  registry_limits(w->reg)->max_users);
	size_t cap = n * (REG_NAME_SZ + 1) + 1, len = 0;
	char *list = malloc(cap);

	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(list + len, cap - len, " %s",
					w->views[i].name);
	send_names_list(c, -1, IRC_CHAN_ALL, list, len);
	free(list);
}

static void
send_names_room(struct client *c, uint32_t room, const char *chan)
{
	size_t need = registry_room_members(c->w->reg, room, NULL, 0);
	char *list = malloc(need + 1);

	if (list == NULL)
		return;
	size_t n = registry_room_members(c->w->reg, room, list, need);
	if (n <= need && n > 0)
		send_names_list(c, (int)room, chan, list, n);
	free(list);
}

/* ---- registration ---- */

static void
irc_try_register(struct client *c)
{
	struct irc_conn *s = c->dstate;

	if (!s->got_nick || !s->got_user || s->cap_wait || c->state != CS_NEW)
		return;
	if (c->w->lim.irc_password[0] && !s->pass_ok) {
		num(c, 464, ":Password incorrect");
		irc_close(c, "Bad password");
		return;
	}
	login_begin(c, s->nick, strlen(s->nick));
}

static void join_all(struct client *c);
static void notify_sharers(struct client *c, uint16_t flag, const char *text);

static void
irc_login_result(struct client *c, int rc)
{
	struct irc_conn *s = c->dstate;

	if (rc == -EEXIST) { /* addressed to "*": the nick is not ours */
		char nick[sizeof(s->nick)];
		memcpy(nick, s->nick, sizeof(nick));
		s->got_nick = false;
		s->nick[0] = '\0';
		num(c, 433, "%s :Nickname is already in use", nick);
		return;
	}
	if (rc == -ENOSPC) {
		client_close(c, CR_SERVER_FULL, NULL);
		return;
	}
	if (rc == -EAGAIN) { /* cluster.login-down: NICK again later */
		s->got_nick = false;
		s->nick[0] = '\0';
		num(c, 263, "NICK :Cluster unavailable, try again later");
		return;
	}
	if (rc != 0)
		return;
	s->signon = s->last_msg = time(NULL);
	userinfo_peak(c->w->uinfo, registry_user_count(c->w->reg));
	irc_publish(c);
	send_welcome(c);
	if (c->w->lim.irc_join_all)
		join_all(c);
}

static bool
nick_param(struct client *c, const struct irc_msg *m, char *nick)
{
	if (m->nparams < 1 || m->params[0].len == 0) {
		num(c, 431, ":No nickname given");
		return false;
	}
	const struct irc_param *p = &m->params[0];
	if (!irc_valid_nick(p->p, p->len)) {
		num(c, 432, "%.*s :Erroneous nickname", (int)p->len, p->p);
		return false;
	}
	memcpy(nick, p->p, p->len);
	nick[p->len] = '\0';
	return true;
}

static void nick_change(struct client *c, const char *nick);

static void
cmd_nick(struct client *c, const struct irc_msg *m)
{
	char nick[REG_NAME_SZ];
	struct reg_user_view v;

	if (!nick_param(c, m, nick))
		return;
	if (c->state == CS_LIVE) {
		nick_change(c, nick);
		return;
	}
	if (c->state == CS_LOGIN_WAIT)
		return;
	if (registry_lookup(c->w->reg, nick, strlen(nick), &v) == 0) {
		num(c, 433, "%s :Nickname is already in use", nick);
		return;
	}
	memcpy(IRC(c)->nick, nick, sizeof(nick));
	IRC(c)->got_nick = true;
	irc_try_register(c);
}

static void
cmd_user(struct client *c, const struct irc_msg *m)
{
	struct irc_conn *s = c->dstate;

	if (c->state != CS_NEW || s->got_user) {
		num(c, 462, ":You may not reregister");
		return;
	}
	if (m->params[0].len == 0 || m->params[3].len == 0) {
		num(c, 461, "USER :Not enough parameters");
		return;
	}
	size_t ul = m->params[0].len < 10 ? m->params[0].len : 10;
	snprintf(s->user, sizeof(s->user), "~%.*s", (int)ul, m->params[0].p);
	for (char *p = s->user; *p; p++)
		if (*p == '@' || *p == '!' || (unsigned char)*p < 0x21)
			*p = '_';
	irc_param_str(m, 3, s->real, sizeof(s->real));
	s->got_user = true;
	irc_try_register(c);
}

static void
cmd_pass(struct client *c, const struct irc_msg *m)
{
	const char *want = c->w->lim.irc_password;

	if (c->state != CS_NEW) {
		num(c, 462, ":You may not reregister");
		return;
	}
	IRC(c)->pass_ok = want[0] && m->params[0].len == strlen(want) &&
			  memcmp(m->params[0].p, want, m->params[0].len) == 0;
}

static void
cmd_cap(struct client *c, const struct irc_msg *m)
{
	char sub[16];
	struct irc_param none = {"", 0};
	const struct irc_param *arg = m->nparams > 1 ? &m->params[1] : &none;

	irc_param_str(m, 0, sub, sizeof(sub));
	for (char *p = sub; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	if (strcmp(sub, "LS") == 0) {
		if (c->state != CS_LIVE)
			IRC(c)->cap_wait = true;
		irc_cap_ls(c, arg->len == 3 && memcmp(arg->p, "302", 3) >= 0);
	} else if (strcmp(sub, "LIST") == 0) {
		irc_cap_list(c);
	} else if (strcmp(sub, "REQ") == 0) {
		if (c->state != CS_LIVE)
			IRC(c)->cap_wait = true;
		send_line(c, ":%s CAP %s %s :%.*s", srv(c), me(c),
			  irc_cap_req(c, arg) ? "ACK" : "NAK", (int)arg->len,
			  arg->p);
	} else if (strcmp(sub, "END") == 0) {
		IRC(c)->cap_wait = false;
		irc_try_register(c);
	} else {
		num(c, 410, "%s :Invalid CAP command", sub);
	}
}

/* ---- channels ---- */

/* A channel's room (or -1 for &all); -2 and a 403 when it does not exist
 * and create is false, or it is not a valid name. */
int
chan_lookup(struct client *c, const struct irc_param *p, bool create,
	    bool quiet)
{
	const char *rn;
	size_t rl;

	switch (irc_chan_room(p->p, p->len, &rn, &rl)) {
	case IRC_CHAN_BCST:
		return -1;
	case IRC_CHAN_ROOM:
		break;
	default:
		if (!quiet)
			num(c, 403, "%.*s :No such channel", (int)p->len, p->p);
		return -2;
	}
	int room = registry_room_find(c->w->reg, rn, rl);
	if (room < 0 && create) {
		room = registry_room_create(c->w->reg, rn, rl);
		if (room == -EEXIST)
			room = registry_room_find(c->w->reg, rn, rl);
	}
	if (room < 0 && !quiet)
		num(c, room == -ENOSPC ? 405 : 403, "%.*s :%s", (int)p->len,
		    p->p,
		    room == -ENOSPC ? "You have joined too many channels"
				    : "No such channel");
	return room < 0 ? -2 : room;
}

void
chan_name(struct client *c, int room, char *buf, size_t cap)
{
	const char *rn = room >= 0
				 ? registry_room_name(c->w->reg, (uint32_t)room)
				 : NULL;

	if (room < 0 || rn == NULL)
		snprintf(buf, cap, "%s", IRC_CHAN_ALL);
	else
		irc_room_chan(rn, buf, cap);
}

bool
is_member(struct client *c, int room)
{
	if (room < 0)
		return IRC(c)->in_all;
	return registry_room_has(c->w->reg, (uint32_t)room, (uint32_t)c->slot);
}

static void
join_echo(struct client *c, int room)
{
	char pfx[128], chan[64];

	self_prefix(c, pfx, sizeof(pfx));
	chan_name(c, room, chan, sizeof(chan));
	send_line(c, ":%s JOIN %s", pfx, chan);
	irc_topic_burst(c, room, chan);
	if (room < 0)
		send_names_all(c);
	else
		send_names_room(c, (uint32_t)room, chan);
	num(c, 366, "%s :End of /NAMES list.", chan);
}

static void
join_all(struct client *c)
{
	IRC(c)->in_all = true;
	irc_hear_update(c);
	join_echo(c, -1);
}

static const struct irc_param *join_keys; /* JOIN's second parameter */
static size_t join_key_at;                /* the next key in it */

/* The next comma-separated key of JOIN (empty when there is none). */
static void
join_next_key(char *key, size_t cap)
{
	const struct irc_param *k = join_keys;
	size_t at = join_key_at, end = at;

	key[0] = '\0';
	if (k == NULL || at > k->len)
		return;
	while (end < k->len && k->p[end] != ',')
		end++;
	snprintf(key, cap, "%.*s", (int)(end - at), k->p + at);
	join_key_at = end + 1;
}

static void
join_one(struct client *c, const struct irc_param *p)
{
	char key[IRC_LINE_MAX], nuh[160], chan[64];
	struct reg_user_view me_v = {.slot = (uint32_t)c->slot,
				     .conn_id = c->conn.id,
				     .dialect = DIALECT_IRC};

	join_next_key(key, sizeof(key));
	int room = chan_lookup(c, p, true, false);
	if (room == -2 || is_member(c, room))
		return;
	if (room == -1) {
		join_all(c);
		return;
	}
	memcpy(me_v.name, c->name, sizeof(me_v.name));
	user_nuh(c->w, &me_v, nuh, sizeof(nuh));
	struct reg_entry e = {nuh, key};
	int rc = registry_room_enter(c->w->reg, (uint32_t)room,
				     (uint32_t)c->slot, &e);
	if (rc < 0) {
		chan_name(c, room, chan, sizeof(chan));
		irc_join_refused(c, chan, rc);
		return;
	}
	login_note_room(c, (uint32_t)room, true);
	join_echo(c, room);
	fanout_simple(c->w, EV_ROOM_JOIN, c, room, NULL, 0);
	if (IRC(c)->away)
		notify_sharers(c, EVF_AWAY, IRC(c)->away);
}

static void part_one(struct client *c, const struct irc_param *p,
		     const struct irc_param *reason);

/* Call fn for each comma-separated item of p. */
static void
each_item(struct client *c, const struct irc_param *p,
	  void (*fn)(struct client *, const struct irc_param *))
{
	size_t i = 0;

	while (i <= p->len && !client_closing(c)) {
		const char *comma = memchr(p->p + i, ',', p->len - i);
		size_t end = comma ? (size_t)(comma - p->p) : p->len;
		struct irc_param one = {p->p + i, end - i};
		if (one.len > 0)
			fn(c, &one);
		i = end + 1;
	}
}

static void
part_all_rooms(struct client *c)
{
	while (c->nrooms > 0) {
		char chan[64];
		uint32_t room = c->rooms[c->nrooms - 1];
		chan_name(c, (int)room, chan, sizeof(chan));
		struct irc_param p = {chan, strlen(chan)};
		part_one(c, &p, NULL);
	}
}

static void
cmd_join(struct client *c, const struct irc_msg *m)
{
	if (m->params[0].len == 1 && m->params[0].p[0] == '0') {
		part_all_rooms(c);
		return;
	}
	join_keys = m->nparams > 1 ? &m->params[1] : NULL;
	join_key_at = 0;
	each_item(c, &m->params[0], join_one);
	join_keys = NULL;
}

static void
part_one(struct client *c, const struct irc_param *p,
	 const struct irc_param *reason)
{
	char pfx[128], chan[64];
	int room = chan_lookup(c, p, false, false);

	if (room == -2)
		return;
	chan_name(c, room, chan, sizeof(chan));
	if (!is_member(c, room)) {
		num(c, 442, "%s :You're not on that channel", chan);
		return;
	}
	self_prefix(c, pfx, sizeof(pfx));
	if (reason && reason->len)
		send_line(c, ":%s PART %s :%.*s", pfx, chan, (int)reason->len,
			  reason->p);
	else
		send_line(c, ":%s PART %s", pfx, chan);
	if (room == -1) {
		IRC(c)->in_all = false;
		irc_hear_update(c);
		return;
	}
	registry_room_leave(c->w->reg, (uint32_t)room, (uint32_t)c->slot);
	login_note_room(c, (uint32_t)room, false);
	fanout_simple(c->w, EV_ROOM_LEFT, c, room, reason ? reason->p : NULL,
		      reason ? reason->len : 0);
}

static const struct irc_param *part_reason;

static void
part_item(struct client *c, const struct irc_param *p)
{
	part_one(c, p, part_reason);
}

static void
cmd_part(struct client *c, const struct irc_msg *m)
{
	part_reason = m->nparams > 1 ? &m->params[1] : NULL;
	each_item(c, &m->params[0], part_item);
	part_reason = NULL;
}

static bool names_many; /* NAMES #a,#b: one 366 for the whole list */

static void
names_item(struct client *c, const struct irc_param *p)
{
	char chan[64];
	int room = chan_lookup(c, p, false, true);

	if (room == -2) {
		if (!names_many)
			num(c, 366, "%.*s :End of /NAMES list.", (int)p->len,
			    p->p);
		return;
	}
	chan_name(c, room, chan, sizeof(chan));
	if (room == -1)
		send_names_all(c);
	else if (irc_chan_visible(c, room))
		send_names_room(c, (uint32_t)room, chan);
	if (!names_many)
		num(c, 366, "%s :End of /NAMES list.", chan);
}

static void
cmd_names(struct client *c, const struct irc_msg *m)
{
	const struct irc_param *p = &m->params[0];

	if (m->nparams == 0) {
		num(c, 366, "* :End of /NAMES list.");
		return;
	}
	names_many = memchr(p->p, ',', p->len) != NULL;
	each_item(c, p, names_item);
	if (names_many)
		num(c, 366, "%.*s :End of /NAMES list.", (int)p->len, p->p);
	names_many = false;
}

static size_t
room_size(struct client *c, int room)
{
	if (room < 0)
		return registry_user_count(c->w->reg);
	size_t need = registry_room_members(c->w->reg, (uint32_t)room, NULL, 0);
	char *list = malloc(need + 1);
	size_t n = 0;

	if (list == NULL)
		return 0;
	size_t len =
		registry_room_members(c->w->reg, (uint32_t)room, list, need);
	for (size_t i = 0; i < len && len <= need; i++)
		n += list[i] == ' ';
	free(list);
	return n;
}

static void
list_one(struct client *c, int room, size_t size)
{
	char chan[64];
	struct reg_chan_view v;

	chan_name(c, room, chan, sizeof(chan));
	if (room < 0 || registry_chan_get(c->w->reg, (uint32_t)room, &v) < 0)
		v.topic[0] = '\0';
	num(c, 322, "%s %zu :%s", chan, size, v.topic);
}

static bool glob(const char *pat, const char *s);

/* Does a channel pass LIST's conditions (ELIST=MNU: comma-separated
 * masks, !masks, >n and <n members)? Without a mask every channel does
 * but &all. */
static bool
list_wants(const struct irc_param *items, const char *chan, size_t size,
	   bool is_all)
{
	char it[IRC_LINE_MAX];
	bool masks = false, hit = false;
	size_t i = 0;

	while (items && i < items->len) {
		const char *comma = memchr(items->p + i, ',', items->len - i);
		size_t end = comma ? (size_t)(comma - items->p) : items->len;
		snprintf(it, sizeof(it), "%.*s", (int)(end - i), items->p + i);
		i = end + 1;
		if (it[0] == '>' || it[0] == '<') {
			size_t n = strtoul(it + 1, NULL, 10);
			if (it[0] == '>' ? size <= n : size >= n)
				return false;
		} else if (it[0] == '!') {
			if (glob(it + 1, chan))
				return false;
		} else if (it[0]) {
			masks = true;
			hit = hit || glob(it, chan);
		}
	}
	return masks ? hit : !is_all;
}

static void
cmd_list(struct client *c, const struct irc_msg *m)
{
	uint32_t max = registry_limits(c->w->reg)->max_rooms;
	const struct irc_param *items = m->nparams > 0 ? &m->params[0] : NULL;
	char chan[64];

	num(c, 321, "Channel :Users  Name");
	for (int r = 0; r < (int)max; r++) {
		if (!registry_room_name(c->w->reg, (uint32_t)r) ||
		    !irc_chan_visible(c, r))
			continue;
		chan_name(c, r, chan, sizeof(chan));
		size_t size = room_size(c, r);
		if (list_wants(items, chan, size, false))
			list_one(c, r, size);
	}
	size_t all = room_size(c, -1);
	if (list_wants(items, IRC_CHAN_ALL, all, true))
		list_one(c, -1, all);
	num(c, 323, ":End of /LIST");
}

/* ---- messages ---- */

/* The message being sent (PRIVMSG, NOTICE or TAGMSG) to each target: its
 * text, and for IRC users the text after its tag block. */
struct out_msg {
	const struct irc_param *text;
	bool notice, tagmsg;
	char tagged[IRC_BLOCK_MAX + IRC_LINE_MAX + 2]; /* "block text" */
	size_t tlen;
};

static struct out_msg cur;

/* The other dialects' copy: formatting stripped, CTCP ACTION as
 * "* nick text", other CTCP not relayed. */
static void
deliver_plain(struct client *c, uint16_t kind, int room,
	      const struct reg_user_view *to, uint16_t flags)
{
	char plain[3 * IRC_LINE_MAX + 64];
	size_t plen;

	if (cur.tagmsg || irc_plain(c->name, cur.text->p, cur.text->len, plain,
				    sizeof(plain), &plen) != IRC_PLAIN_TEXT)
		return;
	struct fanout_args a = {.kind = kind,
				.flags = flags | EVF_PLAIN_ONLY,
				.from = c,
				.room = room,
				.to = to,
				.text = plain,
				.len = plen};
	fanout_ex(c->w, &a);
}

/* Is the current message's text the same for the other dialects (no
 * formatting, no CTCP, not a TAGMSG)? */
static bool
plain_is_raw(struct client *c)
{
	char plain[3 * IRC_LINE_MAX + 64];
	size_t plen;

	return !cur.tagmsg &&
	       irc_plain(c->name, cur.text->p, cur.text->len, plain,
			 sizeof(plain), &plen) == IRC_PLAIN_TEXT &&
	       plen == cur.text->len && memcmp(plain, cur.text->p, plen) == 0;
}

/* echo-message: the sender's own copy, as its variant shows it. */
static void
echo(struct client *c, uint16_t kind, int room, const char *target,
     uint16_t flags)
{
	char uh[UINFO_USER_SZ + UINFO_HOST_SZ + 1];

	if (!IRC(c)->echo)
		return;
	snprintf(uh, sizeof(uh), "%s@%s", IRC(c)->user, c->conn.ip);
	const char *rn = room >= 0
				 ? registry_room_name(c->w->reg, (uint32_t)room)
				 : NULL;
	struct ev_view v = {
		.sender = c->name,
		.sender_uh = uh,
		.to = target,
		.room = rn ? rn : "?",
		.text = cur.tagged,
		.text_len = cur.tlen,
		.flags = (uint16_t)(flags | EVF_TAGS |
				    DIALECT_IRC << EVF_DIALECT_SHIFT)};
	irc_echo(c, kind, &v);
}

/* Deliver an IRC message: with its tag block and untouched to IRC users,
 * converted to the other dialects; echoed to the sender if it asked. */
static void
deliver(struct client *c, uint16_t kind, int room,
	const struct reg_user_view *to)
{
	uint16_t flags = (uint16_t)((cur.notice ? EVF_NOTICE : 0) |
				    (cur.tagmsg ? EVF_TAGMSG : 0));
	const struct dialect_def *d = to ? dialect_by_id(to->dialect) : NULL;
	bool irc_to = to && d && d->raw_text;
	struct fanout_args a = {.kind = kind,
				.flags = flags | EVF_RAW_ONLY | EVF_TAGS,
				.from = c,
				.room = room,
				.to = to,
				.text = cur.tagged,
				.len = cur.tlen};

	if (to == NULL && plain_is_raw(c)) {
		/* one event for every dialect: the others drop the tag block
		 * (fanout's untag) and the text is theirs as it is */
		a.flags = (uint16_t)(a.flags & ~EVF_RAW_ONLY);
		fanout_ex(c->w, &a);
		echo(c, kind, room, NULL, flags);
		return;
	}
	if (to == NULL || irc_to)
		fanout_ex(c->w, &a);
	if (!irc_to)
		deliver_plain(c, kind, room, to, flags);
	echo(c, kind, room, to ? to->name : NULL, flags);
}

static void
msg_to_chan(struct client *c, const struct irc_param *t)
{
	char chan[64];
	int room = chan_lookup(c, t, false, cur.notice);

	if (room == -2)
		return;
	if (!irc_may_send(c, room)) {
		chan_name(c, room, chan, sizeof(chan));
		if (!cur.notice)
			num(c, 404, "%s :Cannot send to channel", chan);
		return;
	}
	deliver(c, room < 0 ? EV_BCST : EV_ROOM_MSG, room, NULL);
}

static void
msg_to_nick(struct client *c, const struct irc_param *t)
{
	struct reg_user_view to;
	struct uinfo u;

	if (registry_lookup(c->w->reg, t->p, t->len, &to) < 0) {
		if (!cur.notice)
			num(c, 401, "%.*s :No such nick/channel", (int)t->len,
			    t->p);
		return;
	}
	if (!fanout_reachable(c->w, &to)) {
		if (!cur.notice && !cur.tagmsg)
			num(c, 263,
			    "PRIVMSG :Cluster unavailable, try again later");
		return;
	}
	deliver(c, EV_PM, -1, &to);
	if (!cur.notice && !cur.tagmsg &&
	    userinfo_get(c->w->uinfo, to.slot, to.conn_id, to.name, &u) == 0 &&
	    u.away[0])
		num(c, 301, "%s :%s", to.name, u.away);
}

static void
msg_item(struct client *c, const struct irc_param *t)
{
	if ((t->p[0] == '@' || t->p[0] == '+') && t->len > 1 &&
	    (t->p[1] == '#' || t->p[1] == '&'))
		irc_status_msg(c, t, cur.text, cur.notice);
	else if (t->p[0] == '#' || t->p[0] == '&')
		msg_to_chan(c, t);
	else
		msg_to_nick(c, t);
}

/* The targets are fine (411/407 otherwise, never for a NOTICE). */
static bool
msg_targets_ok(struct client *c, const struct irc_msg *m, const char *cmd,
	       bool quiet)
{
	if (m->nparams < 1 || m->params[0].len == 0) {
		if (!quiet)
			num(c, 411, ":No recipient given (%s)", cmd);
		return false;
	}
	const struct irc_param *t = &m->params[0];
	size_t targets = 1;
	for (size_t i = 0; i < t->len; i++)
		targets += t->p[i] == ',';
	if (targets > IRC_TARGETS && !quiet)
		num(c, 407, "%.*s :Too many targets", (int)t->len, t->p);
	return targets <= IRC_TARGETS;
}

static void
send_to_targets(struct client *c, const struct irc_msg *m,
		const struct irc_param *text)
{
	size_t b = irc_tag_block(c, m, cur.tagged, IRC_BLOCK_MAX);
	int n = snprintf(cur.tagged + b, sizeof(cur.tagged) - b, " %.*s",
			 (int)text->len, text->p);

	cur.text = text;
	cur.tlen = b + (n > 0 ? (size_t)n : 0);
	each_item(c, &m->params[0], msg_item);
	IRC(c)->last_msg = time(NULL);
	irc_publish(c);
}

static void
send_msg(struct client *c, const struct irc_msg *m, bool notice)
{
	const char *cmd = notice ? "NOTICE" : "PRIVMSG";

	if (!msg_targets_ok(c, m, cmd, notice))
		return;
	if (m->nparams < 2 || m->params[1].len == 0) {
		if (!notice)
			num(c, 412, ":No text to send");
		return;
	}
	cur.notice = notice;
	cur.tagmsg = false;
	send_to_targets(c, m, &m->params[1]);
}

static void
cmd_privmsg(struct client *c, const struct irc_msg *m)
{
	send_msg(c, m, false);
}

static void
cmd_notice(struct client *c, const struct irc_msg *m)
{
	send_msg(c, m, true);
}

/* TAGMSG: only tags, to IRC users with message-tags. */
static void
cmd_tagmsg(struct client *c, const struct irc_msg *m)
{
	static const struct irc_param none = {"", 0};

	if (!msg_targets_ok(c, m, "TAGMSG", false))
		return;
	cur.notice = false;
	cur.tagmsg = true;
	send_to_targets(c, m, &none);
}

/* ---- nick change ---- */

static void
nick_event(struct client *c, uint16_t kind, const char *name, int room,
	   const char *text, uint16_t flags)
{
	struct fanout_args a = {.kind = kind,
				.flags = flags,
				.from = c,
				.name = name,
				.room = room,
				.text = text,
				.len = text ? strlen(text) : 0};

	fanout_ex(c->w, &a);
}

/* IRC users see a NICK; the other dialects a logout and a login. */
static void
nick_events(struct client *c, const char *old)
{
	nick_event(c, EV_NICK, old, -1, c->name, EVF_RAW_ONLY);
	for (size_t i = 0; i < c->nrooms; i++)
		nick_event(c, EV_ROOM_LEFT, old, (int)c->rooms[i], NULL,
			   EVF_PLAIN_ONLY);
	nick_event(c, EV_LOGOUT, old, -1, NULL, EVF_PLAIN_ONLY);
	nick_event(c, EV_LOGIN, c->name, -1, NULL, EVF_PLAIN_ONLY);
	for (size_t i = 0; i < c->nrooms; i++)
		nick_event(c, EV_ROOM_JOIN, c->name, (int)c->rooms[i], NULL,
			   EVF_PLAIN_ONLY);
}

static void whowas_note(struct client *c, const char *nick);

/* NICK after registration: a rename for IRC users, a logout and a login
 * for the other dialects. */
static void
nick_change(struct client *c, const char *nick)
{
	char old[REG_NAME_SZ], pfx[128];

	if (strcmp(nick, c->name) == 0)
		return;
	self_prefix(c, pfx, sizeof(pfx));
	memcpy(old, c->name, sizeof(old));
	uint8_t *flags = malloc(c->nrooms + 1);
	if (flags == NULL)
		return;
	irc_flags_save(c, flags);
	int rc = login_rename(c, nick);
	if (rc >= 0 || c->slot >= 0)
		irc_flags_restore(c, flags);
	free(flags);
	if (rc < 0) {
		num(c, 433, "%s :Nickname is already in use", nick);
		return;
	}
	snprintf(IRC(c)->prev, sizeof(IRC(c)->prev), "%s", old);
	whowas_note(c, old);
	irc_publish(c);
	send_line(c, ":%s NICK :%s", pfx, c->name);
	nick_events(c, old);
}

/* ---- queries ---- */

bool
lookup_user(struct client *c, const struct irc_param *p,
	    struct reg_user_view *v)
{
	return registry_lookup(c->w->reg, p->p, p->len, v) == 0;
}

static void
whois_channels(struct client *c, const struct reg_user_view *v)
{
	char list[IRC_LINE_MAX], chan[64];
	size_t n = 0;
	uint32_t max = registry_limits(c->w->reg)->max_rooms;

	char pfx[3];

	for (uint32_t r = 0; r < max && n < 400; r++) {
		if (!registry_room_name(c->w->reg, r) ||
		    !registry_room_has(c->w->reg, r, v->slot) ||
		    !irc_chan_visible(c, (int)r))
			continue;
		chan_name(c, (int)r, chan, sizeof(chan));
		irc_member_prefix(c->w, (int)r, v->slot, IRC(c)->mprefix, pfx);
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s%s",
				      n ? " " : "", pfx, chan);
	}
	if (n > 0)
		num(c, 319, "%s :%s", v->name, list);
}

static void
whois_item(struct client *c, const struct irc_param *p)
{
	struct reg_user_view v;
	struct uinfo u;

	if (!lookup_user(c, p, &v)) {
		num(c, 401, "%.*s :No such nick/channel", (int)p->len, p->p);
		num(c, 318, "%.*s :End of /WHOIS list.", (int)p->len, p->p);
		return;
	}
	user_host(c->w, &v, &u);
	num(c, 311, "%s %s %s * :%s", v.name, u.user, u.host, u.real);
	whois_channels(c, &v);
	num(c, 312, "%s %s :forkchat", v.name, srv(c));
	if (u.away[0])
		num(c, 301, "%s :%s", v.name, u.away);
	if (u.oper)
		num(c, 313, "%s :is an IRC operator", v.name);
	if (u.bot)
		num(c, 335, "%s :is a bot on " IRC_NETWORK, v.name);
	if (u.signon)
		num(c, 317, "%s %lld %lld :seconds idle, signon time", v.name,
		    (long long)(time(NULL) - u.last_msg), (long long)u.signon);
	num(c, 318, "%s :End of /WHOIS list.", v.name);
}

static void
cmd_whois(struct client *c, const struct irc_msg *m)
{
	const struct irc_param *p = &m->params[m->nparams - 1];

	if (p->len == 0) {
		num(c, 431, ":No nickname given");
		return;
	}
	each_item(c, p, whois_item);
}

/* Remember c under its current (or old) name for WHOWAS. */
static void
whowas_note(struct client *c, const char *nick)
{
	struct uinfo u;

	memset(&u, 0, sizeof(u));
	snprintf(u.nick, sizeof(u.nick), "%s", nick);
	snprintf(u.user, sizeof(u.user), "%s", IRC(c)->user);
	snprintf(u.host, sizeof(u.host), "%s", c->conn.ip);
	snprintf(u.real, sizeof(u.real), "%s", IRC(c)->real);
	u.signon = time(NULL);
	userinfo_whowas_add(c->w->uinfo, &u);
}

/* the dialect's on_logout: c's name is about to go */
static void
irc_gone(struct client *c)
{
	if (c->dstate && c->name[0])
		whowas_note(c, c->name);
}

static void
cmd_whowas(struct client *c, const struct irc_msg *m)
{
	char nick[IRC_LINE_MAX], when[64];
	struct uinfo found[16];
	const struct irc_param *p = &m->params[0];

	if (p->len == 0) {
		num(c, 431, ":No nickname given");
		return;
	}
	irc_param_str(m, 0, nick, sizeof(nick));
	long count = m->nparams > 1 ? strtol(m->params[1].p, NULL, 10) : 0;
	size_t max = count > 0 && count < 16 ? (size_t)count : 16;
	size_t n = userinfo_whowas_find(c->w->uinfo, nick, found, max);
	if (n == 0)
		num(c, 406, "%.*s :There was no such nickname", (int)p->len,
		    p->p);
	for (size_t i = 0; i < n; i++) {
		time_t t = (time_t)found[i].signon;
		strftime(when, sizeof(when), "%a %b %d %H:%M:%S %Y",
			 gmtime(&t));
		num(c, 314, "%s %s %s * :%s", found[i].nick, found[i].user,
		    found[i].host, found[i].real);
		num(c, 312, "%s %s :%s", found[i].nick, srv(c), when);
	}
	num(c, 369, "%.*s :End of WHOWAS", (int)p->len, p->p);
}

/* WHO's reply form: plain 352, or WHOX's 354 with the fields asked for
 * ("%tcuihsnfdlaor" in any order) and a query token. */
struct who_form {
	char fields[16]; /* "" for 352 */
	char token[4];
	char pfx[3]; /* the member's channel prefix (@, +) */
};

/* H or G, then * for an operator and B for a bot */
static void
who_flags(const struct uinfo *u, const char *pfx, char *out)
{
	size_t n = 0;

	out[n++] = u->away[0] ? 'G' : 'H';
	if (u->oper)
		out[n++] = '*';
	if (u->bot)
		out[n++] = 'B';
	snprintf(out + n, 4, "%s", pfx);
}

/* One WHOX field of the 354 reply into out (with its leading space). */
static size_t
whox_field(struct client *c, char f, const char *chan,
	   const struct reg_user_view *v, const struct uinfo *u,
	   const struct who_form *wf, char *out, size_t cap)
{
	char flags[12];
	long long idle = u->signon ? (long long)(time(NULL) - u->last_msg) : 0;
	bool irc = v->dialect == DIALECT_IRC;

	who_flags(u, wf->pfx, flags);
	switch (f) {
	case 't':
		return (size_t)snprintf(out, cap, " %s", wf->token);
	case 'c':
		return (size_t)snprintf(out, cap, " %s", chan);
	case 'u':
		return (size_t)snprintf(out, cap, " %s", u->user);
	case 'i':
		return (size_t)snprintf(out, cap, " %s",
					irc ? u->host : "255.255.255.255");
	case 'h':
		return (size_t)snprintf(out, cap, " %s", u->host);
	case 's':
		return (size_t)snprintf(out, cap, " %s", srv(c));
	case 'n':
		return (size_t)snprintf(out, cap, " %s", v->name);
	case 'f':
		return (size_t)snprintf(out, cap, " %s", flags);
	case 'd':
		return (size_t)snprintf(out, cap, " 0");
	case 'l':
		return (size_t)snprintf(out, cap, " %lld", idle);
	case 'a':
		return (size_t)snprintf(out, cap, " 0");
	case 'o':
		return (size_t)snprintf(out, cap, " n/a");
	case 'r':
		return (size_t)snprintf(out, cap, " :%s", u->real);
	default:
		return 0;
	}
}

static void
whox_reply(struct client *c, const char *chan, const struct reg_user_view *v,
	   const struct uinfo *u, const struct who_form *wf)
{
	static const char order[] = "tcuihsnfdlaor";
	char line[IRC_LINE_MAX];
	size_t n = 0;

	line[0] = '\0';
	for (const char *f = order; *f && n < sizeof(line) - 1; f++)
		if (strchr(wf->fields, *f))
			n += whox_field(c, *f, chan, v, u, wf, line + n,
					sizeof(line) - n);
	num(c, 354, "%s", n ? line + 1 : "");
}

static void
who_reply(struct client *c, int room, const char *chan,
	  const struct reg_user_view *v, const struct who_form *wf)
{
	struct uinfo u;
	struct who_form f = *wf;
	char flags[12];

	user_host(c->w, v, &u);
	irc_member_prefix(c->w, room, v->slot, IRC(c)->mprefix, f.pfx);
	if (f.fields[0]) {
		whox_reply(c, chan, v, &u, &f);
		return;
	}
	who_flags(&u, f.pfx, flags);
	num(c, 352, "%s %s %s %s %s %s :0 %s", chan, u.user, u.host, srv(c),
	    v->name, flags, u.real);
}

/* WHO's second parameter: "%fields[,token]" asks for WHOX. */
static void
who_form(const struct irc_msg *m, struct who_form *wf)
{
	char arg[64];

	memset(wf, 0, sizeof(*wf));
	irc_param_str(m, 1, arg, sizeof(arg));
	if (arg[0] != '%')
		return;
	char *comma = strchr(arg, ',');
	if (comma) {
		*comma = '\0';
		snprintf(wf->token, sizeof(wf->token), "%.3s", comma + 1);
	}
	snprintf(wf->fields, sizeof(wf->fields), "%.15s",
		 arg[1] ? arg + 1 : "n");
	if (wf->token[0] == '\0')
		snprintf(wf->token, sizeof(wf->token), "0");
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ASCII case-insensitive glob with * and ?, without recursion: on a
 * mismatch, the last * takes one more character. */
static bool
glob(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s) {
		if (*pat == '*') {
			star = pat++;
			resume = s;
		} else if (*pat == '?' || (*pat && lower(*pat) == lower(*s))) {
			pat++;
			s++;
		} else if (star) {
			pat = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

static bool
shares_room(struct client *c, uint32_t slot)
{
	for (size_t i = 0; i < c->nrooms; i++)
		if (registry_room_has(c->w->reg, c->rooms[i], slot))
			return true;
	return false;
}

/* A WHO mask finds users it matches; a wildcard mask finds an invisible
 * one (+i) only if it is the asker or shares a room with it. */
static bool
who_matches(struct client *c, const char *mask, const struct reg_user_view *v)
{
	struct uinfo u;

	user_host(c->w, v, &u);
	bool wild = strpbrk(mask, "*?") != NULL;
	if (wild && u.invisible && v->slot != (uint32_t)c->slot &&
	    !shares_room(c, v->slot))
		return false;
	return glob(mask, v->name) || glob(mask, u.user) ||
	       glob(mask, u.host) || glob(mask, u.real) || glob(mask, srv(c));
}

static void
who_room(struct client *c, int room, const char *chan,
	 const struct who_form *wf)
{
	struct worker *w = c->w;
	size_t n = registry_users(w->reg, w->views,
				  registry_limits(w->reg)->max_users);

	for (size_t i = 0; i < n; i++)
		if (room < 0 ||
		    registry_room_has(w->reg, (uint32_t)room, w->views[i].slot))
			who_reply(c, room, chan, &w->views[i], wf);
}

static void
cmd_who(struct client *c, const struct irc_msg *m)
{
	char mask[IRC_LINE_MAX], chan[64];
	struct worker *w = c->w;
	struct who_form wf;

	who_form(m, &wf);
	irc_param_str(m, 0, mask, sizeof(mask));
	if (mask[0] == '#' || mask[0] == '&') {
		int room = chan_lookup(c, &m->params[0], false, true);
		chan_name(c, room, chan, sizeof(chan));
		if (room != -2 && irc_chan_visible(c, room))
			who_room(c, room, chan, &wf);
		num(c, 315, "%s :End of WHO list.", room == -2 ? mask : chan);
		return;
	}
	if (strcmp(mask, "0") == 0 || mask[0] == '\0')
		snprintf(mask, sizeof(mask), "*");
	size_t n = registry_users(w->reg, w->views,
				  registry_limits(w->reg)->max_users);
	for (size_t i = 0; i < n; i++)
		if (who_matches(c, mask, &w->views[i]))
			who_reply(c, -1, "*", &w->views[i], &wf);
	num(c, 315, "%s :End of WHO list.", mask);
}

static void
cmd_ison(struct client *c, const struct irc_msg *m)
{
	char out[IRC_LINE_MAX];
	size_t n = 0;
	struct reg_user_view v;

	out[0] = '\0';
	for (int i = 0; i < m->nparams; i++) {
		const struct irc_param *p = &m->params[i];
		for (size_t a = 0; a < p->len;) {
			const char *sp = memchr(p->p + a, ' ', p->len - a);
			size_t e = sp ? (size_t)(sp - p->p) : p->len;
			if (e > a &&
			    registry_lookup(c->w->reg, p->p + a, e - a, &v) ==
				    0 &&
			    n + strlen(v.name) + 2 < sizeof(out))
				n += (size_t)snprintf(out + n, sizeof(out) - n,
						      "%s%s", n ? " " : "",
						      v.name);
			a = e + 1;
		}
	}
	num(c, 303, ":%s", out);
}

static void
cmd_userhost(struct client *c, const struct irc_msg *m)
{
	char out[IRC_LINE_MAX];
	size_t n = 0;
	struct reg_user_view v;
	struct uinfo u;

	out[0] = '\0';
	for (int i = 0; i < m->nparams && i < 5; i++) {
		if (!lookup_user(c, &m->params[i], &v))
			continue;
		user_host(c->w, &v, &u);
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s=%c%s@%s",
				      n ? " " : "", v.name,
				      u.away[0] ? '-' : '+', u.user, u.host);
		if (n >= sizeof(out))
			break;
	}
	num(c, 302, ":%s", out);
}

static void nick_event(struct client *c, uint16_t kind, const char *name,
		       int room, const char *text, uint16_t flags);

/* away-notify and setname: tell the IRC users who share a channel with c
 * (and asked for it). */
static void
notify_sharers(struct client *c, uint16_t flag, const char *text)
{
	nick_event(c, EV_NICK, c->name, -1, text,
		   (uint16_t)(EVF_RAW_ONLY | flag));
}

/* Few users are away: the text is held only while one is. */
static void
cmd_away(struct client *c, const struct irc_msg *m)
{
	char text[UINFO_AWAY_SZ] = "";
	struct irc_conn *s = IRC(c);

	if (m->nparams > 0)
		irc_param_str(m, 0, text, sizeof(text));
	free(s->away);
	s->away = text[0] ? strdup(text) : NULL;
	if (text[0] && s->away == NULL) /* stays marked as here */
		num(c, 263, "AWAY :Server out of memory, try again");
	else if (s->away)
		num(c, 306, ":You have been marked as being away");
	else
		num(c, 305, ":You are no longer marked as being away");
	irc_publish(c);
	notify_sharers(c, EVF_AWAY, s->away ? s->away : "");
}

static void
cmd_setname(struct client *c, const struct irc_msg *m)
{
	char pfx[128];
	const struct irc_param *p = &m->params[0];

	if (p->len == 0 || p->len >= sizeof(IRC(c)->real)) {
		send_line(c,
			  ":%s FAIL SETNAME INVALID_REALNAME :Realname is "
			  "not valid",
			  srv(c));
		return;
	}
	irc_param_str(m, 0, IRC(c)->real, sizeof(IRC(c)->real));
	irc_publish(c);
	self_prefix(c, pfx, sizeof(pfx));
	if (IRC(c)->setname)
		send_line(c, ":%s SETNAME :%s", pfx, IRC(c)->real);
	notify_sharers(c, EVF_SETNAME, IRC(c)->real);
}

/* ---- MODE ---- */

/* The user mode letters a user may set on itself, and where each is kept
 * (o only goes: OPER sets it). */
static bool *
umode_flag(struct irc_conn *s, char f, bool add)
{
	switch (f) {
	case 'i':
		return &s->invisible;
	case 'w':
		return &s->wallops;
	case 'B':
		return &s->bot;
	case 'o':
		return add ? NULL : &s->oper;
	default:
		return NULL;
	}
}

/* "+iwB..." of the user's modes into out (8 bytes). */
static void
umode_string(const struct irc_conn *s, char *out)
{
	size_t n = 0;

	out[n++] = '+';
	if (s->invisible)
		out[n++] = 'i';
	if (s->oper)
		out[n++] = 'o';
	if (s->wallops)
		out[n++] = 'w';
	if (s->bot)
		out[n++] = 'B';
	out[n] = '\0';
}

static void
mode_self(struct client *c, const struct irc_msg *m)
{
	char done[32], pfx[128];
	size_t n = 0;
	bool add = true, unknown = false;

	if (m->nparams == 1) {
		umode_string(IRC(c), done);
		num(c, 221, "%s", done);
		return;
	}
	const struct irc_param *p = &m->params[1];
	for (size_t i = 0; i < p->len && n < sizeof(done) - 3; i++) {
		char f = p->p[i];
		if (f == '+' || f == '-') {
			add = f == '+';
			continue;
		}
		bool *flag = umode_flag(IRC(c), f, add);
		if (flag == NULL) {
			unknown = unknown || f != 'o';
			continue;
		}
		if (*flag != add) {
			*flag = add;
			irc_hear_update(c);
			done[n++] = add ? '+' : '-';
			done[n++] = f;
		}
	}
	done[n] = '\0';
	if (unknown)
		num(c, 501, ":Unknown MODE flag");
	self_prefix(c, pfx, sizeof(pfx));
	if (n > 0) {
		irc_publish(c);
		send_line(c, ":%s MODE %s :%s", pfx, c->name, done);
	}
}

static void
cmd_mode(struct client *c, const struct irc_msg *m)
{
	const struct irc_param *t = &m->params[0];
	struct reg_user_view v;

	if (t->len > 0 && (t->p[0] == '#' || t->p[0] == '&')) {
		int room = chan_lookup(c, t, false, false);
		if (room != -2)
			irc_mode_chan(c, m, room);
		return;
	}
	if (!lookup_user(c, t, &v)) {
		num(c, 401, "%.*s :No such nick/channel", (int)t->len, t->p);
		return;
	}
	if (v.slot != (uint32_t)c->slot) {
		num(c, 502, ":Can't change mode for other users");
		return;
	}
	mode_self(c, m);
}

/* ---- server queries, heartbeat, quit ---- */

static void
cmd_motd(struct client *c, const struct irc_msg *m)
{
	(void)m;
	send_motd(c);
}

static void
cmd_lusers(struct client *c, const struct irc_msg *m)
{
	(void)m;
	send_lusers(c);
}

static void
cmd_version(struct client *c, const struct irc_msg *m)
{
	(void)m;
	num(c, 351, IRC_VERSION ". %s :forkchat chat daemon", srv(c));
	send_isupport(c);
}

static void
cmd_time(struct client *c, const struct irc_msg *m)
{
	char buf[64];
	time_t t = time(NULL);

	(void)m;
	strftime(buf, sizeof(buf), "%A %B %d %Y -- %H:%M:%S +00:00",
		 gmtime(&t));
	num(c, 391, "%s :%s", srv(c), buf);
}

static void
cmd_ping(struct client *c, const struct irc_msg *m)
{
	if (m->nparams < 1 || m->params[0].len == 0) {
		num(c, 409, ":No origin specified");
		return;
	}
	send_line(c, ":%s PONG %s :%.*s", srv(c), srv(c), (int)m->params[0].len,
		  m->params[0].p);
}

static void
cmd_pong(struct client *c, const struct irc_msg *m)
{
	(void)m;
	(void)client_pong(c);
}

static void
cmd_quit(struct client *c, const struct irc_msg *m)
{
	char reason[400];

	irc_param_str(m, 0, reason, sizeof(reason));
	irc_close(c,
		  irc_set_quit(c, "Quit%s%s", reason[0] ? ": " : "", reason));
}

const char *
irc_set_quit(struct client *c, const char *fmt, ...)
{
	struct irc_conn *s = IRC(c);
	char text[IRC_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	free(s->quit_msg);
	s->quit_msg = strdup(text);
	return s->quit_msg ? s->quit_msg : "Quit";
}

static const struct irc_cmd cmds[] = {
	{"NICK", 0, true, cmd_nick},
	{"USER", 4, true, cmd_user},
	{"PASS", 1, true, cmd_pass},
	{"CAP", 1, true, cmd_cap},
	{"PING", 0, true, cmd_ping},
	{"PONG", 0, true, cmd_pong},
	{"QUIT", 0, true, cmd_quit},
	{"JOIN", 1, false, cmd_join},
	{"PART", 1, false, cmd_part},
	{"PRIVMSG", 0, false, cmd_privmsg},
	{"NOTICE", 0, false, cmd_notice},
	{"TAGMSG", 0, false, cmd_tagmsg},
	{"SETNAME", 1, false, cmd_setname},
	{"NAMES", 0, false, cmd_names},
	{"LIST", 0, false, cmd_list},
	{"TOPIC", 1, false, irc_cmd_topic},
	{"WHO", 0, false, cmd_who},
	{"WHOIS", 1, false, cmd_whois},
	{"WHOWAS", 1, false, cmd_whowas},
	{"ISON", 1, false, cmd_ison},
	{"USERHOST", 1, false, cmd_userhost},
	{"AWAY", 0, false, cmd_away},
	{"MODE", 1, false, cmd_mode},
	{"MOTD", 0, false, cmd_motd},
	{"LUSERS", 0, false, cmd_lusers},
	{"VERSION", 0, false, cmd_version},
	{"TIME", 0, false, cmd_time},
	{"OPER", 2, false, irc_cmd_oper},
	{"KICK", 2, false, irc_cmd_kick},
	{"INVITE", 0, false, irc_cmd_invite},
	{"MONITOR", 1, false, irc_cmd_monitor},
	{"KILL", 1, false, irc_cmd_kill},
	{"WALLOPS", 1, false, irc_cmd_wallops},
	{"HELP", 0, false, irc_cmd_help},
	{"HELPOP", 0, false, irc_cmd_help},
	{"INFO", 0, false, irc_cmd_info},
};

/* ---- the dialect's entry points ---- */

static void irc_too_long(struct client *c);

/* Well-formed UTF-8 (UTF8ONLY), whatever the control bytes. */
static bool
utf8_ok(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		size_t n = u[i] < 0x80 ? 1 : wire_utf8_len(u + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

static void
irc_on_line(struct client *c, const char *line, size_t len)
{
	struct irc_msg m;

	if (c->dstate == NULL) {
		if ((c->dstate = calloc(1, sizeof(struct irc_conn))) == NULL) {
			client_close(c, CR_NO_MEMORY, NULL);
			return;
		}
		irc_tags_select(c);
	}
	if (memchr(line, '\0', len) || irc_parse(line, len, &m) < 0)
		return;
	size_t tags = m.tags ? m.tags_len + 2 : 0;
	if (tags > IRC_TAGS_MAX || len - tags > IRC_LINE_MAX - 2) {
		irc_too_long(c);
		return;
	}
	if (!utf8_ok(line, len)) {
		send_line(c,
			  ":%s FAIL %.*s INVALID_UTF8 :Message rejected, "
			  "your IRC software MUST use UTF-8 encoding on "
			  "this network",
			  srv(c), (int)m.cmd_len, m.cmd);
		return;
	}
	for (size_t i = 0; i < FC_ARRAY_LEN(cmds); i++) {
		const struct irc_cmd *d = &cmds[i];
		if (!irc_cmd_is(&m, d->word))
			continue;
		if (!d->before_reg && c->state != CS_LIVE) {
			num(c, 451, ":You have not registered");
			return;
		}
		if (m.nparams < d->min_params) {
			num(c, 461, "%s :Not enough parameters", d->word);
			return;
		}
		irc_label_begin(c, &m);
		d->fn(c, &m);
		irc_label_end(c);
		return;
	}
	irc_label_begin(c, &m);
	num(c, 421, "%.*s :Unknown command", (int)m.cmd_len, m.cmd);
	irc_label_end(c);
}

static void
irc_release(struct client *c)
{
	if (c->dstate) {
		irc_monitor_free(c->dstate);
		irc_label_begin(c, NULL);
		free(IRC(c)->away);
		free(IRC(c)->quit_msg);
	}
	free(c->dstate);
	c->dstate = NULL;
}

static void
irc_ping(struct client *c)
{
	send_line(c, "PING :%s", srv(c));
}

static void
irc_too_long(struct client *c)
{
	num(c, 417, ":Input line was too long");
}

static const char *
irc_quit_text(const struct client *c)
{
	return c->dstate ? IRC(c)->quit_msg : NULL;
}

/* "ERROR :Closing link: nick[host] (why)"; c is NULL at accept. */
static void
irc_close_fmt(const struct client *c, const char *line, const char *detail,
	      struct sendq *q)
{
	char out[IRC_LINE_MAX + 1];
	size_t n;

	if (c)
		n = irc_line(out, sizeof(out),
			     "ERROR :Closing link: %s[%s] (%s)", me(c),
			     c->conn.ip, detail ? detail : line);
	else
		n = irc_line(out, sizeof(out), "ERROR :Closing link: * (%s)",
			     line);
	(void)sendq_append(q, out, n);
}

/* ---- how events read for an IRC client ---- */

/* Did the leaver share a room with c (for its QUIT or NICK)? */
static bool
shared_with(struct client *c, const struct ev_body *ev)
{
	struct irc_conn *s = IRC(c);

	if (s->in_all)
		return true;
	if (s->shared_slot == ev->sender_slot &&
	    s->shared_conn == ev->sender_conn)
		return true;
	for (size_t i = 0; i < c->nrooms; i++)
		if (registry_room_has(c->w->reg, c->rooms[i], ev->sender_slot))
			return true;
	return false;
}

/* &all's events go to its members; a QUIT or NICK to those who shared a
 * channel; a room left by logging out is no PART but notes the sharer. */
static bool
irc_wants(struct client *c, const struct ev_body *ev)
{
	if (c->dstate == NULL)
		return false;
	uint16_t sub = ev->flags & EVF_SUB;

	if (ev->kind == EV_NICK && sub)
		return (shared_with(c, ev) || irc_monitors(c, ev)) &&
		       (sub == EVF_AWAY ? IRC(c)->away_notify
					: IRC(c)->setname);
	if (ev->kind == EV_LOGIN || ev->kind == EV_LOGOUT ||
	    ev->kind == EV_NICK)
		irc_monitor_event(c, ev);
	if (ev->kind == EV_PM && sub == EVF_KILL) {
		irc_killed(c, ev->sender);
		return false;
	}
	if (ev->kind == EV_BCST && sub == EVF_WALLOPS)
		return IRC(c)->wallops;
	switch (ev->kind) {
	case EV_LOGIN:
	case EV_BCST:
		return IRC(c)->in_all;
	case EV_LOGOUT:
	case EV_NICK:
		return shared_with(c, ev);
	case EV_ROOM_LEFT:
		if (!(ev->flags & EVF_QUIT))
			return true;
		IRC(c)->shared_slot = ev->sender_slot;
		IRC(c)->shared_conn = ev->sender_conn;
		return false;
	case EV_ROOM_MSG:
		return irc_status_wants(c, ev);
	default:
		return true;
	}
}

/* ":nick!user@host", the host of a non-IRC user being its dialect */
static void
ev_prefix(const struct ev_view *ev, char *buf, size_t cap)
{
	if (ev->sender_uh) {
		snprintf(buf, cap, "%s!%s", ev->sender, ev->sender_uh);
		return;
	}
	const struct dialect_def *d =
		dialect_by_id(ev->flags >> EVF_DIALECT_SHIFT & 0xF);
	snprintf(buf, cap, "%s!%s@%s", ev->sender, ev->sender,
		 d ? d->name : "irc");
}

static int put_line(struct sendq *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
put_line(struct sendq *q, const char *fmt, ...)
{
	char out[IRC_LINE_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	size_t len = format_line(out, fmt, ap);
	va_end(ap);
	return len > 0 ? sendq_append(q, out, len) : 0;
}

/* PRIVMSG/NOTICE to target: an IRC user's text is cut to one line as it
 * came in one; a longer text from another dialect becomes several lines,
 * split at UTF-8 boundaries. */
static int
put_text(struct sendq *q, const struct ev_view *ev, const char *target)
{
	char pfx[160], head[256];
	const char *verb = ev->flags & EVF_NOTICE ? "NOTICE" : "PRIVMSG";

	ev_prefix(ev, pfx, sizeof(pfx));
	if (ev->flags & EVF_TAGMSG)
		return put_line(q, ":%s TAGMSG %s", pfx, target);
	if ((ev->flags >> EVF_DIALECT_SHIFT & 0xF) == DIALECT_IRC)
		return put_line(q, ":%s %s %s :%.*s", pfx, verb, target,
				(int)ev->text_len, ev->text);
	int n = snprintf(head, sizeof(head), ":%s %s %s", pfx, verb, target);
	if (n < 0)
		return -1;
	size_t cap = ev->text_len / 256 * IRC_LINE_MAX + 2 * IRC_LINE_MAX;
	char *buf = malloc(cap);
	if (buf == NULL)
		return -1;
	size_t len = irc_split_lines(buf, cap, head, (size_t)n, ev->text,
				     ev->text_len);
	int rc = sendq_append(q, buf, len);
	free(buf);
	return rc;
}

static int
r_login(struct sendq *q, const struct ev_view *ev)
{
	char pfx[160];

	ev_prefix(ev, pfx, sizeof(pfx));
	return put_line(q, ":%s JOIN %s", pfx, IRC_CHAN_ALL);
}

static int
r_logout(struct sendq *q, const struct ev_view *ev)
{
	char pfx[160];

	ev_prefix(ev, pfx, sizeof(pfx));
	return put_line(q, ":%s QUIT :%.*s", pfx, (int)ev->text_len, ev->text);
}

static int
r_nick(struct sendq *q, const struct ev_view *ev)
{
	char pfx[160];
	uint16_t sub = ev->flags & EVF_SUB;
	const char *verb = sub == EVF_AWAY      ? "AWAY"
			   : sub == EVF_SETNAME ? "SETNAME"
						: "NICK";

	ev_prefix(ev, pfx, sizeof(pfx));
	if (ev->text_len == 0 && sub == EVF_AWAY)
		return put_line(q, ":%s AWAY", pfx);
	return put_line(q, ":%s %s :%.*s", pfx, verb, (int)ev->text_len,
			ev->text);
}

static int
r_room_join(struct sendq *q, const struct ev_view *ev)
{
	char pfx[160];

	ev_prefix(ev, pfx, sizeof(pfx));
	return put_line(q, ":%s JOIN #%s", pfx, ev->room);
}

static int
r_room_left(struct sendq *q, const struct ev_view *ev)
{
	char pfx[160];

	if (ev->flags & EVF_KICKED) /* the room's KICK line showed it */
		return 0;
	ev_prefix(ev, pfx, sizeof(pfx));
	if (ev->text_len == 0)
		return put_line(q, ":%s PART #%s", pfx, ev->room);
	return put_line(q, ":%s PART #%s :%.*s", pfx, ev->room,
			(int)ev->text_len, ev->text);
}

static int
r_bcst(struct sendq *q, const struct ev_view *ev)
{
	char pfx[160];

	if ((ev->flags & EVF_SUB) == EVF_WALLOPS) {
		ev_prefix(ev, pfx, sizeof(pfx));
		return put_line(q, ":%s WALLOPS :%.*s", pfx, (int)ev->text_len,
				ev->text);
	}
	return put_text(q, ev, IRC_CHAN_ALL);
}

/* A MODE/TOPIC/KICK/INVITE line of an IRC user, after its prefix. */
static int
put_cmd_line(struct sendq *q, const struct ev_view *ev)
{
	char pfx[160];

	ev_prefix(ev, pfx, sizeof(pfx));
	return put_line(q, ":%s %.*s", pfx, (int)ev->text_len, ev->text);
}

static int
r_pm(struct sendq *q, const struct ev_view *ev)
{
	if (ev->flags & EVF_LINE)
		return put_cmd_line(q, ev);
	return put_text(q, ev, ev->to ? ev->to : "*");
}

static int
r_room_msg(struct sendq *q, const struct ev_view *ev)
{
	char chan[64];

	if (ev->flags & EVF_LINE)
		return put_cmd_line(q, ev);
	snprintf(chan, sizeof(chan), "#%s", ev->room);
	return put_text(q, ev, chan);
}

/* What an IRC client sees: docs/PROTOCOL.md's irc part. */
const struct dialect_def irc_dialect = {
	.name = "irc",
	.id = DIALECT_IRC,
	.max_line = IRC_TAGS_MAX + IRC_LINE_MAX,
	.on_line = irc_on_line,
	.login_result = irc_login_result,
	.registered = irc_publish,
	.on_logout = irc_gone,
	.release = irc_release,
	.ping = irc_ping,
	.raw_text = true,
	.sender_host = true,
	.wants = irc_wants,
	.on_too_long = irc_too_long,
	.quit_text = irc_quit_text,
	.close_fmt = irc_close_fmt,
	.render =
		{
			[EV_LOGIN] = r_login,
			[EV_LOGOUT] = r_logout,
			[EV_BCST] = r_bcst,
			[EV_PM] = r_pm,
			[EV_ROOM_MSG] = r_room_msg,
			[EV_ROOM_JOIN] = r_room_join,
			[EV_ROOM_LEFT] = r_room_left,
			[EV_NICK] = r_nick,
		},
	.close_lines =
		{
			[CR_QUIT] = "Quit",
			[CR_NO_MEMORY] = "Out of memory",
			[CR_SENDQ_HARD] = "SendQ exceeded",
			[CR_SENDQ_SOFT] = "SendQ exceeded",
			[CR_WORKER_BUDGET] = "SendQ exceeded",
			[CR_FLOOD] = "Excess Flood",
			[CR_LINE_TIMEOUT] = "Line timeout",
			[CR_LOGIN_TIMEOUT] = "Registration timeout",
			[CR_PONG_TIMEOUT] = "Ping timeout",
			[CR_SHUTDOWN] = "Server shutting down",
			[CR_SERVER_FULL] = "Server full",
			[CR_IP_LIMIT] =
				"Too many connections from your address",
			[CR_DUPLICATE] = "Nick collision",
		},
};
