/* The IRC wire format (RFC 1459/2812 as modern clients use it): parsing a
 * line into prefix, command and parameters, formatting replies that fit 512
 * bytes, splitting long text at UTF-8 boundaries, channel <-> room names,
 * ASCII case folding, and IRC text (CTCP, mIRC codes) for other dialects. */
#ifndef FC_IRC_H
#define FC_IRC_H

#include <stdbool.h>
#include <stddef.h>

#define IRC_LINE_MAX 512 /* bytes with the \r\n */
#define IRC_MAX_PARAMS 15
#define IRC_CHAN_ALL "&all"
#define IRC_TAGS_MAX 4096 /* bytes of client tags with the @ and space */

struct irc_param {
	const char *p; /* not NUL-terminated */
	size_t len;
};

struct irc_msg {
	const char *tags; /* IRCv3 tags without the '@', NULL when absent */
	size_t tags_len;
	const char *prefix; /* without the ':', NULL when absent */
	size_t prefix_len;
	const char *cmd;
	size_t cmd_len;
	int nparams;
	bool trailing; /* the last parameter came after " :" */
	struct irc_param params[IRC_MAX_PARAMS];
};

/* What a channel name maps to. */
enum irc_chan {
	IRC_CHAN_BAD,  /* not a channel name we serve */
	IRC_CHAN_ROOM, /* "#name": the room "name" */
	IRC_CHAN_BCST, /* "&all": the okfail broadcast */
};

/* What irc_plain made of a message for a dialect without IRC codes. */
enum irc_plain {
	IRC_PLAIN_TEXT,  /* out holds text to relay */
	IRC_PLAIN_EMPTY, /* nothing left (only codes) */
	IRC_PLAIN_CTCP,  /* a CTCP request other than ACTION: not relayed */
};

/* Parse one line (no terminator): optional @tags (m->tags), optional
 * :prefix, command, up to 15 params. Returns -1 when there is no command. */
int irc_parse(const char *line, size_t len, struct irc_msg *m);
/* The command is word, ignoring ASCII case. */
bool irc_cmd_is(const struct irc_msg *m, const char *word);
/* Parameter i as a NUL-terminated copy in buf (truncated to cap-1). */
const char *irc_param_str(const struct irc_msg *m, int i, char *buf,
			  size_t cap);

/* printf into buf, then cut to fit one IRC line (at a UTF-8 boundary) and
 * end it with \r\n. Returns the bytes written (at most IRC_LINE_MAX), 0 when
 * cap < IRC_LINE_MAX + 1 or on a format error. */
size_t irc_line(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* ":server NNN nick <fmt>" as irc_line does. */
size_t irc_numeric(char *buf, size_t cap, const char *server, int code,
		   const char *nick, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Longest prefix of text (at most room bytes) that ends on a code point
 * boundary; never 0 when len > 0 and room >= 4. */
size_t irc_fit(const char *text, size_t len, size_t room);
/* Write "<head> :<chunk>\r\n" lines (head without a trailing space) until
 * all of text is out, each at most IRC_LINE_MAX bytes. Returns the bytes
 * written, 0 if out is too small or head leaves no room. Empty text gives
 * one line with an empty trailing parameter. */
size_t irc_split_lines(char *out, size_t cap, const char *head, size_t hlen,
		       const char *text, size_t len);

/* Text of an IRC message for a dialect that refuses control characters:
 * CTCP ACTION becomes "* nick text", mIRC formatting codes go, other
 * control bytes go, bad UTF-8 becomes U+FFFD. out needs 3*len+20 bytes. */
enum irc_plain irc_plain(const char *nick, const char *in, size_t len,
			 char *out, size_t cap, size_t *out_len);

/* Nick validity: the server's name rule [A-Za-z0-9_]{3,14}. */
bool irc_valid_nick(const char *s, size_t len);
/* Which room (or the broadcast) a channel name is; for IRC_CHAN_ROOM, *room
 * and *room_len point into chan. */
enum irc_chan irc_chan_room(const char *chan, size_t len, const char **room,
			    size_t *room_len);
/* The channel name of a room ("#" + room) into buf; returns its length. */
size_t irc_room_chan(const char *room, char *buf, size_t cap);
/* ASCII case-insensitive equality (CASEMAPPING=ascii). */
bool irc_eq(const char *a, size_t alen, const char *b, size_t blen);
/* ASCII lower-case copy of s into out (cap includes the NUL). */
void irc_fold(const char *s, size_t len, char *out, size_t cap);

#endif
