/* Proves proto/wire.c: the command split (word before the first space,
 * payload after it kept byte for byte), name and room syntax at their length
 * bounds, wire_next_arg, and the text check over a table of control bytes and
 * UTF-8 cases (overlongs, surrogates, > U+10FFFF, truncated sequences, C1
 * controls), and the label check's bidi formatting characters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../proto/wire.h"

static void
split(const char *s, struct cmdline *cl)
{
	wire_split(s, strlen(s), cl);
}

static void
test_split_word_only(void **state)
{
	struct cmdline cl;

	(void)state;
	split("USERS", &cl);
	assert_int_equal(cl.word_len, 5);
	assert_memory_equal(cl.word, "USERS", 5);
	assert_false(cl.has_payload);
	assert_int_equal(cl.payload_len, 0);
	split("", &cl);
	assert_int_equal(cl.word_len, 0);
	assert_false(cl.has_payload);
}

static void
test_split_payload_untrimmed(void **state)
{
	struct cmdline cl;
	const char *s = "BCST  a  b ";

	(void)state;
	split(s, &cl);
	assert_int_equal(cl.word_len, 4);
	assert_true(cl.has_payload);
	assert_ptr_equal(cl.payload, s + 5);
	assert_int_equal(cl.payload_len, 6);
	assert_memory_equal(cl.payload, " a  b ", 6);
	/* a trailing space gives an empty payload that is still present */
	split("BCST ", &cl);
	assert_true(cl.has_payload);
	assert_int_equal(cl.payload_len, 0);
	/* a leading space gives an empty word */
	split(" x", &cl);
	assert_int_equal(cl.word_len, 0);
	assert_int_equal(cl.payload_len, 1);
	/* a tab does not split */
	split("PM\tx", &cl);
	assert_int_equal(cl.word_len, 4);
	assert_false(cl.has_payload);
}

static void
test_split_not_terminated(void **state)
{
	struct cmdline cl;
	const char buf[] = {'P', 'M', ' ', 'b', 'o', 'b', ' ', 'x'};

	(void)state;
	/* only len bytes are looked at: the space after "PM b" is outside */
	wire_split(buf, 5, &cl);
	assert_int_equal(cl.word_len, 2);
	assert_int_equal(cl.payload_len, 2);
	assert_memory_equal(cl.payload, "bo", 2);
	wire_split(buf, 2, &cl);
	assert_false(cl.has_payload);
}

static void
test_word_is(void **state)
{
	struct cmdline cl;

	(void)state;
	split("ident bob", &cl);
	assert_true(wire_word_is(&cl, "IDENT"));
	assert_false(wire_word_is(&cl, "IDENTX"));
	assert_false(wire_word_is(&cl, "IDEN"));
	split("PM_PUBKEY k", &cl);
	assert_true(wire_word_is(&cl, "PM_PUBKEY"));
	assert_false(wire_word_is(&cl, "PM"));
	split("", &cl);
	assert_false(wire_word_is(&cl, "PM"));
}

static void
test_names(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} t[] = {
		{"abc", true},
		{"ab", false},
		{"", false},
		{"abcdefghijklmn", true},   /* 14 */
		{"abcdefghijklmno", false}, /* 15 */
		{"Bob_42", true},
		{"___", true},
		{"bo b", false},
		{"bob!", false},
		{"bob-x", false},
		{"b.ob", false},
		{"b#ob", false},
		{"b\xc3\xa9o", false},
		{"bob\t", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (wire_valid_name(t[i].s, strlen(t[i].s)) != t[i].ok)
			fail_msg("name \"%s\": expected %d", t[i].s, t[i].ok);
	}
	/* a NUL inside the length is not a name character */
	assert_false(wire_valid_name("ab\0c", 4));
	/* only len bytes count */
	assert_true(wire_valid_name("abc!!!", 3));
}

static void
test_rooms(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} t[] = {
		{"a", true},
		{"", false},
		{"#general", true},
		{"dev.ops-2_x", true},
		{"12345678901234567890123456789012", true},   /* 32 */
		{"123456789012345678901234567890123", false}, /* 33 */
		{"a b", false},
		{"a/b", false},
		{"a:b", false},
		{"a,b", false},
		{"caf\xc3\xa9", false},
		{"..", true},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (wire_valid_room(t[i].s, strlen(t[i].s)) != t[i].ok)
			fail_msg("room \"%s\": expected %d", t[i].s, t[i].ok);
	}
	assert_false(wire_valid_room("a\0", 2));
}

static void
test_next_arg(void **state)
{
	size_t off;

	(void)state;
	assert_int_equal(wire_next_arg("bob hi there", 12, &off), 3);
	assert_int_equal(off, 4);
	assert_int_equal(wire_next_arg("bob", 3, &off), 3);
	assert_int_equal(off, 3);
	/* exactly one space is eaten: the rest keeps its leading space */
	assert_int_equal(wire_next_arg("bob  hi", 7, &off), 3);
	assert_int_equal(off, 4);
	assert_int_equal(wire_next_arg(" x", 2, &off), 0);
	assert_int_equal(off, 1);
	assert_int_equal(wire_next_arg("", 0, &off), 0);
	assert_int_equal(off, 0);
	assert_int_equal(wire_next_arg("bob ", 4, &off), 3);
	assert_int_equal(off, 4);
}

struct text_case {
	const char *name;
	const char *s;
	size_t len; /* 0: strlen */
	enum text_check want;
};

static const struct text_case text_cases[] = {
	{"empty", "", 0, TEXT_OK},
	{"ascii", "hello world", 0, TEXT_OK},
	{"tab", "a\tb", 0, TEXT_OK},
	{"all printable", " ~!\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}", 0,
	 TEXT_OK},
	{"NUL", "a\0b", 3, TEXT_CTRL},
	{"0x01", "\x01", 0, TEXT_CTRL},
	{"CR", "a\rb", 0, TEXT_CTRL},
	{"LF", "a\nb", 0, TEXT_CTRL},
	{"ESC", "\x1b[31m", 0, TEXT_CTRL},
	{"0x1F", "\x1f", 0, TEXT_CTRL},
	{"DEL", "\x7f", 0, TEXT_CTRL},
	{"C1 U+0080", "\xc2\x80", 0, TEXT_CTRL},
	{"C1 U+0085 NEL",
	 "a\xc2\x85"
	 "b",
	 0, TEXT_CTRL},
	{"C1 U+009B CSI",
	 "\xc2\x9b"
	 "31m",
	 0, TEXT_CTRL},
	{"C1 U+009F", "\xc2\x9f", 0, TEXT_CTRL},
	{"U+00A0 after C1 range", "\xc2\xa0", 0, TEXT_OK},
	{"C1 after valid text", "caf\xc3\xa9 \xc2\x9b", 0, TEXT_CTRL},
	{"bad UTF-8 wins over C1", "\xc2\x9b\xff", 0, TEXT_UTF8},
	{"C0 wins over C1", "\xc2\x9b\x1b", 0, TEXT_CTRL},
	{"bidi RLO is text",
	 "\xe2\x80\xae"
	 "gnp.exe",
	 0, TEXT_OK},
	{"ctrl wins over bad UTF-8", "\xff\x01", 0, TEXT_CTRL},
	{"2-byte e-acute", "caf\xc3\xa9", 0, TEXT_OK},
	{"3-byte euro", "\xe2\x82\xac", 0, TEXT_OK},
	{"4-byte emoji", "\xf0\x9f\x98\x80", 0, TEXT_OK},
	{"U+07FF", "\xdf\xbf", 0, TEXT_OK},
	{"U+0800", "\xe0\xa0\x80", 0, TEXT_OK},
	{"U+D7FF", "\xed\x9f\xbf", 0, TEXT_OK},
	{"U+E000", "\xee\x80\x80", 0, TEXT_OK},
	{"U+FFFF", "\xef\xbf\xbf", 0, TEXT_OK},
	{"U+10000", "\xf0\x90\x80\x80", 0, TEXT_OK},
	{"U+10FFFF", "\xf4\x8f\xbf\xbf", 0, TEXT_OK},
	{"lone continuation", "\x80", 0, TEXT_UTF8},
	{"continuation after ascii", "a\xbf", 0, TEXT_UTF8},
	{"overlong 2-byte C0", "\xc0\xaf", 0, TEXT_UTF8},
	{"overlong 2-byte C1", "\xc1\xbf", 0, TEXT_UTF8},
	{"overlong 3-byte", "\xe0\x80\xaf", 0, TEXT_UTF8},
	{"overlong 3-byte max", "\xe0\x9f\xbf", 0, TEXT_UTF8},
	{"overlong 4-byte", "\xf0\x80\x80\xaf", 0, TEXT_UTF8},
	{"overlong 4-byte max", "\xf0\x8f\xbf\xbf", 0, TEXT_UTF8},
	{"surrogate D800", "\xed\xa0\x80", 0, TEXT_UTF8},
	{"surrogate DFFF", "\xed\xbf\xbf", 0, TEXT_UTF8},
	{"surrogate pair", "\xed\xa0\xbd\xed\xb8\x80", 0, TEXT_UTF8},
	{"U+110000", "\xf4\x90\x80\x80", 0, TEXT_UTF8},
	{"F5 lead", "\xf5\x80\x80\x80", 0, TEXT_UTF8},
	{"FE", "\xfe", 0, TEXT_UTF8},
	{"FF", "\xff", 0, TEXT_UTF8},
	{"truncated 2-byte at end", "ab\xc3", 0, TEXT_UTF8},
	{"truncated 3-byte at end", "\xe2\x82", 0, TEXT_UTF8},
	{"truncated 4-byte at end", "\xf0\x9f\x98", 0, TEXT_UTF8},
	{"truncated then ascii", "\xe2\x82x", 0, TEXT_UTF8},
	{"5-byte form", "\xf8\x88\x80\x80\x80", 0, TEXT_UTF8},
	{"valid then invalid", "\xc3\xa9\xc3", 0, TEXT_UTF8},
};

static void
test_text_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(text_cases) / sizeof(text_cases[0]);
	     i++) {
		const struct text_case *t = &text_cases[i];
		size_t len = t->len ? t->len : strlen(t->s);
		enum text_check got = wire_check_text(t->s, len);
		if (got != t->want)
			fail_msg("text case \"%s\": got %d, want %d", t->name,
				 got, t->want);
	}
}

static void
test_text_length_bound(void **state)
{
	(void)state;
	/* a sequence cut by len is invalid even if the bytes go on */
	assert_int_equal(wire_check_text("\xc3\xa9", 1), TEXT_UTF8);
	assert_int_equal(wire_check_text("\xf0\x9f\x98\x80", 3), TEXT_UTF8);
	/* a control byte beyond len is not looked at */
	assert_int_equal(wire_check_text("ab\n", 2), TEXT_OK);
}

struct label_case {
	const char *name;
	const char *s;
	enum text_check want;
};

/* file names: what text refuses, and the bidi formatting characters */
static const struct label_case label_cases[] = {
	{"plain", "notes.txt", TEXT_OK},
	{"accents", "caf\xc3\xa9.txt", TEXT_OK},
	{"C0", "a\x1b.txt", TEXT_CTRL},
	{"C1", "a\xc2\x9b.txt", TEXT_CTRL},
	{"bad UTF-8", "a\xff.txt", TEXT_UTF8},
	{"LRE U+202A",
	 "\xe2\x80\xaa"
	 "a",
	 TEXT_BIDI},
	{"RLE U+202B",
	 "\xe2\x80\xab"
	 "a",
	 TEXT_BIDI},
	{"PDF U+202C",
	 "\xe2\x80\xac"
	 "a",
	 TEXT_BIDI},
	{"LRO U+202D",
	 "\xe2\x80\xad"
	 "a",
	 TEXT_BIDI},
	{"RLO U+202E",
	 "\xe2\x80\xae"
	 "gnp.exe",
	 TEXT_BIDI},
	{"LRI U+2066", "a\xe2\x81\xa6", TEXT_BIDI},
	{"RLI U+2067", "a\xe2\x81\xa7", TEXT_BIDI},
	{"FSI U+2068", "a\xe2\x81\xa8", TEXT_BIDI},
	{"PDI U+2069", "a\xe2\x81\xa9", TEXT_BIDI},
	{"LRM U+200E", "a\xe2\x80\x8e", TEXT_BIDI},
	{"RLM U+200F", "a\xe2\x80\x8f", TEXT_BIDI},
	{"ALM U+061C", "a\xd8\x9c", TEXT_BIDI},
	{"U+2029 neighbour", "a\xe2\x80\xa9", TEXT_OK},
	{"U+202F neighbour", "a\xe2\x80\xaf", TEXT_OK},
	{"U+2065 neighbour", "a\xe2\x81\xa5", TEXT_OK},
	{"U+206A neighbour", "a\xe2\x81\xaa", TEXT_OK},
	{"U+200D neighbour", "a\xe2\x80\x8d", TEXT_OK},
	{"U+061B neighbour", "a\xd8\x9b", TEXT_OK},
	{"Hebrew letters", "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", TEXT_OK},
};

static void
test_label_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(label_cases) / sizeof(label_cases[0]);
	     i++) {
		const struct label_case *t = &label_cases[i];
		enum text_check got = wire_check_label(t->s, strlen(t->s));
		if (got != t->want)
			fail_msg("label case \"%s\": got %d, want %d", t->name,
				 got, t->want);
		/* message text keeps bidi characters (the client escapes) */
		enum text_check text = wire_check_text(t->s, strlen(t->s));
		if (text != (t->want == TEXT_BIDI ? TEXT_OK : t->want))
			fail_msg("text case \"%s\": got %d", t->name, text);
	}
}

static void
test_bidi_len(void **state)
{
	(void)state;
	assert_int_equal(wire_bidi_len("\xe2\x80\xae"
				       "x",
				       4),
			 3);
	assert_int_equal(wire_bidi_len("\xd8\x9c", 2), 2);
	assert_int_equal(wire_bidi_len("\xe2\x80\xae", 2), 0); /* cut */
	assert_int_equal(wire_bidi_len("\xe2\x80\xaf", 3), 0);
	assert_int_equal(wire_bidi_len("x", 1), 0);
	assert_int_equal(wire_bidi_len("", 0), 0);
	assert_true(wire_is_bidi_control(0x202E));
	assert_false(wire_is_bidi_control(0x2029));
}

/* Every 2-byte lead with every continuation byte: C2-DF x 80-BF valid,
 * but C2 80-9F (the C1 controls) is a control. */
static void
test_text_two_byte_exhaustive(void **state)
{
	(void)state;
	for (int a = 0x80; a <= 0xff; a++) {
		for (int b = 0x00; b <= 0xff; b++) {
			char s[2] = {(char)a, (char)b};
			enum text_check want;
			if ((b < 0x20 && b != 0x09) || b == 0x7f)
				want = TEXT_CTRL;
			else if (a == 0xc2 && b >= 0x80 && b <= 0x9f)
				want = TEXT_CTRL;
			else if (a >= 0xc2 && a <= 0xdf && b >= 0x80 &&
				 b <= 0xbf)
				want = TEXT_OK;
			else
				want = TEXT_UTF8;
			if (wire_check_text(s, 2) != want)
				fail_msg("%02x %02x", a, b);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_word_only),
		cmocka_unit_test(test_split_payload_untrimmed),
		cmocka_unit_test(test_split_not_terminated),
		cmocka_unit_test(test_word_is),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_rooms),
		cmocka_unit_test(test_next_arg),
		cmocka_unit_test(test_text_table),
		cmocka_unit_test(test_text_length_bound),
		cmocka_unit_test(test_text_two_byte_exhaustive),
		cmocka_unit_test(test_label_table),
		cmocka_unit_test(test_bidi_len),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
