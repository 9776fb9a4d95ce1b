/* FILE across nodes, store and forward like within a node. The sender's
 * worker hands its link the stored spool file (FR_FILE_OFFER with the
 * descriptor) as it would hand it to the receiver's worker; the link sends
 * the offer to the receiver's node, whose link makes a spool file of its
 * own, takes the bytes in chunks of the window the receiving link grants
 * (credit as chunks are on its disk, so Redis and both links hold at most
 * XFER_WINDOW chunks per transfer whatever the size), and then hands that
 * file to the receiver's worker. The worker's delivered/failed result
 * travels back and becomes the sender's 714. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/log.h"
#include "../worker/spool.h"
#include "proc.h"

#define XFER_CHUNK (60 * 1024)
#define XFER_WINDOW 8

/* The first field matches struct xev's kind (relay.c tells them apart);
 * id is the origin link's transfer id, from names the node that sends. */
struct xfile {
	uint16_t kind; /* XEV_FILE */
	uint16_t
		type; /* FR_FILE_OFFER, _CREDIT, _DATA, _END (abort), _RESULT */
	uint32_t id;
	char from[CLINK_NODE_SZ];
	char target[REG_NAME_SZ];
	uint32_t chunks; /* credit */
	struct file_offer_body offer;
	struct file_end_body end;
};

struct xfer {
	struct xfer *next;
	bool out;        /* the sender is ours */
	bool handed;     /* in: the file is with the receiver's worker */
	uint16_t worker; /* the local worker (sender's or receiver's) */
	uint32_t wid;    /* that worker's transfer id (in: ours) */
	uint32_t id;     /* the origin link's id for this transfer */
	char peer[CLINK_NODE_SZ]; /* the far node; out: known once accepted */
	int fd;                   /* the spool file, -1 once done with */
	uint64_t size, off;
	uint32_t credit;
	struct file_offer_body offer; /* in: for the receiver's worker */
};

static void xfer_in_complete(struct lproc *p, struct xfer *x);

static struct xfer *xfers;
static uint32_t next_id;
static char chunk[sizeof(struct xfile) + XFER_CHUNK];

/* Ours (out): by our id. Theirs: by the origin's id and node. */
static struct xfer *
xfer_find_out(uint32_t id)
{
	for (struct xfer *x = xfers; x; x = x->next)
		if (x->out && x->id == id)
			return x;
	return NULL;
}

static struct xfer *
xfer_find_in(uint32_t id, const char *peer)
{
	for (struct xfer *x = xfers; x; x = x->next)
		if (!x->out && x->id == id && strcmp(x->peer, peer) == 0)
			return x;
	return NULL;
}

static struct xfer *
xfer_by_wid(bool out, uint16_t worker, uint32_t wid)
{
	for (struct xfer *x = xfers; x; x = x->next)
		if (x->out == out && x->worker == worker && x->wid == wid)
			return x;
	return NULL;
}

/* The spool file goes: closed, its bytes given back to the quota. */
static void
xfer_drop_file(struct lproc *p, struct xfer *x)
{
	if (x->fd < 0)
		return;
	spool_close(x->fd);
	spool_release(spool_daemon(), p->idx, x->size);
	x->fd = -1;
}

static void
xfer_free(struct lproc *p, struct xfer *x)
{
	for (struct xfer **pp = &xfers; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	xfer_drop_file(p, x);
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
	x->fd = -1;
	x->next = xfers;
	xfers = x;
	p->board->files_active++;
	return x;
}

static void
xfer_result_to(struct lproc *p, uint16_t worker, uint32_t wid, bool ok,
	       const char *why)
{
	struct file_end_body e = {.ok = ok};

	snprintf(e.why, sizeof(e.why), "%s", why);
	lproc_send(p, worker, FR_FILE_RESULT, wid, &e, sizeof(e), NULL, 0);
}

/* To the far link: the header, then a chunk's bytes (already in place
 * after the header in `chunk` when len > 0). */
static int
xfer_to_peer(struct lproc *p, const struct xfer *x, struct xfile *m, size_t len)
{
	m->kind = XEV_FILE;
	m->id = x->id;
	snprintf(m->from, sizeof(m->from), "%s", p->cfg->node_id);
	memcpy(chunk, m, sizeof(*m));
	return clink_publish_node(p->cl, x->peer, chunk, sizeof(*m) + len);
}

/* ---- the sending node ---- */

struct xfer_ctx {
	struct lproc *p;
	uint32_t id;
};

static void
xfer_offered(void *arg, long long res, const struct redisReply *r)
{
	struct xfer_ctx *cx = arg;
	struct xfer *x = xfer_find_out(cx->id);

	(void)r;
	if (x && res != 1) {
		xfer_result_to(cx->p, x->worker, x->wid, false,
			       res == 0 ? "receiver gone"
					: "cluster unavailable");
		xfer_free(cx->p, x);
	}
	free(cx);
}

static void
xfer_out_offer(struct lproc *p, const struct frame *f)
{
	struct xfile m = {.type = FR_FILE_OFFER};
	struct xfer *x = xfer_new(p, true, f->hdr.src_worker);
	struct xfer_ctx *cx = malloc(sizeof(*cx));

	memcpy(&m.offer, f->payload, sizeof(m.offer));
	const char *to =
		mirror_name(&p->mir, m.offer.target_slot, m.offer.target_conn);
	if (x == NULL || cx == NULL || to == NULL) {
		xfer_result_to(p, f->hdr.src_worker, f->hdr.id, false,
			       "receiver gone");
		spool_close(f->fd);
		if (x)
			xfer_free(p, x);
		free(cx);
		return;
	}
	/* the sender's worker gave its reservation back with the file */
	spool_charge(spool_daemon(), p->idx, m.offer.size);
	x->fd = f->fd;
	x->wid = f->hdr.id;
	x->id = ++next_id;
	x->size = m.offer.size;
	snprintf(m.target, sizeof(m.target), "%s", to);
	m.kind = XEV_FILE;
	m.id = x->id;
	snprintf(m.from, sizeof(m.from), "%s", p->cfg->node_id);
	*cx = (struct xfer_ctx){p, x->id};
	if (clink_send_user(p->cl, to, &m, sizeof(m), xfer_offered, cx) < 0) {
		xfer_result_to(p, x->worker, x->wid, false,
			       "cluster unavailable");
		xfer_free(p, x);
		free(cx);
	}
}

static bool
xfer_send_chunk(struct lproc *p, struct xfer *x)
{
	struct xfile m = {.type = FR_FILE_DATA};
	size_t n = x->size - x->off < XFER_CHUNK ? (size_t)(x->size - x->off)
						 : XFER_CHUNK;
	ssize_t k = pread(x->fd, chunk + sizeof(m), n, (off_t)x->off);

	if (k != (ssize_t)n) {
		log_warn("cluster: file read failed id=%u", x->id);
		return false;
	}
	if (xfer_to_peer(p, x, &m, n) < 0)
		return false;
	x->off += n;
	x->credit--;
	return true;
}

/* Chunks as far as the credit goes; the last one frees our copy. */
static void
xfer_pump(struct lproc *p, struct xfer *x)
{
	while (x->fd >= 0 && x->credit > 0 && x->off < x->size) {
		if (xfer_send_chunk(p, x))
			continue;
		struct xfile abort = {.type = FR_FILE_END};
		xfer_to_peer(p, x, &abort, 0);
		xfer_result_to(p, x->worker, x->wid, false,
			       "cluster unavailable");
		xfer_free(p, x);
		return;
	}
	if (x->off == x->size)
		xfer_drop_file(p, x); /* all sent: the far node has it */
}

/* Credit (the first names the receiving node) or the result. */
static void
xfer_out_reply(struct lproc *p, const struct xfile *m)
{
	struct xfer *x = xfer_find_out(m->id);

	if (x == NULL)
		return;
	if (x->peer[0] == '\0')
		snprintf(x->peer, sizeof(x->peer), "%s", m->from);
	if (m->type == FR_FILE_CREDIT) {
		x->credit += m->chunks;
		xfer_pump(p, x);
		return;
	}
	lproc_send(p, x->worker, FR_FILE_RESULT, x->wid, &m->end,
		   sizeof(m->end), NULL, 0);
	xfer_free(p, x);
}

/* ---- the receiving node ---- */

static void
xfer_refuse(struct lproc *p, const struct xfile *m, const char *why)
{
	struct xfer tmp = {.id = m->id};
	struct xfile r = {.type = FR_FILE_RESULT};

	snprintf(tmp.peer, sizeof(tmp.peer), "%s", m->from);
	snprintf(r.end.why, sizeof(r.end.why), "%s", why);
	xfer_to_peer(p, &tmp, &r, 0);
}

static void
xfer_in_offer(struct lproc *p, const struct xfile *m)
{
	struct reg_user_view t;
	struct spool *s = spool_daemon();
	struct xfer *x;

	if (registry_lookup(p->reg, m->target, strlen(m->target), &t) < 0 ||
	    t.worker >= p->nworkers) {
		xfer_refuse(p, m, "receiver gone");
		return;
	}
	if (s == NULL || !spool_reserve(s, p->idx, m->offer.size)) {
		xfer_refuse(p, m, "spool full");
		return;
	}
	int fd = spool_open(s, m->offer.size);
	if (fd < 0 || (x = xfer_new(p, false, t.worker)) == NULL) {
		if (fd >= 0)
			spool_close(fd);
		spool_release(s, p->idx, m->offer.size);
		xfer_refuse(p, m, "spool full");
		return;
	}
	x->fd = fd;
	x->id = m->id;
	x->wid = ++next_id;
	x->size = m->offer.size;
	x->offer = m->offer;
	x->offer.target_slot = t.slot;
	x->offer.target_conn = t.conn_id;
	snprintf(x->peer, sizeof(x->peer), "%s", m->from);
	struct xfile accept = {.type = FR_FILE_CREDIT, .chunks = XFER_WINDOW};
	xfer_to_peer(p, x, &accept, 0);
	if (x->size == 0)
		xfer_in_complete(p, x);
}

/* Every byte is on our disk: the receiver's worker takes the file. */
static void
xfer_in_complete(struct lproc *p, struct xfer *x)
{
	lproc_send_fd(p, x->worker, FR_FILE_OFFER, x->wid, &x->offer,
		      sizeof(x->offer), x->fd);
	xfer_drop_file(p, x); /* the worker holds it (and charges it) now */
	x->handed = true;
}

static void
xfer_in_data(struct lproc *p, const struct xfile *m, const char *data,
	     size_t len)
{
	struct xfer *x = xfer_find_in(m->id, m->from);

	if (x == NULL || x->handed)
		return;
	if (m->type == FR_FILE_END || len > x->size - x->off ||
	    pwrite(x->fd, data, len, (off_t)x->off) != (ssize_t)len) {
		if (m->type != FR_FILE_END) {
			log_warn("cluster: file write failed id=%u", x->id);
			xfer_refuse(p, m, "receiver's spool failed");
		}
		xfer_free(p, x);
		return;
	}
	x->off += len;
	if (x->off == x->size) {
		xfer_in_complete(p, x);
		return;
	}
	struct xfile credit = {.type = FR_FILE_CREDIT, .chunks = 1};
	xfer_to_peer(p, x, &credit, 0);
}

/* The receiver's worker's result, back to the sending node. */
static void
xfer_in_result(struct lproc *p, const struct frame *f)
{
	struct xfer *x = xfer_by_wid(false, f->hdr.src_worker, f->hdr.id);
	struct xfile m = {.type = FR_FILE_RESULT};

	if (x == NULL)
		return;
	memcpy(&m.end, f->payload, sizeof(m.end));
	xfer_to_peer(p, x, &m, 0);
	xfer_free(p, x);
}

void
xfer_from_worker(struct lproc *p, const struct frame *f)
{
	if (f->hdr.type == FR_FILE_OFFER)
		xfer_out_offer(p, f);
	else if (f->hdr.type == FR_FILE_RESULT)
		xfer_in_result(p, f);
	else if (f->fd >= 0)
		close(f->fd);
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
	case FR_FILE_OFFER:
		xfer_in_offer(p, &m);
		break;
	case FR_FILE_CREDIT:
	case FR_FILE_RESULT:
		xfer_out_reply(p, &m);
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

/* A node died (node NULL: Redis was lost): transfers with it fail. */
void
xfer_node_down(struct lproc *p, const char *node)
{
	for (struct xfer *x = xfers, *next; x; x = next) {
		next = x->next;
		/* an offer not accepted yet: its delivery's reply settles it */
		if (node && strcmp(x->peer, node) != 0)
			continue;
		if (x->out)
			xfer_result_to(p, x->worker, x->wid, false,
				       "receiver gone");
		else if (x->handed)
			continue; /* the worker delivers it anyway */
		xfer_free(p, x);
	}
}

/* A local worker died: its sender is gone, or its receiver. */
void
xfer_peer_lost(struct lproc *p, int worker)
{
	for (struct xfer *x = xfers, *next; x; x = next) {
		next = x->next;
		if (x->worker != worker)
			continue;
		struct xfile m = {.type = x->out ? FR_FILE_END
						 : FR_FILE_RESULT};
		snprintf(m.end.why, sizeof(m.end.why), "receiver gone");
		if (x->peer[0] && (!x->out || x->fd >= 0))
			xfer_to_peer(p, x, &m, 0);
		xfer_free(p, x);
	}
}
