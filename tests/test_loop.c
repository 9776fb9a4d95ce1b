/* Proves common/loop.c's timers: they fire in order of their due time and
 * once; a cancelled timer never fires, also when its slot is reused; a
 * stale or zero id is ignored; a timer may add and cancel others from its
 * callback; many timers grow the table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../common/loop.h"
#include "../common/util.h"

struct log {
	int order[64];
	int n;
};

struct tarm {
	struct log *log;
	int tag;
	struct loop *l;
	timer_id victim; /* cancelled by this timer's callback, if set */
};

static void
fired(void *arg)
{
	struct tarm *t = arg;

	t->log->order[t->log->n++] = t->tag;
	if (t->victim)
		loop_timer_cancel(t->l, t->victim);
}

/* One loop for every test (there is no loop_free: a process has one loop
 * for its whole life), kept in a global so that it is never a leak. */
static struct loop *the_loop;

static struct loop *
test_loop(void)
{
	if (the_loop == NULL)
		the_loop = loop_new();
	assert_non_null(the_loop);
	return the_loop;
}

/* Run passes until nothing is due any more (all dues are in the past). */
static void
run_due(struct loop *l)
{
	for (int i = 0; i < 4; i++)
		assert_int_equal(loop_run_once(l), 0);
}

static void
test_order_and_once(void **state)
{
	struct loop *l = test_loop();
	struct log log = {0};
	struct tarm a = {&log, 1, l, 0}, b = {&log, 2, l, 0},
		    c = {&log, 3, l, 0};
	int64_t now = now_ms() - 100;

	(void)state;
	assert_true(loop_timer_add(l, now + 30, fired, &c) != 0);
	assert_true(loop_timer_add(l, now + 10, fired, &a) != 0);
	assert_true(loop_timer_add(l, now + 20, fired, &b) != 0);
	run_due(l);
	assert_int_equal(log.n, 3);
	assert_int_equal(log.order[0], 1);
	assert_int_equal(log.order[1], 2);
	assert_int_equal(log.order[2], 3);
}

static void
test_cancel_and_stale_ids(void **state)
{
	struct loop *l = test_loop();
	struct log log = {0};
	struct tarm a = {&log, 1, l, 0}, b = {&log, 2, l, 0};
	int64_t past = now_ms() - 100;

	(void)state;
	timer_id ia = loop_timer_add(l, past, fired, &a);
	timer_id ib = loop_timer_add(l, past + 1, fired, &b);
	loop_timer_cancel(l, ia);
	loop_timer_cancel(l, ia); /* twice: ignored */
	loop_timer_cancel(l, 0);
	run_due(l);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.order[0], 2);
	/* ib fired: its id is stale, even once its slot is reused */
	timer_id ic = loop_timer_add(l, past, fired, &a);
	assert_true(ic != ib && ic != ia);
	loop_timer_cancel(l, ib);
	loop_timer_cancel(l, ia);
	run_due(l);
	assert_int_equal(log.n, 2);
	assert_int_equal(log.order[1], 1);
}

static void
test_cancel_from_callback(void **state)
{
	struct loop *l = test_loop();
	struct log log = {0};
	struct tarm a = {&log, 1, l, 0}, b = {&log, 2, l, 0};
	int64_t past = now_ms() - 100;

	(void)state;
	timer_id ib = loop_timer_add(l, past + 5, fired, &b);
	a.victim = ib;
	loop_timer_add(l, past, fired, &a);
	run_due(l);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.order[0], 1);
}

static void
test_many_timers_grow(void **state)
{
	struct loop *l = test_loop();
	struct log log = {0};
	static struct tarm t[200];
	timer_id ids[200];
	int64_t past = now_ms() - 1000;

	(void)state;
	for (int i = 0; i < 200; i++) {
		t[i] = (struct tarm){&log, i, l, 0};
		ids[i] = loop_timer_add(l, past + (200 - i), fired, &t[i]);
		assert_true(ids[i] != 0);
	}
	/* keep only the 40 earliest-due, which fire latest-added first */
	for (int i = 0; i < 160; i++)
		loop_timer_cancel(l, ids[i]);
	run_due(l);
	assert_int_equal(log.n, 40);
	for (int i = 0; i < 40; i++)
		assert_int_equal(log.order[i], 199 - i);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_once),
		cmocka_unit_test(test_cancel_and_stale_ids),
		cmocka_unit_test(test_cancel_from_callback),
		cmocka_unit_test(test_many_timers_grow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
