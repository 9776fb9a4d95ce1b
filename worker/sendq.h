/* A client's output queue: bytes waiting for the socket, in order. One
 * contiguous buffer that grows on demand and is released when it empties, so
 * an idle client holds none. Limits are enforced by the caller. */
#ifndef FC_SENDQ_H
#define FC_SENDQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/io.h"

struct sendq {
	char *buf;
	size_t head; /* first unsent byte */
	size_t len;  /* bytes after head */
	size_t cap;
	uint64_t appended; /* bytes ever appended */
	uint64_t written;  /* bytes ever written to the socket */
	bool mid_line;     /* the last byte written was not a newline */
};

/* Writes up to n bytes of p, *done = bytes taken: IO_DONE (all of them),
 * IO_AGAIN (fewer, maybe none: the socket is full), IO_CLOSED/IO_ERROR (the
 * connection is broken). */
typedef enum io_result (*sendq_writer)(void *arg, const void *p, size_t n,
				       size_t *done);

/* Queue n bytes at the end; 0, or -1 out of memory (nothing queued). */
int sendq_append(struct sendq *q, const void *p, size_t n);
/* Bulk bytes: written at once through wr when nothing is queued, the rest
 * queued. *written = bytes that went to the socket. IO_DONE (written or
 * queued), IO_CLOSED/IO_ERROR (broken, or out of memory: nothing queued). */
enum io_result sendq_put(struct sendq *q, const void *p, size_t n,
			 sendq_writer wr, void *arg, size_t *written);
/* Write at most max queued bytes; *written = bytes written. IO_DONE when
 * all of them went, IO_AGAIN when the socket took fewer, else broken. A
 * buffer that this empties is kept only if at most keep bytes. */
enum io_result sendq_write(struct sendq *q, sendq_writer wr, void *arg,
			   size_t max, size_t keep, size_t *written);
/* Drop what is queued (mid_line survives: it is about the socket). */
void sendq_free(struct sendq *q);

static inline size_t
sendq_len(const struct sendq *q)
{
	return q->len;
}

#endif
