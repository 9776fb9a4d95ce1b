/* A worker process, the loop and wiring layer: accepts on its own
 * SO_REUSEPORT listeners once the master says START, sets up the
 * transport, the mesh and the services and connects their hooks, and
 * answers the master's control frames. */
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
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/tlsctx.h"
#include "../common/util.h"
#include "client.h"
#include "dispatch.h"
#include "peer.h"
#include "worker_main.h"

#define ACCEPT_PER_EVENT 64
#define FRAMES_PER_EVENT 256
#define GIVE_BACK_MS 500 /* how often idle memory goes back */
#define TRIM_TICKS 8     /* a trim at least every 4 s */
#define TRIM_RELEASED (1u << 20)

struct listener {
	struct handler h;
	int fd;
	const struct dialect_def *d;
	bool tls;
};

/* What only the wiring knows: listeners, the master, the process. */
static struct wiring {
	struct worker w;
	struct fc_config *cfg;
	struct handler ctl_h;
	struct chan ctl;
	struct listener lst[FC_MAX_LISTEN];
	int nlst;
	bool accepting;
	bool stopping;
	bool started;
	int64_t accept_paused_until;
	SSL_CTX *tls_ctx;
	int spare_fd;
	uint32_t fd_cap;    /* clients the open-files limit leaves room for */
	bool fd_cap_logged; /* its warning is logged once */
	pid_t master_pid;   /* to tell PDEATHSIG from a SIGTERM sent to us */
	struct handler sig_h;
	int sig_fd;
	int give_back_ticks; /* since the last malloc_trim */
} the;

/* ---- accepting ---- */

static void
listener_emfile(struct listener *l)
{
	/* out of descriptors: free the spare, accept and close one client so
	 * that it is not left hanging, then stop accepting for a moment */
	if (the.spare_fd >= 0) {
		close(the.spare_fd);
		int fd = accept(l->fd, NULL, NULL);
		if (fd >= 0)
			client_refuse(fd, l->d, CR_SERVER_FULL);
		the.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	log_warnx("out of file descriptors; pausing accept for 100ms");
	the.accept_paused_until = loop_now(the.w.loop) + 100;
	for (int i = 0; i < the.nlst; i++)
		loop_del(the.w.loop, the.lst[i].fd);
	the.accepting = false;
}

static uint32_t
worker_total_clients(struct worker *w)
{
	uint32_t total = 0;

	w->board->clients = w->net.n;
	for (int i = 0; i < w->nworkers; i++)
		total += registry_worker(w->reg, (unsigned)i)->clients;
	return total;
}

/* The address as text and as the registry's 16-byte key. */
static void
addr_of(const struct sockaddr_storage *ss, char ip[INET6_ADDRSTRLEN],
	uint8_t key[16])
{
	memset(key, 0, 16);
	snprintf(ip, INET6_ADDRSTRLEN, "?");
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &in->sin_addr, ip, INET6_ADDRSTRLEN);
		memcpy(key, &in->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
			(const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, INET6_ADDRSTRLEN);
		memcpy(key, &in6->sin6_addr, 16);
	}
}

/* close.keepalive: probes after idle_ms, then every 10 s, 3 unanswered
 * close the connection; output left unacknowledged as long closes it too
 * (TCP_USER_TIMEOUT). A client whose network vanished goes, name and all. */
static void
listener_keepalive(int fd, int64_t idle_ms)
{
	int on = 1, intvl = 10, cnt = 3;
	int idle = idle_ms < 1000 ? 1 : (int)((idle_ms + 999) / 1000);
	unsigned total = (unsigned)(idle + intvl * cnt) * 1000u;

	if (idle_ms <= 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &total, sizeof(total));
}

/* close.fd-limit: past the clients its open-files limit leaves room for,
 * a worker answers "Server full" (said once in the log) instead of letting
 * accept fail and the client hang. */
static bool
worker_fd_full(const struct worker *w)
{
	if (w->net.n < the.fd_cap)
		return false;
	if (!the.fd_cap_logged)
		log_warnx(
			"%u clients: the open-files limit is reached, new "
			"ones get Server full (see forkchatd.8 --max-clients)",
			w->net.n);
	the.fd_cap_logged = true;
	return true;
}

/* Clients the open-files limit (raised to the hard one by the master)
 * leaves room for, besides everything else a worker holds. */
static uint32_t
worker_fd_cap(int nlisten, int nworkers)
{
	struct rlimit rl;
	uint32_t reserve = config_fd_reserve(nlisten, nworkers);

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > UINT32_MAX)
		return UINT32_MAX;
	return rl.rlim_cur > reserve ? (uint32_t)(rl.rlim_cur - reserve) : 1;
}

static void
listener_accept_one(struct listener *l, int fd,
		    const struct sockaddr_storage *ss)
{
	struct worker *w = &the.w;
	char ip[INET6_ADDRSTRLEN];
	uint8_t key[16];
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	listener_keepalive(fd, w->lim.keepalive_ms);
	addr_of(ss, ip, key);
	if (worker_total_clients(w) >= w->lim.max_clients ||
	    worker_fd_full(w)) {
		client_refuse(fd, l->d, CR_SERVER_FULL);
		return;
	}
	bool per_ip = w->lim.max_per_ip > 0;
	if (per_ip &&
	    registry_ip_acquire(w->reg, key, w->idx, w->lim.max_per_ip) < 0) {
		client_refuse(fd, l->d, CR_IP_LIMIT);
		return;
	}
	struct client *c =
		client_new(w, fd, l->d, ip, l->tls ? the.tls_ctx : NULL);
	if (c == NULL) {
		if (per_ip)
			registry_ip_release(w->reg, key, w->idx);
		client_refuse(fd, l->d, CR_SERVER_FULL);
		return;
	}
	c->ip_held = per_ip;
	memcpy(c->ipkey, key, sizeof(key));
	w->board->clients = w->net.n;
	log_debug("client accepted fd=%d id=%u ip=%s dialect=%s", fd,
		  c->conn.id, ip, l->d->name);
}

static void
listener_on_event(struct handler *h, uint32_t events)
{
	struct listener *l = (struct listener *)h;

	(void)events;
	for (int i = 0; i < ACCEPT_PER_EVENT && the.accepting; i++) {
		struct sockaddr_storage ss = {0};
		socklen_t len = sizeof(ss);
		int fd = accept4(l->fd, (struct sockaddr *)&ss, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			listener_accept_one(l, fd, &ss);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE)
			listener_emfile(l);
		else if (errno != EAGAIN && errno != EINTR &&
			 errno != ECONNABORTED)
			log_warn("accept");
		return;
	}
}

static void
worker_accept_on(void)
{
	for (int i = 0; i < the.nlst; i++)
		loop_add(the.w.loop, the.lst[i].fd, EPOLLIN, &the.lst[i].h);
	the.accepting = true;
}

/* ---- the mesh's hooks ---- */

/* FR_KICK from the cluster link: this node was declared dead (it was
 * stopped past its TTL), its names are free elsewhere: every logged-in
 * user is closed with the link's reason, and logs in again. */
static void
worker_kick(struct worker *w, const struct frame *f)
{
	char why[257];
	size_t n = 0;

	if (f->hdr.src_worker != w->link)
		return;
	memcpy(why, f->payload, f->hdr.len);
	why[f->hdr.len] = '\0';
	for (struct client *c = w->live_head; c; c = c->next_live)
		if (!client_closing(c)) {
			client_close(c, CR_CLUSTER_DEAD, NULL);
			n++;
		}
	log_warnx("cluster: %s: closed %zu user(s)", why, n);
}

static void
worker_on_frame(void *arg, const struct frame *f)
{
	struct worker *w = arg;

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
	case FR_CLAIM_REPLY:
		login_on_claim_reply(w, f);
		break;
	case FR_KICK:
		worker_kick(w, f);
		break;
	case FR_FILE_OFFER:
	case FR_FILE_RESULT:
		files_on_frame(w, f);
		break;
	default:
		log_warnx("unexpected frame %s from worker %u",
			  frame_type_name(f->hdr.type), f->hdr.src_worker);
	}
}

static void
worker_on_peer_lost(void *arg, int idx)
{
	files_peer_lost(arg, idx);
}

static void
worker_on_xoff(void *arg, bool on)
{
	struct worker *w = arg;

	conn_set_pause(&w->net, on);
}

static const struct mesh_hooks worker_mesh_hooks = {
	.frame = worker_on_frame,
	.lost = worker_on_peer_lost,
	.xoff = worker_on_xoff,
};

/* ---- master ---- */

static void
worker_shutdown(const char *why, bool whole_server)
{
	struct worker *w = &the.w;

	the.stopping = true;
	/* when every worker stops, logouts are not announced: each user gets
	 * its own final line, and LEFT lines would only race ahead of it */
	w->server_stopping = w->server_stopping || whole_server;
	for (size_t fd = 0; fd < w->net.cap; fd++) {
		struct client *c = client_by_fd(w, (int)fd);
		if (c && !client_closing(c))
			client_close(c, CR_SHUTDOWN, why);
	}
}

/* FR_RELOAD with TLS: "cert_len key_len cert key" after the limits. */
static void
worker_reload_tls(const struct frame *f, size_t off)
{
	uint32_t lens[2];
	char err[256];

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
	SSL_CTX_free(the.tls_ctx);
	the.tls_ctx = ctx;
	log_info("TLS certificate reloaded");
}

/* FR_RELOAD: new limits, then optionally a new certificate. */
static void
worker_reload(const struct frame *f)
{
	struct worker *w = &the.w;

	if (f->hdr.len < sizeof(struct fc_limits))
		return;
	memcpy(&w->lim, f->payload, sizeof(w->lim));
	log_setlevel(w->lim.log_level);
	log_reopen();
	/* open connections follow the new line limit at once */
	for (size_t fd = 0; fd < w->net.cap; fd++) {
		struct client *c = client_by_fd(w, (int)fd);
		if (c)
			conn_set_line_max(&c->conn, client_line_max(c));
	}
	worker_reload_tls(f, sizeof(struct fc_limits));
}

static void
worker_on_peer_frame(const struct frame *f)
{
	struct worker *w = &the.w;
	struct peer_body pb;

	memcpy(&pb, f->payload, sizeof(pb));
	bool other = pb.worker < w->nworkers && pb.worker != w->idx;
	if (f->hdr.type == FR_PEER_DOWN) {
		if (other)
			mesh_lost(&w->mesh, pb.worker);
		return;
	}
	if (other)
		mesh_attach(&w->mesh, pb.worker, pb.gen, f->fd);
	else
		close(f->fd);
}

static void
worker_on_shutdown_frame(const struct frame *f)
{
	char why[257];

	memcpy(why, f->payload, f->hdr.len);
	why[f->hdr.len] = '\0';
	worker_shutdown(why[0] ? why : "Server shutting down", true);
}

static void
worker_on_ctl_frame(const struct frame *f)
{
	switch (f->hdr.type) {
	case FR_PEER_UP:
	case FR_PEER_DOWN:
		worker_on_peer_frame(f);
		break;
	case FR_START:
		the.started = true;
		worker_accept_on();
		log_debug("started");
		break;
	case FR_USER_GONE:
		fanout_user_gone(&the.w, f);
		break;
	case FR_SHUTDOWN:
		worker_on_shutdown_frame(f);
		break;
	case FR_RELOAD:
		worker_reload(f);
		break;
	case FR_REBUILD:
		login_rebuild(&the.w);
		break;
	default:
		log_warnx("unexpected control frame %s",
			  frame_type_name(f->hdr.type));
	}
}

static void
ctl_on_event(struct handler *h, uint32_t events)
{
	struct frame f;

	(void)h;
	if (events & EPOLLOUT)
		chan_flush(&the.ctl);
	for (int i = 0; i < FRAMES_PER_EVENT; i++) {
		enum io_result rc = chan_recv(&the.ctl, &f);
		if (rc == IO_AGAIN)
			return;
		if (rc == IO_CLOSED) {
			log_warnx("master gone; shutting down");
			loop_del(the.w.loop, the.ctl.fd);
			/* the master's death stops every worker */
			worker_shutdown("Server shutting down", true);
			return;
		}
		if (rc == IO_DONE)
			worker_on_ctl_frame(&f);
	}
}

static void
sig_on_event(struct handler *h, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)h;
	(void)events;
	while (read(the.sig_fd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo == SIGTERM) /* PDEATHSIG: the master died */
			worker_shutdown("Server shutting down",
					getppid() != the.master_pid);
}

/* ---- loop ---- */

static void
worker_publish(struct worker *w)
{
	__atomic_store_n(&w->board->heartbeat_ms, now_ms(), __ATOMIC_RELAXED);
	w->board->clients = w->net.n;
	w->board->sendq_bytes = w->net.queued;
	w->board->msgs_in = w->net.msgs_in;
	w->board->msgs_out = w->msgs_out;
	w->board->bytes_out = w->net.bytes_out;
}

static void
worker_before_sleep(void *arg)
{
	struct worker *w = arg;

	mesh_flush(&w->mesh); /* the peers start on this pass's events now */
	conn_flush_all(&w->net);
	conn_reap_closing(&w->net);
	mesh_flush(&w->mesh);
	if (chan_pending(&the.ctl))
		chan_flush(&the.ctl);
	if (!the.accepting && the.started && !the.stopping &&
	    loop_now(w->loop) >= the.accept_paused_until)
		worker_accept_on();
	worker_publish(w);
}

/* Memory kept from a burst goes back: output buffers idle for a tick are
 * released, and the heap's free pages go back to the kernel when that
 * freed enough, or every TRIM_TICKS ticks (other memory of a burst: large
 * queues, channel backlogs), since M_TRIM_THRESHOLD keeps them meanwhile. */
static void
worker_give_back(void *arg)
{
	struct worker *w = arg;

	if (conn_set_release_idle(&w->net) >= TRIM_RELEASED ||
	    ++the.give_back_ticks >= TRIM_TICKS) {
		malloc_trim(0);
		the.give_back_ticks = 0;
	}
	if (loop_timer_add(w->loop, loop_now(w->loop) + GIVE_BACK_MS,
			   worker_give_back, w) == 0)
		log_warnx("out of memory: idle memory is no longer given back");
}

static int
worker_alloc(struct worker *w)
{
	size_t max_users = registry_limits(w->reg)->max_users;
	size_t max_rooms = registry_limits(w->reg)->max_rooms;

	w->loop = loop_new();
	w->scratch = malloc(READ_CHUNK); /* a socket read */
	w->by_slot = calloc(max_users, sizeof(struct client *));
	w->views = calloc(max_users, sizeof(*w->views));
	w->rooms_tmp = calloc(max_rooms + 1, sizeof(*w->rooms_tmp));
	if (!w->loop || !w->scratch || !w->by_slot || !w->views ||
	    !w->rooms_tmp)
		return -1;
	return conn_set_init(&w->net, w->loop, &w->lim, &client_hooks,
			     w->scratch, (uint32_t)w->gen << 20);
}

static int
worker_setup(int ctl_fd, const int *lfds, int nlfds)
{
	struct worker *w = &the.w;

	if (worker_alloc(w) < 0 || chan_open(&the.ctl, ctl_fd) < 0)
		return -1;
	the.ctl_h.fn = ctl_on_event;
	if (loop_add(w->loop, ctl_fd, EPOLLIN, &the.ctl_h) < 0)
		return -1;
	for (int i = 0; i < nlfds; i++) {
		the.lst[i].h.fn = listener_on_event;
		the.lst[i].fd = lfds[i];
		the.lst[i].d = dialect_by_id(the.cfg->listen[i].dialect);
		the.lst[i].tls = the.cfg->listen[i].tls;
		if (the.lst[i].d == NULL)
			return -1;
	}
	the.nlst = nlfds;
	if (mesh_init(&w->mesh, w->loop, w->idx, w->gen, w->nworkers, w->board,
		      &worker_mesh_hooks, w) < 0)
		return -1;
	loop_before_sleep(w->loop, worker_before_sleep, w);
	files_worker_start(w);
	if (loop_timer_add(w->loop, loop_now(w->loop) + GIVE_BACK_MS,
			   worker_give_back, w) == 0)
		return -1;
	return 0;
}

static void
worker_signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_IGN); /* the terminal's ^C is the master's */
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	the.sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static int
worker_tls_setup(const struct tls_pem *pem)
{
	char err[256];

	for (int i = 0; i < the.nlst; i++) {
		if (!the.lst[i].tls)
			continue;
		the.tls_ctx = tls_ctx_new(pem, err, sizeof(err));
		if (the.tls_ctx == NULL) {
			log_warnx("TLS: %s", err);
			return -1;
		}
		return 0;
	}
	return 0;
}

static void
worker_identity(struct fc_config *cfg, struct registry *reg, int idx, int gen,
		int nworkers)
{
	struct worker *w = &the.w;

	memset(&the, 0, sizeof(the));
	the.cfg = cfg;
	the.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	w->idx = (uint16_t)idx;
	w->gen = (uint16_t)gen;
	w->nworkers = nworkers;
	/* in cluster mode the master's last slot is the link (docs/CLUSTER.md)
	 */
	w->link = cfg->cluster[0] ? nworkers - 1 : -1;
	w->lim = cfg->lim;
	w->reg = reg;
	w->board = registry_worker(reg, (unsigned)idx);
	chan_self(w->idx, w->gen);
}

int
worker_main(struct fc_config *cfg, struct registry *reg, struct userinfo *uinfo,
	    int idx, int gen, int nworkers, int ctl_fd, const int *lfds,
	    int nlfds, const struct tls_pem *pem)
{
	log_settag("worker[%d]", idx);
	the.master_pid = getppid();
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	worker_identity(cfg, reg, idx, gen, nworkers);
	the.w.uinfo = uinfo;
	worker_signals();
	/* fanout frees and allocates in waves: do not hand the heap back to
	 * the kernel after every wave, only past 16 MiB of free memory */
	mallopt(M_TRIM_THRESHOLD, 16 << 20);
	the.fd_cap = worker_fd_cap(nlfds, nworkers);
	if (worker_setup(ctl_fd, lfds, nlfds) < 0 ||
	    worker_tls_setup(pem) < 0) {
		log_warn("worker setup failed");
		return 3;
	}
	the.sig_h.fn = sig_on_event;
	if (the.sig_fd >= 0)
		loop_add(the.w.loop, the.sig_fd, EPOLLIN, &the.sig_h);
	the.w.board->pid = getpid();
	the.w.board->gen = the.w.gen;
	chan_send(&the.ctl, FR_READY, 0, NULL, 0, NULL, 0, -1);
	while (!the.stopping) {
		if (loop_run_once(the.w.loop) < 0)
			break;
		files_after_pass(&the.w);
	}
	/* final flush: last lines to the clients, last frames to peers */
	worker_before_sleep(&the.w);
	files_worker_stop();
	log_debug("exiting");
	return 0;
}
