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

/* Does a user of this dialect get this kind of event at all? */
static bool
kind_for_dialect(uint16_t kind, int dialect)
{
	switch (kind) {
	case EV_PUBKEY:
	case EV_SESSKEY:
	case EV_EPM:
		return dialect == DIALECT_OKFAIL;
	case EV_SECU:
	case EV_ROOM_MSG:
	case EV_ROOM_JOIN:
	case EV_ROOM_LEFT:
		return dialect == DIALECT_NUMERIC;
	default:
		return true;
	}
}

static size_t
render_okfail(const struct ev_body *ev, const char *t, char *b, size_t cap)
{
	const char *s = ev->sender;
	int tl = (int)ev->text_len;
	int n = 0;

	switch (ev->kind) {
	case EV_LOGIN:
		n = snprintf(b, cap, "JOINED %s\n", s);
		break;
	case EV_LOGOUT:
		n = snprintf(b, cap, "LEFT %s\n", s);
		break;
	case EV_BCST:
		n = snprintf(b, cap, "BCST %s %.*s\n", s, tl, t);
		break;
	case EV_PM:
		n = snprintf(b, cap, "NPM %s %.*s\n", s, tl, t);
		break;
	case EV_PUBKEY:
		n = snprintf(b, cap, "PM_PUBKEY %s %.*s\n", s, tl, t);
		break;
	case EV_SESSKEY:
		n = snprintf(b, cap, "PM_SESSIONKEY %s %.*s\n", s, tl, t);
		break;
	case EV_EPM:
		n = snprintf(b, cap, "RECEIVE_PRIVATE_MSG %s %.*s\n", s, tl, t);
		break;
	default:
		return 0;
	}
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

static size_t
render_numeric(struct worker *w, const struct ev_body *ev, const char *t,
	       char *b, size_t cap)
{
	const char *s = ev->sender;
	const char *room = registry_room_name(w->reg, ev->room);
	int tl = (int)ev->text_len;
	int n = 0;

	switch (ev->kind) {
	case EV_LOGIN:
		n = snprintf(b, cap, "710 %s login\n", s);
		break;
	case EV_LOGOUT:
		n = snprintf(b, cap, "711 %s logout\n", s);
		break;
	case EV_BCST:
		n = snprintf(b, cap, "703 %s %.*s\n", s, tl, t);
		break;
	case EV_PM:
		n = snprintf(b, cap, "701 %s %.*s\n", s, tl, t);
		break;
	case EV_SECU:
		n = snprintf(b, cap, "700 %s %.*s\n", s, tl, t);
		break;
	case EV_ROOM_MSG:
		n = snprintf(b, cap, "702 %s %s %.*s\n", room ? room : "?", s,
			     tl, t);
		break;
	case EV_ROOM_JOIN:
		n = snprintf(b, cap, "712 %s %s joined\n", room ? room : "?",
			     s);
		break;
	case EV_ROOM_LEFT:
		n = snprintf(b, cap, "713 %s %s left\n", room ? room : "?", s);
		break;
	default:
		return 0;
	}
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
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
		if (c == NULL || !kind_for_dialect(ev->kind, c->dialect))
			return;
		size_t n = c->dialect == DIALECT_OKFAIL
				   ? render_okfail(ev, text, ob, half)
				   : render_numeric(w, ev, text, ob, half);
		if (n)
			conn_push(c, ob, n);
		w->board->msgs_out++;
		return;
	}
	for (struct conn *c = w->live_head, *next; c; c = next) {
		next = c->next_live;
		if (c->state != CS_LIVE)
			continue;
		if ((uint32_t)c->slot == ev->sender_slot &&
		    c->id == ev->sender_conn)
			continue;
		if (!kind_for_dialect(ev->kind, c->dialect))
			continue;
		if (is_room_kind(ev->kind) &&
		    !registry_room_has(w->reg, ev->room, (uint32_t)c->slot))
			continue;
		if (c->dialect == DIALECT_OKFAIL) {
			if (!orendered) {
				olen = render_okfail(ev, text, ob, half);
				orendered = true;
			}
			if (olen)
				conn_push(c, ob, olen);
		} else {
			if (!nrendered) {
				nlen = render_numeric(w, ev, text, nb, half);
				nrendered = true;
			}
			if (nlen)
				conn_push(c, nb, nlen);
		}
		w->board->msgs_out++;
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
fanout_simple(struct worker *w, uint16_t kind, struct conn *from,
	      int32_t room, const char *text, size_t len)
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
