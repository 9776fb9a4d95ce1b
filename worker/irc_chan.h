/* Private to the irc dialect (worker/irc.c and worker/irc_modes.c): the
 * output and channel helpers of irc.c that the channel-operator code of
 * irc_modes.c uses, and the entry points irc.c calls back. */
#ifndef FC_IRC_CHAN_H
#define FC_IRC_CHAN_H

#include <stdbool.h>
#include <stddef.h>

#include "../proto/irc.h"
#include "client.h"

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
