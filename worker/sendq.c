/* Output queue operations. Compaction moves the unsent tail to the front
 * only when the free space at the front is worth it. */
#include "sendq.h"

#include <stdlib.h>
#include <string.h>

int
sendq_append(struct sendq *q, const void *p, size_t n)
{
	if (n == 0)
		return 0;
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

enum io_result
sendq_put(struct sendq *q, const void *p, size_t n, sendq_writer wr, void *arg,
	  size_t *written)
{
	size_t w = 0;

	*written = 0;
	if (q->len == 0 && n > 0) {
		enum io_result rc = wr(arg, p, n, &w);
		if (rc == IO_CLOSED || rc == IO_ERROR)
			return rc;
		if (w > 0)
			q->mid_line = ((const char *)p)[w - 1] != '\n';
	}
	*written = w;
	q->appended += w;
	q->written += w;
	if (w < n && sendq_append(q, (const char *)p + w, n - w) < 0)
		return IO_ERROR;
	return IO_DONE;
}

/* Past a write: what is left moves on, and an emptied buffer is kept only
 * up to keep bytes. */
static void
sendq_consume(struct sendq *q, size_t w, size_t keep)
{
	q->mid_line = q->buf[q->head + w - 1] != '\n';
	q->head += w;
	q->len -= w;
	q->written += w;
	if (q->len > 0)
		return;
	q->head = 0;
	if (q->cap > keep) {
		free(q->buf);
		q->buf = NULL;
		q->cap = 0;
	}
}

enum io_result
sendq_write(struct sendq *q, sendq_writer wr, void *arg, size_t max,
	    size_t keep, size_t *written)
{
	size_t n = q->len < max ? q->len : max;
	size_t w = 0;

	*written = 0;
	if (n == 0)
		return IO_DONE;
	enum io_result rc = wr(arg, q->buf + q->head, n, &w);
	if (w > 0)
		sendq_consume(q, w, keep);
	*written = w;
	return rc;
}

void
sendq_free(struct sendq *q)
{
	bool mid = q->mid_line;

	free(q->buf);
	memset(q, 0, sizeof(*q));
	q->mid_line = mid;
}
