/* Registry layout and operations. The segment is created with shm_open and
 * unlinked at once: workers inherit the mapping across fork, so nothing is
 * left in /dev/shm even when the master is killed. Derived structures (name
 * hashes, the free stack, counters) are rebuilt by the master's repair. */
#include "registry.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../common/log.h"
#include "registry_layout.h"

static size_t
align64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

static uint32_t
pow2_at_least(uint32_t n)
{
	uint32_t p = 16;
	while (p < n)
		p <<= 1;
	return p;
}

static uint32_t
name_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

/* Names compare ignoring ASCII case (docs/PROTOCOL.md): "Bob" and "bob"
 * are one name, so the hash folds case and the comparison ignores it. */
static char
ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static uint32_t
fold_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a over the lower-cased bytes */
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)ascii_lower(s[i]);
		h *= 16777619u;
	}
	return h;
}

/* cand (NUL-terminated) is name[0..len) ignoring ASCII case */
static bool
fold_equal(const char *cand, const char *name, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (cand[i] == '\0' ||
		    ascii_lower(cand[i]) != ascii_lower(name[i]))
			return false;
	return cand[len] == '\0';
}

static void
registry_layout(struct reg_hdr *h, const struct reg_limits *lim)
{
	size_t off = align64(sizeof(*h));

	h->lim = *lim;
	h->user_hash_sz = pow2_at_least(lim->max_users * 2);
	h->room_hash_sz = pow2_at_least(lim->max_rooms * 2);
	h->bit_words = (lim->max_users + 63) / 64;
	h->off_users = off;
	off = align64(off + sizeof(struct reg_user) * lim->max_users);
	h->off_keys = off;
	off = align64(off + (size_t)lim->key_max * lim->max_users);
	h->off_free = off;
	off = align64(off + sizeof(uint32_t) * lim->max_users);
	h->off_uhash = off;
	off = align64(off + sizeof(uint32_t) * h->user_hash_sz);
	h->off_rooms = off;
	off = align64(off + sizeof(struct reg_room) * lim->max_rooms);
	h->off_rhash = off;
	off = align64(off + sizeof(uint32_t) * h->room_hash_sz);
	h->off_bits = off;
	off = align64(off +
		      sizeof(uint64_t) * h->bit_words * (size_t)lim->max_rooms);
	h->off_chans = off;
	off = align64(off + sizeof(struct reg_chan) * lim->max_rooms);
	h->off_mbits = off;
	off = align64(off + sizeof(uint64_t) * RM_MAX * h->bit_words *
				    (size_t)lim->max_rooms);
	h->ip_hash_sz = pow2_at_least(lim->max_users * 2);
	h->off_ips = off;
}

static size_t
registry_size(const struct reg_hdr *h)
{
	return h->off_ips + sizeof(struct reg_ip) * (size_t)h->ip_hash_sz;
}

static void
registry_bind(struct registry *r)
{
	char *base = (char *)r->h;

	r->users = (struct reg_user *)(base + r->h->off_users);
	r->keys = base + r->h->off_keys;
	r->free_stack = (uint32_t *)(base + r->h->off_free);
	r->uhash = (uint32_t *)(base + r->h->off_uhash);
	r->rooms = (struct reg_room *)(base + r->h->off_rooms);
	r->rhash = (uint32_t *)(base + r->h->off_rhash);
	r->bits = (_Atomic uint64_t *)(base + r->h->off_bits);
	r->ips = (struct reg_ip *)(base + r->h->off_ips);
	r->chans = (struct reg_chan *)(base + r->h->off_chans);
	r->mbits = (_Atomic uint64_t *)(base + r->h->off_mbits);
}

static void
registry_rebuild_free(struct registry *r)
{
	r->h->free_top = 0;
	for (uint32_t i = r->h->lim.max_users; i-- > 0;)
		if (atomic_load(&r->users[i].state) == SLOT_FREE)
			r->free_stack[r->h->free_top++] = i;
}

/* Map an unlinked segment; a unique name per instance and per try keeps
 * parallel daemons (and parallel tests) apart. */
static void *
registry_map(size_t size)
{
	char name[64];
	static unsigned counter;

	for (int tries = 0; tries < 16; tries++) {
		snprintf(name, sizeof(name), "/forkchatd.%d.%u.%ld", getpid(),
			 counter++, (long)time(NULL));
		int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0)
			return NULL;
		shm_unlink(name);
		if (ftruncate(fd, (off_t)size) < 0) {
			close(fd);
			return NULL;
		}
		void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			       fd, 0);
		close(fd);
		return p == MAP_FAILED ? NULL : p;
	}
	errno = EEXIST;
	return NULL;
}

struct registry *
registry_create(const struct reg_limits *lim)
{
	struct reg_hdr tmp;
	struct registry *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	memset(&tmp, 0, sizeof(tmp));
	registry_layout(&tmp, lim);
	r->size = registry_size(&tmp);
	r->h = registry_map(r->size);
	if (r->h == NULL) {
		free(r);
		return NULL;
	}
	memcpy(r->h, &tmp, sizeof(tmp));
	r->h->magic = REG_MAGIC;
	r->h->version = REG_VERSION;
	r->h->next_seq = 1;
	if (shmlock_init(&r->h->lock) < 0) {
		registry_destroy(r);
		return NULL;
	}
	registry_bind(r);
	registry_rebuild_free(r);
	return r;
}

void
registry_destroy(struct registry *r)
{
	if (r == NULL)
		return;
	if (r->h)
		munmap(r->h, r->size);
	free(r->scratch);
	free(r);
}

const struct reg_limits *
registry_limits(const struct registry *r)
{
	return &r->h->lim;
}

struct reg_worker *
registry_worker(struct registry *r, unsigned idx)
{
	return idx < REG_MAX_WORKERS ? &r->h->workers[idx] : NULL;
}

/* ---- name hashes (linear probing, backward-shift deletion) ---- */

static const char *
user_name_of(struct registry *r, uint32_t slot)
{
	return r->users[slot].name;
}

static const char *
room_name_of(struct registry *r, uint32_t slot)
{
	return r->rooms[slot].name;
}

typedef const char *(*name_of_fn)(struct registry *, uint32_t);

static long
hash_find(struct registry *r, uint32_t *tab, uint32_t sz, name_of_fn nm,
	  const char *name, size_t len)
{
	uint32_t i = fold_hash(name, len) & (sz - 1);

	for (uint32_t n = 0; n < sz; n++, i = (i + 1) & (sz - 1)) {
		if (tab[i] == 0)
			return -1;
		const char *cand = nm(r, tab[i] - 1);
		if (fold_equal(cand, name, len))
			return (long)i;
	}
	return -1;
}

static void
hash_insert(uint32_t *tab, uint32_t sz, const char *name, uint32_t slot)
{
	uint32_t i = fold_hash(name, strlen(name)) & (sz - 1);

	while (tab[i] != 0)
		i = (i + 1) & (sz - 1);
	tab[i] = slot + 1;
}

static void
hash_remove(struct registry *r, uint32_t *tab, uint32_t sz, name_of_fn nm,
	    uint32_t pos)
{
	uint32_t mask = sz - 1;
	uint32_t hole = pos;

	tab[hole] = 0;
	for (uint32_t j = (hole + 1) & mask; tab[j] != 0; j = (j + 1) & mask) {
		const char *n = nm(r, tab[j] - 1);
		uint32_t home = fold_hash(n, strlen(n)) & mask;
		/* move j into the hole unless its home lies in (hole, j] */
		bool stays = (hole <= j) ? (home > hole && home <= j)
					 : (home > hole || home <= j);
		if (stays)
			continue;
		tab[hole] = tab[j];
		tab[j] = 0;
		hole = j;
	}
}

/* ---- users ---- */

static void
user_view(const struct reg_user *u, uint32_t slot, struct reg_user_view *out)
{
	out->slot = slot;
	out->worker = u->worker;
	out->worker_gen = u->worker_gen;
	out->conn_id = u->conn_id;
	out->dialect = u->dialect;
	out->seq = u->seq;
	memcpy(out->name, u->name, sizeof(out->name));
}

/* Claim a name. Returns 0 (out describes the new user), -EEXIST (out
 * describes the holder) or -ENOSPC. The slot is published last. */
int
registry_claim(struct registry *r, const char *name, uint8_t dialect,
	       uint16_t worker, uint16_t gen, uint32_t conn_id,
	       struct reg_user_view *out)
{
	struct reg_hdr *h = r->h;
	size_t len = strlen(name);
	int rc = 0;

	shmlock_lock(&h->lock);
	long pos = hash_find(r, r->uhash, h->user_hash_sz, user_name_of, name,
			     len);
	if (pos >= 0) {
		uint32_t slot = r->uhash[pos] - 1;
		user_view(&r->users[slot], slot, out);
		rc = -EEXIST;
	} else if (h->free_top == 0) {
		rc = -ENOSPC;
	} else {
		uint32_t slot = r->free_stack[--h->free_top];
		struct reg_user *u = &r->users[slot];
		atomic_store(&u->state, SLOT_CLAIMING);
		u->worker = worker;
		u->worker_gen = gen;
		u->conn_id = conn_id;
		u->dialect = dialect;
		u->key_len = 0;
		u->seq = h->next_seq++;
		memset(u->name, 0, sizeof(u->name));
		memcpy(u->name, name, len);
		hash_insert(r->uhash, h->user_hash_sz, u->name, slot);
		h->nusers++;
		atomic_store_explicit(&u->state, SLOT_LIVE,
				      memory_order_release);
		user_view(u, slot, out);
	}
	shmlock_unlock(&h->lock);
	return rc;
}

static void
rooms_clear_user(struct registry *r, uint32_t slot, uint32_t *rooms_out,
		 size_t *nrooms)
{
	uint32_t w = slot / 64;
	uint64_t bit = (uint64_t)1 << (slot % 64);
	size_t n = 0;

	for (uint32_t i = 0; i < r->h->nrooms; i++) {
		_Atomic uint64_t *word =
			&r->bits[(size_t)i * r->h->bit_words + w];
		registry_member_clear(r, i, slot, true);
		if (!(atomic_load(word) & bit))
			continue;
		atomic_fetch_and(word, ~bit);
		if (rooms_out)
			rooms_out[n++] = i;
	}
	if (nrooms)
		*nrooms = n;
}

static void
user_free(struct registry *r, uint32_t slot)
{
	struct reg_user *u = &r->users[slot];
	long pos = hash_find(r, r->uhash, r->h->user_hash_sz, user_name_of,
			     u->name, strlen(u->name));

	if (pos >= 0)
		hash_remove(r, r->uhash, r->h->user_hash_sz, user_name_of,
			    (uint32_t)pos);
	r->h->key_bytes -= u->key_len;
	u->key_len = 0;
	atomic_store(&u->state, SLOT_FREE);
	u->name[0] = '\0';
	r->free_stack[r->h->free_top++] = slot;
	r->h->nusers--;
}

/* Release a user: leaves every room (their indices go to rooms_out, which
 * must hold max_rooms entries) and frees the name at once. */
void
registry_release(struct registry *r, uint32_t slot, uint32_t conn_id,
		 uint32_t *rooms_out, size_t *nrooms)
{
	if (nrooms)
		*nrooms = 0;
	if (slot >= r->h->lim.max_users)
		return;
	shmlock_lock(&r->h->lock);
	struct reg_user *u = &r->users[slot];
	if (atomic_load(&u->state) == SLOT_LIVE && u->conn_id == conn_id) {
		rooms_clear_user(r, slot, rooms_out, nrooms);
		user_free(r, slot);
	}
	shmlock_unlock(&r->h->lock);
}

int
registry_lookup(struct registry *r, const char *name, size_t len,
		struct reg_user_view *out)
{
	int rc = -ENOENT;

	if (len > FC_NAME_MAX)
		return -ENOENT;
	shmlock_lock(&r->h->lock);
	long pos = hash_find(r, r->uhash, r->h->user_hash_sz, user_name_of,
			     name, len);
	if (pos >= 0) {
		uint32_t slot = r->uhash[pos] - 1;
		user_view(&r->users[slot], slot, out);
		rc = 0;
	}
	shmlock_unlock(&r->h->lock);
	return rc;
}

static int
view_cmp_seq(const void *a, const void *b)
{
	const struct reg_user_view *x = a, *y = b;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Copy every live user, in login order. Sorting happens outside the lock. */
size_t
registry_users(struct registry *r, struct reg_user_view *out, size_t cap)
{
	size_t n = 0;

	shmlock_lock(&r->h->lock);
	for (uint32_t i = 0; i < r->h->lim.max_users && n < cap; i++)
		if (atomic_load(&r->users[i].state) == SLOT_LIVE)
			user_view(&r->users[i], i, &out[n++]);
	shmlock_unlock(&r->h->lock);
	qsort(out, n, sizeof(*out), view_cmp_seq);
	return n;
}

/* The same without the lock, for the master's status answers: a torn read
 * at worst, never a master stalled behind a stuck worker. */
size_t
registry_users_snapshot(struct registry *r, struct reg_user_view *out,
			size_t cap)
{
	size_t n = 0;

	for (uint32_t i = 0; i < r->h->lim.max_users && n < cap; i++) {
		if (atomic_load(&r->users[i].state) != SLOT_LIVE)
			continue;
		user_view(&r->users[i], i, &out[n]);
		out[n].name[REG_NAME_SZ - 1] = '\0';
		n++;
	}
	qsort(out, n, sizeof(*out), view_cmp_seq);
	return n;
}

uint32_t
registry_user_count(struct registry *r)
{
	return __atomic_load_n(&r->h->nusers, __ATOMIC_RELAXED);
}

/* ---- public keys (okfail end-to-end encryption) ---- */

int
registry_set_key(struct registry *r, uint32_t slot, uint32_t conn_id,
		 const char *key, size_t len)
{
	int rc = -ENOENT;

	if (len > r->h->lim.key_max)
		return -E2BIG;
	shmlock_lock(&r->h->lock);
	struct reg_user *u = &r->users[slot];
	if (atomic_load(&u->state) == SLOT_LIVE && u->conn_id == conn_id) {
		memcpy(r->keys + (size_t)slot * r->h->lim.key_max, key, len);
		r->h->key_bytes += len;
		r->h->key_bytes -= u->key_len;
		u->key_len = (uint32_t)len;
		rc = 0;
	}
	shmlock_unlock(&r->h->lock);
	return rc;
}

/* Write "PM_PUBKEY <name> <key>\n" for every okfail user with a key, except
 * except_slot. Returns the bytes needed; writes only when they fit in cap. */
size_t
registry_keys(struct registry *r, uint32_t except_slot, char *buf, size_t cap)
{
	size_t need = 0;

	/* most logins happen where nobody published a key: skip the scan */
	if (__atomic_load_n(&r->h->key_bytes, __ATOMIC_RELAXED) == 0)
		return 0;
	shmlock_lock(&r->h->lock);
	need = r->h->key_bytes + (size_t)r->h->nusers * (12 + REG_NAME_SZ);
	if (need > cap) {
		shmlock_unlock(&r->h->lock);
		return need;
	}
	need = 0;
	for (uint32_t i = 0; i < r->h->lim.max_users; i++) {
		struct reg_user *u = &r->users[i];
		if (i == except_slot || atomic_load(&u->state) != SLOT_LIVE ||
		    u->key_len == 0 || u->dialect != DIALECT_OKFAIL)
			continue;
		size_t nl = strlen(u->name);
		memcpy(buf + need, "PM_PUBKEY ", 10);
		memcpy(buf + need + 10, u->name, nl);
		buf[need + 10 + nl] = ' ';
		need += 11 + nl;
		memcpy(buf + need, r->keys + (size_t)i * r->h->lim.key_max,
		       u->key_len);
		need += u->key_len;
		buf[need++] = '\n';
	}
	shmlock_unlock(&r->h->lock);
	return need;
}

/* One "PM_PUBKEY <name> <key>\n" line of slot i into buf, if it fits cap:
 * returns its length, 0 when slot i has no key to show, or -1 when it does
 * not fit. Under the lock. */
static long
key_line(struct registry *r, uint32_t i, char *buf, size_t cap)
{
	struct reg_user *u = &r->users[i];

	if (atomic_load(&u->state) != SLOT_LIVE || u->key_len == 0 ||
	    u->dialect != DIALECT_OKFAIL)
		return 0;
	size_t nl = strnlen(u->name, REG_NAME_SZ - 1);
	size_t len = 12 + nl + u->key_len;
	if (len > cap)
		return -1;
	memcpy(buf, "PM_PUBKEY ", 10);
	memcpy(buf + 10, u->name, nl);
	buf[10 + nl] = ' ';
	memcpy(buf + 11 + nl, r->keys + (size_t)i * r->h->lim.key_max,
	       u->key_len);
	buf[len - 1] = '\n';
	return (long)len;
}

size_t
registry_keys_from(struct registry *r, uint32_t except_slot, uint32_t *cursor,
		   char *buf, size_t cap)
{
	size_t used = 0;
	uint32_t i = *cursor;

	if (__atomic_load_n(&r->h->key_bytes, __ATOMIC_RELAXED) == 0) {
		*cursor = r->h->lim.max_users;
		return 0;
	}
	shmlock_lock(&r->h->lock);
	for (; i < r->h->lim.max_users; i++) {
		if (i == except_slot)
			continue;
		long n = key_line(r, i, buf + used, cap - used);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	shmlock_unlock(&r->h->lock);
	*cursor = i;
	return used;
}

/* ---- rooms (numeric dialect) ---- */

/* Rooms created by `creator` that still exist (names compared ignoring
 * ASCII case, as every user name is). Under the lock. */
static uint32_t
rooms_created_by(struct registry *r, const char *creator)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < r->h->nrooms; i++)
		if (atomic_load(&r->rooms[i].state) == SLOT_LIVE &&
		    strcasecmp(r->rooms[i].creator, creator) == 0)
			n++;
	return n;
}

/* A slot for a new room: a fresh one, else one of a deleted room. */
static long
room_free_slot(struct registry *r)
{
	if (r->h->nrooms < r->h->lim.max_rooms)
		return r->h->nrooms++;
	for (uint32_t i = 0; i < r->h->nrooms; i++)
		if (atomic_load(&r->rooms[i].state) == SLOT_FREE)
			return i;
	return -1;
}

static int
room_insert(struct registry *r, const char *name, size_t len,
	    const char *creator)
{
	long idx = room_free_slot(r);

	if (idx < 0)
		return -ENOSPC;
	struct reg_room *rm = &r->rooms[idx];
	memset(rm->name, 0, sizeof(rm->name));
	memcpy(rm->name, name, len);
	memset(rm->creator, 0, sizeof(rm->creator));
	if (creator)
		snprintf(rm->creator, sizeof(rm->creator), "%s", creator);
	rm->seq = r->h->next_seq++;
	atomic_store(&rm->empty_since, 0);
	memset((void *)&r->bits[(size_t)idx * r->h->bit_words], 0,
	       sizeof(uint64_t) * r->h->bit_words);
	registry_chan_reset(r, (uint32_t)idx);
	hash_insert(r->rhash, r->h->room_hash_sz, rm->name, (uint32_t)idx);
	atomic_store_explicit(&rm->state, SLOT_LIVE, memory_order_release);
	r->h->live_rooms++;
	return (int)idx;
}

int
registry_room_create_by(struct registry *r, const char *name, size_t len,
			const char *creator, uint32_t max_per_creator)
{
	int rc;

	shmlock_lock(&r->h->lock);
	if (hash_find(r, r->rhash, r->h->room_hash_sz, room_name_of, name,
		      len) >= 0)
		rc = -EEXIST;
	else if (r->h->live_rooms >= r->h->lim.max_rooms)
		rc = -ENOSPC;
	else if (creator && max_per_creator &&
		 rooms_created_by(r, creator) >= max_per_creator)
		rc = -EDQUOT;
	else
		rc = room_insert(r, name, len, creator);
	shmlock_unlock(&r->h->lock);
	return rc;
}

int
registry_room_create(struct registry *r, const char *name, size_t len)
{
	return registry_room_create_by(r, name, len, NULL, 0);
}

int
registry_room_find(struct registry *r, const char *name, size_t len)
{
	shmlock_lock(&r->h->lock);
	long pos = hash_find(r, r->rhash, r->h->room_hash_sz, room_name_of,
			     name, len);
	int rc = pos >= 0 ? (int)(r->rhash[pos] - 1) : -ENOENT;
	shmlock_unlock(&r->h->lock);
	return rc;
}

static _Atomic uint64_t *
room_word(struct registry *r, uint32_t room, uint32_t slot)
{
	return &r->bits[(size_t)room * r->h->bit_words + slot / 64];
}

/* 0 joined, -EALREADY already a member. Membership bits are atomic so that
 * delivery can test them without the lock. */
int
registry_room_join(struct registry *r, uint32_t room, uint32_t slot)
{
	uint64_t bit = (uint64_t)1 << (slot % 64);

	if (room >= r->h->nrooms || slot >= r->h->lim.max_users)
		return -ENOENT;
	shmlock_lock(&r->h->lock);
	if (atomic_load(&r->rooms[room].state) != SLOT_LIVE) {
		shmlock_unlock(&r->h->lock);
		return -ENOENT; /* deleted since it was looked up */
	}
	uint64_t old = atomic_fetch_or(room_word(r, room, slot), bit);
	atomic_store(&r->rooms[room].empty_since, 0);
	shmlock_unlock(&r->h->lock);
	return (old & bit) ? -EALREADY : 0;
}

int
registry_room_leave(struct registry *r, uint32_t room, uint32_t slot)
{
	uint64_t bit = (uint64_t)1 << (slot % 64);

	if (room >= r->h->nrooms || slot >= r->h->lim.max_users)
		return -ENOENT;
	shmlock_lock(&r->h->lock);
	uint64_t old = atomic_fetch_and(room_word(r, room, slot), ~bit);
	registry_member_clear(r, room, slot, false);
	shmlock_unlock(&r->h->lock);
	return (old & bit) ? 0 : -ENOENT;
}

bool
registry_room_has(struct registry *r, uint32_t room, uint32_t slot)
{
	if (room >= r->h->lim.max_rooms || slot >= r->h->lim.max_users)
		return false;
	return (atomic_load_explicit(room_word(r, room, slot),
				     memory_order_relaxed) >>
		(slot % 64)) &
	       1;
}

const char *
registry_room_name(struct registry *r, uint32_t room)
{
	if (room >= r->h->lim.max_rooms ||
	    atomic_load(&r->rooms[room].state) != SLOT_LIVE)
		return NULL;
	return r->rooms[room].name;
}

/* Space-separated member names in login order; returns bytes needed. The
 * members are copied under the lock and sorted outside it. */
size_t
registry_room_members(struct registry *r, uint32_t room, char *buf, size_t cap)
{
	size_t need = 0, n = 0;

	if (r->scratch == NULL &&
	    (r->scratch = calloc(r->h->lim.max_users, sizeof(*r->scratch))) ==
		    NULL)
		return 0;
	shmlock_lock(&r->h->lock);
	for (uint32_t w = 0; w < r->h->bit_words; w++) {
		uint64_t word = atomic_load(
			&r->bits[(size_t)room * r->h->bit_words + w]);
		while (word) {
			uint32_t slot = w * 64 + __builtin_ctzll(word);
			word &= word - 1;
			if (atomic_load(&r->users[slot].state) == SLOT_LIVE)
				user_view(&r->users[slot], slot,
					  &r->scratch[n++]);
		}
	}
	shmlock_unlock(&r->h->lock);
	qsort(r->scratch, n, sizeof(*r->scratch), view_cmp_seq);
	for (size_t i = 0; i < n; i++) {
		const char *nm = r->scratch[i].name;
		size_t nl = strnlen(nm, REG_NAME_SZ - 1);
		if (need + nl + 1 <= cap) {
			buf[need] = ' ';
			memcpy(buf + need + 1, nm, nl);
		}
		need += nl + 1;
	}
	return need;
}

struct room_listing {
	uint64_t seq;
	char name[REG_ROOM_SZ];
};

static int
listing_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct room_listing *)a)->seq;
	uint64_t y = ((const struct room_listing *)b)->seq;
	return x < y ? -1 : x > y;
}

/* " r1 r2 ..." in creation order; returns the bytes needed. Names are
 * copied under the lock and sorted outside it. */
size_t
registry_rooms(struct registry *r, char *buf, size_t cap)
{
	static struct room_listing *list; /* this process's own */
	size_t need = 0, n = 0;

	if (list == NULL &&
	    (list = calloc(r->h->lim.max_rooms, sizeof(*list))) == NULL)
		return 0;
	shmlock_lock(&r->h->lock);
	for (uint32_t i = 0; i < r->h->nrooms; i++) {
		if (atomic_load(&r->rooms[i].state) != SLOT_LIVE)
			continue;
		list[n].seq = r->rooms[i].seq;
		memcpy(list[n++].name, r->rooms[i].name, REG_ROOM_SZ);
	}
	shmlock_unlock(&r->h->lock);
	qsort(list, n, sizeof(*list), listing_cmp);
	for (size_t i = 0; i < n; i++) {
		size_t nl = strnlen(list[i].name, REG_ROOM_SZ - 1);
		if (need + nl + 1 <= cap) {
			buf[need] = ' ';
			memcpy(buf + need + 1, list[i].name, nl);
		}
		need += nl + 1;
	}
	return need;
}

static bool
room_empty(struct registry *r, uint32_t room)
{
	const _Atomic uint64_t *w = &r->bits[(size_t)room * r->h->bit_words];

	for (uint32_t i = 0; i < r->h->bit_words; i++)
		if (atomic_load_explicit(&w[i], memory_order_relaxed))
			return false;
	return true;
}

/* Under the lock, and only if the room is still empty. */
static bool
room_delete(struct registry *r, uint32_t room)
{
	struct reg_room *rm = &r->rooms[room];

	if (atomic_load(&rm->state) != SLOT_LIVE || !room_empty(r, room))
		return false;
	long pos = hash_find(r, r->rhash, r->h->room_hash_sz, room_name_of,
			     rm->name, strlen(rm->name));
	if (pos >= 0)
		hash_remove(r, r->rhash, r->h->room_hash_sz, room_name_of,
			    (uint32_t)pos);
	atomic_store(&rm->state, SLOT_FREE);
	rm->name[0] = '\0';
	rm->creator[0] = '\0';
	r->h->live_rooms--;
	return true;
}

/* One room of the sweep: note when it was first seen empty, delete it once
 * it has been empty for linger_ms. The bits are read without the lock; a
 * deletion checks them again under it. */
static bool
room_sweep_one(struct registry *r, uint32_t room, int64_t now,
	       int64_t linger_ms)
{
	struct reg_room *rm = &r->rooms[room];

	if (atomic_load(&rm->state) != SLOT_LIVE)
		return false;
	if (!room_empty(r, room)) {
		atomic_store(&rm->empty_since, 0);
		return false;
	}
	int64_t since = atomic_load(&rm->empty_since);
	if (since == 0) {
		atomic_store(&rm->empty_since, now);
		if (linger_ms > 0)
			return false;
	} else if (now - since < linger_ms) {
		return false;
	}
	shmlock_lock(&r->h->lock);
	bool gone = room_delete(r, room);
	shmlock_unlock(&r->h->lock);
	return gone;
}

int
registry_rooms_sweep(struct registry *r, int64_t now_ms, int64_t linger_ms)
{
	int deleted = 0;
	uint32_t n = __atomic_load_n(&r->h->nrooms, __ATOMIC_ACQUIRE);

	for (uint32_t i = 0; i < n; i++)
		deleted += room_sweep_one(r, i, now_ms, linger_ms);
	return deleted;
}

uint32_t
registry_room_count(struct registry *r)
{
	return __atomic_load_n(&r->h->live_rooms, __ATOMIC_RELAXED);
}

/* ---- connections per address ---- */

static uint32_t
ip_home(const struct registry *r, const uint8_t *addr)
{
	return name_hash((const char *)addr, 16) & (r->h->ip_hash_sz - 1);
}

static long
ip_find(struct registry *r, const uint8_t *addr, bool create)
{
	uint32_t mask = r->h->ip_hash_sz - 1;
	uint32_t i = ip_home(r, addr);

	for (uint32_t n = 0; n <= mask; n++, i = (i + 1) & mask) {
		struct reg_ip *e = &r->ips[i];
		if (e->total == 0) {
			if (!create)
				return -1;
			memcpy(e->addr, addr, 16);
			memset(e->per_worker, 0, sizeof(e->per_worker));
			return (long)i;
		}
		if (memcmp(e->addr, addr, 16) == 0)
			return (long)i;
	}
	return -1;
}

/* Backward-shift deletion of an entry whose total dropped to zero. */
static void
ip_remove(struct registry *r, uint32_t hole)
{
	uint32_t mask = r->h->ip_hash_sz - 1;

	r->ips[hole].total = 0;
	for (uint32_t j = (hole + 1) & mask; r->ips[j].total != 0;
	     j = (j + 1) & mask) {
		uint32_t home = ip_home(r, r->ips[j].addr);
		bool stays = (hole <= j) ? (home > hole && home <= j)
					 : (home > hole || home <= j);
		if (stays)
			continue;
		r->ips[hole] = r->ips[j];
		r->ips[j].total = 0;
		hole = j;
	}
}

/* Count one more connection from addr on worker; -EMFILE past limit. */
int
registry_ip_acquire(struct registry *r, const uint8_t addr[16], uint16_t worker,
		    uint32_t limit)
{
	int rc = -EMFILE;

	shmlock_lock(&r->h->lock);
	long i = ip_find(r, addr, true);
	if (i >= 0 && r->ips[i].total < limit) {
		r->ips[i].per_worker[worker]++;
		r->ips[i].total++;
		rc = 0;
	}
	shmlock_unlock(&r->h->lock);
	return rc;
}

void
registry_ip_release(struct registry *r, const uint8_t addr[16], uint16_t worker)
{
	shmlock_lock(&r->h->lock);
	long i = ip_find(r, addr, false);
	if (i >= 0 && r->ips[i].per_worker[worker] > 0) {
		r->ips[i].per_worker[worker]--;
		if (--r->ips[i].total == 0)
			ip_remove(r, (uint32_t)i);
	}
	shmlock_unlock(&r->h->lock);
}

/* Drop a dead worker's share and rebuild the table from what remains. */
static void
registry_ip_repair(struct registry *r, uint16_t worker)
{
	uint32_t n = r->h->ip_hash_sz;

	for (uint32_t i = 0; i < n; i++) {
		struct reg_ip *e = &r->ips[i];
		if (e->total == 0)
			continue;
		e->per_worker[worker] = 0;
		uint32_t t = 0;
		for (int k = 0; k < REG_MAX_WORKERS; k++)
			t += e->per_worker[k];
		e->total = t;
	}
	/* re-insert survivors so that probing chains have no holes */
	for (uint32_t i = 0; i < n; i++) {
		struct reg_ip e = r->ips[i];
		if (e.total == 0)
			continue;
		r->ips[i].total = 0;
		long j = ip_find(r, e.addr, true);
		if (j >= 0)
			r->ips[j] = e;
	}
}

/* ---- repair (master only) ---- */

static void
registry_rebuild_index(struct registry *r)
{
	struct reg_hdr *h = r->h;

	memset(r->uhash, 0, sizeof(uint32_t) * h->user_hash_sz);
	h->nusers = 0;
	h->key_bytes = 0;
	for (uint32_t i = 0; i < h->lim.max_users; i++) {
		struct reg_user *u = &r->users[i];
		if (atomic_load(&u->state) != SLOT_LIVE)
			continue;
		u->name[REG_NAME_SZ - 1] = '\0';
		if (hash_find(r, r->uhash, h->user_hash_sz, user_name_of,
			      u->name, strlen(u->name)) >= 0) {
			/* a duplicate name can only come from corruption */
			atomic_store(&u->state, SLOT_FREE);
			continue;
		}
		if (u->key_len > h->lim.key_max)
			u->key_len = 0;
		hash_insert(r->uhash, h->user_hash_sz, u->name, i);
		h->nusers++;
		h->key_bytes += u->key_len;
	}
	registry_rebuild_free(r);
	memset(r->rhash, 0, sizeof(uint32_t) * h->room_hash_sz);
	if (h->nrooms > h->lim.max_rooms)
		h->nrooms = h->lim.max_rooms;
	h->live_rooms = 0;
	for (uint32_t i = 0; i < h->nrooms; i++) {
		struct reg_room *rm = &r->rooms[i];
		rm->name[REG_ROOM_SZ - 1] = '\0';
		rm->creator[REG_NAME_SZ - 1] = '\0';
		/* a room is LIVE exactly while it has a name (one being
		 * deleted or created when its worker died is settled here) */
		bool live =
			rm->name[0] != '\0' &&
			hash_find(r, r->rhash, h->room_hash_sz, room_name_of,
				  rm->name, strlen(rm->name)) < 0;
		atomic_store(&rm->state, live ? SLOT_LIVE : SLOT_FREE);
		if (!live)
			continue;
		hash_insert(r->rhash, h->room_hash_sz, rm->name, i);
		h->live_rooms++;
	}
}

/* Clear room bits that point at free user slots. */
static void
registry_scrub_rooms(struct registry *r)
{
	for (uint32_t i = 0; i < r->h->lim.max_users; i++) {
		if (atomic_load(&r->users[i].state) == SLOT_LIVE)
			continue;
		rooms_clear_user(r, i, NULL, NULL);
	}
}

/* After the master reaped worker `worker` (pid dead): take the lock back if
 * dead held it, free the worker's users (calling gone for each), then
 * rebuild every derived structure, so a half-finished mutation of the dead
 * worker leaves no trace. Returns the number of users freed. */
int
registry_recover(struct registry *r, pid_t dead, uint16_t worker,
		 reg_gone_fn gone, void *arg)
{
	struct reg_hdr *h = r->h;
	uint32_t *rooms = malloc(sizeof(uint32_t) * (h->lim.max_rooms + 1));
	int freed = 0;

	if (!shmlock_take_over(&h->lock, dead))
		shmlock_lock(&h->lock);
	else
		log_warnx("registry lock was held by dead pid %d, taken back",
			  (int)dead);
	for (uint32_t i = 0; i < h->lim.max_users; i++) {
		struct reg_user *u = &r->users[i];
		uint32_t st = atomic_load(&u->state);
		if (st == SLOT_FREE || u->worker != worker)
			continue;
		size_t nrooms = 0;
		if (st == SLOT_LIVE)
			rooms_clear_user(r, i, rooms, &nrooms);
		u->name[REG_NAME_SZ - 1] =
			'\0'; /* a torn write must not leak */
		if (st == SLOT_LIVE && gone)
			gone(arg, u->name, u->dialect, rooms, nrooms);
		atomic_store(&u->state, SLOT_FREE);
		u->key_len = 0;
		u->name[0] = '\0';
		freed++;
	}
	registry_rebuild_index(r);
	registry_scrub_rooms(r);
	registry_ip_repair(r, worker);
	shmlock_unlock(&h->lock);
	free(rooms);
	return freed;
}

/* Last resort after a failed check: forget every user (rooms stay, their
 * members are cleared) and let the workers, whose connection tables are the
 * truth, register their users again (FR_REBUILD). */
void
registry_reset_users(struct registry *r)
{
	struct reg_hdr *h = r->h;

	shmlock_lock(&h->lock);
	for (uint32_t i = 0; i < h->lim.max_users; i++) {
		atomic_store(&r->users[i].state, SLOT_FREE);
		r->users[i].key_len = 0;
		r->users[i].name[0] = '\0';
	}
	memset((void *)r->bits, 0,
	       sizeof(uint64_t) * h->bit_words * (size_t)h->lim.max_rooms);
	memset((void *)r->mbits, 0,
	       sizeof(uint64_t) * RM_MAX * h->bit_words *
		       (size_t)h->lim.max_rooms);
	h->epoch++;
	registry_rebuild_index(r);
	shmlock_unlock(&h->lock);
}

/* After a rebuild a user keeps its place in the login order. */
void
registry_restore_seq(struct registry *r, uint32_t slot, uint32_t conn_id,
		     uint64_t seq)
{
	shmlock_lock(&r->h->lock);
	struct reg_user *u = &r->users[slot];
	if (atomic_load(&u->state) == SLOT_LIVE && u->conn_id == conn_id) {
		u->seq = seq;
		if (r->h->next_seq <= seq)
			r->h->next_seq = seq + 1;
	}
	shmlock_unlock(&r->h->lock);
}

/* Test hook: break the name index the way a half-finished insert would. */
void
registry_debug_corrupt(struct registry *r)
{
	shmlock_lock(&r->h->lock);
	memset(r->uhash, 0, sizeof(uint32_t) * r->h->user_hash_sz);
	r->h->nusers += 7;
	shmlock_unlock(&r->h->lock);
}

/* Consistency check for tests and after recovery: 0 when sound. */
int
registry_check(struct registry *r)
{
	struct reg_hdr *h = r->h;
	int bad = 0;
	uint32_t live = 0;

	if (h->magic != REG_MAGIC || h->version != REG_VERSION)
		return -1;
	shmlock_lock(&h->lock);
	for (uint32_t i = 0; i < h->lim.max_users; i++) {
		struct reg_user *u = &r->users[i];
		if (atomic_load(&u->state) == SLOT_CLAIMING)
			bad++;
		if (atomic_load(&u->state) != SLOT_LIVE)
			continue;
		live++;
		long pos = hash_find(r, r->uhash, h->user_hash_sz, user_name_of,
				     u->name, strlen(u->name));
		if (pos < 0 || r->uhash[pos] - 1 != i)
			bad++;
	}
	if (live != h->nusers || live + h->free_top != h->lim.max_users)
		bad++;
	shmlock_unlock(&h->lock);
	return bad ? -1 : 0;
}

uint64_t
registry_takeovers(struct registry *r)
{
	return atomic_load(&r->h->lock.takeovers);
}
