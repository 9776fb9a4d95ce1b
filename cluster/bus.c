/* The bus between nodes over Redis pub/sub: one channel for everyone
 * (fc:ch:all), one per node (fc:ch:node:ID) and one per room
 * (fc:ch:room:NAME), subscribed only while a local user is in the room.
 * Each message carries its sender and a per-channel sequence, so that a
 * receiver notices a lost message instead of silently missing it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "link_int.h"

/* To whichever node holds the name, in one step, or 0 if nobody does; the
 * delivery is numbered per sender and receiving node (fc:useq:NODE), so
 * that the receiver notices one that is lost. ARGV: name, sender, payload. */
static const char deliver_lua[] =
	"local n=redis.call('GET','fc:name:'..string.lower(ARGV[1]))\n"
	"if not n then return 0 end\n"
	"local s=redis.call('HINCRBY','fc:useq:'..n,ARGV[2],1)\n"
	"redis.call('PUBLISH','" CH_NODE
	"'..n,'U'..ARGV[2]..'\\n'..s..'\\n'..ARGV[3])\n"
	"return 1\n";

static void
bus_sub(struct clink *c, const char *cmd, const char *channel)
{
	if (c->sub && c->sub_ok)
		redisAsyncCommand(c->sub, bus_on_message, c, "%s %s", cmd,
				  channel);
}

static void
bus_room_channel(char *out, size_t size, const char *room)
{
	snprintf(out, size, CH_ROOM "%s", room);
}

/* After every (re)connection: what was received before no longer counts
 * for gap detection. */
void
bus_subscribe_all(struct clink *c)
{
	char ch[CLINK_NODE_SZ + 32];

	seqmap_clear(&c->seen);
	c->st.subscribed = 0;
	c->subs_sent = true;
	c->sub_expect = 2;
	bus_sub(c, "SUBSCRIBE", CH_ALL);
	snprintf(ch, sizeof(ch), CH_NODE "%s", c->o.node);
	bus_sub(c, "SUBSCRIBE", ch);
	for (size_t i = 0; i < c->subs.cap; i++)
		if (c->subs.tab[i].key && c->subs.tab[i].val > 0) {
			bus_sub(c, "SUBSCRIBE", c->subs.tab[i].key);
			c->sub_expect++;
		}
}

/* seq 0 (announcements published by the claim and room scripts) is not
 * checked: a script may publish or not. */
static void
bus_check_seq(struct clink *c, const char *src, const char *channel,
	      uint64_t seq)
{
	char key[512];

	if (seq == 0)
		return;
	snprintf(key, sizeof(key), "%s|%s", src, channel);
	uint64_t *last = seqmap_get(&c->seen, key);
	if (last == NULL)
		return;
	if (*last && seq > *last + 1) {
		uint64_t missed = seq - *last - 1;
		c->st.lost += missed;
		log_warnx("cluster: %" PRIu64 " message(s) from %s on %s lost",
			  missed, src, channel);
		if (c->h.on_loss)
			c->h.on_loss(c->arg, src, missed);
	}
	*last = seq;
}

/* "M<src>\n<seq>\n<payload>"; unicast: a delivery to one user ('U'),
 * numbered per sender and receiving node. */
static void
bus_on_frame(struct clink *c, const char *channel, const char *m, size_t n,
	     bool unicast)
{
	const char *nl = memchr(m, '\n', n);
	char src[CLINK_NODE_SZ + 48];

	if (nl == NULL || (size_t)(nl - m) >= sizeof(src))
		return;
	memcpy(src, m, nl - m);
	src[nl - m] = '\0';
	char *end;
	uint64_t seq = strtoull(nl + 1, &end, 10);
	if (end >= m + n || *end != '\n' || strcmp(src, c->self) == 0)
		return;
	if (unicast)
		useq_on_message(c, src, seq);
	else
		bus_check_seq(c, src, channel, seq);
	c->st.received++;
	if (c->h.on_msg)
		c->h.on_msg(c->arg, src, end + 1, (size_t)(m + n - end - 1));
}

/* "D<node>/<inc>\n<user>\t<room>...\n..." from the reaper's script */
static void
bus_on_node_down(struct clink *c, const char *m)
{
	char who[CLINK_NODE_SZ + 48];
	size_t wl = strcspn(m, "\n");

	if (wl >= sizeof(who))
		return;
	memcpy(who, m, wl);
	who[wl] = '\0';
	if (strcmp(who, c->self) == 0) {
		if (!c->leaving)
			link_dead(c);
		return;
	}
	size_t nl = strlen(c->o.node);
	if (strncmp(who, c->o.node, nl) == 0 && who[nl] == '/')
		return; /* our own previous run, reaped when we registered */
	log_info("cluster: node %s is dead; its users are gone", who);
	useq_forget(c, who);
	if (c->h.on_node_down)
		c->h.on_node_down(c->arg, who, m[wl] ? m + wl + 1 : "");
}

void
bus_on_message(redisAsyncContext *ac, void *reply, void *priv)
{
	const redisReply *r = reply;
	struct clink *c = priv;

	(void)ac;
	if (r == NULL || c->freed || r->type != REDIS_REPLY_ARRAY ||
	    r->elements != 3 || r->element[0]->type != REDIS_REPLY_STRING)
		return;
	if (r->element[2]->type == REDIS_REPLY_INTEGER) {
		/* (un)subscribe confirmed: how many channels we now have */
		c->st.subscribed = (unsigned)r->element[2]->integer;
		if (c->state == CL_CONNECTING && c->registered &&
		    c->st.subscribed >= c->sub_expect)
			link_ready(c);
		return;
	}
	if (strcmp(r->element[0]->str, "message") != 0 ||
	    r->element[2]->type != REDIS_REPLY_STRING)
		return;
	const char *ch = r->element[1]->str;
	const char *m = r->element[2]->str;
	size_t n = r->element[2]->len;
	if (n > 1 && (m[0] == 'M' || m[0] == 'U'))
		bus_on_frame(c, ch, m + 1, n - 1, m[0] == 'U');
	else if (n > 1 && m[0] == 'D')
		bus_on_node_down(c, m + 1);
}

/* The message as it travels: 'M', sender, sequence, payload. */
static char *
bus_wrap(const struct clink *c, uint64_t seq, const void *data, size_t len,
	 size_t *out_len)
{
	char head[CLINK_NODE_SZ + 96];
	int hl = snprintf(head, sizeof(head), "M%s\n%" PRIu64 "\n", c->self,
			  seq);
	char *buf = malloc((size_t)hl + len);

	if (buf == NULL)
		return NULL;
	memcpy(buf, head, (size_t)hl);
	if (len)
		memcpy(buf + hl, data, len);
	*out_len = (size_t)hl + len;
	return buf;
}

/* Sequence 0: the claim script publishes only if the claim wins, so a
 * sequence consumed here could leave a gap that is no loss. */
char *
bus_wrap_all(struct clink *c, const void *data, size_t len, size_t *out_len)
{
	return bus_wrap(c, 0, data, len, out_len);
}

static void
bus_full(struct clink *c)
{
	c->st.dropped++;
	if (!c->full_logged)
		log_warnx("cluster: queue toward Redis full (%zu bytes): "
			  "dropping; receivers see the gap",
			  c->st.queued_bytes);
	c->full_logged = true;
}

static int
bus_publish(struct clink *c, const char *channel, const void *data, size_t len)
{
	size_t n;

	if (c->state != CL_UP)
		return CLR_DOWN;
	uint64_t *seq = seqmap_get(&c->sendseq, channel);
	if (seq == NULL)
		return CLR_DOWN;
	char *buf = bus_wrap(c, ++*seq, data, len, &n);
	if (buf == NULL)
		return CLR_DOWN;
	int rc = ops_send(c, n, NULL, NULL, ops_decode_int, "PUBLISH %s %b",
			  channel, buf, n);
	free(buf);
	if (rc == CLR_FULL)
		bus_full(c);
	else if (rc == 0) {
		c->st.published++;
		c->full_logged = false;
	}
	return rc;
}

int
clink_publish_all(struct clink *c, const void *data, size_t len)
{
	return bus_publish(c, CH_ALL, data, len);
}

int
clink_publish_room(struct clink *c, const char *room, const void *data,
		   size_t len)
{
	char ch[256];

	bus_room_channel(ch, sizeof(ch), room);
	return bus_publish(c, ch, data, len);
}

int
clink_publish_node(struct clink *c, const char *node, const void *data,
		   size_t len)
{
	char ch[CLINK_NODE_SZ + 32];

	snprintf(ch, sizeof(ch), CH_NODE "%s", node);
	return bus_publish(c, ch, data, len);
}

int
clink_send_user(struct clink *c, const char *name, const void *data, size_t len,
		clink_reply_fn fn, void *arg)
{
	if (c->state != CL_UP)
		return CLR_DOWN;
	int rc = ops_send(c, len + sizeof(deliver_lua), fn, arg, ops_decode_int,
			  "EVAL %s 0 %s %s %b", deliver_lua, name, c->self,
			  data, len);
	if (rc == CLR_FULL)
		bus_full(c);
	else if (rc == 0)
		c->st.published++;
	return rc;
}

void
clink_sub_room(struct clink *c, const char *room)
{
	char ch[256];

	bus_room_channel(ch, sizeof(ch), room);
	uint64_t *refs = seqmap_get(&c->subs, ch);
	if (refs && ++*refs == 1 && c->subs_sent) {
		bus_sub(c, "SUBSCRIBE", ch);
		c->sub_expect++;
	}
}

void
clink_unsub_room(struct clink *c, const char *room)
{
	char ch[256], suffix[260];

	bus_room_channel(ch, sizeof(ch), room);
	uint64_t *refs = seqmap_find(&c->subs, ch);
	if (refs == NULL || *refs == 0 || --*refs > 0)
		return;
	seqmap_del(&c->subs, ch);
	snprintf(suffix, sizeof(suffix), "|%s", ch);
	seqmap_del_suffix(&c->seen, suffix);
	if (c->subs_sent) {
		bus_sub(c, "UNSUBSCRIBE", ch);
		c->sub_expect--;
	}
}
