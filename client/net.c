/* The client's side of the socket: connecting, and a growable output buffer
 * flushed without blocking through tls.c. Failures are returned (and, for
 * the ones that end the session, recorded with session_end); the caller
 * reports them. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/util.h"
#include "client.h"

int
net_connect(const char *host, const char *port, char *err, size_t cap)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	int fd = -1, rc = getaddrinfo(host, port, &hints, &res), e = 0;

	if (rc != 0) {
		snprintf(err, cap, "%s:%s: %s", host, port, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		e = errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, cap, "cannot connect to %s:%s: %s", host, port,
			 strerror(e));
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fd_set_nonblock(fd);
	return fd;
}

int
out_reserve(struct outbuf *o, size_t need)
{
	if (o->len + need <= o->cap)
		return 0;
	size_t cap = o->cap ? o->cap : 1024;
	while (cap < o->len + need)
		cap *= 2;
	char *p = realloc(o->buf, cap);
	if (p == NULL)
		return -1;
	o->buf = p;
	o->cap = cap;
	return 0;
}

enum io_result
net_sendf(struct client *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || out_reserve(&c->out, (size_t)n + 2) < 0) {
		session_end(c, 1, "out of memory");
		return IO_ERROR;
	}
	va_start(ap, fmt);
	vsnprintf(c->out.buf + c->out.len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	c->out.len += (size_t)n;
	c->out.buf[c->out.len++] = '\n';
	return net_flush(c);
}

enum io_result
net_flush(struct client *c)
{
	size_t off = 0;
	enum io_result r = IO_DONE;
	while (off < c->out.len) {
		size_t put = 0;
		r = tls_write(c, c->out.buf + off, c->out.len - off, &put);
		off += put;
		if (r != IO_DONE)
			break;
	}
	if (r == IO_CLOSED || r == IO_ERROR) {
		c->out.len = 0; /* the read side reports the close */
		return r;
	}
	memmove(c->out.buf, c->out.buf + off, c->out.len - off);
	c->out.len -= off;
	return c->out.len ? IO_AGAIN : IO_DONE;
}

enum io_result
net_sendfile(struct client *c, int fd, off_t *off, size_t n, size_t *put)
{
	ssize_t w = sendfile(c->fd, fd, off, n);
	*put = w > 0 ? (size_t)w : 0;
	if (w > 0)
		return IO_DONE;
	if (w < 0 && (errno == EAGAIN || errno == EINTR))
		return IO_AGAIN;
	c->io_err = w < 0 ? errno : 0;
	return w < 0 && errno != EPIPE && errno != ECONNRESET ? IO_ERROR
							      : IO_CLOSED;
}
