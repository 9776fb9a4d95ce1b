/* The cluster link's state, shared by its own files (link.c: connection,
 * liveness and reaping; ops.c: names, rooms, keys; bus.c: pub/sub). Not
 * for use outside cluster/. */
#ifndef FC_CLUSTER_LINK_INT_H
#define FC_CLUSTER_LINK_INT_H

#include <hiredis/async.h>

#include "link.h"
#include "seqmap.h"

#define CH_ALL "fc:ch:all"
#define CH_NODE "fc:ch:node:"
#define CH_ROOM "fc:ch:room:"

struct clink {
	struct loop *loop;
	struct clink_opts o;
	struct clink_hooks h;
	void *arg;
	redisAsyncContext *cmd, *sub;
	bool cmd_ok, sub_ok; /* connect callback said yes */
	enum clink_state state;
	char inc[48];                  /* incarnation, .N after a death */
	unsigned deaths;               /* how many times declared dead */
	char self[CLINK_NODE_SZ + 48]; /* node/inc */
	char epoch[40];                /* Redis' fc:epoch as last seen */
	bool ever_up, down_logged, full_logged, conflict_logged;
	bool failing;         /* a reconnect is scheduled */
	bool closing;         /* inside link_close */
	bool leaving;         /* clink_leave sent */
	bool registered;      /* hello answered OK for this connection */
	bool empty;           /* Redis had lost our state: tell on_up */
	bool subs_sent;       /* SUBSCRIBEs for this connection are out */
	unsigned sub_expect;  /* channels to be confirmed before CL_UP */
	uint64_t gen;         /* connection attempt; stale timers ignore */
	int64_t backoff_ms;   /* next reconnect delay */
	int64_t refresh_sent; /* -1: no liveness reply outstanding */
	struct link_tm *tms;  /* pending timers */
	bool freed;           /* inside clink_free */
	struct clink_stats st;
	struct seqmap sendseq;   /* channel -> last sequence sent */
	struct seqmap seen;      /* src|channel -> last sequence received */
	struct seqmap subs;      /* room channel -> local references */
	struct clink_useq *useq; /* o.useq or &own_useq */
	struct clink_useq own_useq;
};

/* One command in flight toward Redis: its size counts against the queue
 * until Redis answers (or the connection drops, reply NULL). */
struct clink_req {
	struct clink *c;
	size_t len;
	clink_reply_fn fn;
	void *arg;
	long long (*decode)(const redisReply *r); /* reply -> result */
};

struct link_tm;

/* link.c */
void link_fail(struct clink *c, const char *why);
void link_timer(struct clink *c, int64_t delay_ms,
		void (*fn)(struct clink *c, uint64_t gen));
void link_dead(struct clink *c);
void link_ready(struct clink *c);

/* ops.c: send a command; the reply goes to req's fn through decode. */
int ops_send(struct clink *c, size_t len, clink_reply_fn fn, void *arg,
	     long long (*decode)(const redisReply *r), const char *fmt, ...);
long long ops_decode_int(const redisReply *r);
extern const char ops_reap_lua[];

/* useq.c: the per-sender numbers of deliveries to this node. */
void useq_on_message(struct clink *c, const char *src, uint64_t seq);
/* Registered and subscribed: compare with Redis' counts. */
void useq_ready(struct clink *c);
/* A node (who: "node/inc") is gone: forget its numbers. */
void useq_forget(struct clink *c, const char *who);

/* bus.c */
/* A message for the all channel, not gap-checked; the caller frees. */
char *bus_wrap_all(struct clink *c, const void *data, size_t len,
		   size_t *out_len);
void bus_subscribe_all(struct clink *c);
void bus_on_message(redisAsyncContext *ac, void *reply, void *priv);

#endif
