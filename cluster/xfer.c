/* FILE across nodes. The link stands in for the far side: to a sending
 * worker it is the receiver's worker, to a receiving worker it is the
 * sender's, and between the two links every file frame (offer, data,
 * credit, end, result) travels as one message on the far node's channel.
 * The link holds no data: the receiver's credit still paces the sender,
 * so a transfer keeps at most its window of chunks in Redis and on both
 * nodes whatever the file's size. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "proc.h"

/* The first field matches struct xev's kind (relay.c tells them apart);
 * id is the origin link's transfer id, from names the sending node. */
struct xfile {
	uint16_t kind; /* XEV_FILE */
	uint16_t type; /* FR_FILE_* */
	uint32_t id;   /* the transfer id of the node that receives this */
	char from[CLINK_NODE_SZ];
	char target[REG_NAME_SZ];
	uint32_t chunks;
	struct file_offer_body offer;
	struct file_end_body end;
};

struct xfer {
	struct xfer *next;
	bool out;        /* the sender is local */
	uint16_t worker; /* the local worker (sender's or receiver's) */
	uint32_t wid;    /* its transfer id (out: the worker's; in: ours) */
	uint32_t lid;    /* our id, what the far link calls us by */
	uint32_t rid;    /* the far link's id (in: the origin's id) */
	char peer[CLINK_NODE_SZ]; /* the far node; out: known once accepted */
	bool end_held;            /* out: the END came before the accept */
	struct file_end_body end;
};

static struct xfer *xfers;
static uint32_t next_lid;

static struct xfer *
xfer_find(bool out, uint16_t worker, uint32_t id, const char *peer)
{
	for (struct xfer *x = xfers; x; x = x->next) {
		if (x->out != out)
			continue;
		if (peer ? strcmp(x->peer, peer) == 0 && x->rid == id
			 : (worker == UINT16_MAX
				    ? x->lid == id
				    : x->worker == worker && x->wid == id))
			return x;
	}
	return NULL;
}

static void
xfer_free(struct lproc *p, struct xfer *x)
{
	for (struct xfer **pp = &xfers; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	p->board->files_active--;
	free(x);
}

static struct xfer *
xfer_new(struct lproc *p, bool out, uint16_t worker)
{
	struct xfer *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return NULL;
	x->out = out;
	x->worker = worker;
	x->lid = ++next_lid;
	x->next = xfers;
	xfers = x;
	p->board->files_active++;
	return x;
}

static void
xfer_fail_local(struct lproc *p, const struct xfer *x, const char *why)
{
	struct file_end_body e = {.ok = 0};

	snprintf(e.why, sizeof(e.why), "%s", why);
	lproc_send(p, x->worker, x->out ? FR_FILE_RESULT : FR_FILE_END, x->wid,
		   &e, sizeof(e), NULL, 0);
}

/* To the far link: header, then data (chunks only). */
static int
xfer_to_peer(struct lproc *p, const struct xfer *x, struct xfile *m,
	     const void *data, size_t len)
{
	char buf[sizeof(*m) + FRAME_MAX_PAYLOAD];

	m->kind = XEV_FILE;
	m->id = x->rid;
	snprintf(m->from, sizeof(m->from), "%s", p->cfg->node_id);
	memcpy(buf, m, sizeof(*m));
	if (len)
		memcpy(buf + sizeof(*m), data, len);
	return clink_publish_node(p->cl, x->peer, buf, sizeof(*m) + len);
}

/* ---- frames from a local worker ---- */

static void
xfer_delivered(void *arg, long long res, const struct redisReply *r)
{
	struct xfer_ctx {
		struct lproc *p;
		uint32_t lid;
	} *cx = arg;
	struct xfer *x = xfer_find(true, UINT16_MAX, cx->lid, NULL);

	(void)r;
	if (x && res != 1) {
		xfer_fail_local(cx->p, x, "receiver gone");
		xfer_free(cx->p, x);
	}
	free(cx);
}

static void
xfer_out_offer(struct lproc *p, const struct frame *f)
{
	struct xfile m = {.type = FR_FILE_OFFER};
	struct xfer *x = xfer_new(p, true, f->hdr.src_worker);
	struct {
		struct lproc *p;
		uint32_t lid;
	} *cx = malloc(sizeof(*cx));

	memcpy(&m.offer, f->payload, sizeof(m.offer));
	const char *to =
		mirror_name(&p->mir, m.offer.target_slot, m.offer.target_conn);
	if (x == NULL || cx == NULL || to == NULL) {
		struct xfer tmp = {.out = true,
				   .worker = f->hdr.src_worker,
				   .wid = f->hdr.id};
		xfer_fail_local(p, &tmp, "receiver gone");
		if (x)
			xfer_free(p, x);
		free(cx);
		return;
	}
	x->wid = f->hdr.id;
	x->rid = x->lid; /* both links name a transfer by the origin's id */
	snprintf(m.target, sizeof(m.target), "%s", to);
	m.kind = XEV_FILE;
	m.id = x->lid; /* the far link answers with our id */
	snprintf(m.from, sizeof(m.from), "%s", p->cfg->node_id);
	cx->p = p;
	cx->lid = x->lid;
	if (clink_send_user(p->cl, to, &m, sizeof(m), xfer_delivered, cx) < 0) {
		xfer_fail_local(p, x, "cluster unavailable");
		xfer_free(p, x);
		free(cx);
	}
}

static void
xfer_out_frame(struct lproc *p, const struct frame *f)
{
	struct xfer *x = xfer_find(true, f->hdr.src_worker, f->hdr.id, NULL);
	struct xfile m = {.type = f->hdr.type};

	if (x == NULL)
		return; /* failed meanwhile */
	if (f->hdr.type == FR_FILE_END)
		memcpy(&m.end, f->payload, sizeof(m.end));
	if (x->peer[0] == '\0') {
		/* no data before credit; an END (a 0-byte file, an abort)
		 * waits for the far link's accept, which names its node */
		if (f->hdr.type == FR_FILE_END) {
			x->end_held = true;
			x->end = m.end;
		}
		return;
	}
	size_t n = f->hdr.type == FR_FILE_DATA ? f->hdr.len : 0;
	if (xfer_to_peer(p, x, &m, f->payload, n) < 0) {
		xfer_fail_local(p, x, "cluster queue full");
		struct xfile abort = {.type = FR_FILE_END};
		snprintf(abort.end.why, sizeof(abort.end.why), "sender gone");
		xfer_to_peer(p, x, &abort, NULL, 0);
		xfer_free(p, x);
		return;
	}
	if (f->hdr.type == FR_FILE_END && !m.end.ok)
		xfer_free(p, x);
}

/* The receiving worker's credit and result, back to the origin. */
static void
xfer_in_frame(struct lproc *p, const struct frame *f)
{
	struct xfer *x = xfer_find(false, UINT16_MAX, f->hdr.id, NULL);
	struct xfile m = {.type = f->hdr.type};

	if (x == NULL)
		return;
	if (f->hdr.type == FR_FILE_CREDIT)
		memcpy(&m.chunks, f->payload, sizeof(m.chunks));
	else
		memcpy(&m.end, f->payload, sizeof(m.end));
	xfer_to_peer(p, x, &m, NULL, 0);
	if (f->hdr.type == FR_FILE_RESULT)
		xfer_free(p, x);
}

void
xfer_from_worker(struct lproc *p, const struct frame *f)
{
	switch (f->hdr.type) {
	case FR_FILE_OFFER:
		xfer_out_offer(p, f);
		break;
	case FR_FILE_DATA:
	case FR_FILE_END:
		xfer_out_frame(p, f);
		break;
	case FR_FILE_CREDIT:
	case FR_FILE_RESULT:
		xfer_in_frame(p, f);
		break;
	default:
		break;
	}
}

/* ---- messages from the far link ---- */

static void
xfer_in_offer(struct lproc *p, const struct xfile *m)
{
	struct reg_user_view t;
	struct xfer tmp = {.rid = m->id};

	snprintf(tmp.peer, sizeof(tmp.peer), "%s", m->from);
	if (registry_lookup(p->reg, m->target, strlen(m->target), &t) < 0 ||
	    t.worker >= p->nworkers) {
		struct xfile r = {.type = FR_FILE_RESULT};
		snprintf(r.end.why, sizeof(r.end.why), "receiver gone");
		xfer_to_peer(p, &tmp, &r, NULL, 0);
		return;
	}
	struct xfer *x = xfer_new(p, false, t.worker);
	if (x == NULL)
		return;
	x->rid = m->id;
	x->wid = x->lid;
	memcpy(x->peer, tmp.peer, sizeof(x->peer));
	struct file_offer_body o = m->offer;
	o.target_slot = t.slot;
	o.target_conn = t.conn_id;
	lproc_send(p, t.worker, FR_FILE_OFFER, x->wid, &o, sizeof(o), NULL, 0);
	/* the accept names our node to the origin before any credit */
	struct xfile accept = {.type = FR_FILE_OFFER};
	xfer_to_peer(p, x, &accept, NULL, 0);
}

/* From the far link to an offer of ours: accept, credit or result. */
static void
xfer_in_reply(struct lproc *p, const struct xfile *m)
{
	struct xfer *x = xfer_find(true, UINT16_MAX, m->id, NULL);

	if (x == NULL)
		return;
	if (x->peer[0] == '\0')
		snprintf(x->peer, sizeof(x->peer), "%s", m->from);
	if (m->type == FR_FILE_OFFER) { /* accepted */
		if (x->end_held) {
			struct xfile e = {.type = FR_FILE_END, .end = x->end};
			x->end_held = false;
			xfer_to_peer(p, x, &e, NULL, 0);
		}
		return;
	}
	if (m->type == FR_FILE_CREDIT) {
		struct file_credit_body cb = {m->chunks};
		lproc_send(p, x->worker, FR_FILE_CREDIT, x->wid, &cb,
			   sizeof(cb), NULL, 0);
		return;
	}
	lproc_send(p, x->worker, FR_FILE_RESULT, x->wid, &m->end,
		   sizeof(m->end), NULL, 0);
	xfer_free(p, x);
}

static void
xfer_in_data(struct lproc *p, const struct xfile *m, const char *data,
	     size_t len)
{
	struct xfer *x = xfer_find(false, 0, m->id, m->from);

	if (x == NULL)
		return;
	if (m->type == FR_FILE_DATA) {
		lproc_send(p, x->worker, FR_FILE_DATA, x->wid, data, len, NULL,
			   0);
		return;
	}
	lproc_send(p, x->worker, FR_FILE_END, x->wid, &m->end, sizeof(m->end),
		   NULL, 0);
	if (!m->end.ok)
		xfer_free(p, x);
}

void
xfer_from_bus(struct lproc *p, const char *data, size_t len)
{
	struct xfile m;

	if (len < sizeof(m))
		return;
	memcpy(&m, data, sizeof(m));
	if (!memchr(m.from, 0, sizeof(m.from)) ||
	    !memchr(m.target, 0, sizeof(m.target)))
		return;
	switch (m.type) {
	case FR_FILE_OFFER: /* an offer to us, or the accept of ours */
		if (xfer_find(true, UINT16_MAX, m.id, NULL) &&
		    m.target[0] == '\0')
			xfer_in_reply(p, &m);
		else
			xfer_in_offer(p, &m);
		break;
	case FR_FILE_CREDIT:
	case FR_FILE_RESULT:
		xfer_in_reply(p, &m);
		break;
	case FR_FILE_DATA:
	case FR_FILE_END:
		xfer_in_data(p, &m, data + sizeof(m), len - sizeof(m));
		break;
	default:
		break;
	}
}

/* ---- failures ---- */

/* A node died (or this link lost Redis: node NULL): every transfer with
 * it fails on our side. */
void
xfer_node_down(struct lproc *p, const char *node)
{
	for (struct xfer *x = xfers, *next; x; x = next) {
		next = x->next;
		/* an offer not answered yet: its node is unknown; the
		 * delivery's reply (or Redis' loss) settles it */
		if (node && strcmp(x->peer, node) != 0)
			continue;
		xfer_fail_local(p, x, x->out ? "receiver gone" : "sender gone");
		xfer_free(p, x);
	}
}

/* A local worker died: the far side learns it, our records go. */
void
xfer_peer_lost(struct lproc *p, int worker)
{
	for (struct xfer *x = xfers, *next; x; x = next) {
		next = x->next;
		if (x->worker != worker)
			continue;
		struct xfile m = {.type = x->out ? FR_FILE_END
						 : FR_FILE_RESULT};
		snprintf(m.end.why, sizeof(m.end.why), "%s",
			 x->out ? "sender gone" : "receiver gone");
		if (x->peer[0])
			xfer_to_peer(p, x, &m, NULL, 0);
		xfer_free(p, x);
	}
}
