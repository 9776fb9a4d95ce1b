/* Per-user details that only the irc dialect has (user name, real name,
 * host, away message, sign-on and idle times), in a shared-memory table
 * indexed by registry slot, so that WHOIS, WHO, USERHOST and the away reply
 * work for a user served by any worker. One writer per entry (the worker
 * that serves the user); readers retry on a sequence counter. */
#ifndef FC_USERINFO_H
#define FC_USERINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UINFO_NICK_SZ 16
#define UINFO_USER_SZ 16
#define UINFO_HOST_SZ 64
#define UINFO_REAL_SZ 64
#define UINFO_AWAY_SZ 201 /* AWAYLEN=200 */

struct uinfo {
	uint32_t conn_id;         /* the connection that wrote it, */
	bool invisible;           /* user mode +i: hidden from WHO masks */
	bool oper;                /* user mode +o: a server operator */
	bool bot;                 /* user mode +B: a bot */
	char nick[UINFO_NICK_SZ]; /* under this name */
	char prev[UINFO_NICK_SZ]; /* or the one before a rename */
	char user[UINFO_USER_SZ];
	char host[UINFO_HOST_SZ];
	char real[UINFO_REAL_SZ];
	char away[UINFO_AWAY_SZ]; /* "" when not away */
	int64_t signon;           /* seconds since the epoch */
	int64_t last_msg;         /* when it last sent a message (idle) */
};

/* WHOWAS history: the last WHOWAS_MAX users who left or were renamed */
#define WHOWAS_MAX 256

struct userinfo;

/* A table of max_users entries in shared anonymous memory, inherited by the
 * processes forked afterwards; NULL on failure. */
struct userinfo *userinfo_create(uint32_t max_users);
void userinfo_destroy(struct userinfo *u);
/* Write slot's entry (only its serving worker does). */
void userinfo_put(struct userinfo *u, uint32_t slot, const struct uinfo *in);
/* The most users seen at once (LUSERS' max): raised to now, returned. */
uint32_t userinfo_peak(struct userinfo *u, uint32_t now);
/* Copy slot's entry if connection conn_id wrote it under the name nick
 * (or as its name before a rename): 0, else -1. An entry stays after its user
 * leaves (events about the leaver still find its host) until the slot's next
 * IRC user writes it. */
int userinfo_get(struct userinfo *u, uint32_t slot, uint32_t conn_id,
		 const char *nick, struct uinfo *out);

/* Record that the user u (nick, user, host, real) went at u->signon
 * seconds; any worker may call it. */
void userinfo_whowas_add(struct userinfo *u, const struct uinfo *gone);
/* Up to max entries for nick, or any of the comma-separated nicks in it
 * (ASCII case ignored), the most recent first, into out (signon: when it
 * went); returns how many. */
size_t userinfo_whowas_find(struct userinfo *u, const char *nick,
			    struct uinfo *out, size_t max);

#endif
