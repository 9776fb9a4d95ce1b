/* What the irc dialect's files (irc.c and the irc_*.c parts: channel
 * operators and modes, IRCv3 tags, MONITOR, server operators, help texts)
 * share: the per-connection state, the reply and channel helpers of irc.c
 * and the entry points of the others. Private to the dialect. */
#ifndef FC_IRC_PRIV_H
#define FC_IRC_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../ipc/userinfo.h"
#include "../proto/irc.h"
#include "client.h"

#define IRC(c) ((struct irc_conn *)(c)->dstate)
#define IRC_MONITOR_MAX 100 /* ISUPPORT MONITOR= */

struct irc_conn {
	char nick[REG_NAME_SZ]; /* asked for, before registration */
	char prev[REG_NAME_SZ]; /* the name before the last rename */
	char user[UINFO_USER_SZ];
	char real[UINFO_REAL_SZ];
	char *away;     /* AWAY text (malloc), NULL while here */
	char *quit_msg; /* QUIT or KILL text (malloc), NULL before */
	bool got_nick, got_user, cap_wait, pass_ok;
	bool in_all;    /* joined to &all */
	bool invisible; /* user mode +i */
	bool uhnames;   /* CAP userhost-in-names */
	bool mprefix;   /* CAP multi-prefix */
	bool oper;      /* user mode +o (OPER) */
	bool wallops;   /* user mode +w: gets WALLOPS */
	bool bot;       /* user mode +B */
	/* IRCv3 capabilities (irc_tags.c's table) */
	bool mtags, stime, echo, batch, labels, away_notify, setname;
	bool cap_notify, ext_monitor;
	uint32_t msg_seq;      /* for this connection's msgids */
	char label[64];        /* labeled-response: the command's label */
	struct sendq *labeled; /* its replies, held until the command ends */
	int64_t signon, last_msg;
	uint32_t shared_slot, shared_conn; /* a leaver that shared a room */
	char (*monitor)[REG_NAME_SZ];      /* MONITOR targets (malloc) */
	size_t nmonitor;
};

/* The server's name, as replies' prefix. */
const char *irc_srv(const struct client *c);
/* The client's nick as replies address it ("*" before it has one). */
const char *irc_me(const struct client *c);
/* Count c among the worker's users who hear every login and broadcast
 * (login_hear_all) while it needs them: &all, MONITOR, +w. */
void irc_hear_update(struct client *c);
/* Set c's QUIT text (printf-style) and return it ("Quit" without memory):
 * it stays until c's state is released, for the logout's line. */
const char *irc_set_quit(struct client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Publish c's details to the shared table (after any change). */
void irc_publish(struct client *c);
/* user@host, real name and flags of any user (its dialect's for non-IRC
 * users) into u. */
void irc_user_host(struct worker *w, const struct reg_user_view *v,
		   struct uinfo *u);

/* IRCv3 (irc_tags.c): the capability table, and the tags of messages. */
#define IRC_BLOCK_MAX (IRC_TAGS_MAX + 128) /* a message's tag block */
/* CAP LS (302: with values) and CAP LIST replies. */
void irc_cap_ls(struct client *c, bool v302);
void irc_cap_list(struct client *c);
/* Apply a CAP REQ list if every capability in it is ours: true. */
bool irc_cap_req(struct client *c, const struct irc_param *p);
/* Serve c by the dialect variant that its capabilities need. */
void irc_tags_select(struct client *c);
/* The tag block of a message c sends now: time, msgid, bot, and (with
 * message-tags) the client tags of m; its length (no '@', no space). */
size_t irc_tag_block(struct client *c, const struct irc_msg *m, char *out,
		     size_t cap);
/* Queue a reply to c: held while a labeled command runs, else sent. */
void irc_out(struct client *c, const char *p, size_t n);
/* labeled-response: hold the replies of the command m if it has a label;
 * at its end send them labeled (one line), as a BATCH, or an ACK. */
void irc_label_begin(struct client *c, const struct irc_msg *m);
void irc_label_end(struct client *c);
/* Send c the line(s) of its own message (echo-message), tagged by its
 * capabilities: ev as the fanout would show it to c. */
void irc_echo(struct client *c, uint16_t kind, const struct ev_view *ev);

/* MONITOR (irc_monitor.c): the command, and what an event about a login,
 * logout or rename of someone c monitors tells c (730/731). */
void irc_cmd_monitor(struct client *c, const struct irc_msg *m);
void irc_monitor_event(struct client *c, const struct ev_body *ev);
void irc_monitor_free(struct irc_conn *s);
/* extended-monitor: c asked for it and monitors the sender of ev. */
bool irc_monitors(struct client *c, const struct ev_body *ev);

/* Server operators (irc_oper.c): OPER, KILL, WALLOPS. */
void irc_cmd_oper(struct client *c, const struct irc_msg *m);
void irc_cmd_kill(struct client *c, const struct irc_msg *m);
void irc_cmd_wallops(struct client *c, const struct irc_msg *m);
/* c is the target of a KILL by killer: close it. */
void irc_killed(struct client *c, const char *killer);

/* Texts (irc_help.c): HELP/HELPOP and INFO. */
void irc_cmd_help(struct client *c, const struct irc_msg *m);
void irc_cmd_info(struct client *c, const struct irc_msg *m);

/* irc.c */
/* One line to c, cut to 512 bytes with its CR LF. */
void send_line(struct client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* ":server NNN nick <text>" to c. */
void num(struct client *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* c's own nick!user@host. */
void self_prefix(const struct client *c, char *buf, size_t cap);
/* A channel's room (-1 for &all); -2 (and a 403 unless quiet) when it does
 * not exist and create is false, or the name is invalid. */
int chan_lookup(struct client *c, const struct irc_param *p, bool create,
		bool quiet);
/* "#room" (or "&all" for room -1) into buf. */
void chan_name(struct client *c, int room, char *buf, size_t cap);
/* Is c in the room (or in &all for -1)? */
bool is_member(struct client *c, int room);
/* Look a nick up: true when found. */
bool lookup_user(struct client *c, const struct irc_param *p,
		 struct reg_user_view *v);
/* nick!user@host of any user of any dialect. */
void user_nuh(struct worker *w, const struct reg_user_view *v, char *buf,
	      size_t cap);

/* irc_modes.c */
/* MODE #c [changes]: 324/329, lists, or the changes (ops only). */
void irc_mode_chan(struct client *c, const struct irc_msg *m, int room);
void irc_cmd_topic(struct client *c, const struct irc_msg *m);
void irc_cmd_kick(struct client *c, const struct irc_msg *m);
void irc_cmd_invite(struct client *c, const struct irc_msg *m);
/* The JOIN refusal numeric (471/473/474/475) for registry_room_enter's rc. */
void irc_join_refused(struct client *c, const char *chan, int rc);
/* 332/333 when the room has a topic (false: it has none). */
bool irc_topic_burst(struct client *c, int room, const char *chan);
/* The prefixes of a member ("@", "+", "@+" with multi, or ""). */
void irc_member_prefix(struct worker *w, int room, uint32_t slot, bool multi,
		       char out[3]);
/* May c see the room in LIST/NAMES/WHOIS (not +s/+p, or a member)? */
bool irc_chan_visible(struct client *c, int room);
/* NAMES symbol: '@' secret, '*' private, '=' public. */
char irc_chan_symbol(struct client *c, int room);
/* May c send to the room (+n, +m)? */
bool irc_may_send(struct client *c, int room);
/* PRIVMSG/NOTICE @#c or +#c (STATUSMSG): to the room's operators (and
 * voiced members for +). */
void irc_status_msg(struct client *c, const struct irc_param *t,
		    const struct irc_param *text, bool notice);
/* Is an event sent with EVF_TO_OPS/EVF_TO_VOICED for c? */
bool irc_status_wants(struct client *c, const struct ev_body *ev);
/* A rename releases the old slot: keep op/voice of c's rooms across it. */
void irc_flags_save(struct client *c, uint8_t *flags);
void irc_flags_restore(struct client *c, const uint8_t *flags);

#endif
