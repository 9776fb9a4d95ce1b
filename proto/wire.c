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

/* Decodes the UTF-8 sequence starting at s into *cp: returns its length, or
 * 0 if it is not well formed (overlong forms, surrogates and code points
 * past U+10FFFF included). */
static size_t
utf8_decode(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned char c = s[0];
	size_t need;

	*cp = c;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 2;
		*cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		*cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		*cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3F);
	}
	if ((need == 3 && *cp < 0x800) || (need == 4 && *cp < 0x10000) ||
	    (*cp >= 0xD800 && *cp <= 0xDFFF) || *cp > 0x10FFFF)
		return 0;
	return need;
}

size_t
wire_utf8_len(const unsigned char *s, size_t n)
{
	unsigned cp;

	return utf8_decode(s, n, &cp);
}

static bool
c0_or_del(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7F;
}

bool
wire_is_bidi_control(unsigned cp)
{
	return (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F ||
	       cp == 0x061C;
}

/* The one scan behind both checks: C0 controls and DEL first (they are what
 * can hurt another user's terminal), then UTF-8 well-formedness, then the C1
 * controls U+0080-U+009F (U+009B is a CSI to many terminals) and, when
 * bidi_too, the bidi formatting characters. */
static enum text_check
check_text(const unsigned char *u, size_t len, bool bidi_too)
{
	bool ascii = true, c1 = false, bidi = false;
	unsigned cp;

	for (size_t i = 0; i < len; i++) {
		if (c0_or_del(u[i]))
			return TEXT_CTRL;
		if (u[i] >= 0x80)
			ascii = false;
	}
	if (ascii)
		return TEXT_OK;
	for (size_t i = 0; i < len;) {
		size_t k = utf8_decode(u + i, len - i, &cp);
		if (k == 0)
			return TEXT_UTF8;
		c1 |= cp >= 0x80 && cp <= 0x9F;
		bidi |= wire_is_bidi_control(cp);
		i += k;
	}
	if (c1)
		return TEXT_CTRL;
	return bidi_too && bidi ? TEXT_BIDI : TEXT_OK;
}

enum text_check
wire_check_text(const char *s, size_t len)
{
	return check_text((const unsigned char *)s, len, false);
}

enum text_check
wire_check_label(const char *s, size_t len)
{
	return check_text((const unsigned char *)s, len, true);
}

size_t
wire_bidi_len(const char *s, size_t len)
{
	unsigned cp;
	size_t k = len ? utf8_decode((const unsigned char *)s, len, &cp) : 0;

	return k > 1 && wire_is_bidi_control(cp) ? k : 0;
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
