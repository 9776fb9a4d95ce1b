/* The link's part of `forkchatd status`: its own counters and, once a
 * second, every node of the cluster with its users and liveness, onto the
 * shared board that the master reads. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

/* id, users, ms left of the liveness key, for every registered node */
static const char nodes_lua[] =
	"local n=redis.call('HGETALL','fc:nodes')\n"
	"local out={}\n"
	"for i=1,#n,2 do\n"
	"  out[#out+1]=n[i]\n"
	"  out[#out+1]=redis.call('SCARD','fc:nusers:'..n[i])\n"
	"  out[#out+1]=redis.call('PTTL','fc:alive:'..n[i])\n"
	"end\n"
	"return out\n";

static void
status_nodes(void *arg, long long res, const struct redisReply *r)
{
	struct lproc *p = arg;
	struct cluster_board *b = p->board_cl;
	uint32_t n = 0;

	if (res < 0 || r == NULL || r->type != REDIS_REPLY_ARRAY)
		return;
	board_begin(b);
	for (size_t i = 0; i + 3 <= r->elements && n < CB_MAX_NODES; i += 3) {
		const redisReply *const *e =
			(const redisReply *const *)r->element + i;
		if (e[0]->type != REDIS_REPLY_STRING)
			continue;
		snprintf(b->nodes[n].id, sizeof(b->nodes[n].id), "%s",
			 e[0]->str);
		b->nodes[n].users = (uint32_t)e[1]->integer;
		b->nodes[n].ttl_ms = e[2]->integer;
		n++;
	}
	b->nnodes = n;
	board_end(b);
}

void
status_update(struct lproc *p)
{
	struct cluster_board *b = p->board_cl;
	struct clink_stats st;

	if (b == NULL)
		return;
	clink_get_stats(p->cl, &st);
	board_begin(b);
	b->state = st.state;
	snprintf(b->node, sizeof(b->node), "%s", p->cfg->node_id);
	snprintf(b->epoch, sizeof(b->epoch), "%s", st.epoch);
	b->rtt_ms = st.rtt_ms;
	b->queued = st.queued_bytes;
	b->dropped = st.dropped;
	b->lost = st.lost;
	b->published = st.published;
	b->received = st.received;
	b->subscribed = st.subscribed;
	b->remote_users = p->mir.count;
	if (st.state != CL_UP)
		b->nnodes = 0;
	board_end(b);
	if (st.state == CL_UP)
		clink_query(p->cl, status_nodes, p, "EVAL %s 0", nodes_lua);
}
