/* The client's side of the socket: connecting, a growable output buffer
 * flushed without blocking, and the FIFO of commands awaiting replies. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/util.h"
#include "client.h"

int
net_connect(const char *host, const char *port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	int fd = -1, err = getaddrinfo(host, port, &hints, &res);

	if (err != 0) {
		fprintf(stderr, "forkchat: %s:%s: %s\n", host, port,
			gai_strerror(err));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		fprintf(stderr, "forkchat: cannot connect to %s:%s: %s\n", host,
			port, strerror(err));
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

/* Queue one line (a "\n" is added) and try to send it at once. */
void
net_sendf(struct client *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || out_reserve(&c->out, (size_t)n + 2) < 0) {
		ui_error(c, "out of memory");
		session_end(c, 1);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(c->out.buf + c->out.len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	c->out.len += (size_t)n;
	c->out.buf[c->out.len++] = '\n';
	net_flush(c);
}

int
net_flush(struct client *c)
{
	size_t off = 0;
	while (off < c->out.len) {
		ssize_t w = conn_write(c, c->out.buf + off, c->out.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w < 0) {
			c->out.len = 0;
			return -1; /* the read side reports the close */
		}
		off += (size_t)w;
	}
	memmove(c->out.buf, c->out.buf + off, c->out.len - off);
	c->out.len -= off;
	return 0;
}

void
fifo_push(struct client *c, enum pkind k, const char *peer, const char *text)
{
	if (c->fcount == FC_ARRAY_LEN(c->fifo)) {
		/* internal commands only pile up by the hundred if the server
		 * stopped answering; treat it as a broken session */
		ui_error(c, "too many commands without a reply");
		session_end(c, 1);
		return;
	}
	struct pending *p =
		&c->fifo[(c->fhead + c->fcount) % FC_ARRAY_LEN(c->fifo)];
	p->kind = k;
	snprintf(p->peer, sizeof(p->peer), "%s", peer ? peer : "");
	p->text = text ? strdup(text) : NULL;
	c->fcount++;
}

struct pending *
fifo_head(struct client *c)
{
	return c->fcount ? &c->fifo[c->fhead] : NULL;
}

void
fifo_pop(struct client *c)
{
	if (c->fcount == 0)
		return;
	free(c->fifo[c->fhead].text);
	c->fifo[c->fhead].text = NULL;
	c->fhead = (c->fhead + 1) % FC_ARRAY_LEN(c->fifo);
	c->fcount--;
}

void
session_end(struct client *c, int status)
{
	if (c->done)
		return;
	c->done = true;
	c->status = status;
	while (c->fcount)
		fifo_pop(c);
}
