/* hiredis' async API driven by forkchat's own epoll loop (common/loop.c):
 * the adapter hiredis calls through redisAsyncContext's ev hooks, in the
 * manner of its adapters/ae.h, so that no process waits on Redis. */
#ifndef FC_RLOOP_H
#define FC_RLOOP_H

#include <hiredis/async.h>

#include "../common/loop.h"

/* Attach ac to loop l; 0, or -1 (out of memory, or already attached).
 * hiredis frees the adapter through its cleanup hook with the context. */
int rloop_attach(redisAsyncContext *ac, struct loop *l);

#endif
