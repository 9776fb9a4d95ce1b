/* Command dispatch shared by okfail.c and numeric.c. The order of checks is
 * docs/PROTOCOL.md's: bad bytes, unknown word, login state, then the
 * handler checks its parameters. */
#include "dispatch.h"

#include "worker.h"

void
conn_say(struct conn *c, const char *line)
{
	conn_reply(c, "%s", line);
}

void
dispatch_line(struct conn *c, const struct dialect_def *d, const char *line,
	      size_t len)
{
	struct cmdline cl;

	switch (wire_check_text(line, len)) {
	case TEXT_CTRL:
		conn_say(c, d->bad_ctrl);
		return;
	case TEXT_UTF8:
		conn_say(c, d->bad_utf8);
		return;
	default:
		break;
	}
	wire_split(line, len, &cl);
	for (size_t i = 0; i < d->ncmds; i++) {
		if (!wire_word_is(&cl, d->cmds[i].word))
			continue;
		if (d->cmds[i].needs_login && c->state != CS_LIVE) {
			conn_say(c, d->need_login);
			return;
		}
		d->cmds[i].fn(c, &cl);
		return;
	}
	conn_say(c, d->unknown);
}
