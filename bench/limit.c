/* limit.c: the machine's limit for fanout, a minimal single-process epoll
 * server speaking an okfail subset (INIT, IDENT, BCST). --mode write does one
 * write(2) per delivery; --mode coalesce batches per client per loop pass. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXFD 131072
#define INBUF 8192

struct client {
	int logged, pos, dirty;
	uint32_t inlen, outlen, outcap;
	char name[16];
	char *out;
	char in[INBUF];
};

static struct client *cl[MAXFD];
static int logged[MAXFD], nlogged, dirty[MAXFD], ndirty, coalesce, ep;

static void
drop(int fd)
{
	struct client *c = cl[fd];
	if (!c)
		return;
	if (c->logged) {
		int last = logged[--nlogged];
		logged[c->pos] = last;
		cl[last]->pos = c->pos;
	}
	c->logged = 0; /* a pending dirty entry sees this and skips */
	free(c->out);
	free(c);
	cl[fd] = NULL;
	close(fd);
}

static void
append(int fd, const char *s, size_t n)
{
	struct client *c = cl[fd];
	if (c->outlen + n > c->outcap) {
		c->outcap = (uint32_t)((c->outlen + n) * 2 + 4096);
		c->out = realloc(c->out, c->outcap);
	}
	memcpy(c->out + c->outlen, s, n);
	c->outlen += (uint32_t)n;
}

/* Write as much queued output as the socket takes; 0 ok, -1 dead. */
static int
flush(int fd)
{
	struct client *c = cl[fd];
	uint32_t off = 0;
	while (off < c->outlen) {
		ssize_t w =
			send(fd, c->out + off, c->outlen - off, MSG_NOSIGNAL);
		if (w > 0)
			off += (uint32_t)w;
		else if (w < 0 && errno == EINTR)
			continue;
		else if (w < 0 && errno == EAGAIN)
			break;
		else
			return -1;
	}
	memmove(c->out, c->out + off, c->outlen - off);
	c->outlen -= off;
	return 0;
}

/* Queue one line for fd: write now (write mode, nothing queued) or batch. */
static void
put(int fd, const char *s, size_t n)
{
	struct client *c = cl[fd];
	if (coalesce) {
		if (!c->dirty) {
			c->dirty = 1;
			dirty[ndirty++] = fd;
		}
		append(fd, s, n);
		return;
	}
	ssize_t w = 0;
	if (!c->outlen)
		w = send(fd, s, n, MSG_NOSIGNAL);
	if (w < 0)
		w = 0;
	if ((size_t)w < n)
		append(fd, s + w, n - (size_t)w);
}

static void
broadcast(int fd, const char *text, size_t tl)
{
	struct client *c = cl[fd];
	char line[INBUF + 64];
	int n = snprintf(line, sizeof line, "OK BCST %.*s\n", (int)tl, text);
	put(fd, line, (size_t)n);
	n = snprintf(line, sizeof line, "BCST %s %.*s\n", c->name, (int)tl,
		     text);
	for (int i = 0; i < nlogged; i++)
		if (logged[i] != fd)
			put(logged[i], line, (size_t)n);
}

static void
command(int fd, char *l, size_t len)
{
	struct client *c = cl[fd];
	char buf[128];
	if (len > 6 && !memcmp(l, "IDENT ", 6) && !c->logged &&
	    len - 6 < sizeof c->name) {
		memcpy(c->name, l + 6, len - 6);
		c->name[len - 6] = 0;
		c->logged = 1;
		c->pos = nlogged;
		logged[nlogged++] = fd;
		int n = snprintf(buf, sizeof buf, "OK IDENT %s\n", c->name);
		put(fd, buf, (size_t)n);
	} else if (len > 5 && !memcmp(l, "BCST ", 5) && c->logged) {
		broadcast(fd, l + 5, len - 5);
	} else if (!(len == 4 && !memcmp(l, "PONG", 4))) {
		put(fd, "FAIL00 Unknown command\n", 23);
	}
}

static void
on_read(int fd)
{
	for (;;) {
		struct client *c = cl[fd];
		ssize_t r = read(fd, c->in + c->inlen, INBUF - c->inlen);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0)
			return drop(fd);
		c->inlen += (uint32_t)r;
		char *p = c->in, *end = p + c->inlen, *nl;
		while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
			size_t len = (size_t)(nl - p);
			if (len && p[len - 1] == '\r')
				len--;
			command(fd, p, len);
			p = nl + 1;
		}
		c->inlen = (uint32_t)(end - p);
		memmove(c->in, p, c->inlen);
		if (c->inlen == INBUF)
			c->inlen = 0; /* overlong line: drop it */
	}
}

static void
on_accept(int ls)
{
	int fd, one = 1;
	while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >=
	       0) {
		if (fd >= MAXFD) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		cl[fd] = calloc(1, sizeof(struct client));
		struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT |
						   EPOLLET | EPOLLRDHUP,
					 .data.fd = fd};
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		put(fd, "INIT Welcome to the server!\n", 28);
	}
}

static void
flush_dirty(void)
{
	for (int i = 0; i < ndirty; i++) {
		int fd = dirty[i];
		if (!cl[fd])
			continue;
		cl[fd]->dirty = 0;
		if (flush(fd))
			drop(fd);
	}
	ndirty = 0;
}

static int
listen_on(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(0x7f000001u)};
	socklen_t sl = sizeof sa;
	int one = 1, ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(ls, (struct sockaddr *)&sa, sizeof sa) || listen(ls, 4096)) {
		perror("limit: bind/listen");
		exit(1);
	}
	getsockname(ls, (struct sockaddr *)&sa, &sl);
	fprintf(stderr, "listening dialect=okfail addr=127.0.0.1:%d mode=%s\n",
		ntohs(sa.sin_port), coalesce ? "coalesce" : "write");
	return ls;
}

int
main(int argc, char **argv)
{
	int port = 0;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--port"))
			port = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--mode"))
			coalesce = !strcmp(argv[i + 1], "coalesce");
	}
	struct rlimit rl = {MAXFD, MAXFD};
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	ep = epoll_create1(0);
	int ls = listen_on(port);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls}, evs[1024];
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, 1024, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == ls)
				on_accept(ls);
			else if (cl[fd] &&
				 (evs[i].events &
				  (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
				on_read(fd);
			if (fd != ls && cl[fd] && (evs[i].events & EPOLLOUT) &&
			    cl[fd]->outlen && flush(fd))
				drop(fd);
		}
		flush_dirty();
	}
}
