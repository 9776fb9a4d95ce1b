/* The mesh: channels to the other workers. Channels are always read, so two
 * workers never deadlock on each other; a channel that backs up makes the
 * worker stop reading its clients instead (bgpd-style XOFF). */
#include "peer.h"

#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/util.h"

#define FRAMES_PER_EVENT 256

static void
peer_update(struct peer *p)
{
	bool want = chan_pending(&p->ch);

	if (want == p->want_out || p->ch.fd < 0)
		return;
	p->want_out = want;
	loop_mod(p->m->loop, p->ch.fd, EPOLLIN | (want ? EPOLLOUT : 0), &p->h);
}

static int
peer_put(struct mesh *m, struct peer *p, uint16_t type, uint32_t id,
	 const void *a, size_t alen, const void *b, size_t blen, int fd)
{
	if (chan_send(&p->ch, type, id, a, alen, b, blen, fd) != IO_DONE) {
		mesh_lost(m, (int)(p - m->peers));
		return -1;
	}
	peer_update(p);
	return 0;
}

/* The events waiting for p go out as one frame: 0, or -1 (p was lost). */
static int
peer_send_batch(struct mesh *m, struct peer *p)
{
	uint32_t len = p->batch_len;

	if (len == 0)
		return 0;
	p->batch_len = 0;
	return peer_put(m, p, FR_EVENTS, 0, p->batch, len, NULL, 0, -1);
}

static struct peer *
mesh_peer(struct mesh *m, int to)
{
	if (to < 0 || to >= m->n || !m->peers[to].up)
		return NULL;
	return &m->peers[to];
}

static int
mesh_put(struct mesh *m, int to, uint16_t type, uint32_t id, const void *a,
	 size_t alen, const void *b, size_t blen, int fd)
{
	struct peer *p = mesh_peer(m, to);

	if (p == NULL || peer_send_batch(m, p) < 0)
		return -1;
	return peer_put(m, p, type, id, a, alen, b, blen, fd);
}

int
mesh_send_event(struct mesh *m, int to, const void *a, size_t alen,
		const void *b, size_t blen)
{
	struct peer *p = mesh_peer(m, to);
	size_t need = EV_REC_SIZE(alen + blen);

	if (p == NULL)
		return -1;
	if (p->batch == NULL || need > FRAME_MAX_PAYLOAD)
		return mesh_put(m, to, FR_EVENT, 0, a, alen, b, blen, -1);
	if (need > FRAME_MAX_PAYLOAD - p->batch_len &&
	    peer_send_batch(m, p) < 0)
		return -1;
	struct ev_rec rec = {.len = (uint32_t)(alen + blen), .zero = 0};
	char *at = p->batch + p->batch_len;
	memcpy(at, &rec, sizeof(rec));
	memcpy(at + sizeof(rec), a, alen);
	if (blen > 0)
		memcpy(at + sizeof(rec) + alen, b, blen);
	memset(at + sizeof(rec) + alen + blen, 0,
	       need - sizeof(rec) - alen - blen);
	p->batch_len += (uint32_t)need;
	return 0;
}

int
mesh_send(struct mesh *m, int to, uint16_t type, uint32_t id, const void *a,
	  size_t alen, const void *b, size_t blen)
{
	return mesh_put(m, to, type, id, a, alen, b, blen, -1);
}

int
mesh_send_fd(struct mesh *m, int to, uint16_t type, uint32_t id, const void *a,
	     size_t alen, int fd)
{
	return mesh_put(m, to, type, id, a, alen, NULL, 0, fd);
}

void
mesh_lost(struct mesh *m, int idx)
{
	struct peer *p = &m->peers[idx];

	if (!p->up)
		return;
	log_info("peer down worker=%d", idx);
	p->batch_len = 0;
	loop_del(m->loop, p->ch.fd);
	chan_close(&p->ch);
	p->up = false;
	p->want_out = false;
	m->hooks->lost(m->arg, idx);
}

/* A frame to the hooks; the events of an FR_EVENTS one by one, as FR_EVENT
 * frames (a peer lost meanwhile gets none of the rest). */
static void
peer_deliver(struct mesh *m, struct peer *p, const struct frame *f)
{
	struct frame ev;
	size_t off = 0;

	if (f->hdr.type != FR_EVENTS) {
		m->hooks->frame(m->arg, f);
		return;
	}
	while (p->up && frame_events_next(f, &off, &ev))
		m->hooks->frame(m->arg, &ev);
}

static void
peer_on_event(struct handler *h, uint32_t events)
{
	struct peer *p = (struct peer *)h;
	struct mesh *m = p->m;
	struct frame f;

	/* lost earlier in this same batch of events */
	if (!p->up || p->ch.fd < 0)
		return;
	if ((events & EPOLLOUT) && chan_flush(&p->ch) == IO_CLOSED) {
		mesh_lost(m, p->idx);
		return;
	}
	peer_update(p);
	for (int i = 0; i < FRAMES_PER_EVENT && p->up; i++) {
		enum io_result rc = chan_recv(&p->ch, &f);
		if (rc == IO_AGAIN)
			return;
		if (rc == IO_CLOSED || p->ch.bad_frames > 1) {
			mesh_lost(m, p->idx);
			return;
		}
		if (rc == IO_DONE && f.hdr.src_worker == p->idx)
			peer_deliver(m, p, &f);
		if ((i & 63) == 63)
			__atomic_store_n(&m->board->heartbeat_ms, now_ms(),
					 __ATOMIC_RELAXED);
	}
}

static int
peer_open(struct mesh *m, struct peer *p, int idx, int fd)
{
	if (chan_open(&p->ch, fd) < 0) {
		close(fd);
		return -1;
	}
	if (p->batch == NULL)
		p->batch = malloc(FRAME_MAX_PAYLOAD);
	p->batch_len = 0;
	p->h.fn = peer_on_event;
	p->m = m;
	p->idx = (uint16_t)idx;
	p->want_out = false;
	if (loop_add(m->loop, fd, EPOLLIN, &p->h) < 0) {
		chan_close(&p->ch);
		return -1;
	}
	p->up = true;
	return 0;
}

void
mesh_attach(struct mesh *m, int idx, int gen, int fd)
{
	struct peer *p = &m->peers[idx];

	if (p->up)
		mesh_lost(m, idx);
	fd_set_nonblock(fd);
	if (peer_open(m, p, idx, fd) == 0)
		p->gen = (uint16_t)gen;
}

/* Our own loopback: frames to ourselves take the same path as to a peer;
 * a second peer record reads the other end. */
static int
mesh_attach_self(struct mesh *m)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0, sv) < 0)
		return -1;
	int sz = 4 << 20;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	mesh_attach(m, m->idx, m->gen, sv[0]);
	return peer_open(m, &m->self_rx, m->idx, sv[1]);
}

int
mesh_init(struct mesh *m, struct loop *l, int idx, int gen, int n,
	  struct reg_worker *board, const struct mesh_hooks *h, void *arg)
{
	memset(m, 0, sizeof(*m));
	m->loop = l;
	m->idx = (uint16_t)idx;
	m->gen = (uint16_t)gen;
	m->n = n;
	m->board = board;
	m->hooks = h;
	m->arg = arg;
	for (int i = 0; i < REG_MAX_WORKERS; i++)
		m->peers[i].ch.fd = -1;
	return mesh_attach_self(m);
}

static void
mesh_check_xoff(struct mesh *m)
{
	size_t most = 0;

	for (int i = 0; i < m->n; i++)
		if (m->peers[i].up && m->peers[i].ch.queued_bytes > most)
			most = m->peers[i].ch.queued_bytes;
	bool on = m->xoff ? most >= PEER_LOW_WATER : most > PEER_HIGH_WATER;
	if (on == m->xoff)
		return;
	m->xoff = on;
	log_info("%s: peer channel %s", on ? "XOFF" : "XON",
		 on ? "above high water, pausing client input" : "drained");
	m->hooks->xoff(m->arg, on);
}

void
mesh_flush(struct mesh *m)
{
	for (int i = 0; i < m->n; i++) {
		struct peer *p = &m->peers[i];
		if (!p->up || peer_send_batch(m, p) < 0 ||
		    !chan_pending(&p->ch))
			continue;
		if (chan_flush(&p->ch) == IO_CLOSED)
			mesh_lost(m, i);
		else
			peer_update(p);
	}
	mesh_check_xoff(m);
}
