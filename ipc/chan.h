/* A channel: one end of a SOCK_SEQPACKET socketpair with a bounded
 * user-space queue behind it. A send with an empty queue goes straight to the
 * kernel; what the kernel refuses waits in the queue, in order. */
#ifndef FC_CHAN_H
#define FC_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

enum chan_rc { CHAN_OK = 0, CHAN_AGAIN = 1, CHAN_DEAD = -1, CHAN_BAD = -2 };

void chan_self(uint16_t worker, uint16_t gen);
int chan_open(struct chan *c, int fd);
void chan_close(struct chan *c);
int chan_send(struct chan *c, uint16_t type, uint32_t id, const void *a,
	      size_t alen, const void *b, size_t blen, int fd);
int chan_flush(struct chan *c);
int chan_recv(struct chan *c, struct frame *out);
bool chan_pending(const struct chan *c);
/* One packet as it is, fd (or -1) with SCM_RIGHTS: chan_send's last step,
 * and the fuzzer's way to send malformed frames. */
struct iovec;
int chan_sendmsg(int sock, const struct iovec *iov, int iovcnt, int fd);

#endif
