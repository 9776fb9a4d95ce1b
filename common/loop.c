/* Event loop. Timers are a binary heap of (due, fn, arg, key); an owner that
 * reschedules simply pushes again and ignores stale entries when they fire,
 * which keeps cancellation out of the heap. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "util.h"

#define LOOP_EVENTS 256

struct timer {
	int64_t due;
	timer_fn fn;
	void *arg;
	uint64_t key;
};

struct loop {
	int ep;
	struct timer *heap;
	size_t n, cap;
	void (*before)(void *);
	void *before_arg;
	int64_t now;
};

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
	return l;
}

void
loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	close(l->ep);
	free(l->heap);
	free(l);
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

static void
heap_swap(struct timer *a, struct timer *b)
{
	struct timer t = *a;
	*a = *b;
	*b = t;
}

int
loop_timer(struct loop *l, int64_t due_ms, timer_fn fn, void *arg, uint64_t key)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct timer *h = realloc(l->heap, cap * sizeof(*h));
		if (h == NULL)
			return -1;
		l->heap = h;
		l->cap = cap;
	}
	size_t i = l->n++;
	l->heap[i] = (struct timer){due_ms, fn, arg, key};
	while (i > 0 && l->heap[(i - 1) / 2].due > l->heap[i].due) {
		heap_swap(&l->heap[(i - 1) / 2], &l->heap[i]);
		i = (i - 1) / 2;
	}
	return 0;
}

static struct timer
heap_pop(struct loop *l)
{
	struct timer top = l->heap[0];
	size_t i = 0;

	l->heap[0] = l->heap[--l->n];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= l->n)
			break;
		if (c + 1 < l->n && l->heap[c + 1].due < l->heap[c].due)
			c++;
		if (l->heap[i].due <= l->heap[c].due)
			break;
		heap_swap(&l->heap[i], &l->heap[c]);
		i = c;
	}
	return top;
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
	while (l->n > 0 && l->heap[0].due <= l->now) {
		struct timer t = heap_pop(l);
		t.fn(t.arg, t.key, t.due);
	}
}

static int
loop_timeout(struct loop *l)
{
	if (l->n == 0)
		return 1000;
	int64_t d = l->heap[0].due - now_ms();
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
	int n = epoll_wait(l->ep, evs, LOOP_EVENTS, loop_timeout(l));
	if (n < 0 && errno != EINTR)
		return -1;
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
