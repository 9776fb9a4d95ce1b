/* A channel: one end of a SOCK_SEQPACKET socketpair with a bounded
 * user-space queue behind it. A send with an empty queue goes straight to the
 * kernel; what the kernel refuses waits in the queue, in order. */
#ifndef FC_CHAN_H
#define FC_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/io.h"
#include "frame.h"

struct chan_msg;

struct chan {
	int fd;
	struct chan_msg *head, *tail;
	size_t queued_bytes;
	size_t queued_msgs;
	unsigned bad_frames;
	char *rbuf; /* receive buffer, one packet */
};

/* Results (common/io.h): IO_DONE, IO_AGAIN (the kernel is full, nothing
 * now), IO_CLOSED (the channel is dead: EOF or any socket error), and from
 * chan_recv only IO_ERROR: a malformed frame was dropped (bad_frames counts
 * them), the channel still works. */

/* This process's worker index and generation, stamped on every frame. */
void chan_self(uint16_t worker, uint16_t gen);
/* Take fd (a SEQPACKET end); 0, or -1 out of memory. */
int chan_open(struct chan *c, int fd);
/* Close the fd and drop the queue (and the fds queued with it). */
void chan_close(struct chan *c);
/* Frame = header + a + b, fd (or -1) with SCM_RIGHTS (the caller keeps its
 * fd). IO_DONE: sent or queued; IO_CLOSED: the channel is dead. */
enum io_result chan_send(struct chan *c, uint16_t type, uint32_t id,
			 const void *a, size_t alen, const void *b, size_t blen,
			 int fd);
/* Push queued frames: IO_DONE (queue empty), IO_AGAIN or IO_CLOSED. */
enum io_result chan_flush(struct chan *c);
/* One frame into *out (valid until the next call): IO_DONE, IO_AGAIN,
 * IO_CLOSED or IO_ERROR (dropped). */
enum io_result chan_recv(struct chan *c, struct frame *out);
/* Frames wait in the queue. */
bool chan_pending(const struct chan *c);
/* One packet as it is, fd (or -1) with SCM_RIGHTS: chan_send's last step,
 * and the fuzzer's way to send malformed frames. IO_DONE, IO_AGAIN or
 * IO_CLOSED. */
struct iovec;
enum io_result chan_sendmsg(int sock, const struct iovec *iov, int iovcnt,
			    int fd);

#endif
