/* Delivery of chat events. An event is built once, delivered to this
 * worker's own users and sent as one FR_EVENT frame to each peer (or to the
 * one peer that holds the target); every receiving worker renders it in the
 * dialect of each local recipient. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <string.h>

#include "../common/log.h"
#include "worker.h"

/* How each dialect shows each kind of event: $s sender, $t text, $r room.
 * NULL: users of that dialect do not get it. */
static const struct {
	const char *okfail;
	const char *numeric;
} renders[EV_KIND_MAX] = {
	[EV_LOGIN] = {"JOINED $s", "710 $s login"},
	[EV_LOGOUT] = {"LEFT $s", "711 $s logout"},
	[EV_BCST] = {"BCST $s $t", "703 $s $t"},
	[EV_PM] = {"NPM $s $t", "701 $s $t"},
	[EV_SECU] = {NULL, "700 $s $t"},
	[EV_PUBKEY] = {"PM_PUBKEY $s $t", NULL},
	[EV_SESSKEY] = {"PM_SESSIONKEY $s $t", NULL},
	[EV_EPM] = {"RECEIVE_PRIVATE_MSG $s $t", NULL},
	[EV_ROOM_MSG] = {NULL, "702 $r $s $t"},
	[EV_ROOM_JOIN] = {NULL, "712 $r $s joined"},
	[EV_ROOM_LEFT] = {NULL, "713 $r $s left"},
};

static const char *
render_template(uint16_t kind, int dialect)
{
	if (kind == 0 || kind >= EV_KIND_MAX)
		return NULL;
	return dialect == DIALECT_OKFAIL ? renders[kind].okfail
					 : renders[kind].numeric;
}

static bool
put(char *b, size_t cap, size_t *n, const char *p, size_t len)
{
	if (*n + len >= cap)
		return false;
	memcpy(b + *n, p, len);
	*n += len;
	return true;
}

/* Render one event line (with its \n) into b; 0 if it does not fit. */
static size_t
render(struct worker *w, const char *tmpl, const struct ev_body *ev,
       const char *text, char *b, size_t cap)
{
	size_t n = 0;
	bool ok = true;

	for (const char *p = tmpl; *p && ok; p++) {
		if (p[0] != '$' || p[1] == '\0') {
			ok = put(b, cap, &n, p, 1);
			continue;
		}
		const char *room = "?";
		switch (*++p) {
		case 's':
			ok = put(b, cap, &n, ev->sender, strlen(ev->sender));
			break;
		case 't':
			ok = put(b, cap, &n, text, ev->text_len);
			break;
		case 'r':
			if (registry_room_name(w->reg, ev->room))
				room = registry_room_name(w->reg, ev->room);
			ok = put(b, cap, &n, room, strlen(room));
			break;
		}
	}
	return ok && put(b, cap, &n, "\n", 1) ? n : 0;
}

static bool
is_room_kind(uint16_t kind)
{
	return kind == EV_ROOM_MSG || kind == EV_ROOM_JOIN ||
	       kind == EV_ROOM_LEFT;
}

/* Deliver an event to the users of this worker. */
void
fanout_local(struct worker *w, const struct ev_body *ev, const char *text)
{
	size_t half = w->render_cap / 2;
	char *ob = w->render, *nb = w->render + half;
	size_t olen = 0, nlen = 0;
	bool orendered = false, nrendered = false;

	if (ev->target_slot >= 0) {
		struct conn *c = conn_by_slot(w, (uint32_t)ev->target_slot,
					      ev->target_conn);
		const char *t =
			c ? render_template(ev->kind, c->dialect) : NULL;
		if (t == NULL)
			return;
		size_t n = render(w, t, ev, text, ob, half);
		if (n)
			conn_push(c, ob, n);
		w->stats.msgs_out++;
		return;
	}
	for (struct conn *c = w->live_head, *next; c; c = next) {
		next = c->next_live;
		if (c->state != CS_LIVE)
			continue;
		if ((uint32_t)c->slot == ev->sender_slot &&
		    c->id == ev->sender_conn)
			continue;
		const char *t = render_template(ev->kind, c->dialect);
		if (t == NULL)
			continue;
		if (is_room_kind(ev->kind) &&
		    !registry_room_has(w->reg, ev->room, (uint32_t)c->slot))
			continue;
		if (c->dialect == DIALECT_OKFAIL) {
			if (!orendered) {
				olen = render(w, t, ev, text, ob, half);
				orendered = true;
			}
			if (olen)
				conn_push(c, ob, olen);
		} else {
			if (!nrendered) {
				nlen = render(w, t, ev, text, nb, half);
				nrendered = true;
			}
			if (nlen)
				conn_push(c, nb, nlen);
		}
		w->stats.msgs_out++;
	}
}

/* Deliver here and send to the peers: to_worker -1 means every worker. */
void
fanout_event(struct worker *w, struct ev_body *ev, const char *text,
	     int to_worker)
{
	if (to_worker < 0 || to_worker == w->idx)
		fanout_local(w, ev, text);
	for (int i = 0; i < w->nworkers; i++) {
		if (i == w->idx || (to_worker >= 0 && i != to_worker))
			continue;
		worker_send(w, i, FR_EVENT, 0, ev, sizeof(*ev), text,
			    ev->text_len);
	}
}

static void
ev_from(struct ev_body *ev, uint16_t kind, const struct conn *from)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->target_slot = -1;
	memcpy(ev->sender, from->name, sizeof(ev->sender));
	ev->sender_slot = (uint32_t)from->slot;
	ev->sender_conn = from->id;
}

/* An event from a local user to everyone (or to a room's members). */
void
fanout_simple(struct worker *w, uint16_t kind, struct conn *from, int32_t room,
	      const char *text, size_t len)
{
	struct ev_body ev;

	ev_from(&ev, kind, from);
	ev.room = room < 0 ? 0 : (uint32_t)room;
	ev.text_len = (uint32_t)len;
	/* after logout the slot is gone: keep the one the others knew */
	if (from->slot < 0)
		ev.sender_slot = UINT32_MAX;
	fanout_event(w, &ev, text ? text : "", -1);
}

/* An event from a local user to one user, wherever it lives. */
void
fanout_to(struct worker *w, uint16_t kind, struct conn *from,
	  const struct reg_user_view *to, const char *text, size_t len)
{
	struct ev_body ev;

	ev_from(&ev, kind, from);
	ev.target_slot = (int32_t)to->slot;
	ev.target_conn = to->conn_id;
	ev.text_len = (uint32_t)len;
	fanout_event(w, &ev, text, to->worker);
}

void
fanout_on_frame(struct worker *w, const struct frame *f)
{
	struct ev_body ev;

	memcpy(&ev, f->payload, sizeof(ev));
	fanout_local(w, &ev, f->payload + sizeof(ev));
}

/* The master tells us a user of a dead worker is gone. */
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
	for (uint32_t i = 0; i < g.nrooms; i++) {
		memcpy(&ev.room, f->payload + sizeof(g) + i * sizeof(uint32_t),
		       sizeof(uint32_t));
		fanout_local(w, &ev, "");
	}
	ev.kind = EV_LOGOUT;
	fanout_local(w, &ev, "");
}
