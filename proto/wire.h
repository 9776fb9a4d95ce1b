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

/* TEXT_CTRL: a C0 control but TAB, DEL, or a C1 control (U+0080-U+009F
 * encoded as UTF-8). TEXT_UTF8: not well-formed UTF-8. TEXT_BIDI (labels
 * only): a bidi override, embedding, isolate or mark. */
enum text_check { TEXT_OK, TEXT_CTRL, TEXT_UTF8, TEXT_BIDI };

void wire_split(const char *line, size_t len, struct cmdline *out);
bool wire_word_is(const struct cmdline *c, const char *word);
bool wire_valid_name(const char *s, size_t len);
bool wire_valid_room(const char *s, size_t len);
/* Relayable text: C0/DEL first, then UTF-8 well-formedness, then C1. */
enum text_check wire_check_text(const char *s, size_t len);
/* Bytes in the UTF-8 sequence at s (n bytes left), 0 if ill-formed. */
size_t wire_utf8_len(const unsigned char *s, size_t n);
/* A label (a file name): wire_check_text, and no bidi formatting
 * character (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C). */
enum text_check wire_check_label(const char *s, size_t len);
/* Whether code point cp is one of wire_check_label's bidi characters. */
bool wire_is_bidi_control(unsigned cp);
/* Length of the bidi formatting character that starts s, or 0 (for a
 * client that shows them escaped). */
size_t wire_bidi_len(const char *s, size_t len);
size_t wire_next_arg(const char *s, size_t len, size_t *rest_off);

#endif
