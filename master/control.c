/* The control socket: a Unix-domain stream socket (mode 0600) where the
 * master answers one request per connection: "status", "status json",
 * "users json". Status is read from the registry without its lock, so a
 * worker stuck holding the lock can never stall the master. */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/util.h"
#include "master.h"

static void control_on_accept(struct handler *h, uint32_t events);

static int
control_bind(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 && errno == EADDRINUSE) {
		/* stale if nobody answers there */
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (connect(probe, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			unlink(path);
			old = umask(0177);
			rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
			umask(old);
		}
		close(probe);
	}
	if (rc < 0 || listen(fd, 16) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	chmod(path, 0600);
	return fd;
}

int
control_open(struct master *m)
{
	m->ctl_listen_fd = -1;
	if (m->cfg.ctl_socket[0] == '\0')
		return 0;
	m->ctl_listen_fd = control_bind(m->cfg.ctl_socket);
	if (m->ctl_listen_fd < 0) {
		log_warn("control socket %s", m->cfg.ctl_socket);
		return -1;
	}
	m->ctl_listen_h.fn = control_on_accept;
	loop_add(m->loop, m->ctl_listen_fd, EPOLLIN, &m->ctl_listen_h);
	return 0;
}

void
control_chown(struct master *m, const char *user)
{
	struct passwd *pw = getpwnam(user);

	if (pw && chown(m->cfg.ctl_socket, pw->pw_uid, pw->pw_gid) < 0)
		log_warn("chown %s", m->cfg.ctl_socket);
}

void
control_close(struct master *m)
{
	if (m->ctl_listen_fd < 0)
		return;
	close(m->ctl_listen_fd);
	unlink(m->cfg.ctl_socket);
	m->ctl_listen_fd = -1;
}

struct out {
	char *buf;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3)))
out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;

	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (o->len + (size_t)n < o->cap) {
			o->len += (size_t)n;
			return;
		}
		size_t cap = o->cap ? o->cap * 2 : 4096;
		while (cap < o->len + (size_t)n + 1)
			cap *= 2;
		char *b = realloc(o->buf, cap);
		if (b == NULL)
			return;
		o->buf = b;
		o->cap = cap;
	}
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

static void
status_text(struct master *m, struct out *o)
{
	struct totals t = control_totals(m);
	int64_t up = (now_ms() - m->started_ms) / 1000;

	out_printf(o, "forkchatd pid %d, up %llds\n", (int)getpid(),
		   (long long)up);
	out_printf(o, "users %u, rooms %u, clients %llu, active files %llu\n",
		   registry_user_count(m->reg), registry_room_count(m->reg),
		   (unsigned long long)t.clients, (unsigned long long)t.files);
	out_printf(o, "messages in %llu, deliveries %llu, bytes out %llu\n",
		   (unsigned long long)t.msgs_in,
		   (unsigned long long)t.msgs_out,
		   (unsigned long long)t.bytes_out);
	for (int k = 0; k < m->nworkers; k++) {
		struct reg_worker *b = registry_worker(m->reg, (unsigned)k);
		struct wslot *s = &m->w[k];
		out_printf(o,
			   "worker %d pid %d %s clients %u sendq %llu "
			   "restarts %u\n",
			   k, s->alive ? (int)s->pid : 0,
			   s->alive ? "up" : "down", s->alive ? b->clients : 0,
			   (unsigned long long)b->sendq_bytes, s->restarts);
	}
}

static void
status_json(struct master *m, struct out *o)
{
	struct totals t = control_totals(m);

	out_printf(o,
		   "{\"pid\":%d,\"uptime\":%lld,\"users\":%u,\"rooms\":%u,"
		   "\"clients\":%llu,\"messages_in\":%llu,\"deliveries\":%llu,"
		   "\"bytes_out\":%llu,\"files_active\":%llu,"
		   "\"lock_takeovers\":%llu,\"workers\":[",
		   (int)getpid(), (long long)(now_ms() - m->started_ms) / 1000,
		   registry_user_count(m->reg), registry_room_count(m->reg),
		   (unsigned long long)t.clients, (unsigned long long)t.msgs_in,
		   (unsigned long long)t.msgs_out,
		   (unsigned long long)t.bytes_out, (unsigned long long)t.files,
		   (unsigned long long)registry_takeovers(m->reg));
	for (int k = 0; k < m->nworkers; k++) {
		struct reg_worker *b = registry_worker(m->reg, (unsigned)k);
		struct wslot *s = &m->w[k];
		out_printf(o,
			   "%s{\"slot\":%d,\"pid\":%d,\"up\":%s,\"gen\":%u,"
			   "\"clients\":%u,\"sendq\":%llu,\"restarts\":%u,"
			   "\"files_active\":%llu}",
			   k ? "," : "", k, s->alive ? (int)s->pid : 0,
			   s->alive ? "true" : "false", s->gen,
			   s->alive ? b->clients : 0,
			   (unsigned long long)b->sendq_bytes, s->restarts,
			   (unsigned long long)b->files_active);
	}
	out_printf(o, "]}\n");
}

/* Users with the worker that serves them: tests use this to prove two
 * clients are on different workers. */
static void
users_json(struct master *m, struct out *o)
{
	static const char *const dialects[] = {"okfail", "numeric", "irc"};
	uint32_t cap = registry_limits(m->reg)->max_users;
	struct reg_user_view *v = calloc(cap, sizeof(*v));
	size_t n = v ? registry_users_snapshot(m->reg, v, cap) : 0;

	out_printf(o, "[");
	for (size_t i = 0; i < n; i++)
		out_printf(
			o,
			"%s{\"name\":\"%s\",\"worker\":%u,\"dialect\":\"%s\"}",
			i ? "," : "", v[i].name, v[i].worker,
			v[i].dialect < 3 ? dialects[v[i].dialect] : "?");
	out_printf(o, "]\n");
	free(v);
}

static void
control_answer(struct master *m, int fd)
{
	char req[128];
	struct out o = {0};
	ssize_t n = recv(fd, req, sizeof(req) - 1, 0);

	if (n <= 0)
		return;
	req[n] = '\0';
	req[strcspn(req, "\r\n")] = '\0';
	if (strcmp(req, "status") == 0)
		status_text(m, &o);
	else if (strcmp(req, "status json") == 0)
		status_json(m, &o);
	else if (strcmp(req, "users json") == 0)
		users_json(m, &o);
	else if (strcmp(req, "check") == 0) {
		int bad = registry_check(m->reg);
		supervise_check_registry(m);
		out_printf(&o, "%s\n", bad ? "rebuilt" : "ok");
	} else if (strcmp(req, "debug corrupt-registry") == 0 &&
		   getenv("FORKCHATD_TEST_HOOKS")) {
		registry_debug_corrupt(m->reg);
		out_printf(&o, "corrupted\n");
	} else
		out_printf(&o,
			   "error: unknown request '%s' (status, status "
			   "json, users json)\n",
			   req);
	for (size_t off = 0; off < o.len;) {
		ssize_t w = send(fd, o.buf + off, o.len - off, MSG_NOSIGNAL);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	free(o.buf);
}

static void
control_on_accept(struct handler *h, uint32_t events)
{
	struct master *m =
		(struct master *)((char *)h -
				  offsetof(struct master, ctl_listen_h));
	(void)events;
	for (;;) {
		int fd = accept4(m->ctl_listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return;
		/* one short request; a client that sends nothing is cut */
		struct timeval tv = {1, 0};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		control_answer(m, fd);
		close(fd);
	}
}
