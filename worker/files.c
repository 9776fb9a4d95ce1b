/* Streamed file transfer (numeric FILE). The sender's worker reads exactly
 * <size> raw bytes and sends them in chunks as credit allows; the receiver's
 * worker grants credit as bytes leave the receiver's socket queue, so memory
 * stays bounded by FILE_WINDOW chunks per transfer whatever the file size,
 * and a slow receiver slows the sender instead of filling memory. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "client.h"

#define UPLOAD_MAX_PER_CALL (512 * 1024)

struct upload {
	struct upload *next;
	uint32_t id;
	struct client *c;
	uint16_t to_worker;
	char to_name[REG_NAME_SZ];
	char filename[256];
	uint64_t remaining;
	uint32_t credit;
	bool failed;
};

struct rx {
	struct rx *next_q;   /* the receiver's queue */
	struct rx *next_all; /* the worker's list */
	struct client *c;
	uint16_t src_worker;
	uint32_t id;
	uint64_t remaining;
	uint64_t size;
	uint32_t outstanding;
	uint64_t end_offset;
	bool active;
	bool end_seen;
	char sender[REG_NAME_SZ];
	char filename[256];
};

static struct upload *
upload_find(struct worker *w, uint32_t id)
{
	for (struct upload *u = w->uploads; u; u = u->next)
		if (u->id == id)
			return u;
	return NULL;
}

static void
upload_free(struct worker *w, struct upload *up)
{
	for (struct upload **pp = &w->uploads; *pp; pp = &(*pp)->next)
		if (*pp == up) {
			*pp = up->next;
			break;
		}
	if (up->c && up->c->up == up)
		up->c->up = NULL;
	w->board->files_active--;
	free(up);
}

static void
send_end(struct worker *w, struct upload *up, bool ok, const char *why)
{
	struct file_end_body e = {.ok = ok};

	snprintf(e.why, sizeof(e.why), "%s", why);
	mesh_send(&w->mesh, up->to_worker, FR_FILE_END, up->id, &e, sizeof(e),
		  NULL, 0);
}

/* ---- sender side ---- */

static void upload_finish_input(struct client *c, struct upload *up);
static void files_upload_input(struct conn *conn);

void
files_start_upload(struct client *c, const struct reg_user_view *to,
		   const char *fname, uint64_t size)
{
	struct worker *w = c->w;
	struct upload *up = calloc(1, sizeof(*up));
	struct file_offer_body o;

	if (up == NULL) {
		conn_say(&c->conn, "101 Out of memory");
		return;
	}
	up->id = ++w->next_xfer_id;
	up->c = c;
	up->to_worker = to->worker;
	up->remaining = size;
	memcpy(up->to_name, to->name, sizeof(up->to_name));
	snprintf(up->filename, sizeof(up->filename), "%s", fname);
	up->next = w->uploads;
	w->uploads = up;
	w->board->files_active++;
	c->up = up;
	conn_set_raw(&c->conn, files_upload_input);

	memset(&o, 0, sizeof(o));
	o.target_slot = to->slot;
	o.target_conn = to->conn_id;
	o.size = size;
	memcpy(o.sender, c->name, sizeof(o.sender));
	snprintf(o.filename, sizeof(o.filename), "%s", fname);
	conn_reply(&c->conn, "100 Ready: send %" PRIu64 " bytes", size);
	if (mesh_send(&w->mesh, to->worker, FR_FILE_OFFER, up->id, &o,
		      sizeof(o), NULL, 0) < 0) {
		up->failed = true;
		conn_say(&c->conn, "101 Receiver unreachable");
	}
	if (size == 0)
		upload_finish_input(c, up);
}

/* All declared bytes were read: wait for the result, or go back to lines
 * when the transfer already failed (the 101 was sent then). */
static void
upload_finish_input(struct client *c, struct upload *up)
{
	conn_set_raw(&c->conn, NULL);
	if (up->failed)
		upload_free(c->w, up);
	else
		send_end(c->w, up, true, "");
	conn_input_changed(&c->conn);
}

static bool
upload_reading(const struct upload *up)
{
	return up->remaining > 0;
}

/* The raw-input sink of an uploading client: up to UPLOAD_MAX_PER_CALL
 * bytes (no cap over TLS, which raises no event for what it holds). */
static void
files_upload_input(struct conn *conn)
{
	struct client *c = (struct client *)conn;
	struct worker *w = c->w;
	struct upload *up = c->up;
	size_t done = 0, n;

	while (up->remaining > 0 && (done < UPLOAD_MAX_PER_CALL || conn->ssl)) {
		if (!up->failed && up->credit == 0)
			return;
		size_t want =
			up->remaining < FILE_CHUNK ? up->remaining : FILE_CHUNK;
		enum io_result rc = conn_take_raw(conn, w->scratch, want, &n);
		if (rc == IO_AGAIN)
			return;
		if (rc != IO_DONE) {
			if (!up->failed)
				send_end(w, up, false, "sender gone");
			up->failed = true;
			client_close(c, CR_UPLOAD_EOF, NULL);
			return;
		}
		if (!up->failed) {
			mesh_send(&w->mesh, up->to_worker, FR_FILE_DATA, up->id,
				  w->scratch, n, NULL, 0);
			up->credit--;
		}
		up->remaining -= n;
		done += n;
	}
	if (up->remaining == 0)
		upload_finish_input(c, up);
}

bool
files_accepts_input(const struct client *c)
{
	const struct upload *up = c->up;

	if (up == NULL)
		return true;
	return upload_reading(up) && (up->failed || up->credit > 0);
}

static void
upload_on_credit(struct worker *w, const struct frame *f)
{
	struct file_credit_body cb;
	struct upload *up = upload_find(w, f->hdr.id);

	memcpy(&cb, f->payload, sizeof(cb));
	if (up == NULL || cb.chunks > FILE_WINDOW * 2)
		return;
	up->credit += cb.chunks;
	if (up->c && upload_reading(up))
		conn_input_changed(&up->c->conn);
}

static void
upload_on_result(struct worker *w, const struct frame *f)
{
	struct file_end_body r;
	struct upload *up = upload_find(w, f->hdr.id);

	memcpy(&r, f->payload, sizeof(r));
	if (up == NULL)
		return;
	struct client *c = up->c;
	if (c == NULL) {
		upload_free(w, up);
		return;
	}
	if (r.ok && !upload_reading(up))
		conn_reply(&c->conn, "200 File %s delivered to %s",
			   up->filename, up->to_name);
	else if (!up->failed)
		conn_reply(&c->conn, "101 File transfer failed: %s", r.why);
	up->failed = true;
	if (upload_reading(up))
		return; /* keep reading and discarding the declared bytes */
	upload_free(w, up);
	conn_input_changed(&c->conn);
}

/* ---- receiver side ---- */

static struct rx *
rx_find(struct worker *w, uint16_t src, uint32_t id)
{
	for (struct rx *r = w->rxs; r; r = r->next_all)
		if (r->src_worker == src && r->id == id)
			return r;
	return NULL;
}

static void
send_result(struct worker *w, uint16_t to, uint32_t id, bool ok,
	    const char *why)
{
	struct file_end_body e = {.ok = ok};

	snprintf(e.why, sizeof(e.why), "%s", why);
	mesh_send(&w->mesh, to, FR_FILE_RESULT, id, &e, sizeof(e), NULL, 0);
}

static void
rx_unlink(struct worker *w, struct rx *r)
{
	for (struct rx **pp = &w->rxs; *pp; pp = &(*pp)->next_all)
		if (*pp == r) {
			*pp = r->next_all;
			break;
		}
	struct client *c = r->c;
	if (c == NULL)
		return;
	struct rx *prev = NULL;
	for (struct rx *q = c->rx_head; q; prev = q, q = q->next_q)
		if (q == r) {
			if (prev)
				prev->next_q = r->next_q;
			else
				c->rx_head = r->next_q;
			if (c->rx_tail == r)
				c->rx_tail = prev;
			break;
		}
}

static void
rx_grant(struct worker *w, struct rx *r)
{
	uint64_t chunks_left = (r->remaining + FILE_CHUNK - 1) / FILE_CHUNK;

	if (chunks_left <= r->outstanding)
		return;
	if (sendq_len(&r->c->conn.out) > 2 * FILE_CHUNK)
		return;
	uint64_t room = FILE_WINDOW - r->outstanding;
	uint64_t want = chunks_left - r->outstanding;
	struct file_credit_body cb = {(uint32_t)(want < room ? want : room)};
	if (cb.chunks == 0)
		return;
	r->outstanding += cb.chunks;
	mesh_send(&w->mesh, r->src_worker, FR_FILE_CREDIT, r->id, &cb,
		  sizeof(cb), NULL, 0);
}

static void
rx_activate(struct worker *w, struct rx *r)
{
	char line[400];
	int n = snprintf(line, sizeof(line), "102 %s %" PRIu64 " %s\n",
			 r->filename, r->size, r->sender);

	conn_push_data(&r->c->conn, line, (size_t)n);
	conn_hold_replies(&r->c->conn, true);
	r->active = true;
	r->end_offset = r->c->conn.out.appended;
	rx_grant(w, r);
}

static void
rx_try_complete(struct worker *w, struct rx *r)
{
	struct client *c = r->c;

	if (!r->active || r->remaining > 0 || !r->end_seen ||
	    c->conn.out.written < r->end_offset)
		return;
	send_result(w, r->src_worker, r->id, true, "");
	rx_unlink(w, r);
	free(r);
	conn_hold_replies(&c->conn, false);
	if (c->rx_head)
		rx_activate(w, c->rx_head);
}

static void
rx_on_offer(struct worker *w, const struct frame *f)
{
	struct file_offer_body o;

	memcpy(&o, f->payload, sizeof(o));
	struct client *c = client_by_slot(w, o.target_slot, o.target_conn);
	if (c == NULL) {
		send_result(w, f->hdr.src_worker, f->hdr.id, false,
			    "receiver gone");
		return;
	}
	struct rx *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		send_result(w, f->hdr.src_worker, f->hdr.id, false,
			    "out of memory");
		return;
	}
	r->c = c;
	r->src_worker = f->hdr.src_worker;
	r->id = f->hdr.id;
	r->size = r->remaining = o.size;
	memcpy(r->sender, o.sender, sizeof(r->sender));
	memcpy(r->filename, o.filename, sizeof(r->filename));
	r->next_all = w->rxs;
	w->rxs = r;
	if (c->rx_tail)
		c->rx_tail->next_q = r;
	else
		c->rx_head = r;
	c->rx_tail = r;
	if (c->rx_head == r)
		rx_activate(w, r);
}

static void
rx_on_data(struct worker *w, const struct frame *f)
{
	struct rx *r = rx_find(w, f->hdr.src_worker, f->hdr.id);

	if (r == NULL)
		return; /* aborted meanwhile */
	if (!r->active || f->hdr.len > r->remaining || r->outstanding == 0) {
		log_warnx("file data out of flow id=%u", f->hdr.id);
		return;
	}
	conn_push_data(&r->c->conn, f->payload, f->hdr.len);
	r->remaining -= f->hdr.len;
	r->outstanding--;
	if (r->remaining == 0)
		r->end_offset = r->c->conn.out.appended;
}

static void
rx_on_end(struct worker *w, const struct frame *f)
{
	struct file_end_body e;
	struct rx *r = rx_find(w, f->hdr.src_worker, f->hdr.id);

	memcpy(&e, f->payload, sizeof(e));
	if (r == NULL)
		return;
	if (e.ok) {
		r->end_seen = true;
		rx_try_complete(w, r);
		return;
	}
	struct client *c = r->c;
	bool was_active = r->active;
	rx_unlink(w, r);
	free(r);
	if (was_active)
		client_close(c, CR_FILE_ABORTED, NULL);
}

void
files_on_frame(struct worker *w, const struct frame *f)
{
	switch (f->hdr.type) {
	case FR_FILE_OFFER:
		rx_on_offer(w, f);
		break;
	case FR_FILE_DATA:
		rx_on_data(w, f);
		break;
	case FR_FILE_END:
		rx_on_end(w, f);
		break;
	case FR_FILE_CREDIT:
		upload_on_credit(w, f);
		break;
	case FR_FILE_RESULT:
		upload_on_result(w, f);
		break;
	default:
		break;
	}
}

/* After bytes left the receiver's socket queue: more credit, or done. */
void
files_after_write(struct client *c)
{
	struct rx *r = c->rx_head;

	if (r == NULL || !r->active)
		return;
	if (r->remaining > 0)
		rx_grant(c->w, r);
	else
		rx_try_complete(c->w, r);
}

void
files_conn_gone(struct client *c)
{
	struct worker *w = c->w;

	if (c->up) {
		struct upload *up = c->up;
		if (upload_reading(up) && !up->failed)
			send_end(w, up, false, "sender gone");
		up->c = NULL;
		c->up = NULL;
		if (upload_reading(up) || up->failed)
			upload_free(w, up);
	}
	while (c->rx_head) {
		struct rx *r = c->rx_head;
		c->rx_head = r->next_q; /* unlink from c whatever r->c says */
		r->c = NULL;
		send_result(w, r->src_worker, r->id, false, "receiver gone");
		rx_unlink(w, r);
		free(r);
	}
	c->rx_tail = NULL;
}

/* A peer worker died: its transfers end here too. */
void
files_peer_lost(struct worker *w, int idx)
{
	for (struct upload *up = w->uploads, *next; up; up = next) {
		next = up->next;
		if (up->to_worker != idx || up->failed)
			continue;
		struct client *c = up->c;
		up->failed = true;
		if (c == NULL) {
			upload_free(w, up);
			continue;
		}
		conn_say(&c->conn, "101 File transfer failed: receiver gone");
		if (!upload_reading(up))
			upload_free(w, up);
		conn_input_changed(&c->conn);
	}
	for (struct rx *r = w->rxs, *next; r; r = next) {
		next = r->next_all;
		if (r->src_worker != idx)
			continue;
		struct client *c = r->c;
		bool was_active = r->active;
		rx_unlink(w, r);
		free(r);
		if (was_active)
			client_close(c, CR_FILE_ABORTED, NULL);
	}
}
