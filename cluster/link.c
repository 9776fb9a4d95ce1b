/* The link's connection to Redis: connect both connections, register the
 * node (hello), keep its liveness key fresh, reap nodes whose key expired,
 * and on any failure drop both connections and reconnect with backoff.
 * Every change of state is logged once, not once per retry. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/util.h"
#include "link_int.h"
#include "rloop.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define CONNECT_DEADLINE_MS 2000

/* Register this node: take its incarnation's place in fc:nodes (reaping a
 * previous incarnation whose liveness key expired), set the liveness key,
 * and say whether Redis lost our state (EMPTY) or declared us dead. */
static const char hello_lua[] =
	"redis.call('SET','fc:epoch',ARGV[4],'NX')\n"
	"local e=redis.call('GET','fc:epoch')\n"
	"local id,inc=ARGV[1],ARGV[2]\n"
	"if redis.call('EXISTS','fc:dead:'..id..'/'..inc)==1 then\n"
	"  return {'DEAD',e} end\n"
	"local cur=redis.call('HGET','fc:nodes',id)\n"
	"if cur and cur~=inc then\n"
	"  if redis.call('EXISTS','fc:alive:'..id)==1 then\n"
	"    return {'CONFLICT',e} end\n"
	"  reap(id,cur)\n"
	"end\n"
	"redis.call('HSET','fc:nodes',id,inc)\n"
	"redis.call('SET','fc:alive:'..id,inc,'PX',ARGV[3])\n"
	"if ARGV[5]~='' and ARGV[5]~=e then return {'EMPTY',e} end\n"
	"return {'OK',e}\n";

/* Liveness: only while Redis still knows this incarnation. */
static const char refresh_lua[] =
	"if redis.call('GET','fc:epoch')~=ARGV[4] then return 'EMPTY' end\n"
	"if redis.call('HGET','fc:nodes',ARGV[1])~=ARGV[2] then\n"
	"  return 'DEAD' end\n"
	"redis.call('SET','fc:alive:'..ARGV[1],ARGV[2],'PX',ARGV[3])\n"
	"return 'OK'\n";

/* Any node may reap any expired node; the script runs atomically, so a
 * dead node is announced exactly once. */
static const char sweep_lua[] =
	"local n=redis.call('HGETALL','fc:nodes')\n"
	"local k=0\n"
	"for i=1,#n,2 do\n"
	"  if redis.call('EXISTS','fc:alive:'..n[i])==0 then\n"
	"    reap(n[i],n[i+1]) k=k+1 end\n"
	"end\n"
	"return k\n";

static void link_connect(struct clink *c);
static void link_hello(struct clink *c);

/* A pending timer of the link; all are cancelled when the link is freed. */
struct link_tm {
	struct link_tm *next;
	struct clink *c;
	void (*fn)(struct clink *c, uint64_t gen);
	uint64_t gen;
	timer_id id;
};

static int live_links;

int
clink_live_count(void)
{
	return live_links;
}

static void
link_timer_unlink(struct clink *c, const struct link_tm *t)
{
	for (struct link_tm **pp = &c->tms; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			return;
		}
}

static void
link_timer_fire(void *arg)
{
	struct link_tm t = *(struct link_tm *)arg;

	link_timer_unlink(t.c, arg);
	free(arg);
	t.fn(t.c, t.gen);
}

/* Run fn(c, gen) after delay_ms, gen being c->gen now: the fn compares it
 * to c->gen and does nothing if the connection changed meanwhile. */
void
link_timer(struct clink *c, int64_t delay_ms,
	   void (*fn)(struct clink *c, uint64_t gen))
{
	struct link_tm *t = malloc(sizeof(*t));

	if (t == NULL)
		return;
	*t = (struct link_tm){c->tms, c, fn, c->gen, 0};
	t->id = loop_timer_add(c->loop, now_ms() + delay_ms, link_timer_fire,
			       t);
	if (t->id == 0) {
		free(t);
		return;
	}
	c->tms = t;
}

static void
link_timers_cancel(struct clink *c)
{
	while (c->tms) {
		struct link_tm *t = c->tms;
		c->tms = t->next;
		loop_timer_cancel(c->loop, t->id);
		free(t);
	}
}

static void
link_close(struct clink *c)
{
	redisAsyncContext *cmd = c->cmd, *sub = c->sub;

	c->cmd = c->sub = NULL;
	c->cmd_ok = c->sub_ok = false;
	c->subs_sent = false;
	c->st.subscribed = 0;
	c->closing = true; /* their disconnect callbacks are ours */
	if (cmd)
		redisAsyncFree(cmd);
	if (sub)
		redisAsyncFree(sub);
	c->closing = false;
}

static void
link_retry(struct clink *c, uint64_t gen)
{
	if (gen != c->gen)
		return;
	c->failing = false;
	link_close(c);
	link_connect(c);
}

/* Drop both connections (later, outside hiredis' callbacks and after the
 * loop's current batch of events) and reconnect after the backoff. */
void
link_fail(struct clink *c, const char *why)
{
	bool was_up = c->state == CL_UP;

	if (c->freed || c->failing)
		return;
	c->failing = true;
	c->gen++;
	c->state = CL_DOWN;
	c->refresh_sent = -1;
	if (!c->down_logged)
		log_warnx("cluster: Redis lost (%s); serving local users only, "
			  "new logins refused; reconnecting with backoff",
			  why);
	else
		log_debug("cluster: reconnect failed (%s)", why);
	c->down_logged = true;
	link_timer(c, c->backoff_ms, link_retry);
	c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
							   : c->backoff_ms * 2;
	if (was_up && c->h.on_down)
		c->h.on_down(c->arg);
}

static void
link_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct clink *c = ac->data;

	(void)status;
	if (c->closing)
		return;
	if (c->cmd == ac)
		c->cmd = NULL;
	if (c->sub == ac)
		c->sub = NULL;
	link_fail(c, ac->errstr[0] ? ac->errstr : "connection closed");
}

static void
link_on_connect(const redisAsyncContext *ac, int status)
{
	struct clink *c = ac->data;

	if (status != REDIS_OK) {
		/* hiredis frees a context whose connect failed */
		if (c->cmd == ac)
			c->cmd = NULL;
		if (c->sub == ac)
			c->sub = NULL;
		link_fail(c, ac->errstr[0] ? ac->errstr : "connect failed");
		return;
	}
	/* named for operators (CLIENT LIST): fc-NODE-cmd, fc-NODE-sub */
	redisAsyncCommand((redisAsyncContext *)ac, NULL, NULL,
			  "CLIENT SETNAME fc-%s-%s", c->o.node,
			  c->cmd == ac ? "cmd" : "sub");
	if (c->cmd == ac)
		c->cmd_ok = true;
	if (c->sub == ac)
		c->sub_ok = true;
	if (c->cmd_ok && c->sub_ok)
		link_hello(c);
}

static redisAsyncContext *
link_open(struct clink *c)
{
	const struct cluster_url *u = &c->o.url;
	redisAsyncContext *ac = u->path[0]
					? redisAsyncConnectUnix(u->path)
					: redisAsyncConnect(u->host, u->port);

	if (ac == NULL)
		return NULL;
	if (ac->err || rloop_attach(ac, c->loop) < 0) {
		redisAsyncFree(ac);
		return NULL;
	}
	ac->data = c;
	redisAsyncSetConnectCallback(ac, link_on_connect);
	redisAsyncSetDisconnectCallback(ac, link_on_disconnect);
	return ac;
}

static void
link_connect_deadline(struct clink *c, uint64_t gen)
{
	if (gen == c->gen && c->state != CL_UP)
		link_fail(c, "connect timed out");
}

static void
link_connect(struct clink *c)
{
	c->cmd = link_open(c);
	c->sub = c->cmd ? link_open(c) : NULL;
	if (c->sub == NULL) {
		link_fail(c, "cannot create a connection");
		return;
	}
	link_timer(c, CONNECT_DEADLINE_MS, link_connect_deadline);
}

static void link_refresh(struct clink *c, uint64_t gen);

/* The liveness key lives 2/3 of the TTL and every node sweeps every TTL/4,
 * so a dead node is declared dead within the TTL of its last refresh. */
static int64_t
link_key_ms(const struct clink *c)
{
	return c->o.ttl_ms * 2 / 3;
}

static void link_sweep(struct clink *c, uint64_t gen);

/* Registered and every channel confirmed: only now may users log in, so
 * that nothing published to them after their login is missed. */
void
link_ready(struct clink *c)
{
	bool resync = c->ever_up || c->empty;

	c->state = CL_UP;
	c->backoff_ms = BACKOFF_MIN_MS;
	c->conflict_logged = false;
	if (c->empty)
		log_warnx("cluster: Redis came back empty (epoch %s); "
			  "re-asserting this node's users, rooms and keys",
			  c->epoch);
	if (c->down_logged || !c->ever_up)
		log_info("cluster: node %s up on Redis (epoch %s)", c->self,
			 c->epoch);
	c->down_logged = false;
	c->ever_up = true;
	c->empty = false;
	link_timer(c, c->o.ttl_ms / 4, link_refresh);
	link_timer(c, c->o.ttl_ms / 4, link_sweep);
	useq_ready(c);
	if (c->h.on_up)
		c->h.on_up(c->arg, resync);
}

static void
link_registered(struct clink *c, bool empty)
{
	c->empty = c->empty || empty;
	c->registered = true;
	if (!c->subs_sent)
		bus_subscribe_all(c);
	else if (c->st.subscribed >= c->sub_expect)
		link_ready(c);
}

static void
link_conflict(struct clink *c)
{
	if (!c->conflict_logged)
		log_warnx("cluster: node id %s is held by another live node; "
			  "retrying until its liveness key expires",
			  c->o.node);
	c->conflict_logged = true;
	c->state = CL_CONFLICT;
	c->failing = true; /* a conflict is not a lost connection */
	c->gen++;
	link_timer(c, c->o.ttl_ms / 4, link_retry);
}

static void
link_on_hello(struct clink *c, const redisReply *r)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING) {
		link_fail(c, r && r->type == REDIS_REPLY_ERROR
				     ? r->str
				     : "bad hello reply");
		return;
	}
	const char *st = r->element[0]->str;
	snprintf(c->epoch, sizeof(c->epoch), "%s", r->element[1]->str);
	if (strcmp(st, "DEAD") == 0)
		link_dead(c);
	else if (strcmp(st, "CONFLICT") == 0)
		link_conflict(c);
	else
		link_registered(c, strcmp(st, "EMPTY") == 0);
}

static void
link_hello_reply(void *arg, long long res, const redisReply *r)
{
	struct clink *c = arg;

	(void)res;
	if (!c->freed && c->state == CL_CONNECTING)
		link_on_hello(c, r);
}

static long long
link_decode_none(const redisReply *r)
{
	return r ? 0 : CLR_DOWN;
}

static void
link_hello(struct clink *c)
{
	char ttl[24], cand[40];

	snprintf(ttl, sizeof(ttl), "%lld", (long long)link_key_ms(c));
	snprintf(cand, sizeof(cand), "%llx.%d", (unsigned long long)now_ms(),
		 (int)getpid());
	snprintf(c->self, sizeof(c->self), "%s/%s", c->o.node, c->inc);
	c->state = CL_CONNECTING;
	c->registered = false;
	if (ops_send(c, 0, link_hello_reply, c, link_decode_none,
		     "EVAL %s%s 0 %s %s %s %s %s", ops_reap_lua, hello_lua,
		     c->o.node, c->inc, ttl, cand, c->epoch) < 0)
		link_fail(c, "cannot send hello");
}

/* Declared dead (stopped past the TTL): the owner closes its users; then a
 * new incarnation registers, so a name can never be held twice. */
void
link_dead(struct clink *c)
{
	log_warnx("cluster: node %s was declared dead by the cluster; "
		  "closing its users and registering again",
		  c->self);
	c->deaths++;
	snprintf(c->inc, sizeof(c->inc), "%s.%u", c->o.incarnation, c->deaths);
	c->gen++;
	if (c->h.on_dead)
		c->h.on_dead(c->arg);
	if (c->cmd_ok && c->sub_ok)
		link_hello(c);
}

static void
link_refresh_reply(void *arg, long long res, const redisReply *r)
{
	struct clink *c = arg;

	(void)res;
	if (c->freed || r == NULL || c->state != CL_UP)
		return;
	c->st.rtt_ms = now_ms() - c->refresh_sent;
	c->refresh_sent = -1;
	if (r->type != REDIS_REPLY_STATUS && r->type != REDIS_REPLY_STRING) {
		link_fail(c, r->type == REDIS_REPLY_ERROR
				     ? r->str
				     : "bad refresh reply");
		return;
	}
	if (strcmp(r->str, "DEAD") == 0)
		link_dead(c);
	else if (strcmp(r->str, "EMPTY") == 0) {
		c->gen++;
		link_hello(c);
	}
}

/* Every TTL/4. A liveness reply still missing when the key would expire
 * means Redis is too slow to keep us alive: reconnect and resync. */
static void
link_refresh(struct clink *c, uint64_t gen)
{
	char ttl[24];

	if (gen != c->gen || c->state != CL_UP)
		return;
	link_timer(c, c->o.ttl_ms / 4, link_refresh);
	if (c->refresh_sent >= 0) {
		if (now_ms() - c->refresh_sent > link_key_ms(c))
			link_fail(c, "Redis too slow: liveness reply late");
		return;
	}
	snprintf(ttl, sizeof(ttl), "%lld", (long long)link_key_ms(c));
	c->refresh_sent = now_ms();
	ops_send(c, 0, link_refresh_reply, c, link_decode_none,
		 "EVAL %s 0 %s %s %s %s", refresh_lua, c->o.node, c->inc, ttl,
		 c->epoch);
}

static void
link_sweep(struct clink *c, uint64_t gen)
{
	if (gen != c->gen || c->state != CL_UP)
		return;
	link_timer(c, c->o.ttl_ms / 4, link_sweep);
	ops_send(c, 0, NULL, NULL, link_decode_none, "EVAL %s%s 0",
		 ops_reap_lua, sweep_lua);
}

struct clink *
clink_new(struct loop *l, const struct clink_opts *o,
	  const struct clink_hooks *h, void *arg)
{
	struct clink *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	live_links++;
	c->loop = l;
	c->o = *o;
	if (c->o.ttl_ms <= 0)
		c->o.ttl_ms = 5000;
	if (c->o.max_queue == 0)
		c->o.max_queue = 8u << 20;
	c->h = *h;
	c->arg = arg;
	c->backoff_ms = BACKOFF_MIN_MS;
	c->refresh_sent = -1;
	c->st.rtt_ms = -1;
	c->useq = o->useq ? o->useq : &c->own_useq;
	snprintf(c->inc, sizeof(c->inc), "%s", o->incarnation);
	snprintf(c->self, sizeof(c->self), "%s/%s", o->node, c->inc);
	log_info("cluster: node %s connecting to Redis", c->self);
	link_connect(c);
	return c;
}

int
clink_leave(struct clink *c, clink_reply_fn fn, void *arg)
{
	if (c->state != CL_UP)
		return CLR_DOWN;
	c->leaving = true; /* our own D is not news to us */
	return ops_send(c, 0, fn, arg, link_decode_none, "EVAL %s%s 0 %s %s",
			ops_reap_lua, "return reap(ARGV[1],ARGV[2])", c->o.node,
			c->inc);
}

void
clink_free(struct clink *c)
{
	if (c == NULL)
		return;
	c->freed = true; /* the callbacks of link_close see it */
	link_close(c);
	link_timers_cancel(c);
	live_links--;
	seqmap_clear(&c->sendseq);
	seqmap_clear(&c->seen);
	seqmap_clear(&c->subs);
	free(c);
}

bool
clink_is_up(const struct clink *c)
{
	return c->state == CL_UP;
}

void
clink_get_stats(const struct clink *c, struct clink_stats *out)
{
	*out = c->st;
	out->state = c->state;
	snprintf(out->epoch, sizeof(out->epoch), "%s", c->epoch);
}

const char *
clink_self(const struct clink *c)
{
	return c->self;
}
