/* Channel state of the registry's rooms: modes, key, limit, topic, the
 * +b/+e/+I mask lists and the per-member op/voice/invited bits, all in the
 * shared segment beside the room so that every worker sees them. */
#include "registry.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "registry_layout.h"

static bool
room_ok(struct registry *r, uint32_t room)
{
	return room < r->h->nrooms &&
	       atomic_load(&r->rooms[room].state) == SLOT_LIVE;
}

static _Atomic uint64_t *
flag_word(struct registry *r, uint32_t room, uint32_t slot,
	  enum reg_member_flag f)
{
	size_t set = (size_t)room * RM_MAX + (size_t)f;

	return &r->mbits[set * r->h->bit_words + slot / 64];
}

void
registry_chan_reset(struct registry *r, uint32_t room)
{
	struct reg_chan *ch = &r->chans[room];

	memset(ch, 0, sizeof(*ch));
	ch->modes = CM_NOEXT | CM_TOPIC;
	ch->created = (int64_t)time(NULL);
	memset((void *)&r->mbits[(size_t)room * RM_MAX * r->h->bit_words], 0,
	       sizeof(uint64_t) * RM_MAX * r->h->bit_words);
}

void
registry_member_clear(struct registry *r, uint32_t room, uint32_t slot,
		      bool all)
{
	uint64_t bit = (uint64_t)1 << (slot % 64);

	for (int f = 0; f < (all ? RM_MAX : RM_INVITED); f++)
		atomic_fetch_and(flag_word(r, room, slot, f), ~bit);
}

bool
registry_member_flag(struct registry *r, uint32_t room, uint32_t slot,
		     enum reg_member_flag f)
{
	if (room >= r->h->lim.max_rooms || slot >= r->h->lim.max_users ||
	    f >= RM_MAX)
		return false;
	return (atomic_load_explicit(flag_word(r, room, slot, f),
				     memory_order_relaxed) >>
		(slot % 64)) &
	       1;
}

int
registry_member_set(struct registry *r, uint32_t room, uint32_t slot,
		    enum reg_member_flag f, bool on)
{
	uint64_t bit = (uint64_t)1 << (slot % 64), old;

	if (room >= r->h->lim.max_rooms || slot >= r->h->lim.max_users ||
	    f >= RM_MAX)
		return -ENOENT;
	_Atomic uint64_t *w = flag_word(r, room, slot, f);
	if (on)
		old = atomic_fetch_or(w, bit);
	else
		old = atomic_fetch_and(w, ~bit);
	return ((old & bit) != 0) != on;
}

/* ---- masks ---- */

static bool
mask_matches(const struct reg_chan *ch, char type, const char *nuh)
{
	for (size_t i = 0; i < REG_MAX_MASKS; i++)
		if (ch->masks[i].type == type &&
		    fnmatch(ch->masks[i].mask, nuh,
			    FNM_CASEFOLD | FNM_NOESCAPE) == 0)
			return true;
	return false;
}

static bool
banned(const struct reg_chan *ch, const char *nuh)
{
	return mask_matches(ch, 'b', nuh) && !mask_matches(ch, 'e', nuh);
}

bool
registry_chan_banned(struct registry *r, uint32_t room, const char *nuh)
{
	shmlock_lock(&r->h->lock);
	bool b = room_ok(r, room) && banned(&r->chans[room], nuh);
	shmlock_unlock(&r->h->lock);
	return b;
}

static long
mask_find(const struct reg_chan *ch, char type, const char *mask)
{
	for (size_t i = 0; i < REG_MAX_MASKS; i++)
		if (ch->masks[i].type == type &&
		    strcasecmp(ch->masks[i].mask, mask) == 0)
			return (long)i;
	return -1;
}

static int
mask_add(struct reg_chan *ch, char type, const char *mask, const char *by,
	 int64_t when)
{
	if (mask_find(ch, type, mask) >= 0)
		return 0;
	for (size_t i = 0; i < REG_MAX_MASKS; i++) {
		struct reg_mask *m = &ch->masks[i];
		if (m->type)
			continue;
		snprintf(m->mask, sizeof(m->mask), "%s", mask);
		snprintf(m->by, sizeof(m->by), "%s", by ? by : "");
		m->when = when;
		m->type = type;
		return 1;
	}
	return -ENOSPC;
}

int
registry_chan_mask(struct registry *r, uint32_t room, char type,
		   const char *mask, bool add, const char *by, int64_t when)
{
	int rc = -ENOENT;

	shmlock_lock(&r->h->lock);
	if (room_ok(r, room)) {
		struct reg_chan *ch = &r->chans[room];
		long at = mask_find(ch, type, mask);
		if (add)
			rc = mask_add(ch, type, mask, by, when);
		else if ((rc = at >= 0))
			ch->masks[at].type = 0;
	}
	shmlock_unlock(&r->h->lock);
	return rc;
}

static int
mask_when_cmp(const void *a, const void *b)
{
	const struct reg_mask_view *x = a, *y = b;

	return (x->when > y->when) - (x->when < y->when);
}

size_t
registry_chan_masks(struct registry *r, uint32_t room, char type,
		    struct reg_mask_view *out, size_t cap)
{
	size_t n = 0;

	shmlock_lock(&r->h->lock);
	for (size_t i = 0; room_ok(r, room) && i < REG_MAX_MASKS && n < cap;
	     i++) {
		const struct reg_mask *m = &r->chans[room].masks[i];
		if (m->type != type)
			continue;
		memcpy(out[n].mask, m->mask, sizeof(out[n].mask));
		memcpy(out[n].by, m->by, sizeof(out[n].by));
		out[n++].when = m->when;
	}
	shmlock_unlock(&r->h->lock);
	qsort(out, n, sizeof(*out), mask_when_cmp);
	return n;
}

/* ---- modes and topic ---- */

int
registry_chan_get(struct registry *r, uint32_t room, struct reg_chan_view *out)
{
	int rc = -ENOENT;

	shmlock_lock(&r->h->lock);
	if (room_ok(r, room)) {
		const struct reg_chan *ch = &r->chans[room];
		out->modes = ch->modes;
		out->limit = ch->limit;
		out->created = ch->created;
		out->topic_time = ch->topic_time;
		memcpy(out->key, ch->key, sizeof(out->key));
		memcpy(out->topic, ch->topic, sizeof(out->topic));
		memcpy(out->topic_by, ch->topic_by, sizeof(out->topic_by));
		rc = 0;
	}
	shmlock_unlock(&r->h->lock);
	return rc;
}

uint32_t
registry_chan_modes(struct registry *r, uint32_t room)
{
	if (room >= r->h->lim.max_rooms)
		return 0;
	return __atomic_load_n(&r->chans[room].modes, __ATOMIC_RELAXED);
}

static int
mode_apply(struct reg_chan *ch, uint32_t mode, bool on, const char *key,
	   uint32_t limit)
{
	bool was = (ch->modes & mode) != 0;
	bool same = was == on;

	if (mode == CM_KEY && on) {
		same = was && strcmp(ch->key, key ? key : "") == 0;
		snprintf(ch->key, sizeof(ch->key), "%s", key ? key : "");
	} else if (mode == CM_KEY) {
		ch->key[0] = '\0';
	}
	if (mode == CM_LIMIT && on) {
		same = was && ch->limit == limit;
		ch->limit = limit;
	}
	__atomic_store_n(&ch->modes, on ? ch->modes | mode : ch->modes & ~mode,
			 __ATOMIC_RELAXED);
	return !same;
}

int
registry_chan_mode(struct registry *r, uint32_t room, uint32_t mode, bool on,
		   const char *key, uint32_t limit)
{
	int rc = -ENOENT;

	shmlock_lock(&r->h->lock);
	if (room_ok(r, room))
		rc = mode_apply(&r->chans[room], mode, on, key, limit);
	shmlock_unlock(&r->h->lock);
	return rc;
}

int
registry_chan_topic(struct registry *r, uint32_t room, const char *text,
		    size_t len, const char *by, int64_t when)
{
	int rc = -ENOENT;

	if (len > REG_TOPIC_SZ - 1)
		len = REG_TOPIC_SZ - 1;
	shmlock_lock(&r->h->lock);
	if (room_ok(r, room)) {
		struct reg_chan *ch = &r->chans[room];
		memcpy(ch->topic, text, len);
		ch->topic[len] = '\0';
		snprintf(ch->topic_by, sizeof(ch->topic_by), "%s",
			 by ? by : "");
		ch->topic_time = when;
		rc = 0;
	}
	shmlock_unlock(&r->h->lock);
	return rc;
}

/* ---- entering a room ---- */

static uint32_t
member_count(struct registry *r, uint32_t room)
{
	uint32_t n = 0;

	for (uint32_t w = 0; w < r->h->bit_words; w++)
		n += (uint32_t)__builtin_popcountll(atomic_load(
			&r->bits[(size_t)room * r->h->bit_words + w]));
	return n;
}

/* Under the lock: may this user enter (0), or why not. */
static int
entry_check(struct registry *r, uint32_t room, uint32_t slot,
	    const struct reg_entry *e)
{
	const struct reg_chan *ch = &r->chans[room];
	bool invited = registry_member_flag(r, room, slot, RM_INVITED);
	const char *nuh = e && e->nuh ? e->nuh : "";

	if (!invited && banned(ch, nuh))
		return -EPERM;
	if ((ch->modes & CM_INVITE) && !invited && !mask_matches(ch, 'I', nuh))
		return -EACCES;
	if ((ch->modes & CM_KEY) &&
	    (e == NULL || e->key == NULL || strcmp(e->key, ch->key) != 0))
		return -EKEYREJECTED;
	if ((ch->modes & CM_LIMIT) && member_count(r, room) >= ch->limit)
		return -EUSERS;
	return 0;
}

int
registry_room_enter(struct registry *r, uint32_t room, uint32_t slot,
		    const struct reg_entry *e)
{
	uint64_t bit = (uint64_t)1 << (slot % 64);
	int rc;

	if (room >= r->h->nrooms || slot >= r->h->lim.max_users)
		return -ENOENT;
	shmlock_lock(&r->h->lock);
	_Atomic uint64_t *w =
		&r->bits[(size_t)room * r->h->bit_words + slot / 64];
	if (!room_ok(r, room))
		rc = -ENOENT;
	else if (atomic_load(w) & bit)
		rc = -EALREADY;
	else
		rc = entry_check(r, room, slot, e);
	if (rc == 0) {
		bool first = member_count(r, room) == 0;
		registry_member_clear(r, room, slot, true);
		if (first)
			atomic_fetch_or(flag_word(r, room, slot, RM_OP), bit);
		atomic_fetch_or(w, bit);
		atomic_store(&r->rooms[room].empty_since, 0);
	}
	shmlock_unlock(&r->h->lock);
	return rc;
}
