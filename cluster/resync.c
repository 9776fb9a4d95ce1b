/* After the link (re)registered: tell Redis again about this node's users,
 * their rooms and keys (Redis may have restarted empty, or missed a logout
 * while it was unreachable), then read the whole cluster back and make the
 * registry mirror match it, announcing who came and who went meanwhile. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/log.h"
#include "../common/util.h"
#include "proc.h"

static bool
resync_local(const struct lproc *p, const struct reg_user_view *v)
{
	return v->worker < p->nworkers;
}

static void
resync_asserted(void *arg, long long res, const struct redisReply *r)
{
	char *name = arg;

	(void)r;
	if (res == CLR_TAKEN)
		log_warnx("cluster: %s is held by another node since the "
			  "resync",
			  name);
	free(name);
}

/* Users, then for each room its local members (and, on a fresh link
 * process, the subscriptions). */
static size_t
resync_users(struct lproc *p, struct reg_user_view *v, size_t cap)
{
	size_t n = registry_users_snapshot(p->reg, v, cap), mine = 0;

	for (size_t i = 0; i < n; i++) {
		if (!resync_local(p, &v[i]) || p->kicked)
			continue;
		char *name = strdup(v[i].name), msg[RELAY_LOGIN_MAX];
		size_t ml = relay_login_msg(v[i].name, v[i].dialect, msg);
		if (name &&
		    clink_assert(p->cl, v[i].name, v[i].dialect, v[i].seq, msg,
				 ml, resync_asserted, name) < 0)
			free(name);
		mine++;
	}
	uint32_t nrooms = registry_room_count(p->reg);
	for (uint32_t r = 0; r < nrooms; r++) {
		const char *room = registry_room_name(p->reg, r);
		for (size_t i = 0; room && i < n && !p->kicked; i++) {
			if (!resync_local(p, &v[i]) ||
			    !registry_room_has(p->reg, r, v[i].slot))
				continue;
			clink_room_join(p->cl, room, v[i].name);
			if (!p->loaded)
				clink_sub_room(p->cl, room);
		}
	}
	return mine;
}

/* "PM_PUBKEY name key\n" lines from the registry: the local users'. */
static void
resync_keys(struct lproc *p)
{
	size_t need = registry_keys(p->reg, UINT32_MAX, NULL, 0);
	char *buf = need ? malloc(need + 1) : NULL;
	struct reg_user_view u;

	if (buf == NULL)
		return;
	size_t n = registry_keys(p->reg, UINT32_MAX, buf, need);
	buf[n <= need ? n : 0] = '\0';
	for (char *line = buf, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			break;
		*nl = '\0';
		char *name = line + 10, *sp = strchr(name, ' ');
		if (strncmp(line, "PM_PUBKEY ", 10) != 0 || sp == NULL)
			continue;
		*sp = '\0';
		if (registry_lookup(p->reg, name, strlen(name), &u) == 0 &&
		    resync_local(p, &u))
			clink_key_set(p->cl, name, sp + 1);
	}
	free(buf);
}

/* A room's index here, created if it is not known yet. */
static int
resync_room(struct lproc *p, const char *name, size_t len)
{
	int r = registry_room_find(p->reg, name, len);

	if (r < 0)
		r = registry_room_create(p->reg, name, len);
	if (r == -EEXIST) /* created by a worker meanwhile */
		r = registry_room_find(p->reg, name, len);
	return r;
}

/* A remote user's room change that happened unheard, to every worker. */
static void
resync_tell(struct lproc *p, uint16_t kind, const struct reg_user_view *u,
	    uint32_t room)
{
	struct ev_body ev = {.kind = kind,
			     .target_slot = -1,
			     .sender_slot = u->slot,
			     .sender_conn = u->conn_id,
			     .room = room};

	memcpy(ev.sender, u->name, sizeof(ev.sender));
	for (int k = 0; k < p->nworkers; k++)
		lproc_send(p, k, FR_EVENT, 0, &ev, sizeof(ev), NULL, 0);
}

/* Is room one of the "\t"-separated list? */
static bool
resync_listed(const char *list, const char *room)
{
	size_t n = strlen(room);

	for (const char *s = list; *s;) {
		size_t rl = strcspn(s, "\t");
		if (rl == n && strncasecmp(s, room, n) == 0)
			return true;
		s += rl + (s[rl] == '\t');
	}
	return false;
}

/* A remote user's rooms as the cluster has them: joined here too, and on
 * the first load of a link process that adopted the user from its
 * predecessor, left here when the cluster does not have them any more
 * (after a Redis restart the other nodes may still be re-asserting theirs:
 * no leaves then). For a user already known each change is announced, as
 * a JOIN or LEVE would have been. */
static void
resync_user_rooms(struct lproc *p, const struct reg_user_view *u,
		  const char *list, bool known)
{
	uint32_t max = registry_limits(p->reg)->max_rooms;

	for (uint32_t r = 0; known && !p->loaded && r < max; r++) {
		const char *rn = registry_room_name(p->reg, r);
		if (rn && registry_room_has(p->reg, r, u->slot) &&
		    !resync_listed(list, rn) &&
		    registry_room_leave(p->reg, r, u->slot) == 0)
			resync_tell(p, EV_ROOM_LEFT, u, r);
	}
	for (const char *s = list; *s;) {
		size_t rl = strcspn(s, "\t");
		int r = resync_room(p, s, rl);
		if (r >= 0 &&
		    registry_room_join(p->reg, (uint32_t)r, u->slot) == 0 &&
		    known)
			resync_tell(p, EV_ROOM_JOIN, u, (uint32_t)r);
		s += rl + (s[rl] == '\t');
	}
}

/* One loaded user of another node: into the mirror (announced if new),
 * with its key and rooms. */
static void
resync_remote(struct lproc *p, const redisReply *const *e, uint8_t *seen)
{
	struct reg_user_view u;
	const char *info = e[2]->str, *tab = strchr(info, '\t');
	bool known = mirror_find(&p->mir, e[0]->str, &u);

	if (!known && mirror_add(&p->mir, e[0]->str,
				 (uint8_t)(tab ? strtol(tab + 1, NULL, 10) : 0),
				 strtoull(e[1]->str, NULL, 10), &u) < 0)
		return;
	seen[u.slot] = 1;
	if (e[3]->len)
		registry_set_key(p->reg, u.slot, u.conn_id, e[3]->str,
				 e[3]->len);
	resync_user_rooms(p, &u, e[4]->str, known);
	if (!known) {
		struct ev_body ev = {.kind = EV_LOGIN,
				     .target_slot = -1,
				     .sender_slot = u.slot,
				     .sender_conn = u.conn_id};
		memcpy(ev.sender, u.name, sizeof(ev.sender));
		for (int k = 0; k < p->nworkers; k++)
			lproc_send(p, k, FR_EVENT, 0, &ev, sizeof(ev), NULL, 0);
	}
}

static bool
resync_row_ok(const redisReply *const *e)
{
	for (int i = 0; i < 5; i++)
		if (e[i]->type != REDIS_REPLY_STRING)
			return false;
	return true;
}

/* Names Redis gives to this node that no local user has: a logout that
 * happened while Redis could not hear it. */
static void
resync_ours(struct lproc *p, const redisReply *const *e)
{
	struct reg_user_view u;

	if (registry_lookup(p->reg, e[0]->str, e[0]->len, &u) == 0 &&
	    resync_local(p, &u))
		return;
	log_info("cluster: releasing %s (logged out while Redis was away)",
		 e[0]->str);
	clink_release(p->cl, e[0]->str, NULL, NULL);
}

static void
resync_drop_unseen(struct lproc *p, const uint8_t *seen)
{
	struct reg_user_view u;

	for (uint32_t s = 0; s < p->mir.max_users; s++) {
		const char *name = mirror_name(&p->mir, s, p->mir.conn[s]);
		if (name == NULL || seen[s] || !mirror_find(&p->mir, name, &u))
			continue;
		relay_user_gone(p, &u);
	}
}

static void
resync_loaded(void *arg, long long res, const struct redisReply *r)
{
	struct lproc *p = arg;
	size_t node_len = strlen(p->cfg->node_id);

	if (res < 0 || r == NULL || r->type != REDIS_REPLY_ARRAY)
		return; /* the connection dropped: the next up resyncs */
	uint8_t *seen = calloc(p->mir.max_users, 1);
	if (seen == NULL)
		return;
	for (size_t i = 0; i + 5 <= r->elements; i += 5) {
		const redisReply *const *e =
			(const redisReply *const *)r->element + i;
		if (!resync_row_ok(e))
			continue;
		if (strncmp(e[2]->str, p->cfg->node_id, node_len) == 0 &&
		    e[2]->str[node_len] == '\t')
			resync_ours(p, e);
		else
			resync_remote(p, e, seen);
	}
	resync_drop_unseen(p, seen);
	free(seen);
	p->loaded = true;
	log_info("cluster: in sync: %u user(s) on other nodes", p->mir.count);
}

/* Every room of the cluster, with its place in the creation order. */
static void
resync_rooms(void *arg, long long res, const struct redisReply *r)
{
	struct lproc *p = arg;

	if (res < 0 || r == NULL || r->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t i = 0; i + 2 <= r->elements; i += 2) {
		const redisReply *name = r->element[i],
				 *seq = r->element[i + 1];
		if (name->type == REDIS_REPLY_STRING &&
		    seq->type == REDIS_REPLY_STRING)
			relay_room_known(p, name->str,
					 strtoull(seq->str, NULL, 10));
	}
}

void
resync_load(struct lproc *p)
{
	clink_query(p->cl, resync_rooms, p, "ZRANGE fc:rooms 0 -1 WITHSCORES");
	if (clink_load(p->cl, resync_loaded, p) < 0)
		log_warnx("cluster: cannot read the cluster's users");
}

static void
resync_load_later(void *arg)
{
	resync_load(arg);
}

void
resync_start(struct lproc *p)
{
	uint32_t cap = registry_limits(p->reg)->max_users;
	struct reg_user_view *v = calloc(cap, sizeof(*v));

	if (v == NULL)
		return;
	size_t mine = resync_users(p, v, cap);
	free(v);
	if (!p->kicked)
		resync_keys(p);
	p->kicked = false;
	if (mine)
		log_info("cluster: re-asserted %zu local user(s)", mine);
	p->rooms_reassert = true; /* every local room again */
	if (!p->loaded) {
		resync_load(p);
		return;
	}
	/* the other nodes re-assert (and announce) their users meanwhile;
	 * only users still missing then are gone */
	loop_timer_add(p->loop, now_ms() + p->cfg->cluster_ttl_ms,
		       resync_load_later, p);
}
