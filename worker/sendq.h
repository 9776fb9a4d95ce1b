/* A client's output queue: bytes waiting for the socket, in order. One
 * contiguous buffer that grows on demand and is released when it empties, so
 * an idle client holds none. Limits are enforced by the caller. */
#ifndef FC_SENDQ_H
#define FC_SENDQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sendq {
	char *buf;
	size_t head; /* first unsent byte */
	size_t len;  /* bytes after head */
	size_t cap;
	uint64_t appended; /* bytes ever appended */
	uint64_t written;  /* bytes ever written to the socket */
	bool mid_line;     /* the last byte written was not a newline */
};

int sendq_append(struct sendq *q, const void *p, size_t n);
/* Writes up to n bytes; returns bytes written, 0 when it would block, -1 on
 * a broken connection. */
typedef ssize_t (*sendq_writer)(void *arg, const void *p, size_t n);

ssize_t sendq_put(struct sendq *q, const void *p, size_t n, sendq_writer wr,
		  void *arg);
ssize_t sendq_write(struct sendq *q, sendq_writer wr, void *arg, size_t max);
void sendq_free(struct sendq *q);

static inline size_t
sendq_len(const struct sendq *q)
{
	return q->len;
}

#endif
