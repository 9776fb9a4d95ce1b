/* Proves proto/line.c: every line ending (\r\n, \n, lone \r, \r|\n split
 * across feeds), many lines per feed and one line over many feeds, the
 * max_content boundary and resync after an over-long line, and that bytes
 * are borrowed while lines are taken but owned after linebuf_keep(); raw
 * bytes after a line come out of linebuf_take() whole, without the \n of a
 * split \r\n, and an emptied buffer holds no memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../proto/line.h"

/* Take the next event; for LINE_OK compare the content with want. */
static void
expect_line(struct linebuf *lb, const char *want)
{
	const char *line = NULL;
	size_t len = 0;

	assert_int_equal(linebuf_next(lb, &line, &len), LINE_OK);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(line, want, len);
}

static void
expect_none(struct linebuf *lb)
{
	const char *line;
	size_t len;

	assert_int_equal(linebuf_next(lb, &line, &len), LINE_NONE);
}

static void
expect_toolong(struct linebuf *lb)
{
	const char *line;
	size_t len;

	assert_int_equal(linebuf_next(lb, &line, &len), LINE_TOOLONG);
}

static void
feed(struct linebuf *lb, const char *s)
{
	assert_int_equal(linebuf_feed(lb, s, strlen(s)), 0);
}

static void
test_endings(void **state)
{
	struct linebuf lb;

	(void)state;
	linebuf_init(&lb, 64);
	feed(&lb, "crlf\r\nlf\ncr\rlast");
	expect_line(&lb, "crlf");
	expect_line(&lb, "lf");
	expect_line(&lb, "cr");
	expect_none(&lb);
	assert_int_equal(linebuf_pending(&lb), 4);
	assert_int_equal(linebuf_keep(&lb), 0);
	linebuf_free(&lb);
}

static void
test_empty_lines(void **state)
{
	struct linebuf lb;

	(void)state;
	linebuf_init(&lb, 64);
	/* \r\n is one terminator; \n then \r, and \r\r, are two each */
	feed(&lb, "\r\n\n\r\r\ra\n");
	expect_line(&lb, "");
	expect_line(&lb, "");
	expect_line(&lb, "");
	expect_line(&lb, "");
	expect_line(&lb, "");
	expect_line(&lb, "a");
	expect_none(&lb);
	assert_int_equal(linebuf_pending(&lb), 0);
	linebuf_free(&lb);
}

static void
test_crlf_split(void **state)
{
	struct linebuf lb;

	(void)state;
	linebuf_init(&lb, 64);
	feed(&lb, "one\r");
	expect_line(&lb, "one");
	expect_none(&lb);
	assert_int_equal(linebuf_keep(&lb), 0);
	/* the \n completes the \r of "one", it is no empty line */
	feed(&lb, "\ntwo\r");
	expect_line(&lb, "two");
	expect_none(&lb);
	assert_int_equal(linebuf_keep(&lb), 0);
	/* an \r split from a following real line */
	feed(&lb, "three\n");
	expect_line(&lb, "three");
	expect_none(&lb);
	linebuf_free(&lb);
}

static void
test_crlf_split_empty_feed(void **state)
{
	struct linebuf lb;

	(void)state;
	linebuf_init(&lb, 64);
	feed(&lb, "a\r");
	expect_line(&lb, "a");
	expect_none(&lb);
	assert_int_equal(linebuf_feed(&lb, "", 0), 0);
	expect_none(&lb);
	feed(&lb, "\n");
	expect_none(&lb);
	feed(&lb, "\n");
	expect_line(&lb, ""); /* a second \n is a line of its own */
	linebuf_free(&lb);
}

static void
test_cr_then_lf_in_pending(void **state)
{
	struct linebuf lb;
	char buf[8];

	(void)state;
	linebuf_init(&lb, 64);
	/* "x" pending (owned), then "\r" and "\n" arrive one by one */
	feed(&lb, "x");
	expect_none(&lb);
	assert_int_equal(linebuf_keep(&lb), 0);
	memcpy(buf, "\r", 1);
	assert_int_equal(linebuf_feed(&lb, buf, 1), 0);
	expect_line(&lb, "x");
	expect_none(&lb);
	assert_int_equal(linebuf_keep(&lb), 0);
	memcpy(buf, "\ny\n", 3);
	assert_int_equal(linebuf_feed(&lb, buf, 3), 0);
	expect_line(&lb, "y");
	expect_none(&lb);
	linebuf_free(&lb);
}

static void
test_many_lines_one_feed(void **state)
{
	struct linebuf lb;
	char big[1000 * 8];
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "l%d%s", i,
				      i % 3 == 0   ? "\r\n"
				      : i % 3 == 1 ? "\n"
						   : "\r");
	linebuf_init(&lb, 16);
	assert_int_equal(linebuf_feed(&lb, big, n), 0);
	for (int i = 0; i < 1000; i++) {
		char want[16];
		snprintf(want, sizeof(want), "l%d", i);
		expect_line(&lb, want);
	}
	expect_none(&lb);
	assert_int_equal(linebuf_pending(&lb), 0);
	linebuf_free(&lb);
}

static void
test_one_line_many_feeds(void **state)
{
	struct linebuf lb;
	const char *msg = "a line that arrives one byte at a time";

	(void)state;
	linebuf_init(&lb, 100);
	for (size_t i = 0; msg[i]; i++) {
		char *b = malloc(1);
		assert_non_null(b);
		*b = msg[i];
		assert_int_equal(linebuf_feed(&lb, b, 1), 0);
		expect_none(&lb);
		assert_int_equal(linebuf_keep(&lb), 0);
		free(b); /* the assembler must own what it kept */
		assert_int_equal(linebuf_pending(&lb), i + 1);
	}
	feed(&lb, "\r\n");
	expect_line(&lb, msg);
	expect_none(&lb);
	linebuf_free(&lb);
}

static void
test_max_boundary(void **state)
{
	struct linebuf lb;
	char max[11] = "0123456789";   /* 10 bytes: accepted */
	char over[12] = "0123456789A"; /* 11 bytes: refused */

	(void)state;
	linebuf_init(&lb, 10);
	feed(&lb, max);
	feed(&lb, "\n");
	expect_line(&lb, max);
	feed(&lb, over);
	feed(&lb, "\n");
	expect_toolong(&lb);
	feed(&lb, "ok\n");
	expect_line(&lb, "ok");
	expect_none(&lb);
	linebuf_free(&lb);
}

static void
test_max_unterminated(void **state)
{
	struct linebuf lb;

	(void)state;
	linebuf_init(&lb, 10);
	/* max bytes without a terminator: still waiting */
	feed(&lb, "0123456789");
	expect_none(&lb);
	assert_int_equal(linebuf_pending(&lb), 10);
	assert_int_equal(linebuf_keep(&lb), 0);
	/* one more byte: refused at once, reported once */
	feed(&lb, "A");
	expect_toolong(&lb);
	expect_none(&lb);
	assert_int_equal(linebuf_pending(&lb), 0);
	linebuf_free(&lb);
}

static void
test_discard_until_terminator(void **state)
{
	struct linebuf lb;

	(void)state;
	linebuf_init(&lb, 4);
	feed(&lb, "abcdefgh");
	expect_toolong(&lb);
	expect_none(&lb);
	assert_int_equal(linebuf_keep(&lb), 0);
	/* still inside the long line: nothing is reported again */
	feed(&lb, "ijklmnopqrstuvwxyz");
	expect_none(&lb);
	assert_int_equal(linebuf_pending(&lb), 0);
	feed(&lb, "more");
	expect_none(&lb);
	/* its end, split \r|\n, then in sync again */
	feed(&lb, "tail\r");
	expect_none(&lb);
	feed(&lb, "\nnext\nx");
	expect_line(&lb, "next");
	expect_none(&lb);
	assert_int_equal(linebuf_pending(&lb), 1);
	linebuf_free(&lb);
}

/* keep() with nothing pending releases the buffer (data = NULL); next()
 * and keep() must cope, also while discarding (fuzz_line found NULL + 0). */
static void
test_next_after_release(void **state)
{
	struct linebuf lb;

	(void)state;
	linebuf_init(&lb, 2);
	expect_none(&lb);
	assert_int_equal(linebuf_keep(&lb), 0);
	feed(&lb, "abcdef");
	expect_toolong(&lb);
	assert_int_equal(linebuf_keep(&lb), 0);
	assert_null(lb.data);
	expect_none(&lb);
	expect_none(&lb);
	assert_int_equal(linebuf_keep(&lb), 0);
	feed(&lb, "gh\nok\n");
	expect_line(&lb, "ok");
	expect_none(&lb);
	linebuf_free(&lb);
	expect_none(&lb); /* after free too */
}

static void
test_toolong_terminated_in_feed(void **state)
{
	struct linebuf lb;

	(void)state;
	linebuf_init(&lb, 4);
	feed(&lb, "ok\ntoolongline\r\nab\rlongerthan4\nend\n");
	expect_line(&lb, "ok");
	expect_toolong(&lb);
	expect_line(&lb, "ab");
	expect_toolong(&lb);
	expect_line(&lb, "end");
	expect_none(&lb);
	linebuf_free(&lb);
}

static void
test_toolong_cr_split(void **state)
{
	struct linebuf lb;

	(void)state;
	linebuf_init(&lb, 3);
	/* an over-long line ends in \r at the end of a read ... */
	feed(&lb, "abcdef\r");
	expect_toolong(&lb);
	expect_none(&lb);
	assert_int_equal(linebuf_keep(&lb), 0);
	/* ... and its \n comes next: no empty line */
	feed(&lb, "\nxy\n");
	expect_line(&lb, "xy");
	expect_none(&lb);
	linebuf_free(&lb);
}

static void
test_borrow_and_keep(void **state)
{
	struct linebuf lb;
	char *rd = malloc(32);

	(void)state;
	assert_non_null(rd);
	linebuf_init(&lb, 64);
	memcpy(rd, "hello\npart", 10);
	assert_int_equal(linebuf_feed(&lb, rd, 10), 0);
	/* nothing pending: the bytes are borrowed, not copied */
	assert_null(lb.own);
	const char *line;
	size_t len;
	assert_int_equal(linebuf_next(&lb, &line, &len), LINE_OK);
	assert_ptr_equal(line, rd);
	assert_int_equal(len, 5);
	expect_none(&lb);
	assert_ptr_equal(lb.data, rd + 6);
	/* keep copies the remainder: the read buffer can then be reused */
	assert_int_equal(linebuf_keep(&lb), 0);
	assert_non_null(lb.own);
	assert_ptr_equal(lb.data, lb.own);
	memset(rd, 'X', 32);
	free(rd);
	assert_int_equal(linebuf_pending(&lb), 4);
	feed(&lb, "ial\n");
	expect_line(&lb, "partial");
	expect_none(&lb);
	/* nothing pending any more: keep releases the owned memory */
	assert_int_equal(linebuf_keep(&lb), 0);
	assert_null(lb.own);
	assert_int_equal(lb.own_cap, 0);
	linebuf_free(&lb);
}

static void
test_keep_own_compacts(void **state)
{
	struct linebuf lb;

	(void)state;
	linebuf_init(&lb, 64);
	feed(&lb, "ab");
	expect_none(&lb);
	assert_int_equal(linebuf_keep(&lb), 0);
	char *own = lb.own;
	feed(&lb, "\ncd"); /* appended to own */
	assert_ptr_equal(lb.own, own);
	expect_line(&lb, "ab");
	expect_none(&lb);
	/* "cd" is inside own: keep moves it to the front, no new buffer */
	assert_int_equal(linebuf_keep(&lb), 0);
	assert_ptr_equal(lb.own, own);
	assert_ptr_equal(lb.data, own);
	assert_memory_equal(lb.data, "cd", 2);
	linebuf_free(&lb);
	assert_null(lb.own);
}

static void
test_big_pending_grows(void **state)
{
	struct linebuf lb;
	char chunk[100];

	(void)state;
	memset(chunk, 'z', sizeof(chunk));
	linebuf_init(&lb, 5000);
	for (int i = 0; i < 40; i++) {
		assert_int_equal(linebuf_feed(&lb, chunk, sizeof(chunk)), 0);
		expect_none(&lb);
		assert_int_equal(linebuf_keep(&lb), 0);
	}
	assert_int_equal(linebuf_pending(&lb), 4000);
	feed(&lb, "\n");
	const char *line;
	size_t len;
	assert_int_equal(linebuf_next(&lb, &line, &len), LINE_OK);
	assert_int_equal(len, 4000);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(line[i], 'z');
	linebuf_free(&lb);
}

static void
test_zero_max(void **state)
{
	struct linebuf lb;

	(void)state;
	linebuf_init(&lb, 0);
	feed(&lb, "\nx\n\r\n");
	expect_line(&lb, "");
	expect_toolong(&lb);
	expect_line(&lb, "");
	expect_none(&lb);
	linebuf_free(&lb);
}

static void
test_take_raw_after_line(void **state)
{
	struct linebuf lb;
	char buf[16];

	(void)state;
	linebuf_init(&lb, 64);
	assert_int_equal(linebuf_feed(&lb, "FILE x\r", 7), 0);
	expect_line(&lb, "FILE x");
	assert_int_equal(linebuf_keep(&lb), 0);
	/* the \n of the split \r\n is not file data */
	assert_int_equal(linebuf_feed(&lb, "\nabcdef", 7), 0);
	assert_int_equal(linebuf_take(&lb, buf, 4), 4);
	assert_memory_equal(buf, "abcd", 4);
	assert_int_equal(linebuf_pending(&lb), 2);
	assert_int_equal(linebuf_take(&lb, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "ef", 2);
	assert_null(lb.own); /* emptied: nothing held */
	assert_int_equal(linebuf_take(&lb, buf, sizeof(buf)), 0);
	linebuf_free(&lb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endings),
		cmocka_unit_test(test_empty_lines),
		cmocka_unit_test(test_crlf_split),
		cmocka_unit_test(test_crlf_split_empty_feed),
		cmocka_unit_test(test_cr_then_lf_in_pending),
		cmocka_unit_test(test_many_lines_one_feed),
		cmocka_unit_test(test_one_line_many_feeds),
		cmocka_unit_test(test_max_boundary),
		cmocka_unit_test(test_max_unterminated),
		cmocka_unit_test(test_discard_until_terminator),
		cmocka_unit_test(test_next_after_release),
		cmocka_unit_test(test_toolong_terminated_in_feed),
		cmocka_unit_test(test_toolong_cr_split),
		cmocka_unit_test(test_borrow_and_keep),
		cmocka_unit_test(test_keep_own_compacts),
		cmocka_unit_test(test_big_pending_grows),
		cmocka_unit_test(test_zero_max),
		cmocka_unit_test(test_take_raw_after_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
