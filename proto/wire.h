/* What both dialects (and the client) agree on about a command line: how it
 * splits into a command word and a payload, which names are valid, which
 * bytes may be relayed. */
#ifndef FC_WIRE_H
#define FC_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#define FC_NAME_MIN 3
#define FC_NAME_MAX 14
#define FC_ROOM_MAX 32

struct cmdline {
	const char *word; /* command word, not NUL-terminated */
	size_t word_len;
	const char *payload; /* everything after the first space, untrimmed */
	size_t payload_len;
	bool has_payload; /* a space followed the command word */
};

enum text_check { TEXT_OK, TEXT_CTRL, TEXT_UTF8 };

void wire_split(const char *line, size_t len, struct cmdline *out);
bool wire_word_is(const struct cmdline *c, const char *word);
bool wire_valid_name(const char *s, size_t len);
bool wire_valid_room(const char *s, size_t len);
enum text_check wire_check_text(const char *s, size_t len);
/* Bytes in the UTF-8 sequence at s (n bytes left), 0 if ill-formed. */
size_t wire_utf8_len(const unsigned char *s, size_t n);
size_t wire_next_arg(const char *s, size_t len, size_t *rest_off);

#endif
