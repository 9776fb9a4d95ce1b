/* Command-line splitting and validation shared by okfail, numeric and the
 * client. The payload is kept byte for byte: "BCST a  b" relays "a  b". */
#include "wire.h"

#include <string.h>
#include <strings.h>

void
wire_split(const char *line, size_t len, struct cmdline *out)
{
	const char *sp = memchr(line, ' ', len);

	out->word = line;
	if (sp == NULL) {
		out->word_len = len;
		out->payload = line + len;
		out->payload_len = 0;
		out->has_payload = false;
		return;
	}
	out->word_len = (size_t)(sp - line);
	out->payload = sp + 1;
	out->payload_len = len - out->word_len - 1;
	out->has_payload = true;
}

bool
wire_word_is(const struct cmdline *c, const char *word)
{
	size_t n = strlen(word);

	return c->word_len == n && strncasecmp(c->word, word, n) == 0;
}

static bool
name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

bool
wire_valid_name(const char *s, size_t len)
{
	if (len < FC_NAME_MIN || len > FC_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name_char((unsigned char)s[i]))
			return false;
	return true;
}

bool
wire_valid_room(const char *s, size_t len)
{
	if (len < 1 || len > FC_ROOM_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!name_char(c) && c != '#' && c != '.' && c != '-')
			return false;
	}
	return true;
}

/* Length of a UTF-8 sequence starting at s, or 0 if it is not well formed
 * (overlong forms, surrogates and code points past U+10FFFF included). */
size_t
wire_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		return 0;
	return need;
}

/* Control characters (0x00-0x1F but TAB, and 0x7F) are refused first: they
 * are what can hurt another user's terminal. Then UTF-8 well-formedness. */
enum text_check
wire_check_text(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	bool ascii = true;

	for (size_t i = 0; i < len; i++) {
		if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7F)
			return TEXT_CTRL;
		if (u[i] >= 0x80)
			ascii = false;
	}
	if (ascii)
		return TEXT_OK;
	for (size_t i = 0; i < len;) {
		size_t k = wire_utf8_len(u + i, len - i);
		if (k == 0)
			return TEXT_UTF8;
		i += k;
	}
	return TEXT_OK;
}

/* First space-separated argument of s: returns its length and sets *rest_off
 * to where the remainder starts (after exactly one space), or to len. */
size_t
wire_next_arg(const char *s, size_t len, size_t *rest_off)
{
	const char *sp = memchr(s, ' ', len);

	if (sp == NULL) {
		*rest_off = len;
		return len;
	}
	*rest_off = (size_t)(sp - s) + 1;
	return (size_t)(sp - s);
}
