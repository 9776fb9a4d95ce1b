/* The control socket: a Unix-domain stream socket (mode 0600) where the
 * master answers one request per connection ("status", "status json",
 * "users json", "metrics" (Prometheus, see prom.c), "check"). Clients are
 * served inside the master's loop without ever blocking it: non-blocking reads
 * and writes, at most CTL_MAX_CLIENTS at a time, each cut at its deadline.
 * Status is read from the registry without its lock, so a worker stuck holding
 * the lock can never stall the master. */
#include <errno.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/safefile.h"
#include "../common/util.h"
#include "../cluster/board.h"
#include "master.h"

#define CTL_MAX_CLIENTS 16
#define CTL_DEADLINE_MS 2000
#define CTL_REQ_MAX 128

/* One control connection: its request as it comes in, then its answer as
 * it goes out, cut by its deadline timer. */
struct ctl_client {
	struct handler h;
	struct master *m;
	int fd;
	timer_id deadline;
	char req[CTL_REQ_MAX];
	size_t rlen;
	char *out;
	size_t olen, off;
};

static struct ctl_client ctl_clients[CTL_MAX_CLIENTS];

static void control_on_accept(struct handler *h, uint32_t events);

/* The default when control-socket is not set: root's in /run/forkchatd
 * (the systemd unit's RuntimeDirectory), anyone else's in the per-user
 * runtime directory $XDG_RUNTIME_DIR; never a shared folder like /tmp. */
int
control_default_path(struct fc_config *cfg, char *err, size_t errlen)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (cfg->ctl_socket[0])
		return 0;
	if (geteuid() == 0) {
		snprintf(cfg->ctl_socket, sizeof(cfg->ctl_socket), "%s",
			 CTL_ROOT_DIR "/forkchatd.sock");
		return 0;
	}
	if (xdg == NULL || xdg[0] != '/') {
		snprintf(err, errlen,
			 "no control socket: XDG_RUNTIME_DIR is not set; give "
			 "--control-socket PATH (in a folder of your own)");
		return -1;
	}
	snprintf(cfg->ctl_socket, sizeof(cfg->ctl_socket), "%s/forkchatd.sock",
		 xdg);
	return 0;
}

static int
control_addr(const char *path, struct sockaddr_un *sa, char *err, size_t errlen)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		snprintf(err, errlen, "control socket %s: path too long", path);
		return -1;
	}
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

/* What is at PATH already: nothing, our own stale socket (removed), or
 * something we must not touch: another user's file (a squatter), a file
 * that is not a socket, or a live daemon. */
static int
control_clear_path(const char *path, const struct sockaddr_un *sa, char *err,
		   size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen,
			 "control socket %s belongs to uid %ld, not to us: "
			 "refused (squatted?)",
			 path, (long)st.st_uid);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(
			err, errlen,
			"control socket %s exists and is not a socket: refused",
			path);
		return -1;
	}
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int live = probe >= 0 && connect(probe, (const struct sockaddr *)sa,
					 sizeof(*sa)) == 0;
	if (probe >= 0)
		close(probe);
	if (live) {
		snprintf(err, errlen,
			 "control socket %s: another forkchatd answers there",
			 path);
		return -1;
	}
	return unlink(path);
}

static int
control_bind(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;

	if (control_addr(path, &sa, err, errlen) < 0 ||
	    safefile_dir_ok(path, err, errlen) < 0)
		return -1;
	err[0] = '\0';
	if (control_clear_path(path, &sa, err, errlen) < 0) {
		if (err[0] == '\0')
			snprintf(err, errlen, "control socket %s: %s", path,
				 strerror(errno));
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || listen(fd, 16) < 0) {
		snprintf(err, errlen, "control socket %s: %s", path,
			 strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* root's default folder is made here when it is missing (outside systemd,
 * which makes it as the unit's RuntimeDirectory) */
static void
control_make_root_dir(const char *path)
{
	if (geteuid() != 0 || strcmp(path, CTL_ROOT_DIR "/forkchatd.sock") != 0)
		return;
	if (mkdir(CTL_ROOT_DIR, 0755) < 0 && errno != EEXIST)
		log_warn("mkdir %s", CTL_ROOT_DIR);
}

int
control_open(struct master *m, char *err, size_t errlen)
{
	m->ctl_listen_fd = -1;
	if (m->cfg.ctl_socket[0] == '\0')
		return 0;
	control_make_root_dir(m->cfg.ctl_socket);
	m->ctl_listen_fd = control_bind(m->cfg.ctl_socket, err, errlen);
	if (m->ctl_listen_fd < 0)
		return -1;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		ctl_clients[i].fd = -1;
	return 0;
}

void
control_start(struct master *m)
{
	if (m->ctl_listen_fd < 0)
		return;
	m->ctl_listen_h.fn = control_on_accept;
	loop_add(m->loop, m->ctl_listen_fd, EPOLLIN, &m->ctl_listen_h);
}

void
control_chown(struct master *m, const char *user)
{
	struct passwd *pw = getpwnam(user);

	if (pw && chown(m->cfg.ctl_socket, pw->pw_uid, pw->pw_gid) < 0)
		log_warn("chown %s", m->cfg.ctl_socket);
}

static void
ctl_client_close(struct ctl_client *c)
{
	if (c->fd < 0)
		return;
	loop_timer_cancel(c->m->loop, c->deadline);
	loop_del(c->m->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	free(c->out);
	c->out = NULL;
}

/* In a freshly forked worker: let go of the master's control connections
 * (close only: the epoll set is the master's), so that a client's EOF never
 * waits for a worker. */
void
control_forget_in_child(void)
{
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (ctl_clients[i].fd >= 0)
			close(ctl_clients[i].fd);
}

void
control_close(struct master *m)
{
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		ctl_client_close(&ctl_clients[i]);
	if (m->ctl_listen_fd < 0)
		return;
	close(m->ctl_listen_fd);
	unlink(m->cfg.ctl_socket);
	m->ctl_listen_fd = -1;
}

struct totals {
	uint64_t clients, msgs_in, msgs_out, bytes_out, files;
};

static struct totals
control_totals(struct master *m)
{
	struct totals t = {0};

	for (int k = 0; k < m->nworkers; k++) {
		struct reg_worker *b = registry_worker(m->reg, (unsigned)k);
		if (!m->w[k].alive)
			continue;
		t.clients += b->clients;
		t.msgs_in += b->msgs_in;
		t.msgs_out += b->msgs_out;
		t.bytes_out += b->bytes_out;
		t.files += b->files_active;
	}
	return t;
}

/* Cluster mode: this node's link and every node it sees. */
static bool
status_cluster(struct master *m, struct cluster_board *b)
{
	return m->cboard && m->link_slot >= 0 && board_read(m->cboard, b);
}

static void
status_cluster_text(struct master *m, FILE *o)
{
	struct cluster_board b;

	if (!status_cluster(m, &b))
		return;
	fprintf(o,
		"cluster node %s %s, Redis rtt %lld ms, queue %llu bytes, "
		"published %llu, received %llu, lost %llu, dropped %llu, "
		"remote users %u\n",
		m->cfg.node_id, board_state_name(b.state), (long long)b.rtt_ms,
		(unsigned long long)b.queued, (unsigned long long)b.published,
		(unsigned long long)b.received, (unsigned long long)b.lost,
		(unsigned long long)b.dropped, b.remote_users);
	for (uint32_t i = 0; i < b.nnodes; i++)
		fprintf(o, "node %s users %u ttl %lld ms\n", b.nodes[i].id,
			b.nodes[i].users, (long long)b.nodes[i].ttl_ms);
}

static void
status_cluster_json(struct master *m, FILE *o)
{
	struct cluster_board b;

	if (!status_cluster(m, &b))
		return;
	fprintf(o,
		",\"cluster\":{\"node\":\"%s\",\"state\":\"%s\","
		"\"epoch\":\"%s\",\"rtt_ms\":%lld,\"queue\":%llu,"
		"\"published\":%llu,\"received\":%llu,\"lost\":%llu,"
		"\"dropped\":%llu,\"remote_users\":%u,\"nodes\":[",
		m->cfg.node_id, board_state_name(b.state), b.epoch,
		(long long)b.rtt_ms, (unsigned long long)b.queued,
		(unsigned long long)b.published, (unsigned long long)b.received,
		(unsigned long long)b.lost, (unsigned long long)b.dropped,
		b.remote_users);
	for (uint32_t i = 0; i < b.nnodes; i++)
		fprintf(o, "%s{\"id\":\"%s\",\"users\":%u,\"ttl_ms\":%lld}",
			i ? "," : "", b.nodes[i].id, b.nodes[i].users,
			(long long)b.nodes[i].ttl_ms);
	fprintf(o, "]}");
}

static void
status_text(struct master *m, FILE *o)
{
	struct totals t = control_totals(m);
	int64_t up = (now_ms() - m->started_ms) / 1000;

	fprintf(o, "forkchatd pid %d, up %llds\n", (int)getpid(),
		(long long)up);
	fprintf(o, "users %u, rooms %u, clients %llu, active files %llu\n",
		registry_user_count(m->reg), registry_room_count(m->reg),
		(unsigned long long)t.clients, (unsigned long long)t.files);
	fprintf(o, "messages in %llu, deliveries %llu, bytes out %llu\n",
		(unsigned long long)t.msgs_in, (unsigned long long)t.msgs_out,
		(unsigned long long)t.bytes_out);
	for (int k = 0; k < m->nworkers; k++) {
		struct reg_worker *b = registry_worker(m->reg, (unsigned)k);
		struct wslot *s = &m->w[k];
		fprintf(o,
			"worker %d pid %d %s clients %u sendq %llu "
			"restarts %u\n",
			k, s->alive ? (int)s->pid : 0, s->alive ? "up" : "down",
			s->alive ? b->clients : 0,
			(unsigned long long)b->sendq_bytes, s->restarts);
	}
	status_cluster_text(m, o);
}

static void
status_json(struct master *m, FILE *o)
{
	struct totals t = control_totals(m);

	fprintf(o,
		"{\"pid\":%d,\"uptime\":%lld,\"users\":%u,\"rooms\":%u,"
		"\"clients\":%llu,\"messages_in\":%llu,\"deliveries\":%llu,"
		"\"bytes_out\":%llu,\"files_active\":%llu,"
		"\"lock_takeovers\":%llu,\"workers\":[",
		(int)getpid(), (long long)(now_ms() - m->started_ms) / 1000,
		registry_user_count(m->reg), registry_room_count(m->reg),
		(unsigned long long)t.clients, (unsigned long long)t.msgs_in,
		(unsigned long long)t.msgs_out, (unsigned long long)t.bytes_out,
		(unsigned long long)t.files,
		(unsigned long long)registry_takeovers(m->reg));
	for (int k = 0; k < m->nworkers; k++) {
		struct reg_worker *b = registry_worker(m->reg, (unsigned)k);
		struct wslot *s = &m->w[k];
		fprintf(o,
			"%s{\"slot\":%d,\"pid\":%d,\"up\":%s,\"gen\":%u,"
			"\"clients\":%u,\"sendq\":%llu,\"restarts\":%u,"
			"\"files_active\":%llu}",
			k ? "," : "", k, s->alive ? (int)s->pid : 0,
			s->alive ? "true" : "false", s->gen,
			s->alive ? b->clients : 0,
			(unsigned long long)b->sendq_bytes, s->restarts,
			(unsigned long long)b->files_active);
	}
	fprintf(o, "]");
	status_cluster_json(m, o);
	fprintf(o, "}\n");
}

/* Users with the worker that serves them: tests use this to prove two
 * clients are on different workers. */
static void
users_json(struct master *m, FILE *o)
{
	static const char *const dialects[] = {"okfail", "numeric", "irc"};
	uint32_t cap = registry_limits(m->reg)->max_users;
	struct reg_user_view *v = calloc(cap, sizeof(*v));
	size_t n = v ? registry_users_snapshot(m->reg, v, cap) : 0;

	fprintf(o, "[");
	for (size_t i = 0; i < n; i++)
		fprintf(o,
			"%s{\"name\":\"%s\",\"worker\":%u,\"dialect\":\"%s\"}",
			i ? "," : "", v[i].name, v[i].worker,
			v[i].dialect < 3 ? dialects[v[i].dialect] : "?");
	fprintf(o, "]\n");
	free(v);
}

static void
control_dispatch(struct master *m, const char *req, FILE *o)
{
	if (strcmp(req, "status") == 0)
		status_text(m, o);
	else if (strcmp(req, "status json") == 0)
		status_json(m, o);
	else if (strcmp(req, "users json") == 0)
		users_json(m, o);
	else if (strcmp(req, "metrics") == 0)
		prom_render(m, o);
	else if (strcmp(req, "check") == 0) {
		int bad = registry_check(m->reg);
		supervise_check_registry(m);
		fprintf(o, "%s\n", bad ? "rebuilt" : "ok");
	} else if (strcmp(req, "debug corrupt-registry") == 0 &&
		   getenv("FORKCHATD_TEST_HOOKS")) {
		registry_debug_corrupt(m->reg);
		fprintf(o, "corrupted\n");
	} else
		fprintf(o,
			"error: unknown request '%s' (status, status json, "
			"users json, metrics, check)\n",
			req);
}

/* Write what the socket takes now; true once everything is out. */
static bool
ctl_client_flush(struct ctl_client *c)
{
	while (c->off < c->olen) {
		ssize_t w = send(c->fd, c->out + c->off, c->olen - c->off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return false;
		if (w <= 0)
			return true; /* gone: nothing more to do for it */
		c->off += (size_t)w;
	}
	return true;
}

static void
ctl_client_answer(struct ctl_client *c)
{
	FILE *o = open_memstream(&c->out, &c->olen);

	if (o == NULL) {
		ctl_client_close(c);
		return;
	}
	c->req[strcspn(c->req, "\r\n")] = '\0';
	control_dispatch(c->m, c->req, o);
	fclose(o);
	c->off = 0;
	if (ctl_client_flush(c))
		ctl_client_close(c);
	else
		loop_mod(c->m->loop, c->fd, EPOLLOUT, &c->h);
}

/* Reads until the request's line ends (or the peer stops sending). */
static void
ctl_client_on_event(struct handler *h, uint32_t events)
{
	struct ctl_client *c = (struct ctl_client *)h;

	if (c->out) {
		if (ctl_client_flush(c) || (events & (EPOLLERR | EPOLLHUP)))
			ctl_client_close(c);
		return;
	}
	ssize_t n = recv(c->fd, c->req + c->rlen, sizeof(c->req) - 1 - c->rlen,
			 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		ctl_client_close(c);
		return;
	}
	c->rlen += (size_t)n;
	c->req[c->rlen] = '\0';
	if (strchr(c->req, '\n') || c->rlen == sizeof(c->req) - 1)
		ctl_client_answer(c);
}

static void
ctl_client_deadline(void *arg)
{
	struct ctl_client *c = arg;

	c->deadline = 0; /* fired: nothing to cancel */
	log_debug("control client cut at its deadline");
	ctl_client_close(c);
}

/* Only root and the daemon's own user may ask (the socket's mode says the
 * same; this holds even if the mode was changed). */
static bool
ctl_peer_ok(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	return cr.uid == 0 || cr.uid == geteuid();
}

static struct ctl_client *
ctl_client_slot(void)
{
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (ctl_clients[i].fd < 0)
			return &ctl_clients[i];
	return NULL;
}

static void
ctl_client_add(struct master *m, int fd)
{
	struct ctl_client *c = ctl_client_slot();

	if (c == NULL || !ctl_peer_ok(fd)) {
		log_debug("control client refused (%s)",
			  c ? "not root or our user" : "too many at once");
		close(fd);
		return;
	}
	*c = (struct ctl_client){.h.fn = ctl_client_on_event, .m = m, .fd = fd};
	c->deadline = loop_timer_add(m->loop, now_ms() + CTL_DEADLINE_MS,
				     ctl_client_deadline, c);
	if (c->deadline == 0 || loop_add(m->loop, fd, EPOLLIN, &c->h) < 0) {
		log_warn("control client");
		loop_timer_cancel(m->loop, c->deadline);
		close(fd);
		c->fd = -1;
	}
}

static void
control_on_accept(struct handler *h, uint32_t events)
{
	struct master *m =
		(struct master *)((char *)h -
				  offsetof(struct master, ctl_listen_h));
	(void)events;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		int fd = accept4(m->ctl_listen_fd, NULL, NULL,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		ctl_client_add(m, fd);
	}
}
