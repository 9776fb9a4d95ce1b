/* Worker supervision: fork into a slot, connect the new worker to every
 * live peer with a fresh socketpair (the same code at start-up and on
 * respawn), reap without work in signal handlers, repair the registry after
 * a death, respawn with backoff, and kill workers that stop making progress. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/util.h"
#include "../ipc/metrics.h"
#include "../worker/worker_main.h"
#include "master.h"

static void slot_on_event(struct handler *h, uint32_t events);

static void
child_close_foreign(struct master *m, int idx)
{
	listen_close_except(&m->ls, idx);
	for (int j = 0; j < m->nslots; j++)
		if (j != idx && m->w[j].alive && m->w[j].ctl.fd >= 0)
			close(m->w[j].ctl.fd);
	if (m->ctl_listen_fd >= 0)
		close(m->ctl_listen_fd);
	control_forget_in_child();
	if (m->pidfile_fd >= 0)
		close(m->pidfile_fd);
	if (m->sig_fd >= 0)
		close(m->sig_fd);
}

static int
slot_fork(struct master *m, struct wslot *s)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	s->gen++;
	pid_t pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		child_close_foreign(m, s->idx);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		fd_set_nonblock(sv[1]);
		metrics_bind((unsigned)s->idx);
		if (s->idx == m->link_slot)
			_exit(master_cluster_child(m, s->gen, sv[1]));
		int rc = worker_main(&m->cfg, m->reg, m->uinfo, s->idx, s->gen,
				     m->nslots, sv[1], m->ls.fd[s->idx],
				     m->ls.nlisten, &m->pem);
		_exit(rc);
	}
	close(sv[1]);
	fd_set_nonblock(sv[0]);
	chan_open(&s->ctl, sv[0]);
	s->pid = pid;
	s->alive = true;
	s->ctl_dead_logged = false;
	s->started = false;
	s->started_ms = now_ms();
	s->h.fn = slot_on_event;
	loop_add(m->loop, sv[0], EPOLLIN, &s->h);
	struct reg_worker *b = registry_worker(m->reg, (unsigned)s->idx);
	b->heartbeat_ms = now_ms();
	b->restarts = s->restarts;
	log_info("%s started slot=%d pid=%d gen=%u",
		 s->idx == m->link_slot ? "cluster link" : "worker", s->idx,
		 (int)pid, s->gen);
	return 0;
}

static void
slot_send(struct wslot *s, uint16_t type, const void *p, size_t len, int fd)
{
	if (!s->alive)
		return;
	if (chan_send(&s->ctl, type, 0, p, len, NULL, 0, fd) == IO_DONE)
		return;
	if (!s->ctl_dead_logged)
		log_warnx("control channel to worker %d is gone", s->idx);
	s->ctl_dead_logged = true;
}

/* OpenBSD's proc_open: one socketpair per pair of live workers. */
static void
slot_connect(struct master *m, struct wslot *k)
{
	for (int j = 0; j < m->nslots; j++) {
		struct wslot *o = &m->w[j];
		int sv[2];
		if (j == k->idx || !o->alive)
			continue;
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) <
		    0) {
			log_warn("socketpair");
			continue;
		}
		int sz = 1 << 20;
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		struct peer_body to_o = {(uint16_t)k->idx, k->gen};
		struct peer_body to_k = {(uint16_t)o->idx, o->gen};
		slot_send(o, FR_PEER_UP, &to_o, sizeof(to_o), sv[0]);
		slot_send(k, FR_PEER_UP, &to_k, sizeof(to_k), sv[1]);
		close(sv[0]);
		close(sv[1]);
	}
}

static void
slot_start(struct wslot *s)
{
	slot_send(s, FR_START, NULL, 0, -1);
	s->started = true;
}

int
supervise_start(struct master *m)
{
	master_cluster_setup(m);
	for (int k = 0; k < m->nslots; k++) {
		m->w[k].idx = k;
		m->w[k].ctl.fd = -1;
	}
	for (int k = 0; k < m->nslots; k++) {
		if (slot_fork(m, &m->w[k]) < 0) {
			log_warn("fork");
			return -1;
		}
		slot_connect(m, &m->w[k]);
	}
	for (int k = 0; k < m->nslots; k++)
		slot_start(&m->w[k]);
	return 0;
}

void
supervise_broadcast(struct master *m, uint16_t type, const void *p, size_t len)
{
	for (int k = 0; k < m->nslots; k++)
		slot_send(&m->w[k], type, p, len, -1);
}

/* Collected under the registry lock during recovery; sent after it. */
struct gone_list {
	char *buf;
	size_t len, cap;
};

static void
gone_collect(void *arg, const char *name, uint8_t dialect,
	     const uint32_t *rooms, size_t nrooms)
{
	struct gone_list *gl = arg;
	struct gone_body g;
	size_t need = sizeof(g) + nrooms * sizeof(uint32_t) + sizeof(size_t);

	if (nrooms > (FRAME_MAX_PAYLOAD - sizeof(g)) / sizeof(uint32_t))
		nrooms = (FRAME_MAX_PAYLOAD - sizeof(g)) / sizeof(uint32_t);
	if (gl->len + need > gl->cap) {
		size_t cap = gl->cap ? gl->cap * 2 : 4096;
		while (cap < gl->len + need)
			cap *= 2;
		char *b = realloc(gl->buf, cap);
		if (b == NULL)
			return;
		gl->buf = b;
		gl->cap = cap;
	}
	memset(&g, 0, sizeof(g));
	snprintf(g.name, sizeof(g.name), "%s", name);
	g.dialect = dialect;
	g.nrooms = (uint32_t)nrooms;
	size_t rec = sizeof(g) + nrooms * sizeof(uint32_t);
	memcpy(gl->buf + gl->len, &rec, sizeof(rec));
	memcpy(gl->buf + gl->len + sizeof(rec), &g, sizeof(g));
	memcpy(gl->buf + gl->len + sizeof(rec) + sizeof(g), rooms,
	       nrooms * sizeof(uint32_t));
	gl->len += sizeof(rec) + rec;
}

/* After every recovery: a registry that fails its check is reset and
 * rebuilt by the workers from their own connections; nobody is dropped. */
void
supervise_check_registry(struct master *m)
{
	if (registry_check(m->reg) == 0)
		return;
	log_warnx("registry inconsistent: rebuilding it from the workers");
	registry_reset_users(m->reg);
	supervise_broadcast(m, FR_REBUILD, NULL, 0);
}

static void
slot_recover(struct master *m, struct wslot *s, pid_t pid)
{
	struct gone_list gl = {0};
	struct peer_body pb = {(uint16_t)s->idx, s->gen};

	/* the link's users are other nodes': the next link adopts them */
	int n = s->idx == m->link_slot
			? registry_recover_keep(m->reg, pid, (uint16_t)s->idx)
			: registry_recover(m->reg, pid, (uint16_t)s->idx,
					   gone_collect, &gl);
	supervise_check_registry(m);
	if (m->stopping) {
		free(gl.buf);
		return;
	}
	supervise_broadcast(m, FR_PEER_DOWN, &pb, sizeof(pb));
	for (size_t off = 0; off < gl.len;) {
		size_t rec;
		memcpy(&rec, gl.buf + off, sizeof(rec));
		supervise_broadcast(m, FR_USER_GONE, gl.buf + off + sizeof(rec),
				    rec);
		off += sizeof(rec) + rec;
	}
	free(gl.buf);
	if (n > 0)
		log_info("worker %d's users logged out count=%d", s->idx, n);
}

static void
slot_died(struct master *m, struct wslot *s, pid_t pid, int status)
{
	loop_del(m->loop, s->ctl.fd);
	chan_close(&s->ctl);
	s->alive = false;
	s->started = false;
	registry_worker(m->reg, (unsigned)s->idx)->clients = 0;
	metrics_worker_gone((unsigned)s->idx);
	if (WIFEXITED(status))
		log_info("worker %d (pid %d) exited status=%d", s->idx,
			 (int)pid, WEXITSTATUS(status));
	else
		log_warnx("worker %d (pid %d) killed by signal %d", s->idx,
			  (int)pid, WTERMSIG(status));
	slot_recover(m, s, pid);
	if (m->stopping)
		return;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
		log_warnx("worker %d exited with fatal code 2 and cannot be "
			  "respawned",
			  s->idx);
		s->fatal = true;
		return;
	}
	int64_t now = now_ms();
	if (now - s->started_ms < 1000)
		s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : 1000;
	else
		s->backoff_ms = 0;
	if (s->backoff_ms > BACKOFF_MAX_MS)
		s->backoff_ms = BACKOFF_MAX_MS;
	s->respawn_at = now + s->backoff_ms;
	s->restarts++;
	if (s->backoff_ms)
		log_warnx("worker %d crashes quickly; respawn in %lldms",
			  s->idx, (long long)s->backoff_ms);
}

void
supervise_reap(struct master *m)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int k = 0; k < m->nslots; k++)
			if (m->w[k].alive && m->w[k].pid == pid)
				slot_died(m, &m->w[k], pid, status);
	}
}

static void
slot_respawn(struct master *m, struct wslot *s)
{
	if (slot_fork(m, s) < 0) {
		log_warn("respawn of worker %d failed", s->idx);
		s->respawn_at = now_ms() + 1000;
		return;
	}
	slot_connect(m, s);
	slot_start(s);
}

/* Once a second or so: respawns that are due, and the watchdog. */
void
supervise_tick(struct master *m)
{
	int64_t now = now_ms();

	for (int k = 0; k < m->nslots; k++) {
		struct wslot *s = &m->w[k];
		if (!s->alive) {
			if (!m->stopping && !s->fatal && now >= s->respawn_at)
				slot_respawn(m, s);
			continue;
		}
		if (chan_pending(&s->ctl) && chan_flush(&s->ctl) == IO_CLOSED)
			continue;
		struct reg_worker *b = registry_worker(m->reg, (unsigned)k);
		int64_t beat =
			__atomic_load_n(&b->heartbeat_ms, __ATOMIC_RELAXED);
		if (!m->stopping && now - beat > WATCHDOG_MS) {
			log_warnx("worker %d (pid %d) unresponsive for %lldms, "
				  "killing",
				  k, (int)s->pid, (long long)(now - beat));
			kill(s->pid, SIGKILL);
			b->heartbeat_ms = now; /* one kill per stall */
		}
	}
	if (m->stopping && now >= m->stop_deadline)
		for (int k = 0; k < m->nslots; k++)
			if (m->w[k].alive)
				kill(m->w[k].pid, SIGKILL);
}

void
supervise_shutdown(struct master *m, const char *why)
{
	if (m->stopping)
		return;
	m->stopping = true;
	m->stop_deadline = now_ms() + 5000;
	log_info("shutting down: %s", why);
	supervise_broadcast(m, FR_SHUTDOWN, why, strlen(why));
}

bool
supervise_all_dead(const struct master *m)
{
	for (int k = 0; k < m->nslots; k++)
		if (m->w[k].alive)
			return false;
	return true;
}

static void
slot_on_event(struct handler *h, uint32_t events)
{
	struct wslot *s = (struct wslot *)h;
	struct frame f;

	/* reaped earlier in this same batch of events */
	if (!s->alive || s->ctl.fd < 0)
		return;
	if (events & EPOLLOUT)
		chan_flush(&s->ctl);
	for (int i = 0; i < 64; i++) {
		int rc = chan_recv(&s->ctl, &f);
		if (rc == IO_AGAIN || rc == IO_CLOSED)
			return; /* death is handled when it is reaped */
		/* READY needs no answer: START was queued before it */
	}
}
