/* Logging in and out, the same for both dialects. A name held by a
 * connection whose client has already gone (the kernel saw the close, the
 * holder's worker has not processed it yet) is probed before a FAIL01/300:
 * the holder's worker reads that socket at once and answers, so a client
 * that reconnects at once with its name gets it back. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <string.h>

#include "../common/log.h"
#include "worker.h"

#define PROBE_TIMEOUT_MS 500

static void
login_result(struct conn *c, int rc)
{
	if (c->dialect == DIALECT_OKFAIL)
		okfail_login_result(c, rc);
	else
		numeric_login_result(c, rc);
}

static void
login_announce(struct conn *c)
{
	fanout_simple(c->w, EV_LOGIN, c, -1, NULL, 0);
}

/* Try to claim; on success the connection is live. */
static int
login_claim(struct conn *c, struct reg_user_view *v)
{
	struct worker *w = c->w;

	return registry_claim(w->reg, c->pending_name, c->dialect, w->idx,
			      w->gen, c->id, v);
}

static void
login_finish(struct conn *c, int rc, const struct reg_user_view *v)
{
	c->state = CS_NEW;
	if (rc == 0)
		conn_on_login(c, v);
	login_result(c, rc);
	if (rc == 0)
		login_announce(c);
}

static void
login_probe_timeout(void *arg, uint64_t key, int64_t due)
{
	struct worker *w = arg;
	struct conn *c = conn_by_fd(w, (int)(key >> 32));
	struct reg_user_view v;

	(void)due;
	if (c == NULL || c->id != (uint32_t)key || c->state != CS_LOGIN_WAIT)
		return;
	int rc = login_claim(c, &v);
	login_finish(c, rc, &v);
	conn_pump_input(c);
}

static void
login_probe_remote(struct conn *c, const struct reg_user_view *holder)
{
	struct worker *w = c->w;
	struct probe_body pb = {holder->slot, holder->conn_id, 0};

	if (worker_send(w, holder->worker, FR_PROBE, (uint32_t)c->fd, &pb,
			sizeof(pb), NULL, 0) < 0) {
		login_finish(c, -EEXIST, holder);
		return;
	}
	c->state = CS_LOGIN_WAIT;
	conn_set_input(c, false);
	loop_timer(w->loop, loop_now(w->loop) + PROBE_TIMEOUT_MS,
		   login_probe_timeout, w,
		   ((uint64_t)(uint32_t)c->fd << 32) | c->id);
}

void
login_begin(struct conn *c, const char *name, size_t len)
{
	struct reg_user_view v;

	memcpy(c->pending_name, name, len);
	c->pending_name[len] = '\0';
	int rc = login_claim(c, &v);
	if (rc != -EEXIST) {
		login_finish(c, rc, &v);
		return;
	}
	if (v.worker != c->w->idx) {
		login_probe_remote(c, &v);
		return;
	}
	struct conn *holder = conn_by_slot(c->w, v.slot, v.conn_id);
	if (holder && holder != c) {
		conn_probe(holder);
		rc = login_claim(c, &v);
	}
	login_finish(c, rc, &v);
}

/* Another worker asks about one of our users. */
void
login_on_probe(struct worker *w, const struct frame *f)
{
	struct probe_body pb;

	memcpy(&pb, f->payload, sizeof(pb));
	struct conn *c = conn_by_slot(w, pb.slot, pb.conn_id);
	if (c)
		conn_probe(c);
	pb.alive = conn_by_slot(w, pb.slot, pb.conn_id) != NULL;
	worker_send(w, f->hdr.src_worker, FR_PROBE_REPLY, f->hdr.id, &pb,
		    sizeof(pb), NULL, 0);
}

void
login_on_probe_reply(struct worker *w, const struct frame *f)
{
	struct conn *c = conn_by_fd(w, (int)f->hdr.id);
	struct reg_user_view v;

	if (c == NULL || c->state != CS_LOGIN_WAIT)
		return;
	int rc = login_claim(c, &v);
	login_finish(c, rc, &v);
	conn_pump_input(c);
}

/* A connection remembers its key and rooms: the registry is only an index
 * that the worker can rebuild from its own connections. */
void
login_note_key(struct conn *c, const char *key, size_t len)
{
	char *k = realloc(c->pubkey, len);

	if (k == NULL)
		return;
	memcpy(k, key, len);
	c->pubkey = k;
	c->pubkey_len = len;
}

void
login_note_room(struct conn *c, uint32_t room, bool joined)
{
	if (!joined) {
		for (size_t i = 0; i < c->nrooms; i++)
			if (c->rooms[i] == room) {
				c->rooms[i] = c->rooms[--c->nrooms];
				return;
			}
		return;
	}
	if (c->nrooms == c->rooms_cap) {
		size_t cap = c->rooms_cap ? c->rooms_cap * 2 : 4;
		uint32_t *r = realloc(c->rooms, cap * sizeof(*r));
		if (r == NULL)
			return;
		c->rooms = r;
		c->rooms_cap = cap;
	}
	c->rooms[c->nrooms++] = room;
}

static void
login_register_again(struct conn *c)
{
	struct worker *w = c->w;
	struct reg_user_view v;

	memcpy(c->pending_name, c->name, sizeof(c->name));
	if (login_claim(c, &v) < 0) {
		/* only a corrupt table could hold a second live copy */
		conn_close_soon(c, "duplicate after registry rebuild");
		return;
	}
	c->slot = (int32_t)v.slot;
	w->by_slot[v.slot] = c;
	registry_restore_seq(w->reg, v.slot, c->id, c->login_seq);
	if (c->pubkey_len)
		registry_set_key(w->reg, v.slot, c->id, c->pubkey,
				 c->pubkey_len);
	for (size_t i = 0; i < c->nrooms; i++)
		registry_room_join(w->reg, c->rooms[i], v.slot);
}

/* FR_REBUILD: the master reset the registry; our users register again. */
void
login_rebuild(struct worker *w)
{
	size_t n = 0;

	for (struct conn *c = w->live_head; c; c = c->next_live)
		if (c->slot >= 0)
			w->by_slot[c->slot] = NULL;
	for (struct conn *c = w->live_head, *next; c; c = next, n++) {
		next = c->next_live;
		login_register_again(c);
	}
	log_warnx("registry rebuilt: registered %zu users again", n);
}

/* Free the name and leave every room at once, then tell the others. */
void
login_logout(struct conn *c)
{
	struct worker *w = c->w;
	size_t nrooms = 0;

	if (c->slot < 0)
		return;
	registry_release(w->reg, (uint32_t)c->slot, c->id, w->rooms_tmp,
			 &nrooms);
	w->by_slot[c->slot] = NULL;
	c->nrooms = 0;
	/* when the server stops, everyone gets DSCN or a close instead */
	bool tell = !w->server_stopping;
	for (size_t i = 0; tell && i < nrooms; i++)
		fanout_simple(w, EV_ROOM_LEFT, c, (int32_t)w->rooms_tmp[i],
			      NULL, 0);
	conn_on_logout(c);
	if (tell)
		fanout_simple(w, EV_LOGOUT, c, -1, NULL, 0);
}
