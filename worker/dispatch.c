/* What the dialects share. Dispatch checks in docs/PROTOCOL.md's order:
 * bad bytes, unknown word, login state, then the handler checks its
 * parameters. The table of dialects is the one place that lists them. */
#include "dispatch.h"

#include <string.h>

#include "../common/util.h"

static const struct dialect_def *const dialects[] = {
	[DIALECT_OKFAIL] = &okfail_dialect,
	[DIALECT_NUMERIC] = &numeric_dialect,
	[DIALECT_IRC] = &irc_dialect,
};

const struct dialect_def *
dialect_by_id(int id)
{
	if (id < 0 || (size_t)id >= FC_ARRAY_LEN(dialects))
		return NULL;
	return dialects[id];
}

void
dispatch_line(struct client *c, const struct dialect_def *d, const char *line,
	      size_t len)
{
	struct cmdline cl;

	switch (wire_check_text(line, len)) {
	case TEXT_CTRL:
		conn_say(&c->conn, d->bad_ctrl);
		return;
	case TEXT_UTF8:
		conn_say(&c->conn, d->bad_utf8);
		return;
	default:
		break;
	}
	wire_split(line, len, &cl);
	for (size_t i = 0; i < d->ncmds; i++) {
		if (!wire_word_is(&cl, d->cmds[i].word))
			continue;
		if (d->cmds[i].needs_login && c->state != CS_LIVE) {
			conn_say(&c->conn, d->need_login);
			return;
		}
		d->cmds[i].fn(c, &cl);
		return;
	}
	conn_say(&c->conn, d->unknown);
}

static int
render_field(struct sendq *q, char f, const struct ev_view *ev)
{
	switch (f) {
	case 's':
		return sendq_append(q, ev->sender, strlen(ev->sender));
	case 't':
		return sendq_append(q, ev->text, ev->text_len);
	case 'r':
		return sendq_append(q, ev->room, strlen(ev->room));
	case 'u':
		return ev->to ? sendq_append(q, ev->to, strlen(ev->to)) : 0;
	default:
		return sendq_append(q, &f, 1);
	}
}

int
render_template(struct sendq *q, const char *tmpl, const struct ev_view *ev)
{
	for (const char *p = tmpl; *p; p++) {
		const char *dollar = strchr(p, '$');
		size_t lit = dollar ? (size_t)(dollar - p) : strlen(p);
		if (lit && sendq_append(q, p, lit) < 0)
			return -1;
		p += lit;
		if (*p == '\0')
			break;
		if (p[1] == '\0')
			return sendq_append(q, "$\n", 2);
		if (render_field(q, *++p, ev) < 0)
			return -1;
	}
	return sendq_append(q, "\n", 1);
}
