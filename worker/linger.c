/* Closing while the client still sends makes the kernel answer with a
 * reset, and a reset throws away what the client has not read yet (our
 * final line). So, as nginx's lingering close does: send FIN, then keep
 * reading and dropping for up to LINGER_MS or until the client closes. */
#include "linger.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define LINGER_MS 2000

struct lingerer {
	struct handler h;
	struct lingers *ls;
	int fd;
	timer_id timer;
};

int
lingers_init(struct lingers *ls, struct loop *l)
{
	ls->loop = l;
	ls->by_fd = calloc(LINGER_SLOTS, sizeof(struct lingerer *));
	return ls->by_fd ? 0 : -1;
}

static void
linger_end(struct lingerer *l)
{
	l->ls->by_fd[l->fd] = NULL;
	loop_timer_cancel(l->ls->loop, l->timer);
	loop_del(l->ls->loop, l->fd);
	close(l->fd);
	free(l);
}

static void
linger_on_event(struct handler *h, uint32_t events)
{
	struct lingerer *l = (struct lingerer *)h;
	char sink[4096];

	(void)events;
	for (int i = 0; i < 16; i++) {
		ssize_t n = recv(l->fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			linger_end(l);
			return;
		}
	}
}

static void
linger_timeout(void *arg)
{
	struct lingerer *l = arg;

	l->timer = 0;
	linger_end(l);
}

void
linger_close(struct lingers *ls, int fd)
{
	struct lingerer *l = calloc(1, sizeof(*l));

	shutdown(fd, SHUT_WR);
	if (l == NULL || (size_t)fd >= LINGER_SLOTS || ls->by_fd[fd] != NULL) {
		free(l);
		close(fd);
		return;
	}
	l->h.fn = linger_on_event;
	l->ls = ls;
	l->fd = fd;
	if (loop_add(ls->loop, fd, EPOLLIN | EPOLLRDHUP, &l->h) < 0) {
		free(l);
		close(fd);
		return;
	}
	ls->by_fd[fd] = l;
	l->timer = loop_timer_add(ls->loop, loop_now(ls->loop) + LINGER_MS,
				  linger_timeout, l);
	if (l->timer == 0)
		linger_end(l); /* no memory for a timer: no linger either */
}
