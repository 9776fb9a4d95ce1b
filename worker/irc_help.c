/* The irc dialect's texts: HELP/HELPOP (704/705/706, 524 for an unknown
 * subject), one entry per command it serves, and INFO (371/374). */
#include <string.h>

#include "../common/util.h"
#include "irc_priv.h"

struct help_entry {
	const char *subject;
	const char *lines[3];
};

static const struct help_entry help[] = {
	{"index",
	 {"Commands: AWAY CAP HELP INFO ISON JOIN KICK KILL LIST LUSERS",
	  "MODE MONITOR MOTD NAMES NICK NOTICE OPER PART PING PRIVMSG QUIT",
	  "TIME TOPIC USERHOST VERSION WALLOPS WHO WHOIS WHOWAS; HELP <command>"}},
	{"AWAY",
	 {"AWAY [:<text>]", "Marks you away (301 to senders), or back."}},
	{"CAP",
	 {"CAP LS [302] | REQ :<caps> | LIST | END",
	  "Negotiates IRCv3 capabilities."}},
	{"HELP", {"HELP [<command>]", "Shows help on a command."}},
	{"INFO", {"INFO", "Shows what this server is."}},
	{"ISON",
	 {"ISON <nick> [<nick> ...]", "Which of the nicks are online."}},
	{"JOIN",
	 {"JOIN <#channel>{,<#channel>} | JOIN 0",
	  "Joins channels (a new one is created), 0 parts all."}},
	{"KILL",
	 {"KILL <nick> [:<reason>]", "Operators: disconnects an IRC user."}},
	{"LIST",
	 {"LIST [<#channel>{,<#channel>}]", "Lists channels and their sizes."}},
	{"LUSERS", {"LUSERS", "Counts users and channels."}},
	{"MODE",
	 {"MODE <#channel> | MODE <nick> [+|-iwB]",
	  "Shows channel modes; sets your user modes."}},
	{"MONITOR",
	 {"MONITOR +|- <nick>{,<nick>} | C | L | S",
	  "Tells you when the nicks log in or out (730/731)."}},
	{"MOTD", {"MOTD", "Shows the message of the day."}},
	{"NAMES", {"NAMES <#channel>{,<#channel>}", "Who is in a channel."}},
	{"NICK", {"NICK <nick>", "Sets or changes your nick."}},
	{"NOTICE",
	 {"NOTICE <target>{,<target>} :<text>",
	  "Like PRIVMSG, but never answered automatically."}},
	{"OPER", {"OPER <name> <password>", "Makes you a server operator."}},
	{"PART",
	 {"PART <#channel>{,<#channel>} [:<reason>]", "Leaves channels."}},
	{"PING", {"PING <token>", "The server answers PONG <token>."}},
	{"PRIVMSG",
	 {"PRIVMSG <target>{,<target>} :<text>",
	  "Sends text to channels or nicks, in any dialect."}},
	{"QUIT", {"QUIT [:<reason>]", "Disconnects."}},
	{"TIME", {"TIME", "Shows the server's time."}},
	{"TOPIC",
	 {"TOPIC <#channel> [:<topic>]", "Shows or sets a channel's topic."}},
	{"USERHOST",
	 {"USERHOST <nick> [<nick> ...]", "Shows nicks' user@host."}},
	{"VERSION", {"VERSION", "Shows the server's version."}},
	{"WALLOPS",
	 {"WALLOPS :<text>", "Operators: sends text to the users with +w."}},
	{"WHO",
	 {"WHO <mask> [%<fields>[,<token>]]",
	  "Lists users; with WHOX fields, 354 replies."}},
	{"WHOIS", {"WHOIS <nick>", "Shows a user's details."}},
	{"WHOWAS",
	 {"WHOWAS <nick> [<count>]", "Shows who had a nick that is gone."}},
};

static const struct help_entry *
help_find(const char *subject)
{
	for (size_t i = 0; i < FC_ARRAY_LEN(help); i++)
		if (irc_eq(help[i].subject, strlen(help[i].subject), subject,
			   strlen(subject)))
			return &help[i];
	return NULL;
}

void
irc_cmd_help(struct client *c, const struct irc_msg *m)
{
	char subject[32];

	irc_param_str(m, 0, subject, sizeof(subject));
	if (subject[0] == '\0')
		snprintf(subject, sizeof(subject), "index");
	const struct help_entry *h = help_find(subject);
	if (h == NULL) {
		num(c, 524, "%s :No help available on this topic", subject);
		return;
	}
	num(c, 704, "%s :%s", subject, h->lines[0]);
	for (size_t i = 1; i < FC_ARRAY_LEN(h->lines) && h->lines[i]; i++)
		num(c, 705, "%s :%s", subject, h->lines[i]);
	num(c, 706, "%s :End of /HELP", subject);
}

void
irc_cmd_info(struct client *c, const struct irc_msg *m)
{
	char target[64];

	irc_param_str(m, 0, target, sizeof(target));
	if (target[0] &&
	    !irc_eq(target, strlen(target), irc_srv(c), strlen(irc_srv(c)))) {
		num(c, 402, "%s :No such server", target);
		return;
	}
	num(c, 371, ":forkchatd, the forkchat chat daemon: okfail, numeric");
	num(c, 371, ":and irc users in one chat (one master, pre-forked");
	num(c, 371, ":workers, users and rooms in shared memory).");
	num(c, 374, ":End of /INFO list");
}
