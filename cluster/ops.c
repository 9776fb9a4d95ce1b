/* Names, rooms, keys and the login order in Redis. Every change is one
 * Lua script, so it is atomic: two nodes claiming one name at the same
 * instant cannot both win, and a name is freed with its rooms and key. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "link_int.h"

/* reap(id, inc): free every name of node id, with its rooms and key,
 * forget the node, leave a tombstone for its incarnation (so that, if it
 * was only stopped, it learns it was declared dead) and tell every node. */
const char ops_reap_lua[] =
	"local function reap(id,inc)\n"
	"  local us=redis.call('SMEMBERS','fc:nusers:'..id)\n"
	"  local msg={'D'..id..'/'..inc}\n"
	"  for _,u in ipairs(us) do\n"
	"    if redis.call('GET','fc:name:'..string.lower(u))==id then\n"
	"      local rs=redis.call('SMEMBERS','fc:urooms:'..u)\n"
	"      for _,r in ipairs(rs) do redis.call('SREM','fc:room:'..r,u) end\n"
	"      redis.call('DEL','fc:name:'..string.lower(u),'fc:urooms:'..u)\n"
	"      redis.call('ZREM','fc:order',u)\n"
	"      redis.call('HDEL','fc:keys',u)\n"
	"      redis.call('HDEL','fc:info',u)\n"
	"      local l=u\n"
	"      if #rs>0 then l=l..'\\t'..table.concat(rs,'\\t') end\n"
	"      msg[#msg+1]=l\n"
	"    end\n"
	"  end\n"
	"  for _,n in ipairs(redis.call('HKEYS','fc:nodes')) do\n"
	"    redis.call('HDEL','fc:useq:'..n,id..'/'..inc) end\n"
	"  redis.call('DEL','fc:useq:'..id)\n"
	"  redis.call('DEL','fc:nusers:'..id)\n"
	"  redis.call('HDEL','fc:nodes',id)\n"
	"  redis.call('SET','fc:dead:'..id..'/'..inc,'1','EX',3600)\n"
	"  redis.call('PUBLISH','" CH_ALL "',table.concat(msg,'\\n'))\n"
	"end\n";

/* The sequence of a login or room: sq "" for a new one (the next of
 * fc:seq), else the one it keeps (a re-assertion after Redis lost it), which
 * fc:seq is raised to. */
#define SEQ_LUA                                                                \
	"local seq\n"                                                          \
	"if sq~='' then\n"                                                     \
	"  seq=tonumber(sq)\n"                                                 \
	"  if tonumber(redis.call('GET','fc:seq') or '0')<seq then\n"          \
	"    redis.call('SET','fc:seq',seq) end\n"                             \
	"else seq=redis.call('INCR','fc:seq') end\n"

/* Only a registered, live incarnation may claim. ARGV: name node inc
 * dialect seq channel msg. A name this node already holds may be claimed
 * again by it: the node's own registry keeps names unique among its
 * workers, and a logout can reach the link after the next login. With a seq it
 * is a re-assertion after a resync: the name may be ours already, and the login
 * order is kept. With a channel the login is announced there in the same step
 * (msg, then the login sequence), so it reaches every node before anything the
 * user sends afterwards. */
static const char claim_lua[] =
	"local n,id,dia,sq,ch=ARGV[1],ARGV[2],ARGV[4],ARGV[5],ARGV[6]\n"
	"if redis.call('HGET','fc:nodes',id)~=ARGV[3] then return -2 end\n"
	"if redis.call('EXISTS','fc:alive:'..id)==0 then return -2 end\n"
	"local cur=redis.call('GET','fc:name:'..string.lower(n))\n"
	"if cur and cur~=id then return -1 end\n"
	"if cur and sq~='' then ch='' end\n" SEQ_LUA
	"redis.call('SET','fc:name:'..string.lower(n),id)\n"
	"redis.call('HSET','fc:info',n,id..'\\t'..dia)\n"
	"redis.call('SADD','fc:nusers:'..id,n)\n"
	"redis.call('ZADD','fc:order',seq,n)\n"
	"if ch~='' then redis.call('PUBLISH',ch,ARGV[7]..seq) end\n"
	"return seq\n";

/* Every user in login order: name, seq, "node\tdialect", key, rooms. */
static const char load_lua[] =
	"local o=redis.call('ZRANGE','fc:order',0,-1,'WITHSCORES')\n"
	"local out={}\n"
	"for i=1,#o,2 do\n"
	"  local n=o[i]\n"
	"  out[#out+1]=n\n"
	"  out[#out+1]=o[i+1]\n"
	"  out[#out+1]=redis.call('HGET','fc:info',n) or ''\n"
	"  out[#out+1]=redis.call('HGET','fc:keys',n) or ''\n"
	"  out[#out+1]=table.concat(redis.call('SMEMBERS','fc:urooms:'..n),"
	"'\\t')\n"
	"end\n"
	"return out\n";

static const char release_lua[] =
	"local n,id=ARGV[1],ARGV[2]\n"
	"if redis.call('GET','fc:name:'..string.lower(n))~=id then return 0 end\n"
	"local rs=redis.call('SMEMBERS','fc:urooms:'..n)\n"
	"for _,r in ipairs(rs) do redis.call('SREM','fc:room:'..r,n) end\n"
	"redis.call('DEL','fc:name:'..string.lower(n),'fc:urooms:'..n)\n"
	"redis.call('SREM','fc:nusers:'..id,n)\n"
	"redis.call('ZREM','fc:order',n)\n"
	"redis.call('HDEL','fc:keys',n)\n"
	"redis.call('HDEL','fc:info',n)\n"
	"return 1\n";

/* Room membership and keys only for names this node holds. */
static const char room_lua[] =
	"if redis.call('GET','fc:name:'..string.lower(ARGV[2]))~=ARGV[3] then return 0 end\n"
	"if ARGV[4]=='1' then\n"
	"  if not redis.call('ZSCORE','fc:rooms',ARGV[1]) then\n"
	"    redis.call('ZADD','fc:rooms',redis.call('INCR','fc:seq'),ARGV[1])\n"
	"  end\n"
	"  redis.call('SADD','fc:room:'..ARGV[1],ARGV[2])\n"
	"  redis.call('SADD','fc:urooms:'..ARGV[2],ARGV[1])\n"
	"else\n"
	"  redis.call('SREM','fc:room:'..ARGV[1],ARGV[2])\n"
	"  redis.call('SREM','fc:urooms:'..ARGV[2],ARGV[1])\n"
	"end\n"
	"return 1\n";

/* A room into the cluster's list, in creation order (one sequence with the
 * logins). ARGV: room, seq ("" for a new room: the next sequence; else the
 * one it had, re-asserted after Redis lost it), msg. Announced on the all
 * channel (msg, then the sequence) only when it was not there yet. The
 * room's sequence either way. */
static const char room_add_lua[] =
	"local r,sq=ARGV[1],ARGV[2]\n"
	"local cur=redis.call('ZSCORE','fc:rooms',r)\n"
	"if cur then return tonumber(cur) end\n" SEQ_LUA
	"redis.call('ZADD','fc:rooms',seq,r)\n"
	"redis.call('PUBLISH','" CH_ALL "',ARGV[3]..seq)\n"
	"return seq\n";

/* A room deleted here (--room-linger) leaves the list if nobody in the
 * cluster is in it. */
static const char room_drop_lua[] =
	"if redis.call('SCARD','fc:room:'..ARGV[1])>0 then return 0 end\n"
	"redis.call('ZREM','fc:rooms',ARGV[1])\n"
	"return 1\n";

static const char key_lua[] =
	"if redis.call('GET','fc:name:'..string.lower(ARGV[1]))~=ARGV[2] then return 0 end\n"
	"redis.call('HSET','fc:keys',ARGV[1],ARGV[3])\n"
	"return 1\n";

long long
ops_decode_int(const redisReply *r)
{
	if (r == NULL)
		return CLR_DOWN;
	if (r->type == REDIS_REPLY_INTEGER)
		return r->integer;
	if (r->type == REDIS_REPLY_ERROR)
		log_warnx("cluster: Redis error: %s", r->str);
	return r->type == REDIS_REPLY_ERROR ? CLR_DOWN : 0;
}

static void
ops_on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	struct clink_req *q = priv;
	const redisReply *r = reply;

	(void)ac;
	q->c->st.queued_bytes -= q->len;
	if (q->fn)
		q->fn(q->arg, q->decode(r), r);
	free(q);
}

static int
ops_vsend(struct clink *c, size_t len, clink_reply_fn fn, void *arg,
	  long long (*decode)(const redisReply *r), const char *fmt, va_list ap)
{
	if (c->cmd == NULL || !c->cmd_ok)
		return CLR_DOWN;
	if (len && c->st.queued_bytes + len > c->o.max_queue)
		return CLR_FULL;
	struct clink_req *q = malloc(sizeof(*q));
	if (q == NULL)
		return CLR_DOWN;
	*q = (struct clink_req){c, len, fn, arg, decode};
	if (redisvAsyncCommand(c->cmd, ops_on_reply, q, fmt, ap) != REDIS_OK) {
		free(q);
		return CLR_DOWN;
	}
	c->st.queued_bytes += len;
	return 0;
}

/* Send one command on the command connection with a reply handler; len
 * counts against the bounded queue (0 for the link's own small commands,
 * which must not be refused). 0, or CLR_DOWN / CLR_FULL. */
int
ops_send(struct clink *c, size_t len, clink_reply_fn fn, void *arg,
	 long long (*decode)(const redisReply *r), const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int rc = ops_vsend(c, len, fn, arg, decode, fmt, ap);
	va_end(ap);
	return rc;
}

static int
ops_ready(const struct clink *c)
{
	return c->state == CL_UP ? 0 : CLR_DOWN;
}

/* The claim script, for a new login (seq "") or a re-assertion. */
static int
ops_claim(struct clink *c, const char *name, int dialect, const char *seq,
	  const void *announce, size_t alen, clink_reply_fn fn, void *arg)
{
	size_t n = 0;
	char *msg = NULL;

	if (ops_ready(c) < 0)
		return CLR_DOWN;
	if (announce && (msg = bus_wrap_all(c, announce, alen, &n)) == NULL)
		return CLR_DOWN;
	int rc = ops_send(c, 0, fn, arg, ops_decode_int,
			  "EVAL %s 0 %s %s %s %d %s %s %b", claim_lua, name,
			  c->o.node, c->inc, dialect, seq, msg ? CH_ALL : "",
			  msg ? msg : "", n);
	free(msg);
	return rc;
}

int
clink_claim(struct clink *c, const char *name, int dialect,
	    const void *announce, size_t alen, clink_reply_fn fn, void *arg)
{
	return ops_claim(c, name, dialect, "", announce, alen, fn, arg);
}

int
clink_assert(struct clink *c, const char *name, int dialect, uint64_t seq,
	     const void *announce, size_t alen, clink_reply_fn fn, void *arg)
{
	char s[24];

	snprintf(s, sizeof(s), "%llu", (unsigned long long)seq);
	return ops_claim(c, name, dialect, s, announce, alen, fn, arg);
}

int
clink_load(struct clink *c, clink_reply_fn fn, void *arg)
{
	return clink_query(c, fn, arg, "EVAL %s 0", load_lua);
}

int
clink_release(struct clink *c, const char *name, clink_reply_fn fn, void *arg)
{
	if (ops_ready(c) < 0)
		return CLR_DOWN;
	return ops_send(c, 0, fn, arg, ops_decode_int, "EVAL %s 0 %s %s",
			release_lua, name, c->o.node);
}

static int
ops_room(struct clink *c, const char *room, const char *name, int join)
{
	if (ops_ready(c) < 0)
		return CLR_DOWN;
	return ops_send(c, 0, NULL, NULL, ops_decode_int,
			"EVAL %s 0 %s %s %s %d", room_lua, room, name,
			c->o.node, join);
}

int
clink_room_join(struct clink *c, const char *room, const char *name)
{
	return ops_room(c, room, name, 1);
}

int
clink_room_add(struct clink *c, const char *room, uint64_t seq,
	       const void *announce, size_t alen, clink_reply_fn fn, void *arg)
{
	char sq[24] = "";
	size_t n;

	if (ops_ready(c) < 0)
		return CLR_DOWN;
	char *msg = bus_wrap_all(c, announce, alen, &n);
	if (msg == NULL)
		return CLR_DOWN;
	if (seq)
		snprintf(sq, sizeof(sq), "%llu", (unsigned long long)seq);
	int rc = ops_send(c, 0, fn, arg, ops_decode_int, "EVAL %s 0 %s %s %b",
			  room_add_lua, room, sq, msg, n);
	free(msg);
	return rc;
}

int
clink_room_drop(struct clink *c, const char *room)
{
	if (ops_ready(c) < 0)
		return CLR_DOWN;
	return ops_send(c, 0, NULL, NULL, ops_decode_int, "EVAL %s 0 %s",
			room_drop_lua, room);
}

int
clink_room_leave(struct clink *c, const char *room, const char *name)
{
	return ops_room(c, room, name, 0);
}

int
clink_key_set(struct clink *c, const char *name, const char *key)
{
	if (ops_ready(c) < 0)
		return CLR_DOWN;
	return ops_send(c, 0, NULL, NULL, ops_decode_int, "EVAL %s 0 %s %s %s",
			key_lua, name, c->o.node, key);
}

static long long
ops_decode_any(const redisReply *r)
{
	return r == NULL || r->type == REDIS_REPLY_ERROR ? CLR_DOWN : 0;
}

int
clink_query(struct clink *c, clink_reply_fn fn, void *arg, const char *fmt, ...)
{
	va_list ap;

	if (ops_ready(c) < 0)
		return CLR_DOWN;
	va_start(ap, fmt);
	int rc = ops_vsend(c, 0, fn, arg, ops_decode_any, fmt, ap);
	va_end(ap);
	return rc;
}
