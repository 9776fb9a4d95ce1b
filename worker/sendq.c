/* Output queue operations. Compaction moves the unsent tail to the front
 * only when the free space at the front is worth it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "sendq.h"

#define SENDQ_KEEP 4096

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
sendq_append(struct sendq *q, const void *p, size_t n)
{
	if (q->head + q->len + n > q->cap && q->head > 0) {
		memmove(q->buf, q->buf + q->head, q->len);
		q->head = 0;
	}
	if (q->len + n > q->cap) {
		size_t cap = q->cap ? q->cap : 512;
		while (cap < q->len + n)
			cap *= 2;
		char *b = realloc(q->buf, cap);
		if (b == NULL)
			return -1;
		q->buf = b;
		q->cap = cap;
	}
	memcpy(q->buf + q->head + q->len, p, n);
	q->len += n;
	q->appended += n;
	return 0;
}

/* Bulk bytes (file chunks): when nothing is queued, write them straight
 * from the caller's buffer and queue only what the socket did not take,
 * which saves a copy per chunk. Returns bytes written, or -1 when the
 * connection is broken (nothing is queued then). */
ssize_t
sendq_put(struct sendq *q, const void *p, size_t n, sendq_writer wr, void *arg)
{
	ssize_t w = 0;

	if (q->len == 0 && n > 0) {
		w = wr(arg, p, n);
		if (w < 0)
			return -1;
		if (w > 0)
			q->mid_line = ((const char *)p)[w - 1] != '\n';
	}
	q->appended += (uint64_t)w;
	q->written += (uint64_t)w;
	if ((size_t)w < n &&
	    sendq_append(q, (const char *)p + w, n - (size_t)w) < 0)
		return -1;
	return w;
}

/* Write at most max bytes through wr. Returns bytes written (0 if the socket
 * is full) or -1 when the connection is broken. */
ssize_t
sendq_write(struct sendq *q, sendq_writer wr, void *arg, size_t max)
{
	size_t n = q->len < max ? q->len : max;

	if (n == 0)
		return 0;
	ssize_t w = wr(arg, q->buf + q->head, n);
	if (w <= 0)
		return w;
	q->mid_line = q->buf[q->head + (size_t)w - 1] != '\n';
	q->head += (size_t)w;
	q->len -= (size_t)w;
	q->written += (uint64_t)w;
	if (q->len == 0) {
		/* an active client keeps a small buffer (no malloc per loop
		 * pass); a big one goes back at once */
		q->head = 0;
		if (q->cap > SENDQ_KEEP) {
			free(q->buf);
			q->buf = NULL;
			q->cap = 0;
		}
	}
	return w;
}

void
sendq_free(struct sendq *q)
{
	bool mid = q->mid_line;

	free(q->buf);
	memset(q, 0, sizeof(*q));
	q->mid_line = mid;
}
