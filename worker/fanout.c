/* Delivery of chat events. An event is built once, delivered to this
 * worker's own users and sent as one FR_EVENT frame to each peer (or to the
 * one peer that holds the target); every receiving worker renders it in the
 * dialect of each local recipient. */
#include <stdio.h>
#include <string.h>

#include "../common/log.h"
#include "../common/util.h"
#include "../ipc/userinfo.h"
#include "client.h"
#include "../ipc/metrics.h"

static bool
is_room_kind(uint16_t kind)
{
	return kind == EV_ROOM_MSG || kind == EV_ROOM_JOIN ||
	       kind == EV_ROOM_LEFT;
}

/* Per event: each dialect's rendering, made the first time a recipient of
 * that dialect needs it, into that dialect's shared output slot of the
 * loop pass, and pushed from there by reference to the others. */
struct rendered {
	const struct dialect_def *d[CONN_SHARED_SLOTS]; /* rendered for */
	size_t off[CONN_SHARED_SLOTS], len[CONN_SHARED_SLOTS];
	const struct dialect_def *last_d; /* the previous recipient's dialect */
	int last_slot;                    /* and its slot (-1: nothing) */
	struct ev_view v;
	const struct ev_body *ev;
	bool uh_done; /* the sender's user@host was looked up */
	char uh[UINFO_USER_SZ + UINFO_HOST_SZ + 1];
};

static void
rendered_init(struct worker *w, struct rendered *r, const struct ev_body *ev,
	      const char *text)
{
	const char *room = NULL;

	memset(r->d, 0, sizeof(r->d));
	r->last_d = NULL;
	r->last_slot = -1;
	if (is_room_kind(ev->kind))
		room = registry_room_name(w->reg, ev->room);
	r->v = (struct ev_view){.sender = ev->sender,
				.room = room ? room : "?",
				.text = text,
				.text_len = ev->text_len,
				.flags = ev->flags};
	r->ev = ev;
	r->uh_done = false;
}

/* The sender's user@host, looked up once per event and only for a
 * dialect that shows it. */
static void
rendered_host(struct worker *w, struct rendered *r)
{
	const struct ev_body *ev = r->ev;
	struct uinfo u;

	if (r->uh_done)
		return;
	r->uh_done = true;
	if (userinfo_get(w->uinfo, ev->sender_slot, ev->sender_conn, ev->sender,
			 &u) == 0) {
		snprintf(r->uh, sizeof(r->uh), "%s@%s", u.user, u.host);
		r->v.sender_uh = r->uh;
	}
}

/* An IRC text with its tag block ("block text", EVF_TAGS) as a dialect
 * without IRC tags shows it: the text alone. */
static void
untag(struct ev_view *v)
{
	const char *sp = memchr(v->text, ' ', v->text_len);
	size_t skip = sp ? (size_t)(sp - v->text) + 1 : v->text_len;

	v->text += skip;
	v->text_len -= skip;
	v->flags = (uint16_t)(v->flags & ~EVF_TAGS);
}

/* The shared output slot of dialect d: each dialect keeps its own, so the
 * events of a pass lie back to back there for its recipients. */
static unsigned
shared_slot(struct worker *w, const struct dialect_def *d)
{
	for (unsigned i = 0; i < CONN_SHARED_SLOTS; i++) {
		if (w->shared_d[i] == NULL)
			w->shared_d[i] = d;
		if (w->shared_d[i] == d)
			return i;
	}
	return 0; /* more dialects than slots: they share the first */
}

/* The slot whose bytes [r->off, + r->len) show the event to c (-1: its
 * dialect does not show this kind, or out of memory). */
static int
rendered_for(struct worker *w, struct rendered *r, const struct client *c,
	     uint16_t kind)
{
	render_fn fn = c->d->render[kind];

	if (fn == NULL)
		return -1;
	unsigned i = shared_slot(w, c->d);
	if (r->d[i] == c->d)
		return r->len[i] ? (int)i : -1;
	struct sendq *q = conn_shared(&w->net, i);
	size_t start = sendq_len(q);
	r->d[i] = c->d;
	r->v.to = c->name;
	if (c->d->sender_host)
		rendered_host(w, r);
	struct ev_view v = r->v;
	if ((v.flags & EVF_TAGS) && !c->d->raw_text)
		untag(&v);
	if (fn(q, &v) < 0)
		q->len = start;
	r->off[i] = start;
	r->len[i] = sendq_len(q) - start;
	return r->len[i] ? (int)i : -1;
}

/* Recipients of one dialect follow each other: the previous one's bytes
 * are reused without looking up the slots again. Inlined into the loop
 * over recipients (a call cost 10 % of a delivery). */
static inline __attribute__((always_inline)) void
deliver(struct worker *w, struct rendered *r, struct client *c, uint16_t kind)
{
	if (c->d->render[kind] == NULL)
		return; /* its dialect does not show this kind */
	w->msgs_out++;
	if (c->d != r->last_d) {
		r->last_slot = rendered_for(w, r, c, kind);
		r->last_d = c->d;
	}
	int i = r->last_slot;
	if (i >= 0)
		conn_push_shared(&c->conn, (unsigned)i, r->off[i], r->len[i]);
	metrics_add(M_DELIVERIES + kind, i >= 0);
}

/* Is this copy of an event for c's dialect (an IRC text goes raw to the
 * dialects that take IRC codes, converted to the others)? */
static bool
copy_for(const struct client *c, const struct ev_body *ev)
{
	if (ev->flags & EVF_RAW_ONLY)
		return c->d->raw_text;
	if (ev->flags & EVF_PLAIN_ONLY)
		return !c->d->raw_text;
	return true;
}

/* Membership at the event's place in the stream: an irc channel line
 * (EVF_LINE) goes by the rooms this worker has seen c in, so that a KICK
 * line still reaches a member whose own kick came right after it. */
static bool
in_room(struct worker *w, const struct client *c, const struct ev_body *ev)
{
	if (!(ev->flags & EVF_LINE))
		return registry_room_has(w->reg, ev->room, (uint32_t)c->slot);
	for (size_t i = 0; i < c->nrooms; i++)
		if (c->rooms[i] == ev->room)
			return true;
	return false;
}

static bool
wants(struct worker *w, struct client *c, const struct ev_body *ev)
{
	if (c->state != CS_LIVE || !copy_for(c, ev))
		return false;
	if ((uint32_t)c->slot == ev->sender_slot &&
	    c->conn.id == ev->sender_conn)
		return false;
	if (is_room_kind(ev->kind) && !in_room(w, c, ev))
		return false;
	if (c->d->wants && !c->d->wants(c, ev))
		return false;
	return c->d->render[ev->kind] != NULL;
}

/* Is ev shown only to users who hear everyone (worker.hear_all)? Logins
 * and broadcasts are; so is the logout of a user who was in no room, since
 * others see a logout only if they shared one (else a mass disconnect of N
 * users walks N users N times). */
static bool
only_for_hear_all(const struct ev_body *ev)
{
	return ev->kind == EV_LOGIN || ev->kind == EV_BCST ||
	       (ev->kind == EV_LOGOUT && (ev->flags & EVF_ROOMLESS));
}

/* Deliver an event to the users of this worker. */
static void
fanout_local(struct worker *w, const struct ev_body *ev, const char *text)
{
	struct rendered r;

	if (ev->kind == 0 || ev->kind >= EV_KIND_MAX)
		return;
	rendered_init(w, &r, ev, text);
	if (ev->target_slot >= 0) {
		struct client *c = client_by_slot(w, (uint32_t)ev->target_slot,
						  ev->target_conn);
		if (c && (ev->flags & EVF_KICKED))
			login_note_room(c, ev->room, false); /* irc KICK */
		if (c && copy_for(c, ev) &&
		    (!c->d->wants || c->d->wants(c, ev)))
			deliver(w, &r, c, ev->kind);
		return;
	}
	if (w->hear_all == 0 && only_for_hear_all(ev))
		return; /* no one here is shown it (IRC users not in &all) */
	for (struct client *c = w->live_head, *next; c; c = next) {
		next = c->next_live;
		if (wants(w, c, ev))
			deliver(w, &r, c, ev->kind);
	}
}

/* Deliver here and send to the peers: to_worker -1 means every worker. */
static void
fanout_event(struct worker *w, struct ev_body *ev, const char *text,
	     int to_worker)
{
	if (to_worker < 0 || to_worker == w->idx)
		fanout_local(w, ev, text);
	for (int i = 0; i < w->nworkers; i++) {
		if (i == w->idx || (to_worker >= 0 && i != to_worker))
			continue;
		mesh_send_event(&w->mesh, i, ev, sizeof(*ev), text,
				ev->text_len);
	}
}

static void
ev_from(struct ev_body *ev, uint16_t kind, const struct client *from)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->flags = (uint16_t)(from->d->id << EVF_DIALECT_SHIFT);
	ev->target_slot = -1;
	memcpy(ev->sender, from->name, sizeof(ev->sender));
	ev->sender_slot = (uint32_t)from->slot;
	ev->sender_conn = from->conn.id;
}

void
fanout_simple(struct worker *w, uint16_t kind, struct client *from,
	      int32_t room, const char *text, size_t len)
{
	struct ev_body ev;

	metrics_add(M_MESSAGES + kind, 1);
	ev_from(&ev, kind, from);
	ev.room = room < 0 ? 0 : (uint32_t)room;
	ev.text_len = (uint32_t)len;
	/* after logout the slot is gone: keep the one the others knew */
	if (from->slot < 0)
		ev.sender_slot = UINT32_MAX;
	fanout_event(w, &ev, text ? text : "", -1);
}

bool
fanout_reachable(struct worker *w, const struct reg_user_view *to)
{
	if (w->link < 0 || to->worker != w->link)
		return true;
	return w->mesh.peers[w->link].up &&
	       __atomic_load_n(
		       &registry_worker(w->reg, (unsigned)w->link)->bus_up,
		       __ATOMIC_ACQUIRE);
}

void
fanout_to(struct worker *w, uint16_t kind, struct client *from,
	  const struct reg_user_view *to, const char *text, size_t len)
{
	struct ev_body ev;

	metrics_add(M_MESSAGES + kind, 1);
	ev_from(&ev, kind, from);
	ev.target_slot = (int32_t)to->slot;
	ev.target_conn = to->conn_id;
	ev.text_len = (uint32_t)len;
	fanout_event(w, &ev, text, to->worker);
}

void
fanout_ex(struct worker *w, const struct fanout_args *a)
{
	struct ev_body ev;

	ev_from(&ev, a->kind, a->from);
	ev.flags |= a->flags;
	if (a->name)
		snprintf(ev.sender, sizeof(ev.sender), "%s", a->name);
	ev.room = a->room < 0 ? 0 : (uint32_t)a->room;
	ev.text_len = (uint32_t)a->len;
	if (a->from->slot < 0)
		ev.sender_slot = a->slot;
	if (a->to == NULL) {
		fanout_event(w, &ev, a->text ? a->text : "", -1);
		return;
	}
	ev.target_slot = (int32_t)a->to->slot;
	ev.target_conn = a->to->conn_id;
	fanout_event(w, &ev, a->text ? a->text : "", a->to->worker);
}

void
fanout_on_frame(struct worker *w, const struct frame *f)
{
	struct ev_body ev;

	memcpy(&ev, f->payload, sizeof(ev));
	fanout_local(w, &ev, f->payload + sizeof(ev));
}

void
fanout_user_gone(struct worker *w, const struct frame *f)
{
	struct gone_body g;
	struct ev_body ev;

	memcpy(&g, f->payload, sizeof(g));
	memset(&ev, 0, sizeof(ev));
	ev.target_slot = -1;
	ev.sender_slot = UINT32_MAX;
	memcpy(ev.sender, g.name, sizeof(ev.sender));
	ev.kind = EV_ROOM_LEFT;
	ev.flags = (uint16_t)(EVF_QUIT | g.dialect << EVF_DIALECT_SHIFT);
	for (uint32_t i = 0; i < g.nrooms; i++) {
		memcpy(&ev.room, f->payload + sizeof(g) + i * sizeof(uint32_t),
		       sizeof(uint32_t));
		fanout_local(w, &ev, "");
	}
	ev.kind = EV_LOGOUT;
	ev.flags = (uint16_t)(g.dialect << EVF_DIALECT_SHIFT);
	fanout_local(w, &ev, "");
}
