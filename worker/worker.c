/* A worker process: accepts on its own SO_REUSEPORT listeners once the
 * master says START, serves its clients in one epoll loop, and talks to the
 * master and to every other worker over SEQPACKET channels. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/util.h"
#include "worker.h"

#define ACCEPT_PER_EVENT 64
#define FRAMES_PER_EVENT 256

static int spare_fd = -1;
static struct handler sig_h;
static int sig_fd = -1;
static struct worker *the_worker;

/* ---- peers ---- */

static void
peer_update(struct peer *p)
{
	bool want = chan_pending(&p->ch);

	if (want == p->want_out || p->ch.fd < 0)
		return;
	p->want_out = want;
	loop_mod(p->w->loop, p->ch.fd, EPOLLIN | (want ? EPOLLOUT : 0), &p->h);
}

/* Send a frame to worker `to` (ourselves included, through a loopback
 * channel). Frames to a peer that is down are dropped: its users are gone. */
int
worker_send(struct worker *w, int to, uint16_t type, uint32_t id, const void *a,
	    size_t alen, const void *b, size_t blen)
{
	if (to < 0 || to >= w->nworkers)
		return -1;
	struct peer *p = &w->peers[to];
	if (!p->up)
		return -1;
	if (chan_send(&p->ch, type, id, a, alen, b, blen, -1) != CHAN_OK) {
		worker_peer_lost(w, to);
		return -1;
	}
	peer_update(p);
	return 0;
}

static void
worker_dispatch(struct worker *w, const struct frame *f)
{
	switch (f->hdr.type) {
	case FR_EVENT:
		fanout_on_frame(w, f);
		break;
	case FR_PROBE:
		login_on_probe(w, f);
		break;
	case FR_PROBE_REPLY:
		login_on_probe_reply(w, f);
		break;
	case FR_FILE_OFFER:
	case FR_FILE_DATA:
	case FR_FILE_CREDIT:
	case FR_FILE_END:
	case FR_FILE_RESULT:
		files_on_frame(w, f);
		break;
	default:
		log_warnx("unexpected frame %s from worker %u",
			  frame_type_name(f->hdr.type), f->hdr.src_worker);
	}
}

void
worker_peer_lost(struct worker *w, int idx)
{
	struct peer *p = &w->peers[idx];

	if (!p->up)
		return;
	log_info("peer down worker=%d", idx);
	loop_del(w->loop, p->ch.fd);
	chan_close(&p->ch);
	p->up = false;
	p->want_out = false;
	files_peer_lost(w, idx);
}

static void
peer_on_event(struct handler *h, uint32_t events)
{
	struct peer *p = (struct peer *)h;
	struct worker *w = p->w;
	struct frame f;

	/* lost earlier in this same batch of events */
	if (!p->up || p->ch.fd < 0)
		return;
	if (events & EPOLLOUT) {
		if (chan_flush(&p->ch) == CHAN_DEAD) {
			worker_peer_lost(w, p->idx);
			return;
		}
		peer_update(p);
	}
	for (int i = 0; i < FRAMES_PER_EVENT; i++) {
		int rc = chan_recv(&p->ch, &f);
		if (rc == CHAN_AGAIN)
			return;
		if (rc == CHAN_DEAD || p->ch.bad_frames > 1) {
			worker_peer_lost(w, p->idx);
			return;
		}
		if (rc == CHAN_OK && f.hdr.src_worker == p->idx)
			worker_dispatch(w, &f);
		if ((i & 63) == 63)
			__atomic_store_n(&w->board->heartbeat_ms, now_ms(),
					 __ATOMIC_RELAXED);
		if (!p->up)
			return;
	}
}

static void
peer_attach(struct worker *w, int idx, int gen, int fd)
{
	struct peer *p = &w->peers[idx];

	if (p->up)
		worker_peer_lost(w, idx);
	fd_set_nonblock(fd);
	if (chan_open(&p->ch, fd) < 0) {
		close(fd);
		return;
	}
	p->h.fn = peer_on_event;
	p->w = w;
	p->idx = (uint16_t)idx;
	p->gen = (uint16_t)gen;
	p->want_out = false;
	if (loop_add(w->loop, fd, EPOLLIN, &p->h) < 0) {
		chan_close(&p->ch);
		return;
	}
	p->up = true;
}

/* Our own loopback: frames to ourselves take the same path as to a peer. */
static int
peer_attach_self(struct worker *w)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0, sv) < 0)
		return -1;
	int sz = 4 << 20;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	peer_attach(w, w->idx, w->gen, sv[0]);
	/* a second peer record reads the other end */
	static struct peer self_rx;
	memset(&self_rx, 0, sizeof(self_rx));
	self_rx.h.fn = peer_on_event;
	self_rx.w = w;
	self_rx.idx = w->idx;
	self_rx.up = true;
	if (chan_open(&self_rx.ch, sv[1]) < 0)
		return -1;
	return loop_add(w->loop, sv[1], EPOLLIN, &self_rx.h);
}

/* ---- accepting ---- */

static void
listener_emfile(struct worker *w, struct listener *l)
{
	/* out of descriptors: free the spare, accept and close one client so
	 * that it is not left hanging, then stop accepting for a moment */
	if (spare_fd >= 0) {
		close(spare_fd);
		int fd = accept(l->fd, NULL, NULL);
		if (fd >= 0)
			close(fd);
		spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	log_warnx("out of file descriptors; pausing accept for 100ms");
	w->accept_paused_until = loop_now(w->loop) + 100;
	for (int i = 0; i < w->nlst; i++)
		loop_del(w->loop, w->lst[i].fd);
	w->accepting = false;
}

static uint32_t
worker_total_clients(struct worker *w)
{
	uint32_t total = 0;

	w->board->clients = w->nclients;
	for (int i = 0; i < w->nworkers; i++)
		total += registry_worker(w->reg, (unsigned)i)->clients;
	return total;
}

static void
listener_refuse(int fd, int dialect, const char *okfail, const char *num)
{
	const char *l = dialect == DIALECT_OKFAIL ? okfail : num;

	(void)!send(fd, l, strlen(l), MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static void
listener_accept_one(struct worker *w, struct listener *l, int fd,
		    const struct sockaddr_storage *ss)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)ss)->sin_addr, ip,
			  sizeof(ip));
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ss)->sin6_addr, ip,
			  sizeof(ip));
	if (worker_total_clients(w) >= w->lim.max_clients) {
		listener_refuse(fd, l->dialect, "FAIL14 Server full\n",
				"900 Server full\n");
		return;
	}
	uint8_t key[16] = {0};
	if (ss->ss_family == AF_INET)
		memcpy(key, &((struct sockaddr_in *)ss)->sin_addr, 4);
	else if (ss->ss_family == AF_INET6)
		memcpy(key, &((struct sockaddr_in6 *)ss)->sin6_addr, 16);
	if (w->lim.max_per_ip > 0 &&
	    registry_ip_acquire(w->reg, key, w->idx, w->lim.max_per_ip) < 0) {
		listener_refuse(
			fd, l->dialect,
			"FAIL15 Too many connections from your address\n",
			"901 Too many connections from your address\n");
		return;
	}
	struct conn *c = conn_new(w, fd, l->dialect, ip, l->tls);
	if (c == NULL) {
		if (w->lim.max_per_ip > 0)
			registry_ip_release(w->reg, key, w->idx);
		listener_refuse(fd, l->dialect, "FAIL14 Server full\n",
				"900 Server full\n");
		return;
	}
	c->ip_counted = w->lim.max_per_ip > 0;
	memcpy(c->ipkey, key, sizeof(key));
	w->board->clients = w->nclients;
	log_debug("client accepted fd=%d id=%u ip=%s dialect=%s", fd, c->id, ip,
		  l->dialect == DIALECT_OKFAIL ? "okfail" : "numeric");
	if (l->dialect == DIALECT_OKFAIL)
		okfail_greet(c);
}

static void
listener_on_event(struct handler *h, uint32_t events)
{
	struct listener *l = (struct listener *)h;
	struct worker *w = l->w;

	(void)events;
	for (int i = 0; i < ACCEPT_PER_EVENT && w->accepting; i++) {
		struct sockaddr_storage ss = {0};
		socklen_t len = sizeof(ss);
		int fd = accept4(l->fd, (struct sockaddr *)&ss, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			listener_accept_one(w, l, fd, &ss);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE)
			listener_emfile(w, l);
		else if (errno != EAGAIN && errno != EINTR &&
			 errno != ECONNABORTED)
			log_warn("accept");
		return;
	}
}

static void
worker_accept_on(struct worker *w)
{
	for (int i = 0; i < w->nlst; i++)
		loop_add(w->loop, w->lst[i].fd, EPOLLIN, &w->lst[i].h);
	w->accepting = true;
}

/* ---- master ---- */

static void
worker_shutdown(struct worker *w, const char *why, bool whole_server)
{
	char line[300];
	int n = snprintf(line, sizeof(line), "DSCN %s\n", why);

	w->stopping = true;
	/* when every worker stops, logouts are not announced: each user gets
	 * its own DSCN, and LEFT lines would only race ahead of it */
	w->server_stopping = whole_server;
	for (size_t fd = 0; fd < w->conns_cap; fd++) {
		struct conn *c = w->conns[fd];
		if (c == NULL || c->state == CS_CLOSING)
			continue;
		if (c->dialect == DIALECT_OKFAIL && !files_busy(c))
			conn_reply_raw(c, line, (size_t)n);
		c->mode = CM_LINES;
		conn_close_soon(c, "shutdown");
	}
}

/* FR_RELOAD: new limits, then optionally "cert_len key_len cert key". */
static void
worker_reload(struct worker *w, const struct frame *f)
{
	uint32_t lens[2];
	size_t off = sizeof(struct fc_limits);
	char err[256];

	if (f->hdr.len < off)
		return;
	memcpy(&w->lim, f->payload, sizeof(w->lim));
	log_setlevel(w->lim.log_level);
	log_reopen();
	/* open connections follow the new line limit at once */
	for (size_t fd = 0; fd < w->conns_cap; fd++)
		if (w->conns[fd])
			w->conns[fd]->in.max_content = w->lim.max_line - 2;
	if (f->hdr.len < off + sizeof(lens))
		return;
	memcpy(lens, f->payload + off, sizeof(lens));
	off += sizeof(lens);
	if ((size_t)lens[0] + lens[1] != f->hdr.len - off)
		return;
	struct tls_pem pem = {(char *)f->payload + off, lens[0],
			      (char *)f->payload + off + lens[0], lens[1]};
	SSL_CTX *ctx = tls_ctx_new(&pem, err, sizeof(err));
	if (ctx == NULL) {
		log_warnx("TLS reload failed, keeping the old certificate: %s",
			  err);
		return;
	}
	/* live connections keep a reference to the context they started on */
	SSL_CTX_free(w->tls_ctx);
	w->tls_ctx = ctx;
	log_info("TLS certificate reloaded");
}

static void
worker_on_ctl_frame(struct worker *w, const struct frame *f)
{
	switch (f->hdr.type) {
	case FR_PEER_UP: {
		struct peer_body pb;
		memcpy(&pb, f->payload, sizeof(pb));
		if (pb.worker >= w->nworkers || pb.worker == w->idx) {
			close(f->fd);
			break;
		}
		peer_attach(w, pb.worker, pb.gen, f->fd);
		break;
	}
	case FR_PEER_DOWN: {
		struct peer_body pb;
		memcpy(&pb, f->payload, sizeof(pb));
		if (pb.worker < w->nworkers && pb.worker != w->idx)
			worker_peer_lost(w, pb.worker);
		break;
	}
	case FR_START:
		w->started = true;
		worker_accept_on(w);
		log_debug("started");
		break;
	case FR_USER_GONE:
		fanout_user_gone(w, f);
		break;
	case FR_SHUTDOWN: {
		char why[257];
		memcpy(why, f->payload, f->hdr.len);
		why[f->hdr.len] = '\0';
		worker_shutdown(w, why[0] ? why : "Server shutting down", true);
		break;
	}
	case FR_RELOAD:
		worker_reload(w, f);
		break;
	case FR_REBUILD:
		login_rebuild(w);
		break;
	default:
		log_warnx("unexpected control frame %s",
			  frame_type_name(f->hdr.type));
	}
}

static void
ctl_on_event(struct handler *h, uint32_t events)
{
	struct worker *w = the_worker;
	struct frame f;

	(void)h;
	if (events & EPOLLOUT)
		chan_flush(&w->ctl);
	for (int i = 0; i < FRAMES_PER_EVENT; i++) {
		int rc = chan_recv(&w->ctl, &f);
		if (rc == CHAN_AGAIN)
			return;
		if (rc == CHAN_DEAD) {
			log_warnx("master gone; shutting down");
			loop_del(w->loop, w->ctl.fd);
			worker_shutdown(w, "Server shutting down", false);
			return;
		}
		if (rc == CHAN_OK)
			worker_on_ctl_frame(w, &f);
	}
}

static void
sig_on_event(struct handler *h, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)h;
	(void)events;
	while (read(sig_fd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo == SIGTERM)
			worker_shutdown(the_worker, "Server shutting down",
					false);
}

/* ---- loop ---- */

static void
worker_check_xoff(struct worker *w)
{
	size_t most = 0;

	for (int i = 0; i < w->nworkers; i++)
		if (w->peers[i].up && w->peers[i].ch.queued_bytes > most)
			most = w->peers[i].ch.queued_bytes;
	if (!w->xoff && most > PEER_HIGH_WATER)
		conn_xoff_all(w, true);
	else if (w->xoff && most < PEER_LOW_WATER)
		conn_xoff_all(w, false);
}

static void
worker_before_sleep(void *arg)
{
	struct worker *w = arg;

	conn_flush_all(w);
	conn_reap_closing(w);
	for (int i = 0; i < w->nworkers; i++) {
		struct peer *p = &w->peers[i];
		if (p->up && chan_pending(&p->ch)) {
			if (chan_flush(&p->ch) == CHAN_DEAD)
				worker_peer_lost(w, i);
			else
				peer_update(p);
		}
	}
	if (chan_pending(&w->ctl))
		chan_flush(&w->ctl);
	worker_check_xoff(w);
	if (!w->accepting && w->started && !w->stopping &&
	    loop_now(w->loop) >= w->accept_paused_until)
		worker_accept_on(w);
	int64_t now = now_ms();
	__atomic_store_n(&w->board->heartbeat_ms, now, __ATOMIC_RELAXED);
	w->board->clients = w->nclients;
	w->board->sendq_bytes = w->sendq_total;
	w->board->msgs_in = w->stats.msgs_in;
	w->board->msgs_out = w->stats.msgs_out;
	w->board->bytes_out = w->stats.bytes_out;
}

static int
worker_setup(struct worker *w, int ctl_fd, const int *lfds, int nlfds)
{
	size_t max_users = registry_limits(w->reg)->max_users;
	size_t max_rooms = registry_limits(w->reg)->max_rooms;

	w->loop = loop_new();
	w->scratch_cap = FILE_CHUNK; /* a file chunk or a socket read */
	w->scratch = malloc(w->scratch_cap);
	w->render_cap = 2 * (FRAME_MAX_PAYLOAD + 512);
	w->render = malloc(w->render_cap);
	w->by_slot = calloc(max_users, sizeof(struct conn *));
	w->views = calloc(max_users, sizeof(*w->views));
	w->rooms_tmp = calloc(max_rooms + 1, sizeof(*w->rooms_tmp));
	w->lingering = calloc(LINGER_SLOTS, sizeof(struct lingerer *));
	if (!w->loop || !w->scratch || !w->render || !w->by_slot || !w->views ||
	    !w->rooms_tmp || !w->lingering)
		return -1;
	if (chan_open(&w->ctl, ctl_fd) < 0)
		return -1;
	w->ctl_h.fn = ctl_on_event;
	if (loop_add(w->loop, ctl_fd, EPOLLIN, &w->ctl_h) < 0)
		return -1;
	for (int i = 0; i < nlfds; i++) {
		w->lst[i].h.fn = listener_on_event;
		w->lst[i].w = w;
		w->lst[i].fd = lfds[i];
		w->lst[i].dialect = w->cfg->listen[i].dialect;
		w->lst[i].tls = w->cfg->listen[i].tls;
	}
	w->nlst = nlfds;
	if (peer_attach_self(w) < 0)
		return -1;
	loop_before_sleep(w->loop, worker_before_sleep, w);
	return 0;
}

static void
worker_signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT,
	       SIG_IGN); /* the terminal's ^C is the master's to act on */
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static int
worker_tls_setup(struct worker *w, const struct tls_pem *pem)
{
	char err[256];

	for (int i = 0; i < w->nlst; i++) {
		if (!w->lst[i].tls)
			continue;
		w->tls_ctx = tls_ctx_new(pem, err, sizeof(err));
		if (w->tls_ctx == NULL) {
			log_warnx("TLS: %s", err);
			return -1;
		}
		return 0;
	}
	return 0;
}

int
worker_main(struct fc_config *cfg, struct registry *reg, int idx, int gen,
	    int nworkers, int ctl_fd, const int *lfds, int nlfds,
	    const struct tls_pem *pem)
{
	static struct worker w;

	log_settag("worker[%d]", idx);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	worker_signals();
	memset(&w, 0, sizeof(w));
	the_worker = &w;
	w.idx = (uint16_t)idx;
	w.gen = (uint16_t)gen;
	w.nworkers = nworkers;
	w.cfg = cfg;
	w.lim = cfg->lim;
	w.reg = reg;
	w.next_conn_id = (uint32_t)gen << 20;
	w.board = registry_worker(reg, (unsigned)idx);
	chan_self(w.idx, w.gen);
	spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	/* fanout frees and allocates in waves: do not hand the heap back to
	 * the kernel after every wave, only past 16 MiB of free memory */
	mallopt(M_TRIM_THRESHOLD, 16 << 20);
	if (worker_setup(&w, ctl_fd, lfds, nlfds) < 0 ||
	    worker_tls_setup(&w, pem) < 0) {
		log_warn("worker setup failed");
		return 3;
	}
	sig_h.fn = sig_on_event;
	if (sig_fd >= 0)
		loop_add(w.loop, sig_fd, EPOLLIN, &sig_h);
	w.board->pid = getpid();
	w.board->gen = w.gen;
	chan_send(&w.ctl, FR_READY, 0, NULL, 0, NULL, 0, -1);
	while (!w.stopping)
		if (loop_run_once(w.loop) < 0)
			break;
	/* final flush: last lines to the clients, last frames to peers */
	worker_before_sleep(&w);
	log_debug("exiting");
	return 0;
}
