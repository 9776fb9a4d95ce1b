/* Channel I/O. With SEQPACKET a frame is sent whole or not at all, so the
 * queue never holds half a frame; EAGAIN just means "queue it". */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
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

/* Send one packet as it is; 0 sent, 1 would block, -1 dead. */
int
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
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			return 1;
		return -1;
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

/* Frame = header + a + b. fd (or -1) travels with SCM_RIGHTS; the caller
 * keeps ownership of its fd. Returns CHAN_OK (sent or queued) or CHAN_DEAD. */
int
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
		return CHAN_DEAD;
	if (c->head == NULL) {
		int rc = chan_sendmsg(c->fd, iov, 3, fd);
		if (rc <= 0)
			return rc == 0 ? CHAN_OK : CHAN_DEAD;
	}
	return chan_enqueue(c, iov, 3, fd) == 0 ? CHAN_OK : CHAN_DEAD;
}

/* Push queued frames. CHAN_OK: queue empty; CHAN_AGAIN: the kernel is full;
 * CHAN_DEAD: the peer is gone. */
int
chan_flush(struct chan *c)
{
	while (c->head) {
		struct chan_msg *m = c->head;
		struct iovec iov = {m->data, m->len};
		int rc = chan_sendmsg(c->fd, &iov, 1, m->fd);
		if (rc == 1)
			return CHAN_AGAIN;
		if (rc < 0)
			return CHAN_DEAD;
		c->head = m->next;
		if (c->head == NULL)
			c->tail = NULL;
		c->queued_bytes -= m->len;
		c->queued_msgs--;
		if (m->fd >= 0)
			close(m->fd);
		free(m);
	}
	return CHAN_OK;
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

/* Receive one frame into c->rbuf. CHAN_OK with *out filled, CHAN_AGAIN,
 * CHAN_DEAD (EOF or error) or CHAN_BAD (malformed frame, dropped). */
int
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
		return CHAN_AGAIN;
	if (n <= 0)
		return CHAN_DEAD;
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
		return CHAN_BAD;
	}
	return CHAN_OK;
}
