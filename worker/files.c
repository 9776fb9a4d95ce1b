/* Store-and-forward file transfer (numeric FILE). The upload goes into a
 * nameless spool file (spool.c) and only when every byte is there does the
 * sender get 200 and the spool's descriptor travel (SCM_RIGHTS, over the
 * loopback when the receiver is ours) to the receiver's worker, which
 * streams it out behind a 102 with sendfile (TLS: pread + SSL_write) and
 * answers delivered or failed, shown to the sender as 714. A stalled or
 * vanished sender thus never touches its receiver; memory stays flat. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/util.h"
#include "client.h"
#include "spool.h"
#include "../ipc/metrics.h"

#define IOBUF (256 * 1024)             /* one read from an uploader */
#define UPLOAD_MAX_PER_CALL (1u << 20) /* then other clients get a turn */
/* read from the spool, then SSL: half the default --sendq-soft, which
 * counts the queue it waits in */
#define TLS_CHUNK (32 * 1024)
#define WAITING_MAX 16 /* one sender's files stored and not yet delivered */

/* Sender side: bytes still coming in. */
struct upload {
	struct client *c;
	int fd; /* the spool file */
	uint64_t size, got, off;
	bool failed;     /* a write error: the rest is read and dropped */
	timer_id timer;  /* the inactivity deadline */
	timer_id more;   /* carry on reading after a full turn */
	int64_t last_ms; /* last byte in */
	int64_t t0_ms;
	struct reg_user_view to;
	char filename[256];
};

/* Sender side: a stored file waiting for its receiver's verdict. */
struct pending {
	struct pending *next;
	uint32_t id;
	uint64_t size;
	struct client *c; /* NULL once the sender left */
	uint16_t to_worker;
	char to_name[REG_NAME_SZ];
	char filename[256];
};

/* Receiver side: a file queued for, or streaming to, a client. */
struct rx {
	struct rx *next;
	struct client *c;
	int fd;
	uint16_t src_worker;
	uint32_t id;
	uint64_t size, off;
	size_t held_before; /* held deliveries that arrived before it */
	int64_t t0_ms;
	char sender[REG_NAME_SZ];
	char filename[256];
};

/* One transfer buffer per worker process, used within one call at a time
 * (an upload's read, a TLS delivery's chunk): memory is flat whatever the
 * number or size of files. */
static char iobuf[IOBUF];
/* A plain upload moves from the socket through this pipe into the spool
 * file (splice: no copy in user space); empty between calls, -1 when none. */
static int up_pipe[2] = {-1, -1};

static void
up_pipe_close(void)
{
	for (int i = 0; i < 2; i++) {
		if (up_pipe[i] >= 0)
			close(up_pipe[i]);
		up_pipe[i] = -1;
	}
}

/* The pipe, made on first use with room for one IOBUF: false without. */
static bool
up_pipe_ready(void)
{
	if (up_pipe[0] >= 0)
		return true;
	if (pipe2(up_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		up_pipe[0] = up_pipe[1] = -1;
		return false;
	}
	if (fcntl(up_pipe[1], F_SETPIPE_SZ, IOBUF) < IOBUF) {
		up_pipe_close();
		return false;
	}
	return true;
}

static struct spool *
files_spool(void)
{
	return spool_daemon();
}

/* ---- the sender's result (714) ---- */

static void
pending_add(struct worker *w, struct upload *up, uint32_t id)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		log_warnx("file id=%u: no memory for its result", id);
		return;
	}
	p->id = id;
	p->size = up->size;
	p->c = up->c;
	p->to_worker = up->to.worker;
	memcpy(p->to_name, up->to.name, sizeof(p->to_name));
	memcpy(p->filename, up->filename, sizeof(p->filename));
	p->next = w->pendings;
	w->pendings = p;
}

/* Unlinks and returns the pending result (id from worker to), or NULL. */
static struct pending *
pending_take(struct worker *w, uint32_t id)
{
	for (struct pending **pp = &w->pendings; *pp; pp = &(*pp)->next)
		if ((*pp)->id == id) {
			struct pending *p = *pp;
			*pp = p->next;
			return p;
		}
	return NULL;
}

static void
pending_tell(struct pending *p, bool ok, const char *why)
{
	if (p->c == NULL || client_closing(p->c))
		return;
	if (ok)
		conn_reply(&p->c->conn, "714 %s %s delivered", p->to_name,
			   p->filename);
	else
		conn_reply(&p->c->conn, "714 %s %s failed %s", p->to_name,
			   p->filename, why);
}

static void
result_on_frame(struct worker *w, const struct frame *f)
{
	struct file_end_body r;
	struct pending *p = pending_take(w, f->hdr.id);

	if (p == NULL)
		return;
	memcpy(&r, f->payload, sizeof(r));
	r.why[sizeof(r.why) - 1] = '\0';
	pending_tell(p, r.ok != 0, r.why);
	free(p);
}

/* ---- sender side: the upload ---- */

/* One more or one fewer transfer under way here (uploads and deliveries):
 * the status counter, and the loop-pass watch that runs meanwhile. */
static void
files_active(struct worker *w, int d)
{
	w->board->files_active += (uint64_t)(int64_t)d;
	bool on = w->board->files_active > 0;
	if (on != w->pass_watch) {
		w->pass_watch = on;
		w->pass_max_us = w->pass_max_cpu_us = 0;
		loop_set_pass_clock(w->loop, on);
	}
}

void
files_after_pass(struct worker *w)
{
	int64_t wall, cpu;

	if (!w->pass_watch)
		return;
	loop_last_pass(w->loop, &wall, &cpu);
	if (wall > w->pass_max_us)
		w->pass_max_us = wall;
	if (cpu > w->pass_max_cpu_us)
		w->pass_max_cpu_us = cpu;
}

static void
upload_end(struct worker *w, struct upload *up)
{
	spool_close(up->fd);
	spool_release(files_spool(), w->idx, up->size);
	files_active(w, -1);
	metrics_add(M_FILES_FAILED, up->failed || up->got < up->size);
	loop_timer_cancel(w->loop, up->timer);
	loop_timer_cancel(w->loop, up->more);
	if (up->c) {
		up->c->up = NULL;
		conn_set_raw(&up->c->conn, NULL);
	}
	free(up);
}

static void upload_timer(void *arg);

static void
upload_arm(struct worker *w, struct upload *up)
{
	if (w->lim.upload_timeout_ms <= 0)
		return;
	up->timer =
		loop_timer_add(w->loop, up->last_ms + w->lim.upload_timeout_ms,
			       upload_timer, up);
}

static void
upload_timer(void *arg)
{
	struct upload *up = arg;
	struct worker *w = up->c->w;

	up->timer = 0;
	if (loop_now(w->loop) - up->last_ms < w->lim.upload_timeout_ms) {
		upload_arm(w, up);
		return;
	}
	struct client *c = up->c;
	log_info("file upload timed out user=%s got=%" PRIu64 "/%" PRIu64,
		 c->name, up->got, up->size);
	conn_say(&c->conn, "101 File transfer failed: upload timed out");
	upload_end(w, up);
	/* the rest of the declared bytes can no longer be told from
	 * commands: the sender's own connection ends here */
	client_close(c, CR_UPLOAD_TIMEOUT, NULL);
}

/* Every byte is in the spool: 200, then the descriptor to the receiver. */
static void
upload_stored(struct worker *w, struct upload *up)
{
	struct client *c = up->c;
	struct file_offer_body o = {0};
	uint32_t id = ++w->next_xfer_id;

	o.target_slot = (uint32_t)up->to.slot;
	o.target_conn = up->to.conn_id;
	o.size = up->size;
	memcpy(o.sender, c->name, sizeof(o.sender));
	memcpy(o.filename, up->filename, sizeof(o.filename));
	conn_reply(&c->conn, "200 File %s stored for %s", up->filename,
		   up->to.name);
	int64_t ms = now_ms() - up->t0_ms;
	log_info("file stored id=%u from=%s to=%s bytes=%" PRIu64
		 " secs=%.3f longest_pass_us=%lld longest_pass_cpu_us=%lld",
		 id, c->name, up->to.name, up->size, (double)ms / 1e3,
		 (long long)w->pass_max_us, (long long)w->pass_max_cpu_us);
	if (mesh_send_fd(&w->mesh, up->to.worker, FR_FILE_OFFER, id, &o,
			 sizeof(o), up->fd) < 0)
		conn_reply(&c->conn, "714 %s %s failed receiver gone",
			   up->to.name, up->filename);
	else
		pending_add(w, up, id);
	upload_end(w, up); /* the receiver's worker holds the file now */
	conn_input_changed(&c->conn); /* pipelined commands */
}

static void
upload_fail(struct upload *up)
{
	log_warn("file spool write user=%s", up->c->name);
	up->failed = true;
	conn_say(&up->c->conn, "101 File transfer failed: spool write error");
}

static void
upload_write(struct upload *up, const char *p, size_t n)
{
	if (up->failed)
		return;
	while (n > 0) {
		ssize_t k = spool_append(up->fd, &up->off, p, n);
		if (k <= 0) {
			upload_fail(up);
			return;
		}
		p += k;
		n -= (size_t)k;
	}
}

/* Up to max bytes of the upload from the socket into the spool file:
 * spliced when the connection allows it, else read and written. */
static enum io_result
upload_take(struct upload *up, size_t max, size_t *n)
{
	struct conn *conn = &up->c->conn;

	if (up->failed || !conn_can_splice(conn) || !up_pipe_ready()) {
		enum io_result rc = conn_take_raw(conn, iobuf, max, n);
		if (rc == IO_DONE)
			upload_write(up, iobuf, *n);
		return rc;
	}
	enum io_result rc = conn_splice_raw(conn, up_pipe[1], max, n);
	if (rc == IO_DONE &&
	    spool_splice_in(up_pipe[0], up->fd, &up->off, *n) < 0) {
		up_pipe_close(); /* it may hold the bytes that failed */
		upload_fail(up);
	}
	return rc;
}

static void upload_continue(void *arg);

/* Raw input of an uploading client, at most UPLOAD_MAX_PER_CALL bytes a
 * turn so that no uploader holds the worker (the socket signals again for
 * the rest; TLS bytes already inside OpenSSL do not, so a 1 ms timer comes
 * back for those). */
static void
upload_input(struct conn *conn)
{
	struct client *c = (struct client *)conn;
	struct upload *up = c->up;
	struct worker *w = c->w;
	size_t done = 0, n;

	while (up->got < up->size && done < UPLOAD_MAX_PER_CALL) {
		uint64_t want = up->size - up->got;
		enum io_result rc =
			upload_take(up, want < IOBUF ? want : IOBUF, &n);
		if (rc == IO_AGAIN)
			return;
		if (rc != IO_DONE) { /* the sender vanished mid-file */
			upload_end(w, up);
			client_close(c, CR_UPLOAD_EOF, NULL);
			return;
		}
		up->got += n;
		metrics_add(M_FILE_BYTES, (int64_t)n);
		done += n;
		up->last_ms = loop_now(w->loop);
	}
	if (up->got < up->size) {
		/* plain: the socket still signals what it holds; TLS bytes
		 * already inside OpenSSL do not: come back for them soon */
		if (conn->ssl && SSL_pending(conn->ssl) > 0 && up->more == 0)
			up->more =
				loop_timer_add(w->loop, loop_now(w->loop) + 1,
					       upload_continue, up);
		return;
	}
	if (up->failed) {
		upload_end(w, up);
		conn_input_changed(conn);
		return;
	}
	upload_stored(w, up);
}

static void
upload_continue(void *arg)
{
	struct upload *up = arg;

	up->more = 0;
	conn_input_changed(&up->c->conn);
}

/* No single sender may fill the spool: at most WAITING_MAX of its files
 * wait for delivery, holding at most half the quota (or one file of the
 * largest size, if that is more). */
static const char *
sender_over_share(const struct client *c, uint64_t size)
{
	const struct worker *w = c->w;
	uint64_t share = spool_quota(files_spool()) / 2, held = size;
	unsigned n = 0;

	if (share < w->lim.max_file_size)
		share = w->lim.max_file_size;
	for (const struct pending *p = w->pendings; p; p = p->next)
		if (p->c == c) {
			n++;
			held += p->size;
		}
	if (n >= WAITING_MAX)
		return "101 File transfer failed: too many files waiting";
	if (held > share)
		return "101 File transfer failed: spool share used up";
	return NULL;
}

void
files_start_upload(struct client *c, const struct reg_user_view *to,
		   const char *fname, uint64_t size)
{
	struct worker *w = c->w;
	struct spool *s = files_spool();
	const char *over = sender_over_share(c, size);

	if (over) {
		conn_say(&c->conn, over);
		return;
	}
	if (!spool_reserve(s, w->idx, size)) {
		conn_say(&c->conn, "101 File transfer failed: spool full");
		return;
	}
	struct upload *up = calloc(1, sizeof(*up));
	int fd = up ? spool_open(s, size) : -1;
	if (fd < 0) {
		log_warn("file spool open in %s", spool_dir(s));
		free(up);
		spool_release(s, w->idx, size);
		conn_say(&c->conn,
			 "101 File transfer failed: spool unavailable");
		return;
	}
	up->c = c;
	up->fd = fd;
	up->size = size;
	up->to = *to;
	up->t0_ms = now_ms();
	up->last_ms = loop_now(w->loop);
	snprintf(up->filename, sizeof(up->filename), "%s", fname);
	c->up = up;
	files_active(w, 1);
	metrics_add(M_FILES_STARTED, 1);
	conn_reply(&c->conn, "100 Ready: send %" PRIu64 " bytes", size);
	if (size == 0) {
		upload_stored(w, up);
		return;
	}
	upload_arm(w, up);
	conn_set_raw(&c->conn, upload_input);
	conn_input_changed(&c->conn);
}

/* ---- receiver side ---- */

static void
rx_result(struct worker *w, struct rx *r, bool ok, const char *why)
{
	struct file_end_body e = {.ok = ok};

	snprintf(e.why, sizeof(e.why), "%s", why);
	/* the space first: a sender told "delivered" may send again at once */
	spool_close(r->fd);
	spool_release(files_spool(), w->idx, r->size);
	files_active(w, -1);
	metrics_add(ok ? M_FILES_DONE : M_FILES_FAILED, 1);
	mesh_send(&w->mesh, r->src_worker, FR_FILE_RESULT, r->id, &e, sizeof(e),
		  NULL, 0);
}

static enum io_result rx_source(struct conn *conn, size_t budget);

static void
rx_activate(struct rx *r)
{
	struct conn *conn = &r->c->conn;
	char line[400];
	int n = snprintf(line, sizeof(line), "102 %s %" PRIu64 " %s\n",
			 r->filename, r->size, r->sender);

	r->t0_ms = now_ms();
	conn_push_data(conn, line, (size_t)n);
	conn_hold_replies(conn, true);
	conn_set_source(conn, rx_source);
}

/* The head file is out: the deliveries that came before the next file go,
 * then the next file, or everything that waited. */
static void
rx_next(struct client *c)
{
	struct rx *r = c->rx_head;
	struct conn *conn = &c->conn;

	c->rx_head = r->next;
	if (c->rx_head == NULL)
		c->rx_tail = NULL;
	free(r);
	conn_set_source(conn, NULL);
	struct rx *next = c->rx_head;
	if (next == NULL) {
		conn_hold_replies(conn, false);
		return;
	}
	size_t k = next->held_before;
	conn_release_held(conn, k);
	for (struct rx *q = next; q; q = q->next)
		q->held_before -= q->held_before < k ? q->held_before : k;
	rx_activate(next);
}

static void
rx_delivered(struct worker *w, struct client *c)
{
	struct rx *r = c->rx_head;
	int64_t ms = now_ms() - r->t0_ms;

	log_info("file delivered id=%u from=%s to=%s bytes=%" PRIu64
		 " secs=%.3f longest_pass_us=%lld longest_pass_cpu_us=%lld",
		 r->id, r->sender, c->name, r->size, (double)ms / 1e3,
		 (long long)w->pass_max_us, (long long)w->pass_max_cpu_us);
	rx_result(w, r, true, "");
	rx_next(c);
}

/* Output of a client whose head file streams: called by the transport
 * when the queue is empty and the socket may take more. */
static enum io_result
rx_source(struct conn *conn, size_t budget)
{
	struct client *c = (struct client *)conn;
	struct rx *r = c->rx_head;
	uint64_t left = r->size - r->off;

	if (left == 0) { /* TLS: the last chunk left the queue */
		rx_delivered(c->w, c);
		return IO_DONE;
	}
	if (conn->ssl) {
		size_t want = left < TLS_CHUNK ? (size_t)left : TLS_CHUNK;
		ssize_t k = spool_read(r->fd, &r->off, iobuf, want);
		if (k <= 0)
			return IO_ERROR;
		conn_push_data(conn, iobuf, (size_t)k);
		return IO_DONE;
	}
	size_t want = left < budget ? (size_t)left : budget;
	ssize_t k = spool_sendfile(conn->fd, r->fd, &r->off, want);
	if (k < 0)
		return IO_ERROR;
	if (r->off == r->size) {
		rx_delivered(c->w, c);
		return IO_DONE;
	}
	return IO_AGAIN;
}

static void
rx_on_offer(struct worker *w, const struct frame *f)
{
	struct file_offer_body o;
	struct rx *r = NULL;

	memcpy(&o, f->payload, sizeof(o));
	struct client *c = client_by_slot(w, o.target_slot, o.target_conn);
	if (c == NULL || client_closing(c) ||
	    (r = calloc(1, sizeof(*r))) == NULL) {
		struct file_end_body e = {.ok = 0};
		snprintf(e.why, sizeof(e.why), "%s",
			 c ? "out of memory" : "receiver gone");
		spool_close(f->fd);
		mesh_send(&w->mesh, f->hdr.src_worker, FR_FILE_RESULT,
			  f->hdr.id, &e, sizeof(e), NULL, 0);
		return;
	}
	spool_charge(files_spool(), w->idx, o.size);
	files_active(w, 1);
	r->c = c;
	r->fd = f->fd;
	r->src_worker = f->hdr.src_worker;
	r->id = f->hdr.id;
	r->size = o.size;
	o.sender[sizeof(o.sender) - 1] = '\0';
	o.filename[sizeof(o.filename) - 1] = '\0';
	memcpy(r->sender, o.sender, sizeof(r->sender));
	memcpy(r->filename, o.filename, sizeof(r->filename));
	r->held_before = sendq_len(&c->conn.held);
	if (c->rx_tail)
		c->rx_tail->next = r;
	else
		c->rx_head = r;
	c->rx_tail = r;
	if (c->rx_head == r)
		rx_activate(r);
}

void
files_on_frame(struct worker *w, const struct frame *f)
{
	if (f->hdr.type == FR_FILE_OFFER)
		rx_on_offer(w, f);
	else if (f->hdr.type == FR_FILE_RESULT)
		result_on_frame(w, f);
}

void
files_conn_gone(struct client *c)
{
	struct worker *w = c->w;

	if (c->up)
		upload_end(w, c->up); /* the receiver never heard of it */
	for (struct pending *p = w->pendings; p; p = p->next)
		if (p->c == c)
			p->c = NULL;
	while (c->rx_head) {
		struct rx *r = c->rx_head;
		c->rx_head = r->next;
		rx_result(w, r, false, "receiver gone");
		free(r);
	}
	c->rx_tail = NULL;
}

/* Worker idx died: files stored for its users are lost (714 failed); files
 * it sent us are ours now and still go out (their result is dropped). */
void
files_peer_lost(struct worker *w, int idx)
{
	for (struct pending **pp = &w->pendings; *pp;) {
		struct pending *p = *pp;
		if (p->to_worker != idx) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		pending_tell(p, false, "receiver gone");
		free(p);
	}
}

void
files_worker_start(struct worker *w)
{
	/* the previous worker of this slot died with its spool files */
	spool_slot_reset(files_spool(), w->idx);
	if (spool_closer_start() < 0)
		log_warn("spool closer thread: spool files close inline");
}

void
files_worker_stop(void)
{
	up_pipe_close();
	spool_closer_stop();
}
