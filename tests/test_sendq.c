/* Proves worker/sendq.c: bytes leave in the order they were queued whatever
 * the socket accepts; sendq_put writes straight from the caller's buffer only
 * when nothing is queued, queues the rest, and keeps the appended/written
 * counters that file completion relies on; a broken socket is reported; an
 * emptied buffer is kept only up to the caller's keep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../worker/sendq.h"

/* A fake socket: takes at most `room` bytes per call, or fails. */
struct sink {
	char got[4096];
	size_t len;
	size_t room;
	bool broken;
	int calls;
};

static enum io_result
sink_write(void *arg, const void *p, size_t n, size_t *done)
{
	struct sink *s = arg;

	s->calls++;
	*done = 0;
	if (s->broken)
		return IO_CLOSED;
	size_t k = n < s->room ? n : s->room;
	memcpy(s->got + s->len, p, k);
	s->len += k;
	s->room -= k;
	*done = k;
	return k == n ? IO_DONE : IO_AGAIN;
}

/* sendq_put's bytes written, or -1 when it reports a broken socket */
static long
put(struct sendq *q, const char *p, size_t n, struct sink *s)
{
	size_t w;

	if (sendq_put(q, p, n, sink_write, s, &w) != IO_DONE)
		return -1;
	return (long)w;
}

/* sendq_write's bytes written, checking the result matches them */
static long
drain(struct sendq *q, struct sink *s, size_t max)
{
	size_t want = sendq_len(q) < max ? sendq_len(q) : max;
	size_t w;
	enum io_result rc = sendq_write(q, sink_write, s, max, 4096, &w);

	assert_int_equal(rc, w == want ? IO_DONE : IO_AGAIN);
	return (long)w;
}

static void
test_put_direct_when_empty(void **state)
{
	struct sendq q = {0};
	struct sink s = {.room = 100};

	(void)state;
	assert_int_equal(put(&q, "hello\n", 6, &s), 6);
	assert_int_equal(sendq_len(&q), 0);
	assert_null(q.buf); /* nothing was copied */
	assert_int_equal(q.appended, 6);
	assert_int_equal(q.written, 6);
	assert_false(q.mid_line);
	assert_memory_equal(s.got, "hello\n", 6);
}

static void
test_put_partial_queues_the_rest(void **state)
{
	struct sendq q = {0};
	struct sink s = {.room = 3};

	(void)state;
	assert_int_equal(put(&q, "abcdefgh", 8, &s), 3);
	assert_int_equal(sendq_len(&q), 5);
	assert_true(q.mid_line);
	assert_int_equal(q.appended, 8);
	assert_int_equal(q.written, 3);
	s.room = 100;
	assert_int_equal(drain(&q, &s, 1000), 5);
	assert_int_equal(s.len, 8);
	assert_memory_equal(s.got, "abcdefgh", 8);
	assert_int_equal(q.written, q.appended);
	sendq_free(&q);
}

static void
test_put_behind_queued_bytes_keeps_order(void **state)
{
	struct sendq q = {0};
	struct sink s = {.room = 0};

	(void)state;
	assert_int_equal(sendq_append(&q, "first ", 6), 0);
	/* bytes are queued: put must not jump ahead of them */
	assert_int_equal(put(&q, "second", 6, &s), 0);
	assert_int_equal(s.calls, 0);
	assert_int_equal(sendq_len(&q), 12);
	s.room = 100;
	assert_int_equal(drain(&q, &s, 1000), 12);
	assert_memory_equal(s.got, "first second", 12);
	sendq_free(&q);
}

static void
test_put_full_socket_queues_all(void **state)
{
	struct sendq q = {0};
	struct sink s = {.room = 0};

	(void)state;
	assert_int_equal(put(&q, "xyz", 3, &s), 0);
	assert_int_equal(sendq_len(&q), 3);
	assert_int_equal(q.written, 0);
	assert_int_equal(q.appended, 3);
	sendq_free(&q);
}

static void
test_put_broken_socket(void **state)
{
	struct sendq q = {0};
	struct sink s = {.broken = true};

	(void)state;
	assert_int_equal(put(&q, "xyz", 3, &s), -1);
	assert_int_equal(sendq_len(&q), 0);
}

static void
test_write_respects_max_and_releases_big_buffers(void **state)
{
	struct sendq q = {0};
	struct sink s = {.room = sizeof(s.got)};
	char big[3000];

	(void)state;
	memset(big, 'b', sizeof(big));
	assert_int_equal(sendq_append(&q, big, sizeof(big)), 0);
	assert_int_equal(sendq_append(&q, big, sizeof(big)), 0);
	assert_int_equal(drain(&q, &s, 1000), 1000);
	assert_int_equal(sendq_len(&q), 5000);
	s.room = sizeof(s.got);
	s.len = 0;
	assert_int_equal(drain(&q, &s, 10000), 4096);
	s.room = sizeof(s.got);
	s.len = 0;
	assert_int_equal(drain(&q, &s, 10000), 904);
	assert_int_equal(sendq_len(&q), 0);
	assert_null(q.buf); /* an emptied big buffer goes back at once */
}

/* An emptied buffer stays when it is at most the caller's keep, else goes. */
static void
test_write_keeps_buffer_up_to_keep(void **state)
{
	struct sendq q = {0};
	struct sink s = {.room = sizeof(s.got)};
	char line[1000];
	size_t w;

	(void)state;
	memset(line, 'k', sizeof(line));
	assert_int_equal(sendq_append(&q, line, sizeof(line)), 0);
	assert_int_equal(sendq_write(&q, sink_write, &s, 4096, 4096, &w),
			 IO_DONE);
	assert_int_equal(w, sizeof(line));
	assert_non_null(q.buf); /* 1024 bytes, within the keep */
	assert_int_equal(sendq_append(&q, line, sizeof(line)), 0);
	assert_int_equal(sendq_write(&q, sink_write, &s, 4096, 512, &w),
			 IO_DONE);
	assert_int_equal(w, sizeof(line));
	assert_null(q.buf); /* over the keep */
	assert_int_equal(q.cap, 0);
	assert_memory_equal(s.got + sizeof(line), line, sizeof(line));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_direct_when_empty),
		cmocka_unit_test(test_put_partial_queues_the_rest),
		cmocka_unit_test(test_put_behind_queued_bytes_keeps_order),
		cmocka_unit_test(test_put_full_socket_queues_all),
		cmocka_unit_test(test_put_broken_socket),
		cmocka_unit_test(
			test_write_respects_max_and_releases_big_buffers),
		cmocka_unit_test(test_write_keeps_buffer_up_to_keep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
