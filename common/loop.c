/* Event loop. Timers live in a slot table and a binary heap of slot
 * indices; each slot knows its heap position, so a cancel removes it at once
 * and nothing stale ever fires. An id is the slot plus a generation that
 * changes each time the slot is reused. */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define LOOP_EVENTS 256

struct timer {
	int64_t due;
	timer_fn fn;
	void *arg;
	uint32_t gen;
	uint32_t pos; /* index in the heap, or the next free slot */
	int used;
};

struct loop {
	int ep;
	struct timer *slots;
	uint32_t nslots, free_slot; /* free list through pos; nslots: none */
	uint32_t *heap;
	uint32_t n;
	void (*before)(void *);
	void *before_arg;
	int64_t now;
	bool pass_clock; /* time the passes (loop_set_pass_clock) */
	int64_t woke_us, woke_cpu_us; /* when the current pass began */
	int64_t pass_us, pass_cpu_us; /* the last complete pass */
};

static int64_t
clock_us(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* A pass runs from the wake-up to the next wait, before-sleep included. */
static void
loop_pass_end(struct loop *l)
{
	if (!l->pass_clock || l->woke_us == 0)
		return;
	l->pass_us = clock_us(CLOCK_MONOTONIC) - l->woke_us;
	l->pass_cpu_us = clock_us(CLOCK_THREAD_CPUTIME_ID) - l->woke_cpu_us;
}

static void
loop_pass_begin(struct loop *l)
{
	if (!l->pass_clock)
		return;
	l->woke_us = clock_us(CLOCK_MONOTONIC);
	l->woke_cpu_us = clock_us(CLOCK_THREAD_CPUTIME_ID);
}

void
loop_set_pass_clock(struct loop *l, bool on)
{
	l->pass_clock = on;
	l->woke_us = l->pass_us = l->pass_cpu_us = 0;
}

void
loop_last_pass(const struct loop *l, int64_t *wall_us, int64_t *cpu_us)
{
	*wall_us = l->pass_us;
	*cpu_us = l->pass_cpu_us;
}

struct loop *
loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->ep < 0) {
		free(l);
		return NULL;
	}
	l->now = now_ms();
	l->free_slot = UINT32_MAX;
	return l;
}

int
loop_add(struct loop *l, int fd, uint32_t events, struct handler *h)
{
	struct epoll_event ev = {.events = events, .data.ptr = h};

	return epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev);
}

int
loop_mod(struct loop *l, int fd, uint32_t events, struct handler *h)
{
	struct epoll_event ev = {.events = events, .data.ptr = h};

	return epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev);
}

void
loop_del(struct loop *l, int fd)
{
	epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
}

static bool
heap_less(const struct loop *l, uint32_t i, uint32_t j)
{
	return l->slots[l->heap[i]].due < l->slots[l->heap[j]].due;
}

static void
heap_swap(struct loop *l, uint32_t i, uint32_t j)
{
	uint32_t t = l->heap[i];

	l->heap[i] = l->heap[j];
	l->heap[j] = t;
	l->slots[l->heap[i]].pos = i;
	l->slots[l->heap[j]].pos = j;
}

static void
heap_up(struct loop *l, uint32_t i)
{
	while (i > 0 && heap_less(l, i, (i - 1) / 2)) {
		heap_swap(l, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_down(struct loop *l, uint32_t i)
{
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= l->n)
			return;
		if (c + 1 < l->n && heap_less(l, c + 1, c))
			c++;
		if (!heap_less(l, c, i))
			return;
		heap_swap(l, i, c);
		i = c;
	}
}

/* Double the slot table and the heap; the new slots go on the free list. */
static int
timer_grow(struct loop *l)
{
	uint32_t cap = l->nslots ? l->nslots * 2 : 64;
	struct timer *t = realloc(l->slots, cap * sizeof(*t));

	if (t == NULL)
		return -1;
	l->slots = t;
	uint32_t *h = realloc(l->heap, cap * sizeof(*h));
	if (h == NULL)
		return -1;
	l->heap = h;
	for (uint32_t i = l->nslots; i < cap; i++)
		t[i] = (struct timer){.gen = 1,
				      .pos = i + 1 < cap ? i + 1 : UINT32_MAX};
	l->free_slot = l->nslots;
	l->nslots = cap;
	return 0;
}

timer_id
loop_timer_add(struct loop *l, int64_t due_ms, timer_fn fn, void *arg)
{
	if (l->free_slot == UINT32_MAX || l->free_slot >= l->nslots)
		if (timer_grow(l) < 0)
			return 0;
	uint32_t s = l->free_slot;
	struct timer *t = &l->slots[s];
	l->free_slot = t->pos;
	t->due = due_ms;
	t->fn = fn;
	t->arg = arg;
	t->used = 1;
	t->pos = l->n;
	l->heap[l->n++] = s;
	heap_up(l, t->pos);
	return (uint64_t)t->gen << 32 | (s + 1);
}

/* Take slot s out of the heap and put it on the free list. */
static void
timer_remove(struct loop *l, uint32_t s)
{
	uint32_t i = l->slots[s].pos;

	if (i != --l->n) {
		heap_swap(l, i, l->n);
		heap_down(l, i);
		heap_up(l, i);
	}
	l->slots[s].used = 0;
	l->slots[s].gen++;
	l->slots[s].pos = l->free_slot;
	l->free_slot = s;
}

void
loop_timer_cancel(struct loop *l, timer_id id)
{
	uint32_t s = (uint32_t)id - 1;

	if (id == 0 || s >= l->nslots || !l->slots[s].used ||
	    l->slots[s].gen != (uint32_t)(id >> 32))
		return;
	timer_remove(l, s);
}

void
loop_before_sleep(struct loop *l, void (*fn)(void *), void *arg)
{
	l->before = fn;
	l->before_arg = arg;
}

static void
loop_run_timers(struct loop *l)
{
	l->now = now_ms();
	while (l->n > 0 && l->slots[l->heap[0]].due <= l->now) {
		struct timer t = l->slots[l->heap[0]];
		timer_remove(l, l->heap[0]);
		t.fn(t.arg);
	}
}

static int
loop_timeout(struct loop *l)
{
	if (l->n == 0)
		return 1000;
	int64_t d = l->slots[l->heap[0]].due - now_ms();
	if (d <= 0)
		return 0;
	return d > 1000 ? 1000 : (int)d;
}

/* One pass: flush (before-sleep), wait, dispatch, run due timers. */
int
loop_run_once(struct loop *l)
{
	struct epoll_event evs[LOOP_EVENTS];

	if (l->before)
		l->before(l->before_arg);
	loop_pass_end(l);
	int n = epoll_wait(l->ep, evs, LOOP_EVENTS, loop_timeout(l));
	if (n < 0 && errno != EINTR)
		return -1;
	loop_pass_begin(l);
	l->now = now_ms();
	for (int i = 0; i < n; i++) {
		struct handler *h = evs[i].data.ptr;
		h->fn(h, evs[i].events);
	}
	loop_run_timers(l);
	return 0;
}

int64_t
loop_now(const struct loop *l)
{
	return l->now;
}
