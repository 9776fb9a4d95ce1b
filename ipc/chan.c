/* Channel I/O. With SEQPACKET a frame is sent whole or not at all, so the
 * queue never holds half a frame; EAGAIN just means "queue it". */
#include "chan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../common/log.h"

struct chan_msg {
	struct chan_msg *next;
	size_t len;
	int fd;
	char data[];
};

static uint16_t self_worker, self_gen;

void
chan_self(uint16_t worker, uint16_t gen)
{
	self_worker = worker;
	self_gen = gen;
}

int
chan_open(struct chan *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->rbuf = malloc(sizeof(struct frame_hdr) + FRAME_MAX_PAYLOAD + 16);
	return c->rbuf ? 0 : -1;
}

void
chan_close(struct chan *c)
{
	struct chan_msg *m, *next;

	for (m = c->head; m; m = next) {
		next = m->next;
		if (m->fd >= 0)
			close(m->fd);
		free(m);
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c->rbuf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

enum io_result
chan_sendmsg(int sock, const struct iovec *iov, int iovcnt, int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr msg = {.msg_iov = (struct iovec *)iov,
			     .msg_iovlen = iovcnt};

	if (fd >= 0) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		struct cmsghdr *ch = CMSG_FIRSTHDR(&msg);
		ch->cmsg_level = SOL_SOCKET;
		ch->cmsg_type = SCM_RIGHTS;
		ch->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(ch), &fd, sizeof(int));
	}
	for (;;) {
		if (sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
			return IO_DONE;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			return IO_AGAIN;
		return IO_CLOSED;
	}
}

static int
chan_enqueue(struct chan *c, const struct iovec *iov, int iovcnt, int fd)
{
	size_t len = 0;

	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	struct chan_msg *m = malloc(sizeof(*m) + len);
	if (m == NULL)
		return -1;
	m->next = NULL;
	m->len = len;
	m->fd = fd >= 0 ? dup(fd) : -1;
	size_t off = 0;
	for (int i = 0; i < iovcnt; i++) {
		/* an absent part is (NULL, 0): memcpy must not see NULL */
		if (iov[i].iov_len == 0)
			continue;
		memcpy(m->data + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	if (c->tail)
		c->tail->next = m;
	else
		c->head = m;
	c->tail = m;
	c->queued_bytes += len;
	c->queued_msgs++;
	return 0;
}

enum io_result
chan_send(struct chan *c, uint16_t type, uint32_t id, const void *a,
	  size_t alen, const void *b, size_t blen, int fd)
{
	struct frame_hdr h = {.type = type,
			      .len = (uint32_t)(alen + blen),
			      .src_worker = self_worker,
			      .src_gen = self_gen,
			      .id = id};
	struct iovec iov[3] = {
		{&h, sizeof(h)}, {(void *)a, alen}, {(void *)b, blen}};

	if (c->fd < 0 || alen + blen > FRAME_MAX_PAYLOAD)
		return IO_CLOSED;
	if (c->head == NULL) {
		enum io_result rc = chan_sendmsg(c->fd, iov, 3, fd);
		if (rc != IO_AGAIN)
			return rc;
	}
	return chan_enqueue(c, iov, 3, fd) == 0 ? IO_DONE : IO_CLOSED;
}

enum io_result
chan_flush(struct chan *c)
{
	while (c->head) {
		struct chan_msg *m = c->head;
		struct iovec iov = {m->data, m->len};
		enum io_result rc = chan_sendmsg(c->fd, &iov, 1, m->fd);
		if (rc != IO_DONE)
			return rc;
		c->head = m->next;
		if (c->head == NULL)
			c->tail = NULL;
		c->queued_bytes -= m->len;
		c->queued_msgs--;
		if (m->fd >= 0)
			close(m->fd);
		free(m);
	}
	return IO_DONE;
}

bool
chan_pending(const struct chan *c)
{
	return c->head != NULL;
}

static int
chan_take_fd(struct msghdr *msg)
{
	int fd = -1;

	for (struct cmsghdr *ch = CMSG_FIRSTHDR(msg); ch;
	     ch = CMSG_NXTHDR(msg, ch)) {
		if (ch->cmsg_level != SOL_SOCKET || ch->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (ch->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int got;
			memcpy(&got, CMSG_DATA(ch) + i * sizeof(int),
			       sizeof(int));
			if (fd < 0)
				fd = got;
			else
				close(got);
		}
	}
	return fd;
}

enum io_result
chan_recv(struct chan *c, struct frame *out)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct iovec iov = {c->rbuf,
			    sizeof(struct frame_hdr) + FRAME_MAX_PAYLOAD + 16};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cm.buf,
			     .msg_controllen = sizeof(cm.buf)};
	ssize_t n;

	do
		n = recvmsg(c->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return IO_AGAIN;
	if (n <= 0)
		return IO_CLOSED;
	int fd = chan_take_fd(&msg);
	memcpy(&out->hdr, c->rbuf,
	       (size_t)n < sizeof(out->hdr) ? (size_t)n : sizeof(out->hdr));
	out->payload = c->rbuf + sizeof(struct frame_hdr);
	out->fd = fd;
	if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    frame_validate(&out->hdr, out->payload, (size_t)n, fd >= 0) < 0) {
		if (fd >= 0)
			close(fd);
		c->bad_frames++;
		log_warnx("bad frame dropped type=%u len=%zd count=%u",
			  (unsigned)out->hdr.type, n, c->bad_frames);
		return IO_ERROR;
	}
	return IO_DONE;
}
