/* Loss detection for deliveries to one user (PM, PRIV, SECU, file offers):
 * the deliver script numbers them per sender and receiving node in Redis
 * (fc:useq:NODE, field "node/incarnation"), so a receiver sees a gap in a
 * sender's numbers, and, after a reconnection or a restart of its link
 * process, compares what it received with Redis' count. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "link_int.h"

/* In-flight deliveries counted before Redis answered are read by then. */
#define USEQ_CHECK_MS 200

static struct clink_useq_ent *
useq_find(struct clink *c, const char *src, bool create)
{
	struct clink_useq *t = c->useq;

	for (uint32_t i = 0; i < t->n; i++)
		if (strcmp(t->e[i].src, src) == 0)
			return &t->e[i];
	if (!create || t->n == CLINK_USEQ_MAX)
		return NULL;
	struct clink_useq_ent *e = &t->e[t->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->src, sizeof(e->src), "%s", src);
	return e;
}

static void
useq_lost(struct clink *c, const char *src, uint64_t missed, const char *how)
{
	c->st.lost += missed;
	log_warnx("cluster: %" PRIu64 " message(s) to this node's users from "
		  "%s lost (%s); resynchronising",
		  missed, src, how);
	if (c->h.on_loss)
		c->h.on_loss(c->arg, src, missed);
}

void
useq_on_message(struct clink *c, const char *src, uint64_t seq)
{
	struct clink_useq_ent *e = useq_find(c, src, true);

	if (e == NULL || seq == 0)
		return;
	if (e->last && seq > e->last + 1)
		useq_lost(c, src, seq - e->last - 1, "a gap in its numbers");
	e->last = seq; /* lower: Redis' count started again */
	if (e->expect <= seq)
		e->expect = 0;
}

void
useq_forget(struct clink *c, const char *who)
{
	struct clink_useq *t = c->useq;

	for (uint32_t i = 0; i < t->n;)
		if (strcmp(t->e[i].src, who) == 0)
			t->e[i] = t->e[--t->n];
		else
			i++;
}

/* What Redis counted and was not received meanwhile is lost. */
static void
useq_check(struct clink *c, uint64_t gen)
{
	struct clink_useq *t = c->useq;

	if (gen != c->gen)
		return;
	for (uint32_t i = 0; i < t->n; i++) {
		struct clink_useq_ent *e = &t->e[i];
		if (e->expect > e->last)
			useq_lost(c, e->src, e->expect - e->last,
				  "published while this node was not "
				  "listening");
		if (e->expect > e->last)
			e->last = e->expect;
		e->expect = 0;
	}
}

static void
useq_counts(void *arg, long long res, const redisReply *r)
{
	struct clink *c = arg;

	if (res < 0 || r == NULL || r->type != REDIS_REPLY_ARRAY || c->freed)
		return;
	for (uint32_t i = 0; i < c->useq->n; i++)
		c->useq->e[i].counted = false;
	for (size_t i = 0; i + 2 <= r->elements; i += 2) {
		const redisReply *src = r->element[i], *n = r->element[i + 1];
		if (src->type != REDIS_REPLY_STRING ||
		    n->type != REDIS_REPLY_STRING)
			continue;
		uint64_t count = strtoull(n->str, NULL, 10);
		struct clink_useq_ent *e = useq_find(c, src->str, false);
		if (e == NULL && (e = useq_find(c, src->str, true)) != NULL)
			e->last = count; /* a sender new to us: from now on */
		else if (e && e->last < count)
			e->expect = count;
		if (e)
			e->counted = true;
	}
	/* senders Redis has no count of were reaped meanwhile */
	for (uint32_t i = 0; i < c->useq->n;)
		if (!c->useq->e[i].counted)
			c->useq->e[i] = c->useq->e[--c->useq->n];
		else
			i++;
	link_timer(c, USEQ_CHECK_MS, useq_check);
}

void
useq_ready(struct clink *c)
{
	struct clink_useq *t = c->useq;

	if (strcmp(t->epoch, c->epoch) != 0) {
		/* Redis restarted empty (or never seen): counts start over */
		t->n = 0;
		snprintf(t->epoch, sizeof(t->epoch), "%s", c->epoch);
	}
	if (clink_query(c, useq_counts, c, "HGETALL fc:useq:%s", c->o.node) < 0)
		log_debug("cluster: cannot read the delivery counts");
}
