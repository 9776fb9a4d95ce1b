/* The part of command handling both dialects share: check the bytes, find
 * the command word (case-insensitive), check login, call the handler. Each
 * dialect supplies its table and its error lines. */
#ifndef FC_DISPATCH_H
#define FC_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "../proto/wire.h"

struct conn;

struct cmd_def {
	const char *word;
	bool needs_login;
	void (*fn)(struct conn *c, const struct cmdline *cl);
};

struct dialect_def {
	const struct cmd_def *cmds;
	size_t ncmds;
	const char *bad_ctrl;   /* a control character in the line */
	const char *bad_utf8;   /* not UTF-8 */
	const char *need_login; /* a known command before login */
	const char *unknown;    /* an unknown command word */
};

void dispatch_line(struct conn *c, const struct dialect_def *d,
		   const char *line, size_t len);
void conn_say(struct conn *c, const char *line);

#endif
