/* IRCv3 MONITOR for the irc dialect: each connection's list of nicks to
 * watch, and the 730/731 it gets when one of them logs in, logs out or is
 * renamed, in any dialect and on any worker (the logins, logouts and renames
 * reach every worker through the event fanout). */
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "dispatch.h"
#include "irc_priv.h"

/* Index of nick in s's list (ASCII case ignored), or -1. */
static int
mon_find(const struct irc_conn *s, const char *nick, size_t len)
{
	for (size_t i = 0; i < s->nmonitor; i++)
		if (irc_eq(s->monitor[i], strlen(s->monitor[i]), nick, len))
			return (int)i;
	return -1;
}

/* 730 with nick!user@host for an online nick, else 731 with the nick. */
static void
mon_status(struct client *c, const char *nick, size_t len)
{
	struct reg_user_view v;
	struct uinfo u;

	if (registry_lookup(c->w->reg, nick, len, &v) < 0) {
		num(c, 731, ":%.*s", (int)len, nick);
		return;
	}
	irc_user_host(c->w, &v, &u);
	num(c, 730, ":%s!%s@%s", v.name, u.user, u.host);
}

static void
mon_add(struct client *c, const char *nick, size_t len)
{
	struct irc_conn *s = IRC(c);

	if (!irc_valid_nick(nick, len)) {
		num(c, 432, "%.*s :Erroneous nickname", (int)len, nick);
		return;
	}
	if (mon_find(s, nick, len) < 0) {
		if (s->nmonitor == IRC_MONITOR_MAX) {
			num(c, 734, "%d %.*s :Monitor list is full.",
			    IRC_MONITOR_MAX, (int)len, nick);
			return;
		}
		if (s->monitor == NULL &&
		    (s->monitor = calloc(IRC_MONITOR_MAX,
					 sizeof(*s->monitor))) == NULL)
			return;
		memcpy(s->monitor[s->nmonitor], nick, len);
		s->monitor[s->nmonitor++][len] = '\0';
		irc_hear_update(c);
	}
	mon_status(c, nick, len);
}

static void
mon_remove(struct client *c, const char *nick, size_t len)
{
	struct irc_conn *s = IRC(c);
	int i = mon_find(s, nick, len);

	if (i < 0)
		return;
	s->nmonitor--;
	memmove(s->monitor[i], s->monitor[i + 1],
		(s->nmonitor - (size_t)i) * sizeof(*s->monitor));
	irc_hear_update(c);
}

/* Call fn for each comma-separated nick of p. */
static void
mon_each(struct client *c, const struct irc_param *p,
	 void (*fn)(struct client *, const char *, size_t))
{
	for (size_t i = 0; i < p->len;) {
		const char *comma = memchr(p->p + i, ',', p->len - i);
		size_t end = comma ? (size_t)(comma - p->p) : p->len;
		if (end > i)
			fn(c, p->p + i, end - i);
		i = end + 1;
	}
}

/* 732 lines of the list, comma-joined, then 733. */
static void
mon_list(struct client *c)
{
	struct irc_conn *s = IRC(c);
	char line[400];
	size_t n = 0;

	for (size_t i = 0; i < s->nmonitor; i++) {
		size_t l = strlen(s->monitor[i]);
		if (n + l + 1 >= sizeof(line)) {
			num(c, 732, ":%.*s", (int)n, line);
			n = 0;
		}
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s",
				      n ? "," : "", s->monitor[i]);
	}
	if (n > 0)
		num(c, 732, ":%.*s", (int)n, line);
	num(c, 733, ":End of MONITOR list");
}

void
irc_cmd_monitor(struct client *c, const struct irc_msg *m)
{
	struct irc_conn *s = IRC(c);
	char op = m->params[0].len == 1 ? m->params[0].p[0] : '?';
	bool targets = m->nparams > 1 && m->params[1].len > 0;

	if ((op == '+' || op == '-') && !targets) {
		num(c, 461, "MONITOR :Not enough parameters");
		return;
	}
	switch (op) {
	case '+':
		mon_each(c, &m->params[1], mon_add);
		break;
	case '-':
		mon_each(c, &m->params[1], mon_remove);
		break;
	case 'C':
	case 'c':
		s->nmonitor = 0;
		irc_hear_update(c);
		break;
	case 'L':
	case 'l':
		mon_list(c);
		break;
	case 'S':
	case 's':
		for (size_t i = 0; i < s->nmonitor; i++)
			mon_status(c, s->monitor[i], strlen(s->monitor[i]));
		break;
	default:
		num(c, 421, "MONITOR :Unknown MONITOR subcommand");
	}
}

/* 730 for a nick that came online, with its user@host when an IRC user
 * published it already (for a rename: under its new name). */
static void
mon_online(struct client *c, const struct ev_body *ev, const struct uinfo *u,
	   bool known)
{
	if (known) {
		num(c, 730, ":%s!%s@%s", u->nick, u->user, u->host);
		return;
	}
	const struct dialect_def *d =
		dialect_by_id(ev->flags >> EVF_DIALECT_SHIFT & 0xF);
	num(c, 730, ":%s!%s@%s", ev->sender, ev->sender, d ? d->name : "irc");
}

void
irc_monitor_event(struct client *c, const struct ev_body *ev)
{
	struct irc_conn *s = IRC(c);
	struct uinfo u;

	if (s == NULL || s->nmonitor == 0)
		return;
	size_t len = strnlen(ev->sender, sizeof(ev->sender));
	bool known = userinfo_get(c->w->uinfo, ev->sender_slot, ev->sender_conn,
				  ev->sender, &u) == 0;
	bool watched = mon_find(s, ev->sender, len) >= 0;
	if (ev->kind == EV_NICK && known &&
	    irc_eq(u.nick, strlen(u.nick), ev->sender, len))
		return; /* a change of case only: the same nick */
	if (ev->kind == EV_LOGIN && watched)
		mon_online(c, ev, &u, known);
	if ((ev->kind == EV_LOGOUT || ev->kind == EV_NICK) && watched)
		num(c, 731, ":%.*s", (int)len, ev->sender);
	/* a rename: the table has the new name, the event the old one */
	if (ev->kind == EV_NICK && known &&
	    mon_find(s, u.nick, strlen(u.nick)) >= 0)
		mon_online(c, ev, &u, true);
}

bool
irc_monitors(struct client *c, const struct ev_body *ev)
{
	return IRC(c)->ext_monitor &&
	       mon_find(IRC(c), ev->sender,
			strnlen(ev->sender, sizeof(ev->sender))) >= 0;
}

void
irc_monitor_free(struct irc_conn *s)
{
	free(s->monitor);
	s->monitor = NULL;
	s->nmonitor = 0;
}
