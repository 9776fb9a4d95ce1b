/* Proves proto/irc.c: parsing (tags, prefix, middles, trailing, the
 * 15-parameter cap), 512-byte replies, splitting at UTF-8 boundaries,
 * mIRC codes and CTCP ACTION for other dialects, channel <-> room names
 * and ASCII case folding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../proto/irc.h"
#include "../proto/wire.h"

static void
parse(const char *s, struct irc_msg *m)
{
	assert_int_equal(irc_parse(s, strlen(s), m), 0);
}

static void
expect_param(const struct irc_msg *m, int i, const char *want)
{
	assert_true(i < m->nparams);
	assert_int_equal(m->params[i].len, strlen(want));
	assert_memory_equal(m->params[i].p, want, strlen(want));
}

static void
test_parse_simple(void **state)
{
	struct irc_msg m;

	(void)state;
	parse("NICK bob", &m);
	assert_null(m.prefix);
	assert_true(irc_cmd_is(&m, "nick"));
	assert_int_equal(m.nparams, 1);
	expect_param(&m, 0, "bob");
	assert_false(m.trailing);
}

static void
test_parse_prefix_trailing(void **state)
{
	struct irc_msg m;

	(void)state;
	parse(":bob!b@h PRIVMSG #lobby :hello  there :)", &m);
	assert_int_equal(m.prefix_len, 7);
	assert_memory_equal(m.prefix, "bob!b@h", 7);
	assert_true(irc_cmd_is(&m, "PRIVMSG"));
	assert_int_equal(m.nparams, 2);
	expect_param(&m, 0, "#lobby");
	expect_param(&m, 1, "hello  there :)");
	assert_true(m.trailing);
}

static void
test_parse_tags_spaces_empty_trailing(void **state)
{
	struct irc_msg m;

	(void)state;
	parse("@time=x;a=b   USER  u 0  * :", &m);
	assert_true(irc_cmd_is(&m, "USER"));
	assert_int_equal(m.tags_len, 10);
	assert_memory_equal(m.tags, "time=x;a=b", 10);
	assert_int_equal(m.nparams, 4);
	expect_param(&m, 2, "*");
	expect_param(&m, 3, "");
	assert_true(m.trailing);
	assert_int_equal(irc_parse("", 0, &m), -1);
	assert_int_equal(irc_parse(":pfx", 4, &m), -1);
	assert_int_equal(irc_parse("   ", 3, &m), -1);
}

static void
test_parse_param_cap(void **state)
{
	struct irc_msg m;

	(void)state;
	parse("X 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", &m);
	assert_int_equal(m.nparams, IRC_MAX_PARAMS);
	expect_param(&m, 14, "15 16");
}

static void
test_param_str(void **state)
{
	struct irc_msg m;
	char buf[4];

	(void)state;
	parse("JOIN #abcdef", &m);
	assert_string_equal(irc_param_str(&m, 0, buf, sizeof(buf)), "#ab");
	assert_string_equal(irc_param_str(&m, 3, buf, sizeof(buf)), "");
}

static void
test_numeric_format(void **state)
{
	char buf[IRC_LINE_MAX + 1];
	size_t n = irc_numeric(buf, sizeof(buf), "srv", 1, "bob", ":Welcome %s",
			       "bob");

	(void)state;
	assert_int_equal(n, strlen(":srv 001 bob :Welcome bob\r\n"));
	assert_memory_equal(buf, ":srv 001 bob :Welcome bob\r\n", n);
	n = irc_numeric(buf, sizeof(buf), "srv", 451, "",
			":You have not registered");
	assert_memory_equal(buf, ":srv 451 * :", 12);
	assert_int_equal(irc_line(buf, 100, "x"), 0);
}

static void
test_line_cut_at_utf8(void **state)
{
	char big[700], buf[IRC_LINE_MAX + 1];

	(void)state;
	/* 1 + 2*300 bytes of "é": the cut must not split one */
	big[0] = 'x';
	for (int i = 0; i < 300; i++)
		memcpy(big + 1 + 2 * i, "\xC3\xA9", 2);
	big[601] = '\0';
	size_t n = irc_line(buf, sizeof(buf), "%s", big);
	assert_true(n <= IRC_LINE_MAX);
	assert_memory_equal(buf + n - 2, "\r\n", 2);
	assert_int_equal(wire_check_text(buf, n - 2), TEXT_OK);
	assert_int_equal(n, 511); /* 1 + 254*2 bytes, then \r\n */
}

static void
test_fit(void **state)
{
	(void)state;
	assert_int_equal(irc_fit("abc", 3, 10), 3);
	assert_int_equal(irc_fit("a\xE2\x82\xAC", 4, 3), 1);
	assert_int_equal(irc_fit("a\xE2\x82\xAC", 4, 4), 4);
	assert_int_equal(irc_fit("\xF0\x9F\x98\x80z", 5, 3), 0);
	assert_int_equal(irc_fit("\xF0\x9F\x98\x80z", 5, 4), 4);
}

/* Every line of out is at most 512 bytes, valid UTF-8, starts with head,
 * and the chunks put together give text back. */
static void
check_split(const char *head, const char *text, size_t len, int want_lines)
{
	static char out[64 * 1024], joined[32 * 1024];
	size_t hl = strlen(head), jn = 0;
	size_t n = irc_split_lines(out, sizeof(out), head, hl, text, len);
	int lines = 0;

	assert_true(n > 0);
	for (size_t i = 0; i < n; lines++) {
		char *e = memchr(out + i, '\n', n - i);
		assert_non_null(e);
		size_t ll = (size_t)(e - (out + i)) + 1;
		assert_true(ll <= IRC_LINE_MAX);
		assert_memory_equal(out + i, head, hl);
		assert_memory_equal(out + i + hl, " :", 2);
		size_t cl = ll - hl - 4;
		assert_int_equal(wire_check_text(out + i + hl + 2, cl),
				 TEXT_OK);
		memcpy(joined + jn, out + i + hl + 2, cl);
		jn += cl;
		i += ll;
	}
	assert_int_equal(lines, want_lines);
	assert_int_equal(jn, len);
	assert_memory_equal(joined, text, len);
}

static void
test_split_lines(void **state)
{
	static char text[4000];
	const char *head = ":alice!alice@forkchat PRIVMSG #lobby";

	(void)state;
	check_split(head, "hi", 2, 1);
	check_split(head, "", 0, 1);
	/* 3-byte code points across several lines */
	for (int i = 0; i < 1000; i++)
		memcpy(text + 3 * i, "\xE2\x82\xAC", 3);
	check_split(head, text, 3000, 7);
	/* 4-byte code points after one ASCII byte: misaligned */
	text[0] = 'a';
	for (int i = 0; i < 900; i++)
		memcpy(text + 1 + 4 * i, "\xF0\x9F\x98\x80", 4);
	check_split(head, text, 3601, 8);
	char small[100];
	assert_int_equal(irc_split_lines(small, sizeof(small), head,
					 strlen(head), text, 3601),
			 0);
}

static void
expect_plain(const char *in, enum irc_plain want_rc, const char *want)
{
	char out[512];
	size_t n, len = strlen(in);

	assert_int_equal(irc_plain("bob", in, len, out, sizeof(out), &n),
			 want_rc);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(out, want, n);
}

static void
test_plain(void **state)
{
	(void)state;
	expect_plain("hi", IRC_PLAIN_TEXT, "hi");
	expect_plain("\x02"
		     "bold\x02 \x1fund\x0f",
		     IRC_PLAIN_TEXT, "bold und");
	expect_plain("\x03"
		     "04red\x03"
		     "12,05bg\x03 x",
		     IRC_PLAIN_TEXT, "redbg x");
	expect_plain("\x03"
		     "4,x",
		     IRC_PLAIN_TEXT, ",x");
	expect_plain("\x04"
		     "FF0000hex\x04z",
		     IRC_PLAIN_TEXT, "hexz");
	expect_plain("\x01"
		     "ACTION waves\x01",
		     IRC_PLAIN_TEXT, "* bob waves");
	expect_plain("\x01"
		     "ACTION waves",
		     IRC_PLAIN_TEXT, "* bob waves");
	expect_plain("\x01"
		     "ACTION\x01",
		     IRC_PLAIN_TEXT, "* bob");
	expect_plain("\x01"
		     "VERSION\x01",
		     IRC_PLAIN_CTCP, "");
	expect_plain("\x01"
		     "ACTIONS\x01",
		     IRC_PLAIN_CTCP, "");
	expect_plain("\x02\x0f", IRC_PLAIN_EMPTY, "");
	expect_plain("a\x1b[31mb", IRC_PLAIN_TEXT, "a[31mb");
	expect_plain("caf\xE9", IRC_PLAIN_TEXT, "caf\xEF\xBF\xBD");
	expect_plain("t\tab", IRC_PLAIN_TEXT, "t\tab");
	expect_plain("a\xC2\x85"
		     "b\xC2\xA0",
		     IRC_PLAIN_TEXT, "ab\xC2\xA0");
}

static void
test_names(void **state)
{
	const char *room;
	size_t rl;
	char buf[40];

	(void)state;
	assert_true(irc_valid_nick("bob", 3));
	assert_true(irc_valid_nick("Bob_99", 6));
	assert_false(irc_valid_nick("bo", 2));
	assert_false(irc_valid_nick("abcdefghijklmno", 15));
	assert_false(irc_valid_nick("bob-x", 5));
	assert_false(irc_valid_nick("[bob]", 5));
	assert_int_equal(irc_chan_room("#lobby", 6, &room, &rl), IRC_CHAN_ROOM);
	assert_int_equal(rl, 5);
	assert_memory_equal(room, "lobby", 5);
	assert_int_equal(irc_chan_room("##x", 3, &room, &rl), IRC_CHAN_ROOM);
	assert_memory_equal(room, "#x", 2);
	assert_int_equal(irc_chan_room("&all", 4, &room, &rl), IRC_CHAN_BCST);
	assert_int_equal(irc_chan_room("&ALL", 4, &room, &rl), IRC_CHAN_BCST);
	assert_int_equal(irc_chan_room("#", 1, &room, &rl), IRC_CHAN_BAD);
	assert_int_equal(irc_chan_room("lobby", 5, &room, &rl), IRC_CHAN_BAD);
	assert_int_equal(irc_chan_room("&other", 6, &room, &rl), IRC_CHAN_BAD);
	assert_int_equal(irc_chan_room("#a,b", 4, &room, &rl), IRC_CHAN_BAD);
	assert_int_equal(irc_chan_room("#a b", 4, &room, &rl), IRC_CHAN_BAD);
	assert_int_equal(irc_chan_room("#abcdefghijabcdefghijabcdefghijabc", 34,
				       &room, &rl),
			 IRC_CHAN_BAD);
	assert_int_equal(irc_room_chan("lobby", buf, sizeof(buf)), 6);
	assert_string_equal(buf, "#lobby");
	assert_int_equal(irc_room_chan("#x", buf, sizeof(buf)), 3);
	assert_string_equal(buf, "##x");
	assert_int_equal(irc_room_chan("lobby", buf, 4), 0);
}

static void
test_casefold(void **state)
{
	char buf[8];

	(void)state;
	assert_true(irc_eq("Bob", 3, "bOB", 3));
	assert_false(irc_eq("bob", 3, "bobo", 4));
	/* ascii casemapping: [ and { are different characters */
	assert_false(irc_eq("a[", 2, "a{", 2));
	irc_fold("AbC_9z", 6, buf, sizeof(buf));
	assert_string_equal(buf, "abc_9z");
	irc_fold("ABCDEFGHIJ", 10, buf, sizeof(buf));
	assert_string_equal(buf, "abcdefg");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_simple),
		cmocka_unit_test(test_parse_prefix_trailing),
		cmocka_unit_test(test_parse_tags_spaces_empty_trailing),
		cmocka_unit_test(test_parse_param_cap),
		cmocka_unit_test(test_param_str),
		cmocka_unit_test(test_numeric_format),
		cmocka_unit_test(test_line_cut_at_utf8),
		cmocka_unit_test(test_fit),
		cmocka_unit_test(test_split_lines),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_casefold),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
