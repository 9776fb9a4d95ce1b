/* A small epoll event loop in the spirit of Redis' ae.c: file handlers, a
 * min-heap of cancellable timers and a before-sleep hook where output is
 * flushed. */
#ifndef FC_LOOP_H
#define FC_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct handler {
	void (*fn)(struct handler *h, uint32_t events);
};

typedef void (*timer_fn)(void *arg);

/* A timer's handle; 0 is never a timer, so an owner can keep 0 for "none". */
typedef uint64_t timer_id;

struct loop;

/* A new loop, or NULL (out of memory or descriptors). */
struct loop *loop_new(void);
/* epoll_ctl ADD/MOD/DEL of fd for handler h; -1 with errno on failure. */
int loop_add(struct loop *l, int fd, uint32_t events, struct handler *h);
int loop_mod(struct loop *l, int fd, uint32_t events, struct handler *h);
void loop_del(struct loop *l, int fd);
/* fn(arg) once at due_ms (monotonic ms). Returns its id, 0 when out of
 * memory. The timer fires at most once; after it fired its id is stale. */
timer_id loop_timer_add(struct loop *l, int64_t due_ms, timer_fn fn, void *arg);
/* Cancel a pending timer; a stale id (fired, cancelled) or 0 is ignored. */
void loop_timer_cancel(struct loop *l, timer_id id);
/* fn(arg) before each wait: where output is flushed and closes are reaped. */
void loop_before_sleep(struct loop *l, void (*fn)(void *), void *arg);
/* One pass: before-sleep hook, wait, handlers, due timers; -1 on error. */
int loop_run_once(struct loop *l);
/* The clock cached at the start of the pass's handlers (monotonic ms). */
int64_t loop_now(const struct loop *l);
/* Time every pass from its wake-up to the next wait (wall and this
 * thread's CPU time: two clock reads a pass, so only while someone looks). */
void loop_set_pass_clock(struct loop *l, bool on);
/* The last complete pass while the clock was on (0 before the first). */
void loop_last_pass(const struct loop *l, int64_t *wall_us, int64_t *cpu_us);

#endif
