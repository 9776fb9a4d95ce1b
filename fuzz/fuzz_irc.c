/* libFuzzer harness for the irc dialect: every line is checked through
 * proto/irc.c (the parser, line cutting and splitting, nick and channel
 * names, case folding, the plain-text conversion) against the invariants
 * worker/irc.c relies on, rendered as every chat event an IRC client can be
 * shown, and then dispatched by the real on_line of worker/irc.c's
 * irc_dialect, linked with fuzz/stubs.c and a real registry; every reply
 * must be whole IRC lines. What okfail and numeric show of an IRC user's
 * unconverted events (PART/QUIT reasons, nicks) must stay clean text. Input:
 * lines; "@1"/"@2" switch connection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ipc/frame.h"
#include "../proto/irc.h"
#include "../proto/wire.h"
#include "../worker/sendq.h"
#include "stubs.h"

#define ICHECK(c)                                                              \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "irc check failed: %s\n", #c);         \
			abort();                                               \
		}                                                              \
	} while (0)

static bool
inside(const char *p, size_t n, const char *line, size_t len)
{
	return p >= line && p + n <= line + len;
}

/* What irc_parse found lies in the line, in the shape the handlers use. */
static void
check_parse(const char *line, size_t len)
{
	struct irc_msg m;

	if (irc_parse(line, len, &m) < 0)
		return;
	ICHECK(m.cmd_len > 0 && inside(m.cmd, m.cmd_len, line, len));
	ICHECK(memchr(m.cmd, ' ', m.cmd_len) == NULL);
	ICHECK(m.prefix == NULL || inside(m.prefix, m.prefix_len, line, len));
	ICHECK(m.nparams >= 0 && m.nparams <= IRC_MAX_PARAMS);
	for (int i = 0; i < m.nparams; i++) {
		const struct irc_param *p = &m.params[i];
		ICHECK(p->len == 0 || inside(p->p, p->len, line, len));
		if (i < m.nparams - 1 || !m.trailing)
			ICHECK(p->len > 0 && memchr(p->p, ' ', p->len) == NULL);
	}
	char word[16];
	irc_fold(m.cmd, m.cmd_len, word, sizeof(word));
	if (memchr(m.cmd, '\0', m.cmd_len) == NULL) /* on_line drops those */
		ICHECK(irc_cmd_is(&m, word) == (m.cmd_len < sizeof(word)));
}

/* irc_fit and irc_split_lines cut only at code point boundaries and lose
 * nothing; irc_line never exceeds 512 bytes. (Text never holds CR or LF:
 * the line buffer ends a line at either; a NUL never gets this far.) */
static void
check_cutting(const char *line, size_t len)
{
	for (size_t room = 4; room < 40 && room < len; room += 7) {
		size_t k = irc_fit(line, len, room);
		ICHECK(k <= room && k + 3 >= room && k > 0);
	}
	if (memchr(line, '\0', len))
		return;
	static char out[64 * 1024];
	static const char head[] = ":n!u@h PRIVMSG #room";
	size_t n = irc_split_lines(out, sizeof(out), head, sizeof(head) - 1,
				   line, len);
	ICHECK(n > 0 || len > sizeof(out) / 2);
	fuzz_irc_check_lines(out, n);
	size_t got = 0;
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(out + i, '\n', n - i);
		size_t body = sizeof(head) - 1 + 2;
		size_t k = (size_t)(nl - (out + i)) + 1 - body - 2;
		ICHECK(memcmp(out + i + body, line + got, k) == 0);
		got += k;
		i += body + k + 2;
	}
	ICHECK(n == 0 || got == len);
	char one[IRC_LINE_MAX + 1];
	fuzz_irc_check_lines(one,
			     irc_line(one, sizeof(one), ":s NOTICE * :%.*s",
				      (int)len, line));
}

/* Names, channels, folding and the plain text other dialects get. */
static void
check_names(const char *line, size_t len)
{
	bool ref = len >= 3 && len <= 14;
	for (size_t i = 0; ref && i < len; i++)
		ref = (line[i] >= 'a' && line[i] <= 'z') ||
		      (line[i] >= 'A' && line[i] <= 'Z') ||
		      (line[i] >= '0' && line[i] <= '9') || line[i] == '_';
	ICHECK(irc_valid_nick(line, len) == ref);
	const char *room = NULL;
	size_t rl = 0;
	if (irc_chan_room(line, len, &room, &rl) == IRC_CHAN_ROOM) {
		char back[128], r[64];
		ICHECK(room == line + 1 && rl == len - 1 && rl < sizeof(r));
		memcpy(r, room, rl);
		r[rl] = '\0';
		ICHECK(irc_room_chan(r, back, sizeof(back)) == len);
		ICHECK(memcmp(back, line, len) == 0);
	}
	char *fold = malloc(len + 1);
	ICHECK(fold != NULL);
	irc_fold(line, len, fold, len + 1);
	ICHECK(irc_eq(line, len, fold, len));
	size_t cap = 3 * len + 20, olen;
	char *plain = malloc(cap);
	ICHECK(plain != NULL);
	if (irc_plain("nick", line, len, plain, cap, &olen) == IRC_PLAIN_TEXT)
		ICHECK(olen > 0 && olen < cap &&
		       wire_check_text(plain, olen) == TEXT_OK);
	free(plain);
	free(fold);
}

/* The line as the text of every event an IRC client is shown, from each
 * dialect: whole IRC lines, however long the text. */
static void
check_render(const char *line, size_t len)
{
	if (memchr(line, '\0', len))
		return; /* on_line drops such a line before any event */
	for (unsigned dia = 0; dia < 3; dia++) {
		for (int k = 1; k < EV_KIND_MAX; k++) {
			render_fn r = irc_dialect.render[k];
			if (r == NULL)
				continue;
			struct sendq q = {0};
			struct ev_view ev = {
				.sender = "okuser",
				.sender_uh = dia == 2 ? "~u@10.0.0.9" : NULL,
				.to = "bob",
				.room = "lobby",
				.text = line,
				.text_len = len,
				.flags = (uint16_t)(dia << EVF_DIALECT_SHIFT |
						    (len & 1 ? EVF_NOTICE : 0)),
			};
			ICHECK(r(&q, &ev) == 0);
			fuzz_irc_check_lines(q.buf + q.head, q.len);
			sendq_free(&q);
		}
	}
}

/* The events an IRC user causes whose text is not converted for the
 * dialects that refuse IRC codes (a PART or QUIT reason, a new nick): what
 * okfail and numeric show of them stays clean text. */
static void
check_plain_render(const char *line, size_t len)
{
	static const int kinds[] = {EV_LOGIN, EV_LOGOUT, EV_ROOM_JOIN,
				    EV_ROOM_LEFT, EV_NICK};
	const struct dialect_def *plain[] = {&okfail_dialect, &numeric_dialect};

	if (memchr(line, '\0', len))
		return;
	for (size_t d = 0; d < 2; d++) {
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			render_fn r = plain[d]->render[kinds[k]];
			struct sendq q = {0};
			struct ev_view ev = {
				.sender = "ircuser",
				.to = "bob",
				.room = "lobby",
				.text = line,
				.text_len = len,
				.flags = (uint16_t)(DIALECT_IRC
						    << EVF_DIALECT_SHIFT),
			};
			if (r == NULL)
				continue;
			ICHECK(r(&q, &ev) == 0);
			const char *p = q.buf + q.head;
			for (size_t n = q.len, l; n > 0; p += l, n -= l) {
				l = (size_t)((const char *)memchr(p, '\n', n) -
					     p) +
				    1;
				ICHECK(wire_check_text(p, l - 1) == TEXT_OK);
			}
			sendq_free(&q);
		}
	}
}

static void
check_irc_parsing(const char *line, size_t len)
{
	check_parse(line, len);
	check_cutting(line, len);
	check_names(line, len);
	check_render(line, len);
	check_plain_render(line, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_dialect_run(&irc_dialect, data, size, check_irc_parsing);
	return 0;
}
