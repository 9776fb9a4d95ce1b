/* The dialect layer's shared part: command dispatch (check the bytes, find
 * the command word case-insensitively, check login, call the handler),
 * event rendering from a template, and the table of every dialect. */
#ifndef FC_DISPATCH_H
#define FC_DISPATCH_H

#include <stddef.h>

#include "client.h"
#include "dialect.h"

extern const struct dialect_def okfail_dialect;
extern const struct dialect_def numeric_dialect;
extern const struct dialect_def irc_dialect;

/* The dialect with registry id `id` (enum reg_dialect), or NULL. */
const struct dialect_def *dialect_by_id(int id);
/* Handle one line with d's commands and error lines. */
void dispatch_line(struct client *c, const struct dialect_def *d,
		   const char *line, size_t len);
/* Append tmpl with $s (sender), $t (text), $r (room), $u (recipient) and
 * a newline to q; 0, or -1 out of memory. */
int render_template(struct sendq *q, const char *tmpl,
		    const struct ev_view *ev);

#endif
