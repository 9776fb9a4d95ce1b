/* Events between this node's workers and the other nodes. Out: an EVENT
 * frame from a worker (local slot and room indices) becomes a bus message
 * with names. In: a bus message becomes EVENT frames with this node's
 * indices, to the one worker of a PM's target or to every worker, which
 * filter by their own users as for any peer's event. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "proc.h"

/* A chat event as it travels between nodes; text_len bytes follow (for a
 * login announced by the claim script: the login sequence in decimal). */
struct xev {
	uint16_t kind;
	uint8_t dialect;
	uint8_t pad;
	uint32_t text_len;
	uint16_t flags; /* the event's enum ev_flag: how its text is shown */
	uint16_t pad2;
	char sender[REG_NAME_SZ];
	char target[REG_NAME_SZ];
	char room[REG_ROOM_SZ];
};

/* Not an ev_kind: a room created on a node; the room's creation sequence
 * in decimal follows (the room_add script appends it). */
#define XEV_ROOM_NEW 100

static bool
relay_unicast(uint16_t kind)
{
	return kind == EV_PM || kind == EV_SECU || kind == EV_SESSKEY ||
	       kind == EV_EPM;
}

static bool
relay_all_kind(uint16_t kind)
{
	return kind == EV_LOGIN || kind == EV_LOGOUT || kind == EV_BCST ||
	       kind == EV_PUBKEY || kind == EV_ROOM_JOIN ||
	       kind == EV_ROOM_LEFT;
}

static void
relay_to_all(struct lproc *p, const struct ev_body *ev, const char *text)
{
	for (int k = 0; k < p->nworkers; k++)
		lproc_send(p, k, FR_EVENT, 0, ev, sizeof(*ev), text,
			   ev->text_len);
}

/* ---- out: local worker -> bus ---- */

size_t
relay_login_msg(const char *name, int dialect, void *out)
{
	struct xev x = {.kind = EV_LOGIN, .dialect = (uint8_t)dialect};

	snprintf(x.sender, sizeof(x.sender), "%s", name);
	memcpy(out, &x, sizeof(x));
	return sizeof(x);
}

/* Is the name held by a user of this node's workers (a login that came
 * after the one an event is about)? */
static bool
relay_held_here(struct lproc *p, const char *name)
{
	struct reg_user_view u;

	return registry_lookup(p->reg, name, strlen(name), &u) == 0 &&
	       u.worker < p->nworkers;
}

static void
relay_out_sent(void *arg, long long res, const struct redisReply *r)
{
	(void)r;
	if (res == 0)
		log_debug("cluster: %s is on no node any more", (char *)arg);
	free(arg);
}

static void
relay_out_unicast(struct lproc *p, const struct ev_body *ev, struct xev *x,
		  const char *text)
{
	const char *to = mirror_name(&p->mir, (uint32_t)ev->target_slot,
				     ev->target_conn);
	char msg[sizeof(*x) + FRAME_MAX_PAYLOAD];

	if (to == NULL)
		return; /* left meanwhile */
	snprintf(x->target, sizeof(x->target), "%s", to);
	memcpy(msg, x, sizeof(*x));
	memcpy(msg + sizeof(*x), text, ev->text_len);
	char *name = strdup(to);
	if (clink_send_user(p->cl, to, msg, sizeof(*x) + ev->text_len,
			    relay_out_sent, name) < 0) {
		log_debug("cluster: message to %s not sent", to);
		free(name);
	}
}

/* Redis' copy of the state follows the events that change it. */
static void
relay_out_state(struct lproc *p, const struct ev_body *ev, const struct xev *x,
		const char *text)
{
	switch (ev->kind) {
	case EV_LOGOUT:
		clink_release(p->cl, x->sender, NULL, NULL);
		break;
	case EV_ROOM_JOIN:
		clink_room_join(p->cl, x->room, x->sender);
		clink_sub_room(p->cl, x->room);
		break;
	case EV_ROOM_LEFT:
		clink_room_leave(p->cl, x->room, x->sender);
		clink_unsub_room(p->cl, x->room);
		break;
	case EV_PUBKEY: {
		char key[FRAME_MAX_PAYLOAD + 1];
		memcpy(key, text, ev->text_len);
		key[ev->text_len] = '\0';
		clink_key_set(p->cl, x->sender, key);
		break;
	}
	default:
		break;
	}
}

static void
relay_out_publish(struct lproc *p, const struct ev_body *ev,
		  const struct xev *x, const char *text)
{
	char msg[sizeof(*x) + FRAME_MAX_PAYLOAD];

	memcpy(msg, x, sizeof(*x));
	memcpy(msg + sizeof(*x), text, ev->text_len);
	size_t n = sizeof(*x) + ev->text_len;
	int rc = ev->kind == EV_ROOM_MSG
			 ? clink_publish_room(p->cl, x->room, msg, n)
			 : clink_publish_all(p->cl, msg, n);
	if (rc < 0)
		log_debug("cluster: event kind %u not published (%d)",
			  (unsigned)ev->kind, rc);
}

static void
relay_out(struct lproc *p, const struct ev_body *evp, const char *text)
{
	struct ev_body ev = *evp;
	struct xev x;

	if (evp->flags & (EVF_LINE | EVF_KICKED))
		return; /* irc MODE/TOPIC/KICK/INVITE lines stay on this node */
	memset(&x, 0, sizeof(x));
	x.kind = ev.kind;
	x.text_len = ev.text_len;
	x.flags = ev.flags;
	memcpy(x.sender, ev.sender, sizeof(x.sender));
	x.sender[sizeof(x.sender) - 1] = '\0';
	if (ev.kind == EV_ROOM_MSG || ev.kind == EV_ROOM_JOIN ||
	    ev.kind == EV_ROOM_LEFT) {
		const char *rn = registry_room_name(p->reg, ev.room);
		if (rn == NULL)
			return;
		snprintf(x.room, sizeof(x.room), "%s", rn);
	}
	if (ev.target_slot >= 0 && relay_unicast(ev.kind)) {
		relay_out_unicast(p, &ev, &x, text);
		return;
	}
	/* the login was claimed and announced through FR_CLAIM; a logout
	 * overtaken by a new login of the name here (another worker's
	 * channel) is no news to the cluster */
	if (ev.kind == EV_LOGIN ||
	    (ev.kind == EV_LOGOUT && relay_held_here(p, x.sender)))
		return;
	relay_out_state(p, &ev, &x, text);
	relay_out_publish(p, &ev, &x, text);
}

static void
relay_out_event(struct lproc *p, const struct frame *f)
{
	struct ev_body ev;

	memcpy(&ev, f->payload, sizeof(ev));
	relay_out(p, &ev, f->payload + sizeof(ev));
}

/* A user of a dead local worker (the master's USER_GONE): the others learn
 * it like a logout, with its rooms left first. */
void
relay_local_gone(struct lproc *p, const struct frame *f)
{
	struct gone_body g;
	struct ev_body ev = {.target_slot = -1, .sender_slot = UINT32_MAX};

	memcpy(&g, f->payload, sizeof(g));
	memcpy(ev.sender, g.name, sizeof(ev.sender));
	ev.kind = EV_ROOM_LEFT;
	for (uint32_t i = 0; i < g.nrooms; i++) {
		memcpy(&ev.room, f->payload + sizeof(g) + i * sizeof(uint32_t),
		       sizeof(uint32_t));
		relay_out(p, &ev, "");
	}
	ev.kind = EV_LOGOUT;
	relay_out(p, &ev, "");
}

/* Declared dead while stopped: the cluster freed this node's names, so
 * every local user is closed (they log in again); a name is never held
 * twice. */
void
relay_declared_dead(struct lproc *p)
{
	static const char why[] = "Declared dead by the cluster, log in again";

	p->kicked = true; /* the next resync does not claim them again */
	for (int k = 0; k < p->nworkers; k++)
		lproc_send(p, k, FR_KICK, 0, why, sizeof(why) - 1, NULL, 0);
}

/* ---- cluster-wide name claims for the workers' logins ---- */

struct claim_wait {
	struct lproc *p;
	uint16_t worker;
	uint32_t id;
	struct claim_body cb;
};

static void
relay_claim_answer(struct claim_wait *cw, int64_t result)
{
	struct claim_reply_body r = {cw->cb.slot, cw->cb.conn_id, result};

	lproc_send(cw->p, cw->worker, FR_CLAIM_REPLY, cw->id, &r, sizeof(r),
		   NULL, 0);
	free(cw);
}

static void
relay_claimed_for(void *arg, long long res, const struct redisReply *r)
{
	struct claim_wait *cw = arg;

	(void)r;
	if (res > 0) {
		registry_restore_seq(cw->p->reg, cw->cb.slot, cw->cb.conn_id,
				     (uint64_t)res);
		relay_claim_answer(cw, res);
		return;
	}
	relay_claim_answer(cw, res == CLR_TAKEN ? CLAIM_TAKEN : CLAIM_DOWN);
}

/* A worker's login waits for this answer (the worker never waits on
 * Redis: its loop goes on); an abandoned login releases its claim. */
static void
relay_claim(struct lproc *p, const struct frame *f)
{
	struct claim_wait *cw = malloc(sizeof(*cw));
	char msg[RELAY_LOGIN_MAX];

	if (cw == NULL)
		return;
	*cw = (struct claim_wait){p, f->hdr.src_worker, f->hdr.id, {0}};
	memcpy(&cw->cb, f->payload, sizeof(cw->cb));
	if (cw->cb.release) {
		if (!relay_held_here(p, cw->cb.name))
			clink_release(p->cl, cw->cb.name, NULL, NULL);
		free(cw);
		return;
	}
	size_t n = relay_login_msg(cw->cb.name, cw->cb.dialect, msg);
	if (clink_claim(p->cl, cw->cb.name, cw->cb.dialect, msg, n,
			relay_claimed_for, cw) < 0)
		relay_claim_answer(cw, CLAIM_DOWN);
}

/* A worker asks whether a name's holder is alive: for a remote user the
 * holder is another node, alive as long as the mirror has it. */
static void
relay_probe(struct lproc *p, const struct frame *f)
{
	struct probe_body pb;

	memcpy(&pb, f->payload, sizeof(pb));
	pb.alive = mirror_is_remote(&p->mir, pb.slot, pb.conn_id);
	lproc_send(p, f->hdr.src_worker, FR_PROBE_REPLY, f->hdr.id, &pb,
		   sizeof(pb), NULL, 0);
}

/* The events of a worker's loop pass, one by one (order kept). */
static void
relay_out_events(struct lproc *p, const struct frame *f)
{
	struct frame ev;
	size_t off = 0;

	while (frame_events_next(f, &off, &ev))
		relay_out_event(p, &ev);
}

void
relay_from_worker(struct lproc *p, const struct frame *f)
{
	switch (f->hdr.type) {
	case FR_EVENT:
		relay_out_event(p, f);
		break;
	case FR_EVENTS:
		relay_out_events(p, f);
		break;
	case FR_PROBE:
		relay_probe(p, f);
		break;
	case FR_CLAIM:
		relay_claim(p, f);
		break;
	case FR_FILE_OFFER: /* with the stored file's descriptor */
	case FR_FILE_RESULT:
		xfer_from_worker(p, f);
		break;
	default:
		break;
	}
}

/* ---- in: bus -> local workers ---- */

static int
relay_room(struct lproc *p, const char *room, bool create)
{
	int r = registry_room_find(p->reg, room, strlen(room));

	if (r < 0 && create)
		r = registry_room_create(p->reg, room, strlen(room));
	return r;
}

void
relay_user_gone(struct lproc *p, const struct reg_user_view *u)
{
	struct ev_body ev = {.target_slot = -1, .sender_slot = UINT32_MAX};

	memcpy(ev.sender, u->name, sizeof(ev.sender));
	size_t n = mirror_remove(&p->mir, u);
	ev.kind = EV_ROOM_LEFT;
	for (size_t i = 0; i < n; i++) {
		ev.room = p->mir.rooms[i];
		relay_to_all(p, &ev, "");
	}
	ev.kind = EV_LOGOUT;
	relay_to_all(p, &ev, "");
}

/* The sequence in decimal that a script appended to an announcement. */
static uint64_t
relay_seq(const char *rest, size_t n)
{
	char seq[24];

	snprintf(seq, sizeof(seq), "%.*s", (int)(n < 23 ? n : 23), rest);
	return strtoull(seq, NULL, 10);
}

static void
relay_in_login(struct lproc *p, const struct xev *x, const char *rest, size_t n,
	       struct ev_body *ev)
{
	struct reg_user_view u;

	if (mirror_find(&p->mir, x->sender, &u))
		return; /* already known (a resync loaded it first) */
	if (mirror_add(&p->mir, x->sender, x->dialect, relay_seq(rest, n), &u) <
	    0) {
		log_warnx("cluster: remote login of %s: the name is in use "
			  "here",
			  x->sender);
		return;
	}
	ev->sender_slot = u.slot;
	ev->sender_conn = u.conn_id;
	ev->text_len = 0;
	relay_to_all(p, ev, "");
}

/* Membership changes first update the mirror's room bits. */
static bool
relay_in_room(struct lproc *p, const struct xev *x, struct ev_body *ev,
	      const struct reg_user_view *u, bool known)
{
	int room = relay_room(p, x->room, ev->kind == EV_ROOM_JOIN);

	if (room < 0)
		return false; /* a room nobody here has ever used */
	ev->room = (uint32_t)room;
	/* no news if a resync got there first */
	if (known && ev->kind == EV_ROOM_JOIN)
		return registry_room_join(p->reg, ev->room, u->slot) == 0;
	if (known && ev->kind == EV_ROOM_LEFT)
		return registry_room_leave(p->reg, ev->room, u->slot) == 0;
	return true;
}

static void
relay_in_unicast(struct lproc *p, const struct xev *x, struct ev_body *ev,
		 const char *text)
{
	struct reg_user_view t;

	if (registry_lookup(p->reg, x->target, strlen(x->target), &t) < 0 ||
	    t.worker >= p->nworkers)
		return; /* logged out meanwhile */
	ev->target_slot = (int32_t)t.slot;
	ev->target_conn = t.conn_id;
	lproc_send(p, t.worker, FR_EVENT, 0, ev, sizeof(*ev), text,
		   ev->text_len);
}

static bool
relay_valid(const struct xev *x, size_t len)
{
	return ((x->kind > 0 && x->kind < EV_KIND_MAX) ||
		x->kind == XEV_ROOM_NEW) &&
	       memchr(x->sender, 0, sizeof(x->sender)) &&
	       memchr(x->target, 0, sizeof(x->target)) &&
	       memchr(x->room, 0, sizeof(x->room)) &&
	       (x->kind == EV_LOGIN || x->kind == XEV_ROOM_NEW ||
		x->text_len == len);
}

static void
relay_in_event(struct lproc *p, const struct xev *x, const char *text,
	       struct ev_body *ev)
{
	struct reg_user_view u;
	bool known = mirror_find(&p->mir, x->sender, &u);

	if (known) {
		ev->sender_slot = u.slot;
		ev->sender_conn = u.conn_id;
	}
	if (x->room[0] && !relay_in_room(p, x, ev, &u, known))
		return;
	if (relay_unicast(x->kind) && x->target[0]) {
		relay_in_unicast(p, x, ev, text);
		return;
	}
	if (x->kind == EV_PUBKEY && known)
		registry_set_key(p->reg, u.slot, u.conn_id, text, x->text_len);
	/* presence of a user we do not have (it logged in here meanwhile,
	 * or its node was declared dead first) is not news */
	if (!known && (x->kind == EV_LOGOUT || x->kind == EV_ROOM_JOIN ||
		       x->kind == EV_ROOM_LEFT))
		return;
	if (x->kind == EV_LOGOUT) {
		relay_user_gone(p, &u);
		return;
	}
	if (relay_all_kind(x->kind) || x->kind == EV_ROOM_MSG)
		relay_to_all(p, ev, text);
}

void
relay_from_bus(struct lproc *p, const char *data, size_t len)
{
	struct xev x;
	struct ev_body ev;

	uint16_t kind;
	if (len >= sizeof(kind)) {
		memcpy(&kind, data, sizeof(kind));
		if (kind == XEV_FILE) {
			xfer_from_bus(p, data, len);
			return;
		}
	}
	if (len < sizeof(x))
		return;
	memcpy(&x, data, sizeof(x));
	if (!relay_valid(&x, len - sizeof(x))) {
		log_warnx("cluster: malformed message dropped (%zu bytes)",
			  len);
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.kind = x.kind;
	ev.flags = x.flags;
	ev.target_slot = -1;
	ev.sender_slot = UINT32_MAX;
	ev.text_len = x.text_len;
	memcpy(ev.sender, x.sender, sizeof(ev.sender));
	if (x.kind == XEV_ROOM_NEW)
		relay_room_known(p, x.room,
				 relay_seq(data + sizeof(x), len - sizeof(x)));
	else if (x.kind == EV_LOGIN)
		relay_in_login(p, &x, data + sizeof(x), len - sizeof(x), &ev);
	else
		relay_in_event(p, &x, data + sizeof(x), &ev);
}

/* The reaper's list: "name\troom\t...\n" per user of the dead node. */
void
relay_node_down(struct lproc *p, const char *users)
{
	char name[REG_NAME_SZ];
	struct reg_user_view u;

	for (const char *s = users; *s;) {
		size_t nl = strcspn(s, "\t\n");
		snprintf(name, sizeof(name), "%.*s", (int)nl, s);
		if (mirror_find(&p->mir, name, &u))
			relay_user_gone(p, &u);
		s += strcspn(s, "\n");
		if (*s)
			s++;
	}
}

void
relay_room_known(struct lproc *p, const char *room, uint64_t seq)
{
	if (relay_room(p, room, true) >= 0 && seq)
		registry_room_restore_seq(p->reg, room, seq);
}

struct room_added {
	struct lproc *p;
	uint32_t slot;
	char name[REG_ROOM_SZ];
};

/* The cluster's creation sequence of a room announced from a slot. */
static void
relay_room_added(void *arg, long long res, const struct redisReply *r)
{
	struct room_added *ra = arg;
	struct lproc *p = ra->p;

	(void)r;
	if (res > 0) {
		registry_room_restore_seq(p->reg, ra->name, (uint64_t)res);
		if (strcmp(p->room_ann[ra->slot], ra->name) == 0)
			p->room_seq[ra->slot] = (uint64_t)res;
	}
	free(ra);
}

static int
relay_room_announce(struct lproc *p, uint32_t slot, const char *room,
		    uint64_t seq)
{
	struct xev x = {.kind = XEV_ROOM_NEW};
	struct room_added *ra = malloc(sizeof(*ra));

	if (ra == NULL)
		return -1;
	*ra = (struct room_added){.p = p, .slot = slot};
	snprintf(ra->name, sizeof(ra->name), "%s", room);
	snprintf(x.room, sizeof(x.room), "%s", room);
	if (clink_room_add(p->cl, room, seq, &x, sizeof(x), relay_room_added,
			   ra) < 0) {
		free(ra);
		return -1;
	}
	snprintf(p->room_ann[slot], sizeof(p->room_ann[slot]), "%s", room);
	return 0;
}

/* Rooms are created and deleted (--room-linger) without an event, and a
 * deleted room's slot is reused: each slot's room is compared with the one
 * last announced from it. New rooms (local or relayed) are announced,
 * deleted ones leave the cluster's list if nobody is in them. */
void
relay_rooms_scan(struct lproc *p)
{
	uint32_t max = registry_limits(p->reg)->max_rooms;
	char room[REG_ROOM_SZ];

	for (uint32_t i = 0; i < max; i++) {
		const char *rn = registry_room_name(p->reg, i);
		snprintf(room, sizeof(room), "%s", rn ? rn : "");
		char *ann = p->room_ann[i];
		if (ann[0] && strcmp(ann, room) != 0) {
			clink_room_drop(p->cl, ann);
			ann[0] = '\0';
			p->room_seq[i] = 0;
		}
		if (room[0] == '\0' || (ann[0] && !p->rooms_reassert))
			continue;
		if (relay_room_announce(p, i, room,
					ann[0] ? p->room_seq[i] : 0) < 0)
			return; /* again after the next registration */
	}
	p->rooms_reassert = false;
}
