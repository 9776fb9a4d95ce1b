/* A small epoll event loop in the spirit of Redis' ae.c: file handlers, a
 * min-heap of timers and a before-sleep hook where output is flushed. */
#ifndef FC_LOOP_H
#define FC_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct handler {
	void (*fn)(struct handler *h, uint32_t events);
};

typedef void (*timer_fn)(void *arg, uint64_t key, int64_t due);

struct loop;

struct loop *loop_new(void);
void loop_free(struct loop *l);
int loop_add(struct loop *l, int fd, uint32_t events, struct handler *h);
int loop_mod(struct loop *l, int fd, uint32_t events, struct handler *h);
void loop_del(struct loop *l, int fd);
int loop_timer(struct loop *l, int64_t due_ms, timer_fn fn, void *arg,
	       uint64_t key);
void loop_before_sleep(struct loop *l, void (*fn)(void *), void *arg);
int loop_run_once(struct loop *l);
int64_t loop_now(const struct loop *l);

#endif
