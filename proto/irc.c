/* IRC lines in and out: the parser, 512-byte formatting, UTF-8-safe
 * splitting, the channel <-> room mapping and the CTCP/mIRC-code conversion
 * for dialects that refuse control characters. No state, no allocation. */
#include "irc.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "wire.h"

static size_t
skip_spaces(const char *s, size_t len, size_t i)
{
	while (i < len && s[i] == ' ')
		i++;
	return i;
}

static size_t
word_end(const char *s, size_t len, size_t i)
{
	while (i < len && s[i] != ' ')
		i++;
	return i;
}

static void
add_param(struct irc_msg *m, const char *p, size_t len)
{
	m->params[m->nparams].p = p;
	m->params[m->nparams].len = len;
	m->nparams++;
}

static void
parse_params(const char *s, size_t len, size_t i, struct irc_msg *m)
{
	for (i = skip_spaces(s, len, i); i < len; i = skip_spaces(s, len, i)) {
		if (s[i] == ':' || m->nparams == IRC_MAX_PARAMS - 1) {
			size_t from = i + (s[i] == ':');
			add_param(m, s + from, len - from);
			m->trailing = s[i] == ':';
			return;
		}
		size_t e = word_end(s, len, i);
		add_param(m, s + i, e - i);
		i = e;
	}
}

int
irc_parse(const char *line, size_t len, struct irc_msg *m)
{
	size_t i = skip_spaces(line, len, 0);

	memset(m, 0, sizeof(*m));
	if (i < len && line[i] == '@') {
		size_t e = word_end(line, len, i);
		m->tags = line + i + 1;
		m->tags_len = e - i - 1;
		i = skip_spaces(line, len, e);
	}
	if (i < len && line[i] == ':') {
		size_t e = word_end(line, len, i);
		m->prefix = line + i + 1;
		m->prefix_len = e - i - 1;
		i = skip_spaces(line, len, e);
	}
	if (i >= len)
		return -1;
	size_t e = word_end(line, len, i);
	m->cmd = line + i;
	m->cmd_len = e - i;
	parse_params(line, len, e, m);
	return 0;
}

bool
irc_cmd_is(const struct irc_msg *m, const char *word)
{
	return irc_eq(m->cmd, m->cmd_len, word, strlen(word));
}

const char *
irc_param_str(const struct irc_msg *m, int i, char *buf, size_t cap)
{
	size_t n = 0;

	if (i >= 0 && i < m->nparams) {
		n = m->params[i].len < cap - 1 ? m->params[i].len : cap - 1;
		memcpy(buf, m->params[i].p, n);
	}
	buf[n] = '\0';
	return buf;
}

/* Step back from n to the start of the code point that n falls in. */
static size_t
utf8_floor(const char *s, size_t n)
{
	size_t back = 0;

	while (n > 0 && back < 3 && ((unsigned char)s[n] & 0xC0) == 0x80) {
		n--;
		back++;
	}
	return n;
}

size_t
irc_fit(const char *text, size_t len, size_t room)
{
	if (len <= room)
		return len;
	return utf8_floor(text, room);
}

size_t
irc_line(char *buf, size_t cap, const char *fmt, ...)
{
	char tmp[2 * IRC_LINE_MAX];
	va_list ap;

	if (cap < IRC_LINE_MAX + 1)
		return 0;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return 0;
	size_t len = (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1;
	if (len > IRC_LINE_MAX - 2)
		len = utf8_floor(tmp, IRC_LINE_MAX - 2);
	memcpy(buf, tmp, len);
	buf[len++] = '\r';
	buf[len++] = '\n';
	return len;
}

size_t
irc_numeric(char *buf, size_t cap, const char *server, int code,
	    const char *nick, const char *fmt, ...)
{
	char tmp[2 * IRC_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return 0;
	return irc_line(buf, cap, ":%s %03d %s %s", server, code,
			*nick ? nick : "*", tmp);
}

size_t
irc_split_lines(char *out, size_t cap, const char *head, size_t hlen,
		const char *text, size_t len)
{
	size_t room = IRC_LINE_MAX - 2 - hlen - 2; /* " :" and "\r\n" */
	size_t n = 0;

	if (hlen + 4 + 4 > IRC_LINE_MAX)
		return 0;
	do {
		size_t k = irc_fit(text, len, room);
		if (n + hlen + k + 4 > cap)
			return 0;
		memcpy(out + n, head, hlen);
		memcpy(out + n + hlen, " :", 2);
		memcpy(out + n + hlen + 2, text, k);
		memcpy(out + n + hlen + 2 + k, "\r\n", 2);
		n += hlen + k + 4;
		text += k;
		len -= k;
	} while (len > 0);
	return n;
}

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* mIRC formatting: \x02 bold, \x03 colour (fg[,bg] digits), \x04 hex
 * colour, \x0f reset, \x11 monospace, \x16 reverse, \x1d italic,
 * \x1e strike, \x1f underline. Returns the bytes the code takes at s. */
static size_t
format_code_len(const char *s, size_t len)
{
	size_t i = 1;

	if (s[0] == 0x03) {
		for (int d = 0; d < 2 && i < len && s[i] >= '0' && s[i] <= '9';
		     d++)
			i++;
		if (i > 1 && i + 1 < len && s[i] == ',' && s[i + 1] >= '0' &&
		    s[i + 1] <= '9') {
			i += 2;
			if (i < len && s[i] >= '0' && s[i] <= '9')
				i++;
		}
		return i;
	}
	if (s[0] == 0x04) {
		size_t hex = 0;
		while (1 + hex < len && hex < 6 && is_hex(s[1 + hex]))
			hex++;
		return 1 + (hex == 6 ? 6 : 0);
	}
	return 1;
}

static bool
is_ctrl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7F;
}

/* Copy in[0..len) to out without codes or control bytes, U+FFFD for bad
 * UTF-8. Returns the bytes written. */
static size_t
plain_copy(const char *in, size_t len, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)in[i];
		if (c == 0x03 || c == 0x04) {
			i += format_code_len(in + i, len - i);
			continue;
		}
		if (is_ctrl(c)) {
			i++;
			continue;
		}
		size_t k =
			wire_utf8_len((const unsigned char *)in + i, len - i);
		if (k == 0) {
			memcpy(out + n, "\xEF\xBF\xBD", 3);
			n += 3;
			i++;
			continue;
		}
		/* C1 controls (U+0080-U+009F) are control characters too */
		bool c1 =
			k == 2 && c == 0xC2 && (unsigned char)in[i + 1] < 0xA0;
		if (!c1) {
			memcpy(out + n, in + i, k);
			n += k;
		}
		i += k;
	}
	return n;
}

enum irc_plain
irc_plain(const char *nick, const char *in, size_t len, char *out, size_t cap,
	  size_t *out_len)
{
	size_t n = 0;

	*out_len = 0;
	if (cap < 3 * len + strlen(nick) + 4)
		return IRC_PLAIN_EMPTY;
	if (len > 0 && in[0] == 0x01) {
		size_t body = len - 1 - (len > 1 && in[len - 1] == 0x01);
		if (body < 6 || strncmp(in + 1, "ACTION", 6) != 0 ||
		    (body > 6 && in[7] != ' '))
			return IRC_PLAIN_CTCP;
		n = (size_t)sprintf(out, "* %s%s", nick, body > 7 ? " " : "");
		in += 1 + (body > 7 ? 7 : body);
		len = body > 7 ? body - 7 : 0;
	}
	n += plain_copy(in, len, out + n);
	*out_len = n;
	return n > 0 ? IRC_PLAIN_TEXT : IRC_PLAIN_EMPTY;
}

bool
irc_valid_nick(const char *s, size_t len)
{
	return wire_valid_name(s, len);
}

enum irc_chan
irc_chan_room(const char *chan, size_t len, const char **room, size_t *room_len)
{
	if (irc_eq(chan, len, IRC_CHAN_ALL, strlen(IRC_CHAN_ALL)))
		return IRC_CHAN_BCST;
	if (len < 2 || chan[0] != '#' || !wire_valid_room(chan + 1, len - 1))
		return IRC_CHAN_BAD;
	*room = chan + 1;
	*room_len = len - 1;
	return IRC_CHAN_ROOM;
}

size_t
irc_room_chan(const char *room, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "#%s", room);

	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

static char
fold(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool
irc_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (fold(a[i]) != fold(b[i]))
			return false;
	return true;
}

void
irc_fold(const char *s, size_t len, char *out, size_t cap)
{
	size_t n = len < cap - 1 ? len : cap - 1;

	for (size_t i = 0; i < n; i++)
		out[i] = fold(s[i]);
	out[n] = '\0';
}
