/* The transport layer of a worker: client connections as bytes, lines and
 * output queues over plain TCP or TLS. It knows neither dialects nor
 * services: the layer above embeds a struct conn in its own record and
 * learns of lines, raw input, writes and closes through struct conn_hooks. */
#ifndef FC_CONN_H
#define FC_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "../common/config.h"
#include "../common/io.h"
#include "../common/loop.h"
#include "../proto/line.h"
#include "linger.h"
#include "sendq.h"

#define READ_CHUNK (16 * 1024) /* one socket read; the scratch is bigger */

/* Why a connection closes. It steers the transport (an output overflow
 * drops the queue before the final line) and indexes the final lines of
 * each dialect (struct dialect_def). */
enum close_reason {
	CR_NONE, /* still open */
	CR_QUIT,
	CR_CLIENT_EOF,
	CR_HANGUP,
	CR_SOCKET_ERROR,
	CR_WRITE_ERROR,
	CR_NO_MEMORY,
	CR_SENDQ_HARD,
	CR_SENDQ_SOFT,
	CR_WORKER_BUDGET,
	CR_FLOOD,
	CR_LINE_TIMEOUT,
	CR_LOGIN_TIMEOUT,
	CR_PONG_TIMEOUT,
	CR_SHUTDOWN,
	CR_SERVER_FULL, /* refused at accept */
	CR_IP_LIMIT,    /* refused at accept */
	CR_UPLOAD_EOF,
	CR_UPLOAD_TIMEOUT,
	CR_DUPLICATE,
	CR_CLUSTER_DEAD,  /* the cluster declared this node dead */
	CR_TLS_HANDSHAKE, /* no handshake within --tls-handshake-timeout */
	CR_MAX
};

struct conn;

/* What the layer above is told, all set once per worker. */
struct conn_hooks {
	/* one whole line of input (terminator removed) */
	void (*line)(struct conn *c, const char *line, size_t len);
	/* an over-long line was skipped */
	void (*line_too_long)(struct conn *c);
	/* does the owner take input now (a login or a file may hold it)? */
	bool (*accepts_input)(struct conn *c);
	/* append the final line of a close for reason r to q (detail: a
	 * reason text from elsewhere, e.g. the master's shutdown message);
	 * never called while a source streams (see conn_set_source) */
	void (*final_line)(struct conn *c, enum close_reason r,
			   const char *detail, struct sendq *q);
	/* bytes left the output queue (a long reply may go on); or NULL */
	void (*wrote)(struct conn *c);
	/* a closed connection is reaped: the owner calls conn_destroy(c)
	 * and frees its record */
	void (*closed)(struct conn *c);
};

/* Raw input instead of lines: called whenever input may be read; it pulls
 * bytes with conn_take_raw(). */
typedef void (*conn_raw_fn)(struct conn *c);

/* Output beyond the queue (a file streamed from disk): called when the
 * queue is empty and the socket may take more, at most once a loop pass,
 * with a byte budget. It writes to c->fd itself (plain connections) or
 * queues bytes with conn_push_data. IO_AGAIN: more once the socket drains;
 * IO_DONE: nothing more now; IO_ERROR/IO_CLOSED: the connection broke. */
typedef enum io_result (*conn_source_fn)(struct conn *c, size_t budget);

struct conn_set;

#define CONN_SHARED_SLOTS 8 /* shared output buffers, one per dialect */
#define CONN_REFS 3         /* parts of them a connection holds at once */

/* Bytes [off, off + len) of shared buffer slot, pushed by reference. */
struct conn_ref {
	uint32_t off, len;
	uint8_t slot;
};

struct conn {
	struct handler h;
	int fd;
	uint32_t rd_wait;  /* what a read waits for (EPOLLOUT while TLS
			      renegotiates); 0 once the peer closed */
	uint32_t wr_wait;  /* what a write waits for (EPOLLIN while TLS
			      renegotiates) */
	bool source_waits; /* the source has more: EPOLLOUT */
	bool wrote;        /* since the last conn_set_release_idle */
	conn_raw_fn raw;   /* NULL: input is lines */
	struct linebuf in;
	size_t raw_taken;   /* raw bytes read from the socket this event */
	double tokens;      /* flood bucket: commands */
	double byte_tokens; /* flood bucket: bytes */
	int64_t tokens_at;
	timer_id line_timer;     /* a partial line must end by then */
	timer_id throttle_timer; /* the rate limit holds the next line */
	timer_id tls_timer;      /* the TLS handshake must be done by then */
	timer_id more_timer;     /* TLS input left past the read budget */
	struct conn *next_closing;
	char ip[48];
	/* what every delivery reads (a fanout walks thousands of connections
	 * per event): together at the end, next to the owner's first fields */
	struct sendq held; /* deliveries waiting behind a file */
	struct conn_set *set;
	SSL *ssl;              /* NULL on plain connections */
	conn_source_fn source; /* NULL: output is the queue only */
	struct sendq *replies; /* &out, or &held while a file streams */
	struct conn *next_pending;
	size_t reply_pending; /* queued bytes that are replies, not pushes */
	timer_id soft_timer;  /* over the soft output limit until then */
	uint32_t id;
	enum close_reason why; /* CR_NONE while open */
	uint32_t events;       /* the epoll mask armed now */
	uint32_t ref_bytes;    /* the length of refs */
	bool in_source;        /* inside the source's call */
	uint8_t nrefs;
	struct conn_ref refs[CONN_REFS]; /* pushed after out, in order */
	struct sendq out;
	int64_t last_push; /* when pushed lines were last written (ms) */
};

/* Every connection of a worker. */
struct conn_set {
	struct loop *loop;
	const struct fc_limits *lim;
	const struct conn_hooks *hooks;
	char *scratch; /* shared read buffer, at least READ_CHUNK bytes */
	struct conn **by_fd;
	size_t cap;
	struct conn *pending_head; /* connections with output to write */
	struct conn *closing_head; /* closed in this pass, reaped at its end */
	uint32_t n;
	uint32_t next_id;
	uint64_t queued; /* output bytes of open connections */
	uint64_t
		replies; /* the part of queued that is replies (not budgeted) */
	bool paused;     /* XOFF: no connection is read */
	/* output rendered once for many connections (a room's line), which
	 * they write from here; emptied once no connection holds a part */
	struct sendq shared[CONN_SHARED_SLOTS];
	uint32_t ref_holders; /* connections with nrefs > 0 */
	timer_id hold_timer;  /* the next end of a hold (--coalesce-ms) */
	struct lingers lingers;
	uint64_t msgs_in, bytes_out;
};

/* Set up an empty set; ids start after first_id. 0, or -1 out of memory. */
int conn_set_init(struct conn_set *s, struct loop *l,
		  const struct fc_limits *lim, const struct conn_hooks *h,
		  char *scratch, uint32_t first_id);
/* Start serving fd (accepted, non-blocking) in c, which the caller
 * allocated zeroed and owns; tls: a server context for TLS, or NULL.
 * 0, or -1 (nothing to undo but the caller's fd). */
int conn_init(struct conn_set *s, struct conn *c, int fd, const char *ip,
	      SSL_CTX *tls, size_t max_line);
/* The end of a connection, from the closed hook: last write, lingering
 * close of the fd, buffers and timers released. c's memory is the
 * caller's. */
void conn_destroy(struct conn *c);
/* The open connection on fd, or NULL. */
struct conn *conn_by_fd(struct conn_set *s, int fd);
/* The longest line c accepts from now on, terminator included. */
void conn_set_line_max(struct conn *c, size_t max_line);

/* Replies to the client's own commands: never a reason to close, neither
 * for the output limits nor for the worker's budget; while they pile up the
 * client is not read. conn_reply adds the newline. */
void conn_reply(struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void conn_reply_raw(struct conn *c, const char *p, size_t n);
void conn_say(struct conn *c, const char *line);
/* Shared output slot: append an event's bytes once, then push them by
 * reference to each recipient. Valid until no connection holds a part. */
struct sendq *conn_shared(struct conn_set *s, unsigned slot);
/* Traffic pushed by others, bytes [off, off + n) of shared slot: over the
 * hard or the soft output limit the connection is closed. Pushed by
 * reference, written straight from there, copied only when the socket does
 * not take them (or over TLS, behind a file). */
void conn_push_shared(struct conn *c, unsigned slot, size_t off, size_t n);
/* File bytes: to the socket queue, ahead of held deliveries. */
void conn_push_data(struct conn *c, const char *p, size_t n);
/* While on, replies and pushes wait behind the file being streamed; off
 * sends what waited, in order. */
void conn_hold_replies(struct conn *c, bool on);
/* The first n bytes that waited (fewer if fewer) go out now, the rest
 * keeps waiting. */
void conn_release_held(struct conn *c, size_t n);
/* Stream from fn after what is queued (NULL: stop). While a source is
 * set, no final line is ever written: it would land inside the body. */
void conn_set_source(struct conn *c, conn_source_fn fn);

/* Close at the end of this loop pass, with the owner's final line. */
void conn_close(struct conn *c, enum close_reason why, const char *detail);
/* The reason as a word for logs. */
const char *close_reason_name(enum close_reason r);

/* Input as raw bytes (fn) or, with NULL, as lines again. */
void conn_set_raw(struct conn *c, conn_raw_fn fn);
/* Raw input: bytes already buffered first, then the socket. IO_DONE with
 * *n > 0, IO_AGAIN, IO_CLOSED (end of stream) or IO_ERROR. */
enum io_result conn_take_raw(struct conn *c, char *buf, size_t max, size_t *n);
/* Whether conn_splice_raw may be used now: a plain socket, still open for
 * reading, with no input buffered in user space. */
bool conn_can_splice(const struct conn *c);
/* Raw input moved from the socket into the pipe pipe_wr (which must be
 * empty) without a copy here: results as conn_take_raw. */
enum io_result conn_splice_raw(struct conn *c, int pipe_wr, size_t max,
			       size_t *n);
/* What decides whether c reads (its owner's state, its queues) changed:
 * apply the input rule again, and handle buffered input if it may. */
void conn_input_changed(struct conn *c);
/* Read what the socket holds now, so that a close the kernel already saw
 * is processed (a name probe). Returns whether c is still open. */
bool conn_probe(struct conn *c);

/* Whether c's queue has room for more of a long reply (below the low-water
 * mark), so that its producer may add the next piece. */
bool conn_reply_room(const struct conn *c);

/* Before sleep: write every pending queue, then reap closed connections. */
void conn_flush_all(struct conn_set *s);
void conn_reap_closing(struct conn_set *s);
/* XOFF (on) and XON: stop and resume reading every connection. */
void conn_set_pause(struct conn_set *s, bool on);
/* Release the output buffers of open connections with nothing queued and
 * nothing written since the last call. Returns the bytes released. */
size_t conn_set_release_idle(struct conn_set *s);

#endif
