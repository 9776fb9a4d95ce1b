/* The link process's loop: its control channel from the master, one mesh
 * channel per worker (PEER_UP like any worker), the Redis link, and a
 * heartbeat on its scoreboard slot for the master's watchdog. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <signal.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/util.h"
#include "proc.h"

#define LEAVE_WAIT_MS 1000

static void
peer_update(struct lpeer *pe)
{
	bool want = chan_pending(&pe->ch);

	if (want == pe->want_out || pe->ch.fd < 0)
		return;
	pe->want_out = want;
	loop_mod(pe->p->loop, pe->ch.fd, EPOLLIN | (want ? EPOLLOUT : 0),
		 &pe->h);
}

static void
peer_lost(struct lpeer *pe)
{
	if (!pe->up)
		return;
	xfer_peer_lost(pe->p, pe->idx);
	loop_del(pe->p->loop, pe->ch.fd);
	chan_close(&pe->ch);
	pe->up = false;
	pe->want_out = false;
}

void
lproc_send(struct lproc *p, int k, uint16_t type, uint32_t id, const void *a,
	   size_t alen, const void *b, size_t blen)
{
	if (k < 0 || k >= p->nworkers || !p->peers[k].up)
		return;
	struct lpeer *pe = &p->peers[k];
	if (chan_send(&pe->ch, type, id, a, alen, b, blen, -1) != IO_DONE) {
		log_warnx("cluster: mesh channel to worker %d lost", k);
		peer_lost(pe);
		return;
	}
	peer_update(pe);
}

void
lproc_send_fd(struct lproc *p, int k, uint16_t type, uint32_t id, const void *a,
	      size_t alen, int fd)
{
	if (k < 0 || k >= p->nworkers || !p->peers[k].up)
		return;
	struct lpeer *pe = &p->peers[k];
	if (chan_send(&pe->ch, type, id, a, alen, NULL, 0, fd) != IO_DONE) {
		peer_lost(pe);
		return;
	}
	peer_update(pe);
}

static void
peer_on_event(struct handler *h, uint32_t events)
{
	struct lpeer *pe = (struct lpeer *)h;
	struct frame f;

	if (!pe->up)
		return;
	if ((events & EPOLLOUT) && chan_flush(&pe->ch) == IO_CLOSED) {
		peer_lost(pe);
		return;
	}
	peer_update(pe);
	for (int i = 0; i < 256 && pe->up; i++) {
		int rc = chan_recv(&pe->ch, &f);
		if (rc == IO_AGAIN)
			return;
		if (rc == IO_CLOSED || pe->ch.bad_frames > 1) {
			peer_lost(pe);
			return;
		}
		if (rc == IO_DONE && f.hdr.src_worker == pe->idx)
			relay_from_worker(pe->p, &f);
	}
}

static void
peer_attach(struct lproc *p, const struct peer_body *pb, int fd)
{
	struct lpeer *pe = &p->peers[pb->worker];

	peer_lost(pe);
	fd_set_nonblock(fd);
	if (chan_open(&pe->ch, fd) < 0) {
		close(fd);
		return;
	}
	pe->h.fn = peer_on_event;
	pe->p = p;
	pe->idx = pb->worker;
	pe->gen = pb->gen;
	if (loop_add(p->loop, fd, EPOLLIN, &pe->h) < 0) {
		chan_close(&pe->ch);
		return;
	}
	pe->up = true;
}

/* ---- the master's frames ---- */

static void
lproc_on_ctl_frame(struct lproc *p, const struct frame *f)
{
	struct peer_body pb;

	switch (f->hdr.type) {
	case FR_PEER_UP:
		memcpy(&pb, f->payload, sizeof(pb));
		if (pb.worker >= p->nworkers) {
			close(f->fd);
			break;
		}
		peer_attach(p, &pb, f->fd);
		break;
	case FR_PEER_DOWN:
		memcpy(&pb, f->payload, sizeof(pb));
		if (pb.worker < p->nworkers)
			peer_lost(&p->peers[pb.worker]);
		break;
	case FR_USER_GONE:
		relay_local_gone(p, f);
		break;
	case FR_SHUTDOWN:
		p->stop = true;
		break;
	case FR_REBUILD:
		/* the registry was reset: the mirror is rebuilt from Redis */
		mirror_forget(&p->mir);
		resync_start(p);
		break;
	default:
		break; /* START, RELOAD: nothing to do here */
	}
}

static void
lproc_on_ctl(struct handler *h, uint32_t events)
{
	struct lproc *p =
		(struct lproc *)((char *)h - offsetof(struct lproc, ctl_h));
	struct frame f;

	if (events & EPOLLOUT)
		chan_flush(&p->ctl);
	for (int i = 0; i < 64; i++) {
		int rc = chan_recv(&p->ctl, &f);
		if (rc == IO_AGAIN)
			return;
		if (rc == IO_CLOSED) {
			log_warnx("cluster: the master is gone; exiting");
			p->stop = true;
			return;
		}
		if (rc == IO_DONE)
			lproc_on_ctl_frame(p, &f);
	}
}

/* ---- the link's hooks ---- */

static void
lproc_on_up(void *arg, bool resync)
{
	(void)resync; /* every registration resyncs: it is idempotent */
	resync_start(arg);
}

static void
lproc_on_down(void *arg)
{
	xfer_node_down(arg, NULL);
}

static void
lproc_on_dead(void *arg)
{
	struct lproc *p = arg;

	relay_declared_dead(p);
}

static void
lproc_on_msg(void *arg, const char *src, const char *data, size_t len)
{
	(void)src;
	relay_from_bus(arg, data, len);
}

static void
lproc_on_node_down(void *arg, const char *node, const char *users)
{
	char id[CLINK_NODE_SZ];

	snprintf(id, sizeof(id), "%.*s", (int)strcspn(node, "/"), node);
	xfer_node_down(arg, id);
	relay_node_down(arg, users);
}

static void
lproc_on_loss(void *arg, const char *src, uint64_t missed)
{
	(void)src;
	(void)missed;
	resync_start(arg); /* presence may have changed unseen */
}

static const struct clink_hooks lproc_hooks = {
	.on_up = lproc_on_up,
	.on_down = lproc_on_down,
	.on_dead = lproc_on_dead,
	.on_msg = lproc_on_msg,
	.on_node_down = lproc_on_node_down,
	.on_loss = lproc_on_loss,
};

static void
lproc_heartbeat(void *arg)
{
	struct lproc *p = arg;

	__atomic_store_n(&p->board->heartbeat_ms, now_ms(), __ATOMIC_RELAXED);
	status_update(p);
	loop_timer_add(p->loop, now_ms() + 1000, lproc_heartbeat, p);
}

static void
lproc_rooms_tick(void *arg)
{
	struct lproc *p = arg;

	relay_rooms_scan(p);
	loop_timer_add(p->loop, now_ms() + 200, lproc_rooms_tick, p);
}

static void
lproc_before_sleep(void *arg)
{
	struct lproc *p = arg;

	for (int k = 0; k < p->nworkers; k++) {
		struct lpeer *pe = &p->peers[k];
		if (pe->up && chan_pending(&pe->ch) &&
		    chan_flush(&pe->ch) == IO_CLOSED)
			peer_lost(pe);
		else if (pe->up)
			peer_update(pe);
	}
	if (chan_pending(&p->ctl))
		chan_flush(&p->ctl);
	/* the workers refuse messages to other nodes' users while down */
	__atomic_store_n(&p->board->bus_up, p->cl && clink_is_up(p->cl),
			 __ATOMIC_RELEASE);
}

static int
lproc_setup(struct lproc *p, int ctl_fd, const char *node_id,
	    const char *incarnation)
{
	struct clink_opts o = {.ttl_ms = p->cfg->cluster_ttl_ms,
			       .useq = p->board_cl ? &p->board_cl->useq : NULL};
	char err[256];

	if (cluster_url_parse(p->cfg->cluster, &o.url, err, sizeof(err)) < 0) {
		log_warnx("cluster: %s", err);
		return -1;
	}
	snprintf(o.node, sizeof(o.node), "%s", node_id);
	snprintf(o.incarnation, sizeof(o.incarnation), "%s", incarnation);
	p->loop = loop_new();
	if (p->loop == NULL || chan_open(&p->ctl, ctl_fd) < 0 ||
	    mirror_init(&p->mir, p->reg, p->idx, p->gen) < 0)
		return -1;
	uint32_t nrooms = registry_limits(p->reg)->max_rooms;
	p->room_ann = calloc(nrooms ? nrooms : 1, sizeof(*p->room_ann));
	p->room_seq = calloc(nrooms ? nrooms : 1, sizeof(*p->room_seq));
	if (p->room_ann == NULL || p->room_seq == NULL)
		return -1;
	if (mirror_adopt(&p->mir))
		log_info("cluster: kept %u user(s) of other nodes from the "
			 "previous link process",
			 p->mir.count);
	p->ctl_h.fn = lproc_on_ctl;
	if (loop_add(p->loop, ctl_fd, EPOLLIN, &p->ctl_h) < 0)
		return -1;
	loop_before_sleep(p->loop, lproc_before_sleep, p);
	p->cl = clink_new(p->loop, &o, &lproc_hooks, p);
	return p->cl ? 0 : -1;
}

/* On a clean stop the node leaves the cluster at once (its users are
 * announced gone everywhere) instead of waiting for its TTL. */
static void
lproc_left(void *arg, long long res, const struct redisReply *r)
{
	(void)r;
	(void)res;
	*(bool *)arg = true;
}

static void
lproc_leave(struct lproc *p)
{
	bool done = false;

	if (clink_leave(p->cl, lproc_left, &done) < 0)
		return;
	for (int64_t d = now_ms() + LEAVE_WAIT_MS; !done && now_ms() < d;)
		loop_run_once(p->loop);
	log_info("cluster: node left the cluster");
}

int
cluster_link_main(const struct link_args *a)
{
	static struct lproc p;

	log_settag("link");
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	memset(&p, 0, sizeof(p));
	p.cfg = a->cfg;
	p.reg = a->reg;
	p.board_cl = a->board;
	p.idx = (uint16_t)a->idx;
	p.gen = a->gen;
	p.nworkers = a->nworkers;
	p.board = registry_worker(a->reg, (unsigned)a->idx);
	p.board->pid = getpid();
	p.board->gen = a->gen;
	__atomic_store_n(&p.board->bus_up, 0, __ATOMIC_RELEASE);
	chan_self(p.idx, p.gen);
	if (lproc_setup(&p, a->ctl_fd, a->node_id, a->incarnation) < 0) {
		log_warn("cluster: link setup failed");
		return 3;
	}
	lproc_heartbeat(&p);
	lproc_rooms_tick(&p);
	chan_send(&p.ctl, FR_READY, 0, NULL, 0, NULL, 0, -1);
	while (!p.stop)
		if (loop_run_once(p.loop) < 0)
			break;
	lproc_leave(&p);
	lproc_before_sleep(&p);
	clink_free(p.cl);
	p.cl = NULL;
	__atomic_store_n(&p.board->bus_up, 0, __ATOMIC_RELEASE);
	mirror_free(&p.mir);
	free(p.room_ann);
	free(p.room_seq);
	return 0;
}
