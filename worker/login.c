/* Logging in and out, the same for both dialects. A name held by a
 * connection whose client has already gone (the kernel saw the close, the
 * holder's worker has not processed it yet) is probed before a FAIL01/300:
 * the holder's worker reads that socket at once and answers, so a client
 * that reconnects at once with its name gets it back. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../common/log.h"
#include "client.h"

#define PROBE_TIMEOUT_MS 500
/* the cluster link answers at once when Redis is away: this is a backstop */
#define CLAIM_TIMEOUT_MS 5000

/* Try to claim the pending name for c. */
static int
login_claim(struct client *c, struct reg_user_view *v)
{
	struct worker *w = c->w;

	return registry_claim(w->reg, c->pending_name, c->d->id, w->idx, w->gen,
			      c->conn.id, v);
}

static void
login_link_live(struct client *c)
{
	struct worker *w = c->w;

	c->next_live = w->live_head;
	if (w->live_head)
		w->live_head->prev_live = c;
	w->live_head = c;
}

void
login_hear_all(struct client *c, bool on)
{
	if (c->hears_all == on)
		return;
	c->hears_all = on;
	if (on)
		c->w->hear_all++;
	else
		c->w->hear_all--;
}

static void
login_unlink_live(struct client *c)
{
	struct worker *w = c->w;

	login_hear_all(c, false);
	if (c->prev_live)
		c->prev_live->next_live = c->next_live;
	else if (w->live_head == c)
		w->live_head = c->next_live;
	if (c->next_live)
		c->next_live->prev_live = c->prev_live;
	c->prev_live = c->next_live = NULL;
}

static void
login_live(struct client *c, const struct reg_user_view *v)
{
	c->state = CS_LIVE;
	c->slot = (int32_t)v->slot;
	c->login_seq = v->seq;
	memcpy(c->name, v->name, sizeof(c->name));
	c->w->by_slot[v->slot] = c;
	login_link_live(c);
	/* a dialect with a wants hook (irc) says itself when c hears all */
	login_hear_all(c, c->d->wants == NULL);
	client_logged_in(c);
}

static void
login_done(struct client *c, int rc, const struct reg_user_view *v)
{
	c->state = CS_NEW;
	if (rc == 0)
		login_live(c, v);
	c->d->login_result(c, rc);
	if (rc == 0)
		fanout_simple(c->w, EV_LOGIN, c, -1, NULL, 0);
}

/* ---- the cluster's claim (docs/CLUSTER.md): the name is ours on this
 * node; the login waits, like for a probe, until the link says whether it
 * is ours in the whole cluster. The worker never waits on Redis. ---- */

static void
login_claim_frame(struct client *c, const char *name, bool release)
{
	struct worker *w = c->w;
	struct claim_body cb = {.slot = c->claim_slot,
				.conn_id = c->conn.id,
				.dialect = (uint8_t)c->d->id,
				.release = release};

	memcpy(cb.name, name, sizeof(cb.name));
	if (mesh_send(&w->mesh, w->link, FR_CLAIM, (uint32_t)c->conn.fd, &cb,
		      sizeof(cb), NULL, 0) < 0 &&
	    !release)
		c->claiming = false; /* no link: refused below */
}

/* The cluster's answer (or none in time: CLAIM_DOWN). */
static void
login_claim_done(struct client *c, int64_t result)
{
	struct worker *w = c->w;
	struct reg_user_view v = {.slot = c->claim_slot,
				  .conn_id = c->conn.id,
				  .seq = result > 0 ? (uint64_t)result : 0};

	loop_timer_cancel(w->loop, c->probe_timer);
	c->probe_timer = 0;
	c->claiming = false;
	memcpy(v.name, c->pending_name, sizeof(v.name));
	if (result <= 0) {
		if (result != CLAIM_TAKEN)
			login_claim_frame(c, c->pending_name, true);
		registry_release(w->reg, c->claim_slot, c->conn.id, NULL, NULL);
	}
	login_done(c,
		   result > 0              ? 0
		   : result == CLAIM_TAKEN ? -EEXIST
					   : -EAGAIN,
		   &v);
	conn_input_changed(&c->conn);
}

static void
login_claim_timeout(void *arg)
{
	struct client *c = arg;

	c->probe_timer = 0;
	login_claim_done(c, CLAIM_DOWN);
}

static void
login_claim_cluster(struct client *c, const struct reg_user_view *v)
{
	struct worker *w = c->w;

	c->claim_slot = v->slot;
	c->claiming = true;
	login_claim_frame(c, v->name, false);
	if (!c->claiming) {
		registry_release(w->reg, v->slot, c->conn.id, NULL, NULL);
		login_done(c, -EAGAIN, v);
		return;
	}
	c->state = CS_LOGIN_WAIT;
	c->probe_timer =
		loop_timer_add(w->loop, loop_now(w->loop) + CLAIM_TIMEOUT_MS,
			       login_claim_timeout, c);
}

void
login_on_claim_reply(struct worker *w, const struct frame *f)
{
	struct claim_reply_body r;
	struct client *c = client_by_fd(w, (int)f->hdr.id);

	memcpy(&r, f->payload, sizeof(r));
	/* an abandoned login released its claim when it closed */
	if (c == NULL || client_closing(c) || !c->claiming ||
	    c->claim_slot != r.slot || c->conn.id != r.conn_id)
		return;
	login_claim_done(c, r.result);
}

void
login_abandon(struct client *c)
{
	if (!c->claiming)
		return;
	c->claiming = false;
	login_claim_frame(c, c->pending_name, true);
	registry_release(c->w->reg, c->claim_slot, c->conn.id, NULL, NULL);
}

static void
login_finish(struct client *c, int rc, const struct reg_user_view *v)
{
	c->state = CS_NEW;
	if (rc == 0 && c->w->link >= 0) {
		login_claim_cluster(c, v);
		return;
	}
	login_done(c, rc, v);
}

/* The probe's answer came (or not in time): claim again, and go on
 * reading the client. */
static void
login_probe_done(struct client *c)
{
	struct reg_user_view v;

	loop_timer_cancel(c->w->loop, c->probe_timer);
	c->probe_timer = 0;
	int rc = login_claim(c, &v);
	login_finish(c, rc, &v);
	conn_input_changed(&c->conn);
}

static void
login_probe_timeout(void *arg)
{
	struct client *c = arg;

	c->probe_timer = 0;
	login_probe_done(c);
}

static void
login_probe_remote(struct client *c, const struct reg_user_view *holder)
{
	struct worker *w = c->w;
	struct probe_body pb = {holder->slot, holder->conn_id, 0};

	if (mesh_send(&w->mesh, holder->worker, FR_PROBE, (uint32_t)c->conn.fd,
		      &pb, sizeof(pb), NULL, 0) < 0) {
		login_finish(c, -EEXIST, holder);
		return;
	}
	c->state = CS_LOGIN_WAIT;
	c->probe_timer =
		loop_timer_add(w->loop, loop_now(w->loop) + PROBE_TIMEOUT_MS,
			       login_probe_timeout, c);
}

/* Ask a local holder of the name whether its client is still there; one
 * that is gone gives the name back at once. */
static void
login_probe_local(struct client *holder)
{
	if (!conn_probe(&holder->conn))
		login_logout(holder);
}

void
login_begin(struct client *c, const char *name, size_t len)
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
	struct client *holder = client_by_slot(c->w, v.slot, v.conn_id);
	if (holder && holder != c) {
		login_probe_local(holder);
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
	struct client *c = client_by_slot(w, pb.slot, pb.conn_id);
	if (c)
		login_probe_local(c);
	pb.alive = client_by_slot(w, pb.slot, pb.conn_id) != NULL;
	mesh_send(&w->mesh, f->hdr.src_worker, FR_PROBE_REPLY, f->hdr.id, &pb,
		  sizeof(pb), NULL, 0);
}

void
login_on_probe_reply(struct worker *w, const struct frame *f)
{
	struct client *c = client_by_fd(w, (int)f->hdr.id);

	if (c == NULL || client_closing(c) || c->state != CS_LOGIN_WAIT)
		return;
	login_probe_done(c);
}

/* A connection remembers its key and rooms: the registry is only an index
 * that the worker can rebuild from its own connections. */
void
login_note_key(struct client *c, const char *key, size_t len)
{
	char *k = realloc(c->pubkey, len);

	if (k == NULL)
		return;
	memcpy(k, key, len);
	c->pubkey = k;
	c->pubkey_len = len;
}

void
login_note_room(struct client *c, uint32_t room, bool joined)
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
login_register_again(struct client *c)
{
	struct worker *w = c->w;
	struct reg_user_view v;

	memcpy(c->pending_name, c->name, sizeof(c->name));
	if (login_claim(c, &v) < 0) {
		/* only a corrupt table could hold a second live copy */
		client_close(c, CR_DUPLICATE, NULL);
		return;
	}
	c->slot = (int32_t)v.slot;
	w->by_slot[v.slot] = c;
	registry_restore_seq(w->reg, v.slot, c->conn.id, c->login_seq);
	if (c->pubkey_len)
		registry_set_key(w->reg, v.slot, c->conn.id, c->pubkey,
				 c->pubkey_len);
	for (size_t i = 0; i < c->nrooms; i++)
		registry_room_join(w->reg, c->rooms[i], v.slot);
	if (c->d->registered)
		c->d->registered(c);
}

static void
login_adopt(struct client *c, const struct reg_user_view *v)
{
	struct worker *w = c->w;

	w->by_slot[c->slot] = NULL;
	c->slot = (int32_t)v->slot;
	c->login_seq = v->seq;
	w->by_slot[v->slot] = c;
	memcpy(c->name, v->name, sizeof(c->name));
	for (size_t i = 0; i < c->nrooms; i++)
		registry_room_join(w->reg, c->rooms[i], v->slot);
}

int
login_rename(struct client *c, const char *name)
{
	struct worker *w = c->w;
	struct reg_user_view v;
	uint32_t old = (uint32_t)c->slot;
	bool same = strcasecmp(name, c->name) == 0;

	/* a change of case only: the old spelling is the same name */
	if (same)
		registry_release(w->reg, old, c->conn.id, NULL, NULL);
	snprintf(c->pending_name, sizeof(c->pending_name), "%s", name);
	int rc = login_claim(c, &v);
	if (rc < 0 && !same)
		return rc;
	if (rc < 0) { /* lost a race for our own name: take it back */
		memcpy(c->pending_name, c->name, sizeof(c->name));
		if (login_claim(c, &v) < 0) {
			client_close(c, CR_DUPLICATE, NULL);
			return rc;
		}
	} else if (!same) {
		registry_release(w->reg, old, c->conn.id, NULL, NULL);
	}
	login_adopt(c, &v);
	return rc;
}

/* FR_REBUILD: the master reset the registry; our users register again. */
void
login_rebuild(struct worker *w)
{
	size_t n = 0;

	for (struct client *c = w->live_head; c; c = c->next_live)
		if (c->slot >= 0)
			w->by_slot[c->slot] = NULL;
	for (struct client *c = w->live_head, *next; c; c = next, n++) {
		next = c->next_live;
		login_register_again(c);
	}
	log_warnx("registry rebuilt: registered %zu users again", n);
}

/* Why a user left, in the words an IRC client shows with its QUIT: the
 * dialect's own (an IRC QUIT message), else the close reason's. */
static const char *
logout_text(const struct client *c)
{
	static const char *const words[CR_MAX] = {
		[CR_QUIT] = "Quit",
		[CR_CLIENT_EOF] = "Connection closed",
		[CR_HANGUP] = "Connection closed",
		[CR_SOCKET_ERROR] = "Connection reset",
		[CR_WRITE_ERROR] = "Connection reset",
		[CR_SENDQ_HARD] = "SendQ exceeded",
		[CR_SENDQ_SOFT] = "SendQ exceeded",
		[CR_WORKER_BUDGET] = "SendQ exceeded",
		[CR_FLOOD] = "Excess Flood",
		[CR_LINE_TIMEOUT] = "Line timeout",
		[CR_PONG_TIMEOUT] = "Ping timeout",
	};
	const char *own = c->d->quit_text ? c->d->quit_text(c) : NULL;

	if (own)
		return own;
	if (c->conn.why < CR_MAX && words[c->conn.why])
		return words[c->conn.why];
	return "Quit";
}

/* Free the name and leave every room at once, then tell the others. */
void
login_logout(struct client *c)
{
	struct worker *w = c->w;
	size_t nrooms = 0;
	uint32_t slot = (uint32_t)c->slot;

	if (c->slot < 0)
		return;
	if (c->d->on_logout)
		c->d->on_logout(c);
	registry_release(w->reg, (uint32_t)c->slot, c->conn.id, w->rooms_tmp,
			 &nrooms);
	w->by_slot[c->slot] = NULL;
	c->nrooms = 0;
	/* when the server stops, everyone gets DSCN or a close instead; a
	 * node declared dead closes all its users (each worker on its own
	 * FR_KICK) and the cluster already told the other nodes */
	bool tell = !w->server_stopping && c->conn.why != CR_CLUSTER_DEAD;
	struct fanout_args a = {.kind = EV_ROOM_LEFT,
				.flags = EVF_QUIT,
				.from = c,
				.slot = slot};
	for (size_t i = 0; tell && i < nrooms; i++) {
		a.room = (int32_t)w->rooms_tmp[i];
		fanout_ex(w, &a);
	}
	login_unlink_live(c);
	c->slot = -1;
	c->state = CS_NEW;
	loop_timer_cancel(w->loop, c->beat_timer);
	c->beat_timer = 0;
	c->next_ping = c->pong_due = 0;
	a = (struct fanout_args){.kind = EV_LOGOUT,
				 .flags = nrooms == 0 ? EVF_ROOMLESS : 0,
				 .from = c,
				 .slot = slot,
				 .room = -1,
				 .text = logout_text(c)};
	a.len = strlen(a.text);
	if (tell)
		fanout_ex(w, &a);
}
