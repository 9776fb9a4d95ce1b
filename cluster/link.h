/* The cluster link: this node's one connection to Redis (a command
 * connection and a subscriber connection), its liveness, names, rooms,
 * keys and the bus of frames between nodes. Everything is asynchronous on
 * the caller's loop; nothing here blocks. See docs/CLUSTER.md. */
#ifndef FC_CLUSTER_LINK_H
#define FC_CLUSTER_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/loop.h"
#include "url.h"

#define CLINK_NODE_SZ 64

enum clink_state {
	CL_DOWN,       /* no Redis: serve locally, refuse logins */
	CL_CONNECTING, /* connected, registering the node */
	CL_UP,         /* registered and subscribed */
	CL_CONFLICT,   /* another live node has our node id */
};

/* Results passed to a clink_reply_fn. */
enum clink_result {
	CLR_TAKEN = -1,    /* the name is held (by another node) */
	CLR_NOT_LIVE = -2, /* this node is not registered (dead or new) */
	CLR_DOWN = -3,     /* Redis is unreachable or the reply was lost */
	CLR_FULL = -4,     /* the queue toward Redis is full */
};

/* Deliveries to one user reach a node's channel numbered per sender (the
 * deliver script counts them in Redis). The last number received from each
 * sender is kept here, in memory that may outlive the link process (the
 * status board), so that a reconnection or a new link process notices what
 * was published while nobody listened. */
#define CLINK_USEQ_MAX 64
struct clink_useq {
	char epoch[40]; /* the Redis epoch the numbers belong to */
	uint32_t n;
	struct clink_useq_ent {
		char src[CLINK_NODE_SZ + 48]; /* "node/incarnation" */
		uint64_t last;                /* last number received */
		uint64_t expect;              /* Redis' count, being checked */
		bool counted;                 /* in Redis' last count */
	} e[CLINK_USEQ_MAX];
};

struct clink_opts {
	struct cluster_url url;
	char node[CLINK_NODE_SZ];
	char incarnation[32]; /* this node's run (master pid.start) */
	int64_t ttl_ms;       /* liveness TTL (5000) */
	size_t max_queue;     /* bytes toward Redis not yet answered (8 MiB) */
	struct clink_useq *useq; /* or NULL: the link's own */
};

/* What the owner (the link process) learns. */
struct clink_hooks {
	/* registered; resync: Redis had lost this node's state (it restarted
	 * empty, or this is a reconnect): re-assert users, rooms and keys */
	void (*on_up)(void *arg, bool resync);
	void (*on_down)(void *arg); /* Redis lost: refuse new logins */
	/* this node was declared dead (stopped past its TTL): close every
	 * local user; the link registers a new incarnation afterwards */
	void (*on_dead)(void *arg);
	/* a message another node published; src is "node/incarnation" */
	void (*on_msg)(void *arg, const char *src, const char *data,
		       size_t len);
	/* node died; users is "name\troom\troom\n" per user, maybe empty */
	void (*on_node_down)(void *arg, const char *node, const char *users);
	/* messages were lost (gap from src, or the subscriber was cut) */
	void (*on_loss)(void *arg, const char *src, uint64_t missed);
};

struct clink_stats {
	enum clink_state state;
	size_t queued_bytes; /* sent toward Redis, not yet answered */
	uint64_t dropped;    /* refused because the queue was full */
	uint64_t lost;       /* gaps seen on the bus */
	int64_t rtt_ms;      /* last liveness round trip, -1 unknown */
	uint64_t published, received;
	unsigned subscribed; /* channels Redis confirmed */
	char epoch[40];
};

struct redisReply;
/* result: >= 0 success (a login sequence for claims, 1 for deliveries),
 * or an enum clink_result; r is Redis' reply, NULL on failure. */
typedef void (*clink_reply_fn)(void *arg, long long result,
			       const struct redisReply *r);

struct clink;

/* A link that connects at once and keeps reconnecting; NULL on ENOMEM. */
struct clink *clink_new(struct loop *l, const struct clink_opts *o,
			const struct clink_hooks *h, void *arg);
/* Leave the cluster now (a clean stop): the node's names are freed and
 * every other node announces its users gone, as after a death. */
int clink_leave(struct clink *c, clink_reply_fn fn, void *arg);
/* Disconnect and free; pending replies get CLR_DOWN. */
void clink_free(struct clink *c);
void clink_get_stats(const struct clink *c, struct clink_stats *out);
/* Registered and subscribed: the bus to the other nodes works. */
bool clink_is_up(const struct clink *c);
const char *clink_self(const struct clink *c); /* "node/incarnation" */
/* Links not yet freed (tests check that every link is freed). */
int clink_live_count(void);

/* Names (ops.c). Claim: one atomic SET NX in a script; result the
 * cluster-wide login sequence, CLR_TAKEN or CLR_NOT_LIVE. With announce,
 * the same script publishes it on the all channel followed by the login
 * sequence in decimal, ahead of anything published after the claim. */
int clink_claim(struct clink *c, const char *name, int dialect,
		const void *announce, size_t alen, clink_reply_fn fn,
		void *arg);
/* Re-assert a name this node holds (after a resync), keeping its login
 * sequence; CLR_TAKEN if another node took it meanwhile. If Redis did not
 * have it any more, the announcement (as for a claim) is published. */
int clink_assert(struct clink *c, const char *name, int dialect, uint64_t seq,
		 const void *announce, size_t alen, clink_reply_fn fn,
		 void *arg);
/* Every user of the cluster in login order, as a flat array reply of
 * name, seq, "node\tdialect", key ("" if none), rooms ("\t"-separated). */
int clink_load(struct clink *c, clink_reply_fn fn, void *arg);
/* Free a name with its rooms and key; fn (may be NULL) gets 1, or 0 if
 * this node did not hold it. */
int clink_release(struct clink *c, const char *name, clink_reply_fn fn,
		  void *arg);
int clink_room_join(struct clink *c, const char *room, const char *name);
/* A room into the cluster's list (fc:rooms, in creation order): seq 0 for
 * a new room, else the sequence it had (a re-assertion). The first time,
 * the announcement is published as for a claim, followed by the room's
 * sequence in decimal; fn gets the room's sequence. */
int clink_room_add(struct clink *c, const char *room, uint64_t seq,
		   const void *announce, size_t alen, clink_reply_fn fn,
		   void *arg);
/* A room deleted here leaves the list if nobody of the cluster is in it. */
int clink_room_drop(struct clink *c, const char *room);
int clink_room_leave(struct clink *c, const char *room, const char *name);
int clink_key_set(struct clink *c, const char *name, const char *key);
/* A read-only command (ZRANGE fc:order ..., HGETALL fc:keys, ...). */
int clink_query(struct clink *c, clink_reply_fn fn, void *arg, const char *fmt,
		...);

/* The bus (bus.c). Publishes return 0 (sent, in order), CLR_DOWN or
 * CLR_FULL (dropped, counted, and seen by receivers as a gap). */
int clink_publish_all(struct clink *c, const void *data, size_t len);
int clink_publish_room(struct clink *c, const char *room, const void *data,
		       size_t len);
/* To one node's channel (file frames once the far node is known). */
int clink_publish_node(struct clink *c, const char *node, const void *data,
		       size_t len);
/* To the node that holds name: result 1 delivered to Redis, 0 no such
 * user. */
int clink_send_user(struct clink *c, const char *name, const void *data,
		    size_t len, clink_reply_fn fn, void *arg);
/* Room channels are subscribed while at least one local user is in. */
void clink_sub_room(struct clink *c, const char *room);
void clink_unsub_room(struct clink *c, const char *room);

#endif
