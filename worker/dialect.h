/* What a dialect is, as the services see it: one table of constants and
 * functions per dialect (okfail.c, numeric.c). The services call only
 * through it, so a new dialect is one new file and one entry in
 * dialects.c, with no branch anywhere else. */
#ifndef FC_DIALECT_H
#define FC_DIALECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../ipc/frame.h"
#include "../proto/wire.h"
#include "conn.h"
#include "sendq.h"

struct client;

struct cmd_def {
	const char *word;
	bool needs_login;
	void (*fn)(struct client *c, const struct cmdline *cl);
};

/* An event as a dialect shows it; every string is NUL-terminated but the
 * text, which has text_len bytes. */
struct ev_view {
	const char *sender;
	const char *sender_uh; /* "user@host" of an IRC sender, else NULL; set
				  for dialects with sender_host */
	const char *to;        /* the recipient, for events to one user */
	const char *room; /* room events: the room's name ("?" if unknown) */
	const char *text;
	size_t text_len;
	uint16_t flags; /* enum ev_flag, the sender's dialect */
};

/* Append the line(s) that show ev to q; 0, or -1 out of memory. For kinds
 * that go to many users the bytes are rendered once per dialect and copied
 * to each recipient, so a hook must not depend on anything but ev. */
typedef int (*render_fn)(struct sendq *q, const struct ev_view *ev);

struct dialect_def {
	const char *name; /* as in --listen and the logs */
	uint8_t id;       /* enum reg_dialect, kept in the registry */
	size_t max_line;  /* longest line with its terminator; 0: --max-line */
	const char *greeting; /* the first line at accept, or NULL */
	/* one line of input (its bytes unchecked) */
	void (*on_line)(struct client *c, const char *line, size_t len);
	/* the commands and error lines dispatch_line() uses */
	const struct cmd_def *cmds;
	size_t ncmds;
	const char *bad_ctrl;   /* a control character in the line */
	const char *bad_utf8;   /* not UTF-8 */
	const char *need_login; /* a known command before login */
	const char *unknown;    /* an unknown command word */
	const char *too_long;   /* a line over the limit */
	/* the end of login_begin(): rc 0 (logged in), -EEXIST, -ENOSPC */
	void (*login_result)(struct client *c, int rc);
	/* the user's registry slot is new (a rebuild), or NULL */
	void (*registered)(struct client *c);
	/* before a logged-in user's name is released, or NULL */
	void (*on_logout)(struct client *c);
	/* the client is about to be freed: drop c->dstate; or NULL */
	void (*release)(struct client *c);
	/* the next piece of a long reply (c->reply_cursor), called as the
	 * client's queue drains; NULL: the dialect has none */
	void (*more_reply)(struct client *c);
	/* the heartbeat: send one ping; NULL: no heartbeat */
	void (*ping)(struct client *c);
	/* how each event kind is shown; NULL: users of this dialect do not
	 * get it */
	render_fn render[EV_KIND_MAX];
	/* takes texts with IRC formatting and CTCP codes (EVF_RAW_ONLY) */
	bool raw_text;
	/* its renders show the sender's user@host (ev_view.sender_uh) */
	bool sender_host;
	/* does c get ev beyond the rule for its kind (it may note what it
	 * learns); NULL: every recipient the kind names */
	bool (*wants)(struct client *c, const struct ev_body *ev);
	/* writes the answer to an over-long line instead of too_long */
	void (*on_too_long)(struct client *c);
	/* why c left, for the others' view of its logout; NULL: the close
	 * reason's words */
	const char *(*quit_text)(const struct client *c);
	/* the final line of a close, by reason; NULL: none. Also the line
	 * that refuses a connection at accept (CR_SERVER_FULL, CR_IP_LIMIT) */
	const char *close_lines[CR_MAX];
	/* formats a final line into q (c is NULL at accept); NULL: the line,
	 * then " detail" if there is one */
	void (*close_fmt)(const struct client *c, const char *line,
			  const char *detail, struct sendq *q);
};

#endif
