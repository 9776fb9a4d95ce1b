/* The parsing layer both dialects are built from (proto/wire.c), checked
 * against independent reference implementations: the text check against a
 * decoder written from Unicode Table 3-7, names and rooms against strspn(),
 * and the split/argument helpers against the invariants the handlers rely
 * on. Included by fuzz_okfail.c and fuzz_numeric.c. */
#ifndef FC_FUZZ_PARSE_CHECK_H
#define FC_FUZZ_PARSE_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../proto/wire.h"

#define PCHECK(c)                                                              \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "parse check failed: %s\n", #c);       \
			abort();                                               \
		}                                                              \
	} while (0)

/* Well-formed UTF-8 per Unicode 15, Table 3-7. */
static bool
ref_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char b = s[i];
		unsigned char lo = 0x80, hi = 0xBF;
		size_t k;
		if (b <= 0x7F) {
			i++;
			continue;
		} else if (b >= 0xC2 && b <= 0xDF) {
			k = 1;
		} else if (b == 0xE0) {
			k = 2;
			lo = 0xA0;
		} else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
			k = 2;
		} else if (b == 0xED) {
			k = 2;
			hi = 0x9F;
		} else if (b == 0xF0) {
			k = 3;
			lo = 0x90;
		} else if (b >= 0xF1 && b <= 0xF3) {
			k = 3;
		} else if (b == 0xF4) {
			k = 3;
			hi = 0x8F;
		} else {
			return false;
		}
		if (n - i - 1 < k)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t j = 2; j <= k; j++)
			if (s[i + j] < 0x80 || s[i + j] > 0xBF)
				return false;
		i += k + 1;
	}
	return true;
}

static enum text_check
ref_check_text(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < n; i++)
		if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7F)
			return TEXT_CTRL;
	if (!ref_utf8(u, n))
		return TEXT_UTF8;
	/* well-formed: a C1 control is C2 followed by 80-9F, nowhere else */
	for (size_t i = 0; i + 1 < n; i++)
		if (u[i] == 0xC2 && u[i + 1] >= 0x80 && u[i + 1] <= 0x9F)
			return TEXT_CTRL;
	return TEXT_OK;
}

/* The label check: the text check, then the bidi characters' encodings. */
static enum text_check
ref_check_label(const char *s, size_t n)
{
	static const char *const bidi[] = {
		"\xE2\x80\xAA", "\xE2\x80\xAB", "\xE2\x80\xAC", "\xE2\x80\xAD",
		"\xE2\x80\xAE", "\xE2\x81\xA6", "\xE2\x81\xA7", "\xE2\x81\xA8",
		"\xE2\x81\xA9", "\xE2\x80\x8E", "\xE2\x80\x8F", "\xD8\x9C"};
	enum text_check t = ref_check_text(s, n);

	if (t != TEXT_OK)
		return t;
	for (size_t i = 0; i < sizeof(bidi) / sizeof(bidi[0]); i++)
		if (memmem(s, n, bidi[i], strlen(bidi[i])) != NULL)
			return TEXT_BIDI;
	return TEXT_OK;
}

static bool
ref_span(const char *s, size_t n, const char *set, size_t lo, size_t hi)
{
	if (n < lo || n > hi)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\0' || strchr(set, s[i]) == NULL)
			return false;
	return true;
}

#define NAME_SET                                                               \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"

static void
check_name_room(const char *s, size_t n)
{
	PCHECK(wire_valid_name(s, n) ==
	       ref_span(s, n, NAME_SET, FC_NAME_MIN, FC_NAME_MAX));
	PCHECK(wire_valid_room(s, n) ==
	       ref_span(s, n, NAME_SET "#.-", 1, FC_ROOM_MAX));
}

/* wire_next_arg: the argument is the bytes before the first space. */
static size_t
check_next_arg(const char *s, size_t n, size_t *off)
{
	size_t a = wire_next_arg(s, n, off);
	const char *sp = n ? memchr(s, ' ', n) : NULL;

	PCHECK(a <= n && *off <= n);
	if (sp == NULL) {
		PCHECK(a == n && *off == n);
	} else {
		PCHECK(a == (size_t)(sp - s) && *off == a + 1);
	}
	check_name_room(s, a);
	return a;
}

/* What a dialect does with a line before it looks at the command. */
static void
check_line_parsing(const char *line, size_t len)
{
	enum text_check t = wire_check_text(line, len);
	struct cmdline cl;
	size_t off, off2;

	PCHECK(t == ref_check_text(line, len));
	PCHECK(wire_check_label(line, len) == ref_check_label(line, len));
	wire_split(line, len, &cl);
	PCHECK(cl.word == line && cl.word_len <= len);
	PCHECK(memchr(cl.word, ' ', cl.word_len) == NULL);
	if (cl.has_payload) {
		PCHECK(line[cl.word_len] == ' ');
		PCHECK(cl.payload == line + cl.word_len + 1);
		PCHECK(cl.word_len + 1 + cl.payload_len == len);
	} else {
		PCHECK(cl.word_len == len && cl.payload_len == 0);
	}
	/* a command word matches itself however it is cased */
	if (cl.word_len > 0 && cl.word_len < 32 &&
	    memchr(cl.word, '\0', cl.word_len) == NULL) {
		char w[32];
		for (size_t i = 0; i < cl.word_len; i++) {
			char c = cl.word[i];
			w[i] = (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
		}
		w[cl.word_len] = '\0';
		PCHECK(wire_word_is(&cl, w));
	}
	check_name_room(cl.payload, cl.payload_len);
	/* "<a> <b> <c>", as PM, SEND, PRIV and FILE take it apart */
	size_t a = check_next_arg(cl.payload, cl.payload_len, &off);
	(void)a;
	const char *rest = cl.payload + off;
	size_t rl = cl.payload_len - off;
	size_t b = check_next_arg(rest, rl, &off2);
	(void)b;
	(void)check_next_arg(rest + off2, rl - off2, &off);
	/* text that passed the check stays clean when cut at a space */
	if (t == TEXT_OK)
		PCHECK(wire_check_text(rest, rl) == TEXT_OK);
}

#endif
