/* The hiredis <-> loop adapter. One small record per context: the epoll
 * mask hiredis asked for. A context may be freed by hiredis inside its own
 * read handler, so the record is only freed once that handler returned. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "rloop.h"

#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>

struct rloop_ev {
	struct handler h; /* first: the loop hands back &h */
	struct loop *loop;
	redisAsyncContext *ac;
	int fd;
	uint32_t mask;
	bool added;
	bool busy; /* inside rloop_on_event */
	bool dead; /* hiredis called cleanup */
};

static void
rloop_update(struct rloop_ev *e, uint32_t mask)
{
	if (e->dead || mask == e->mask)
		return;
	e->mask = mask;
	if (!e->added) {
		if (loop_add(e->loop, e->fd, mask, &e->h) == 0)
			e->added = true;
		return;
	}
	loop_mod(e->loop, e->fd, mask, &e->h);
}

static void
rloop_add_read(void *p)
{
	struct rloop_ev *e = p;
	rloop_update(e, e->mask | EPOLLIN);
}

static void
rloop_del_read(void *p)
{
	struct rloop_ev *e = p;
	rloop_update(e, e->mask & ~(uint32_t)EPOLLIN);
}

static void
rloop_add_write(void *p)
{
	struct rloop_ev *e = p;
	rloop_update(e, e->mask | EPOLLOUT);
}

static void
rloop_del_write(void *p)
{
	struct rloop_ev *e = p;
	rloop_update(e, e->mask & ~(uint32_t)EPOLLOUT);
}

static void
rloop_cleanup(void *p)
{
	struct rloop_ev *e = p;

	if (e->added)
		loop_del(e->loop, e->fd);
	e->added = false;
	e->dead = true;
	e->ac = NULL;
	if (!e->busy)
		free(e);
}

/* Errors and hang-ups go to the read side: hiredis finds them there. */
static void
rloop_on_event(struct handler *h, uint32_t events)
{
	struct rloop_ev *e = (struct rloop_ev *)h;

	e->busy = true;
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		redisAsyncHandleRead(e->ac);
	if (!e->dead && (events & EPOLLOUT))
		redisAsyncHandleWrite(e->ac);
	e->busy = false;
	if (e->dead)
		free(e);
}

int
rloop_attach(redisAsyncContext *ac, struct loop *l)
{
	if (ac->ev.data != NULL)
		return -1;
	struct rloop_ev *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -1;
	e->h.fn = rloop_on_event;
	e->loop = l;
	e->ac = ac;
	e->fd = ac->c.fd;
	ac->ev.addRead = rloop_add_read;
	ac->ev.delRead = rloop_del_read;
	ac->ev.addWrite = rloop_add_write;
	ac->ev.delWrite = rloop_del_write;
	ac->ev.cleanup = rloop_cleanup;
	ac->ev.data = e;
	return 0;
}
