/* Proves ipc/registry.c: claim/duplicate/release/lookup, USERS in login
 * order, the PM_PUBKEY list, rooms and their bitsets, full tables, and that
 * registry_recover() frees a dead worker's users (reporting their rooms) and
 * repairs a mutation the dead process left half done while holding the lock. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../common/log.h"
#include "unit_quiet.h"
#include "../ipc/registry.h"
#include "../ipc/registry_layout.h"
#include "../ipc/shmlock.h"

/* ---- the private layout (ipc/registry_layout.h) lets a test play a
 * worker that dies in the middle of a mutation ---- */

/* The layout agrees with what the API reports about a user. */
static void
layout_ok(struct registry *m, const struct reg_user_view *v)
{
	assert_int_equal(m->h->magic, REG_MAGIC);
	assert_int_equal(atomic_load(&m->users[v->slot].state), SLOT_LIVE);
	assert_string_equal(m->users[v->slot].name, v->name);
	assert_int_equal(m->users[v->slot].conn_id, v->conn_id);
	assert_int_equal(m->h->nusers, registry_user_count(m));
}

/* ---- helpers ---- */

static struct registry *
mkreg(uint32_t users, uint32_t rooms)
{
	struct reg_limits lim = {users, rooms, 32};
	struct registry *r = registry_create(&lim);

	assert_non_null(r);
	return r;
}

static uint32_t
claim(struct registry *r, const char *name, uint8_t dialect, uint16_t worker,
      uint32_t conn)
{
	struct reg_user_view v;

	assert_int_equal(registry_claim(r, name, dialect, worker, 1, conn, &v),
			 0);
	assert_string_equal(v.name, name);
	assert_int_equal(v.worker, worker);
	assert_int_equal(v.conn_id, conn);
	return v.slot;
}

/* ---- users ---- */

static void
test_claim_lookup_release(void **state)
{
	struct registry *r = mkreg(8, 4);
	struct reg_user_view v, w;

	(void)state;
	assert_int_equal(
		registry_claim(r, "alice", DIALECT_OKFAIL, 2, 5, 77, &v), 0);
	layout_ok(r, &v);
	assert_int_equal(v.worker_gen, 5);
	assert_int_equal(v.dialect, DIALECT_OKFAIL);
	assert_int_equal(registry_user_count(r), 1);
	/* the same name again: -EEXIST and the holder described */
	assert_int_equal(
		registry_claim(r, "alice", DIALECT_NUMERIC, 3, 1, 9, &w),
		-EEXIST);
	assert_int_equal(w.slot, v.slot);
	assert_int_equal(w.worker, 2);
	assert_int_equal(w.conn_id, 77);
	/* names are one name ignoring ASCII case; the holder keeps its case */
	assert_int_equal(
		registry_claim(r, "ALICE", DIALECT_NUMERIC, 3, 1, 9, &w),
		-EEXIST);
	assert_int_equal(w.slot, v.slot);
	assert_string_equal(w.name, "alice");
	assert_int_equal(registry_lookup(r, "aLiCe", 5, &w), 0);
	assert_int_equal(w.slot, v.slot);
	assert_string_equal(w.name, "alice");
	uint32_t s2 = claim(r, "Alice_", DIALECT_NUMERIC, 3, 9);
	assert_int_not_equal(s2, v.slot);
	/* lookup by a not NUL-terminated length */
	assert_int_equal(registry_lookup(r, "alice hi", 5, &w), 0);
	assert_int_equal(w.slot, v.slot);
	assert_int_equal(registry_lookup(r, "alic", 4, &w), -ENOENT);
	assert_int_equal(registry_lookup(r, "alicex", 6, &w), -ENOENT);
	assert_int_equal(registry_lookup(r, "abcdefghijklmnop", 16, &w),
			 -ENOENT);
	/* release by the wrong connection id does nothing */
	registry_release(r, v.slot, 78, NULL, NULL);
	assert_int_equal(registry_lookup(r, "alice", 5, &w), 0);
	registry_release(r, v.slot, 77, NULL, NULL);
	assert_int_equal(registry_lookup(r, "alice", 5, &w), -ENOENT);
	assert_int_equal(registry_user_count(r), 1);
	/* released twice, or an absurd slot: harmless */
	registry_release(r, v.slot, 77, NULL, NULL);
	registry_release(r, 1000, 77, NULL, NULL);
	/* the name is free again */
	claim(r, "alice", DIALECT_OKFAIL, 1, 80);
	assert_int_equal(registry_check(r), 0);
	registry_destroy(r);
}

static void
test_users_login_order(void **state)
{
	struct registry *r = mkreg(8, 4);
	struct reg_user_view v[8];
	const char *want[] = {"bob", "carol", "dave", "erin"};

	(void)state;
	uint32_t a = claim(r, "alice", 0, 0, 1);
	claim(r, "bob", 1, 0, 2);
	claim(r, "carol", 0, 1, 3);
	registry_release(r, a, 1, NULL, NULL);
	/* dave reuses alice's slot, the lowest, but logged in last */
	uint32_t d = claim(r, "dave", 0, 0, 4);
	assert_int_equal(d, a);
	claim(r, "erin", 1, 1, 5);
	size_t n = registry_users(r, v, 8);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(v[i].name, want[i]);
	for (size_t i = 1; i < n; i++)
		assert_true(v[i - 1].seq < v[i].seq);
	/* the lock-free snapshot agrees */
	n = registry_users_snapshot(r, v, 8);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(v[i].name, want[i]);
	/* cap respected */
	assert_int_equal(registry_users(r, v, 2), 2);
	registry_destroy(r);
}

static void
test_users_full(void **state)
{
	struct registry *r = mkreg(3, 2);
	struct reg_user_view v;

	(void)state;
	claim(r, "u_one", 0, 0, 1);
	uint32_t two = claim(r, "u_two", 0, 0, 2);
	claim(r, "u_three", 0, 0, 3);
	assert_int_equal(registry_claim(r, "u_four", 0, 0, 1, 4, &v), -ENOSPC);
	/* a duplicate still says EEXIST when full */
	assert_int_equal(registry_claim(r, "u_two", 0, 0, 1, 4, &v), -EEXIST);
	registry_release(r, two, 2, NULL, NULL);
	claim(r, "u_four", 0, 0, 4);
	assert_int_equal(registry_check(r), 0);
	registry_destroy(r);
}

/* Many names through a small hash: backward-shift deletion keeps every
 * remaining name findable. */
static void
test_hash_churn(void **state)
{
	struct registry *r = mkreg(64, 2);
	uint32_t slot[64];
	struct reg_user_view v;
	char name[16];

	(void)state;
	for (int i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "user%d", i);
		slot[i] = claim(r, name, 0, 0, (uint32_t)i);
	}
	for (int i = 0; i < 64; i += 3)
		registry_release(r, slot[i], (uint32_t)i, NULL, NULL);
	for (int i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "user%d", i);
		int rc = registry_lookup(r, name, strlen(name), &v);
		assert_int_equal(rc, i % 3 == 0 ? -ENOENT : 0);
		if (rc == 0)
			assert_int_equal(v.slot, slot[i]);
	}
	assert_int_equal(registry_check(r), 0);
	registry_destroy(r);
}

/* ---- keys ---- */

static void
test_keys(void **state)
{
	struct registry *r = mkreg(8, 2);
	char buf[512];

	(void)state;
	uint32_t a = claim(r, "alice", DIALECT_OKFAIL, 0, 1);
	uint32_t b = claim(r, "bob", DIALECT_OKFAIL, 0, 2);
	uint32_t c = claim(r, "carol", DIALECT_NUMERIC, 0, 3);
	claim(r, "dave", DIALECT_OKFAIL, 0, 4); /* no key */
	assert_int_equal(registry_keys(r, UINT32_MAX, buf, sizeof(buf)), 0);
	assert_int_equal(registry_set_key(r, a, 1, "AAAA", 4), 0);
	assert_int_equal(registry_set_key(r, b, 2, "BB==", 4), 0);
	/* numeric users' keys are not listed; wrong conn is refused */
	assert_int_equal(registry_set_key(r, c, 3, "CCCC", 4), 0);
	assert_int_equal(registry_set_key(r, b, 99, "XX", 2), -ENOENT);
	/* longer than key_max */
	char big[33];
	memset(big, 'k', sizeof(big));
	assert_int_equal(registry_set_key(r, a, 1, big, 33), -E2BIG);

	size_t n = registry_keys(r, UINT32_MAX, buf, sizeof(buf));
	const char *all = "PM_PUBKEY alice AAAA\nPM_PUBKEY bob BB==\n";
	assert_int_equal(n, strlen(all));
	assert_memory_equal(buf, all, n);
	/* except the asker */
	n = registry_keys(r, a, buf, sizeof(buf));
	assert_int_equal(n, strlen("PM_PUBKEY bob BB==\n"));
	assert_memory_equal(buf, "PM_PUBKEY bob BB==\n", n);
	/* replacing a key */
	assert_int_equal(registry_set_key(r, a, 1, "NEWKEY", 6), 0);
	n = registry_keys(r, b, buf, sizeof(buf));
	assert_memory_equal(buf, "PM_PUBKEY alice NEWKEY\n", n);
	/* too small a buffer: nothing written, a sufficient size returned */
	memset(buf, '#', sizeof(buf));
	size_t need = registry_keys(r, UINT32_MAX, buf, 10);
	assert_true(need >= strlen("PM_PUBKEY alice NEWKEY\nPM_PUBKEY bob "
				   "BB==\n"));
	assert_int_equal(buf[0], '#');
	assert_true(registry_keys(r, UINT32_MAX, NULL, 0) > 0);
	/* a released user's key goes with it */
	registry_release(r, b, 2, NULL, NULL);
	n = registry_keys(r, UINT32_MAX, buf, sizeof(buf));
	assert_memory_equal(buf, "PM_PUBKEY alice NEWKEY\n", n);
	assert_int_equal(n, strlen("PM_PUBKEY alice NEWKEY\n"));
	registry_destroy(r);
}

/* ---- rooms ---- */

/* The key lines a piece at a time: the same bytes as registry_keys. */
static void
test_keys_from(void **state)
{
	struct registry *r = mkreg(8, 1);
	char all[512], part[512], line[64];
	size_t off = 0, n;
	uint32_t cur = 0;

	(void)state;
	uint32_t a = claim(r, "alice", DIALECT_OKFAIL, 0, 1);
	uint32_t b = claim(r, "bob", DIALECT_OKFAIL, 0, 2);
	uint32_t c = claim(r, "carol", DIALECT_OKFAIL, 0, 3);
	assert_int_equal(registry_set_key(r, a, 1, "AAAA", 4), 0);
	assert_int_equal(registry_set_key(r, b, 2, "BBBBBBBB", 8), 0);
	assert_int_equal(registry_set_key(r, c, 3, "CC", 2), 0);
	n = registry_keys(r, c, all, sizeof(all));
	assert_int_equal(n, 2 * 11 + 5 + 4 + 3 + 8 + 2);
	/* a cap of one line: one line per call */
	while (cur < 8) {
		size_t k = registry_keys_from(r, c, &cur, line, 30);
		assert_true(k > 0 || cur == 8);
		memcpy(part + off, line, k);
		off += k;
	}
	assert_int_equal(off, n);
	assert_memory_equal(part, all, n);
	cur = 0;
	assert_int_equal(registry_keys_from(r, c, &cur, part, sizeof(part)), n);
	assert_int_equal(cur, 8);
	registry_destroy(r);
}

static void
test_rooms(void **state)
{
	struct registry *r = mkreg(70, 3);
	char buf[256];

	(void)state;
	assert_int_equal(registry_room_count(r), 0);
	assert_int_equal(registry_rooms(r, buf, sizeof(buf)), 0);
	int lobby = registry_room_create(r, "lobby", 5);
	assert_int_equal(lobby, 0);
	assert_int_equal(registry_room_create(r, "lobby", 5), -EEXIST);
	assert_int_equal(registry_room_create(r, "LOBBY", 5), -EEXIST);
	assert_int_equal(registry_room_find(r, "Lobby", 5), lobby);
	int dev = registry_room_create(r, "#dev.x", 6);
	assert_int_equal(dev, 1);
	assert_int_equal(registry_room_find(r, "lobby", 5), lobby);
	assert_int_equal(registry_room_find(r, "#dev.x tail", 6), dev);
	assert_int_equal(registry_room_find(r, "lob", 3), -ENOENT);
	assert_string_equal(registry_room_name(r, (uint32_t)dev), "#dev.x");
	assert_null(registry_room_name(r, 2));
	assert_null(registry_room_name(r, 100));
	size_t n = registry_rooms(r, buf, sizeof(buf));
	assert_int_equal(n, strlen(" lobby #dev.x"));
	assert_memory_equal(buf, " lobby #dev.x", n);
	/* too small: bytes needed, partial content only of whole names */
	assert_int_equal(registry_rooms(r, buf, 3), n);

	/* slots in two different bitset words */
	uint32_t a = claim(r, "alice", 1, 0, 1);
	for (int i = 0; i < 66; i++) {
		char nm[16];
		snprintf(nm, sizeof(nm), "filler%d", i);
		claim(r, nm, 1, 0, 100 + (uint32_t)i);
	}
	uint32_t z = claim(r, "zed", 1, 0, 2);
	assert_true(z >= 64);
	assert_int_equal(registry_room_join(r, (uint32_t)lobby, a), 0);
	assert_int_equal(registry_room_join(r, (uint32_t)lobby, a), -EALREADY);
	assert_int_equal(registry_room_join(r, (uint32_t)lobby, z), 0);
	assert_int_equal(registry_room_join(r, (uint32_t)dev, z), 0);
	assert_true(registry_room_has(r, (uint32_t)lobby, a));
	assert_true(registry_room_has(r, (uint32_t)lobby, z));
	assert_false(registry_room_has(r, (uint32_t)dev, a));
	assert_false(registry_room_has(r, 99, a));
	assert_int_equal(registry_room_join(r, 2, a), -ENOENT); /* no room 2 */
	assert_int_equal(registry_room_join(r, 0, 9999), -ENOENT);
	n = registry_room_members(r, (uint32_t)lobby, buf, sizeof(buf));
	assert_int_equal(n, strlen(" alice zed"));
	assert_memory_equal(buf, " alice zed", n);
	assert_int_equal(registry_room_members(r, (uint32_t)lobby, NULL, 0), n);
	assert_int_equal(registry_room_leave(r, (uint32_t)lobby, a), 0);
	assert_int_equal(registry_room_leave(r, (uint32_t)lobby, a), -ENOENT);
	assert_false(registry_room_has(r, (uint32_t)lobby, a));
	n = registry_room_members(r, (uint32_t)lobby, buf, sizeof(buf));
	assert_memory_equal(buf, " zed", n);
	/* full */
	assert_int_equal(registry_room_create(r, "third", 5), 2);
	assert_int_equal(registry_room_create(r, "fourth", 6), -ENOSPC);
	assert_int_equal(registry_room_count(r), 3);
	assert_int_equal(registry_check(r), 0);
	registry_destroy(r);
}

/* Empty rooms linger, then go; their slots and names are reused, LIRO keeps
 * creation order; a creator's live rooms are counted. */
static void
test_rooms_sweep(void **state)
{
	struct registry *r = mkreg(8, 3);
	char buf[64];
	size_t n;

	(void)state;
	uint32_t a = claim(r, "alice", 1, 0, 1);
	int r0 = registry_room_create_by(r, "r0", 2, "alice", 2);
	int r1 = registry_room_create_by(r, "r1", 2, "ALICE", 2);
	assert_int_equal(registry_room_create_by(r, "r2", 2, "alice", 2),
			 -EDQUOT);
	assert_int_equal(registry_room_create_by(r, "r2", 2, "bob", 2), 2);
	assert_int_equal(registry_room_join(r, (uint32_t)r1, a), 0);
	/* first sweep notes the empty rooms, a later one past the linger
	 * deletes them; r1 has a member */
	assert_int_equal(registry_rooms_sweep(r, 1000, 500), 0);
	assert_int_equal(registry_rooms_sweep(r, 1400, 500), 0);
	assert_int_equal(registry_rooms_sweep(r, 1500, 500), 2);
	assert_int_equal(registry_room_count(r), 1);
	assert_int_equal(registry_room_find(r, "r0", 2), -ENOENT);
	assert_int_equal(registry_room_join(r, (uint32_t)r0, a), -ENOENT);
	n = registry_rooms(r, buf, sizeof(buf));
	assert_memory_equal(buf, " r1", n);
	/* a deleted room's slot and name are free; LIRO stays in order */
	assert_int_equal(registry_room_create_by(r, "r0", 2, "alice", 2), r0);
	n = registry_rooms(r, buf, sizeof(buf));
	assert_memory_equal(buf, " r1 r0", n);
	/* a join within the linger keeps a room */
	assert_int_equal(registry_room_leave(r, (uint32_t)r1, a), 0);
	assert_int_equal(registry_rooms_sweep(r, 2000, 500), 0);
	assert_int_equal(registry_room_join(r, (uint32_t)r1, a), 0);
	/* (the new r0, empty since 2000, goes) */
	assert_int_equal(registry_rooms_sweep(r, 2600, 500), 1);
	assert_int_equal(registry_room_find(r, "r1", 2), r1);
	/* linger 0: gone at the first sweep that sees it empty */
	assert_int_equal(registry_room_leave(r, (uint32_t)r1, a), 0);
	assert_int_equal(registry_rooms_sweep(r, 2700, 0), 1);
	assert_int_equal(registry_room_count(r), 0);
	assert_int_equal(registry_check(r), 0);
	registry_destroy(r);
}

static void
test_release_clears_rooms(void **state)
{
	struct registry *r = mkreg(8, 4);
	uint32_t rooms[4];
	size_t nrooms = 99;
	char buf[64];

	(void)state;
	int r0 = registry_room_create(r, "r0", 2);
	int r1 = registry_room_create(r, "r1", 2);
	int r2 = registry_room_create(r, "r2", 2);
	uint32_t a = claim(r, "alice", 1, 0, 1);
	uint32_t b = claim(r, "bob", 1, 0, 2);
	registry_room_join(r, (uint32_t)r0, a);
	registry_room_join(r, (uint32_t)r2, a);
	registry_room_join(r, (uint32_t)r2, b);
	registry_release(r, a, 1, rooms, &nrooms);
	assert_int_equal(nrooms, 2);
	assert_int_equal(rooms[0], r0);
	assert_int_equal(rooms[1], r2);
	assert_false(registry_room_has(r, (uint32_t)r0, a));
	assert_false(registry_room_has(r, (uint32_t)r2, a));
	assert_true(registry_room_has(r, (uint32_t)r2, b));
	/* the next user in that slot starts in no room */
	uint32_t c = claim(r, "carol", 1, 0, 3);
	assert_int_equal(c, a);
	for (int i = r0; i <= r2; i++)
		assert_false(registry_room_has(r, (uint32_t)i, c));
	assert_int_equal(
		registry_room_members(r, (uint32_t)r2, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, " bob", 4);
	(void)r1;
	registry_destroy(r);
}

/* PROTOCOL.md: LIME lists members in login order, also when a later user
 * got a lower (reused) slot. */
static void
test_members_login_order(void **state)
{
	struct registry *r = mkreg(8, 2);
	char buf[64];

	(void)state;
	int room = registry_room_create(r, "lobby", 5);
	uint32_t a = claim(r, "alice", 1, 0, 1);
	uint32_t b = claim(r, "bob", 1, 0, 2);
	registry_release(r, a, 1, NULL, NULL);
	uint32_t c = claim(r, "carol", 1, 0, 3); /* alice's old slot */
	assert_true(c < b);
	registry_room_join(r, (uint32_t)room, c);
	registry_room_join(r, (uint32_t)room, b);
	size_t n = registry_room_members(r, (uint32_t)room, buf, sizeof(buf));
	assert_int_equal(n, strlen(" bob carol"));
	assert_memory_equal(buf, " bob carol", n);
	registry_destroy(r);
}

/* ---- recovery ---- */

struct gone_log {
	int calls;
	char names[8][REG_NAME_SZ];
	uint8_t dialect[8];
	uint32_t rooms[8][4];
	size_t nrooms[8];
	int unterminated;
};

static void
gone_cb(void *arg, const char *name, uint8_t dialect, const uint32_t *rooms,
	size_t nrooms)
{
	struct gone_log *g = arg;

	assert_true(g->calls < 8);
	if (memchr(name, '\0', REG_NAME_SZ) == NULL) {
		g->unterminated++;
		name = "?";
	}
	snprintf(g->names[g->calls], REG_NAME_SZ, "%s", name);
	g->dialect[g->calls] = dialect;
	assert_true(nrooms <= 4);
	memcpy(g->rooms[g->calls], rooms, nrooms * sizeof(uint32_t));
	g->nrooms[g->calls] = nrooms;
	g->calls++;
}

static int
gone_find(const struct gone_log *g, const char *name)
{
	for (int i = 0; i < g->calls; i++)
		if (strcmp(g->names[i], name) == 0)
			return i;
	return -1;
}

static void
test_recover_frees_dead_worker(void **state)
{
	struct registry *r = mkreg(8, 4);
	struct gone_log g = {0};
	struct reg_user_view v[8];

	(void)state;
	int r0 = registry_room_create(r, "r0", 2);
	int r1 = registry_room_create(r, "r1", 2);
	uint32_t a = claim(r, "alice", DIALECT_OKFAIL, 1, 1);
	uint32_t b = claim(r, "bob", DIALECT_NUMERIC, 2, 2);
	uint32_t c = claim(r, "carol", DIALECT_NUMERIC, 1, 3);
	registry_set_key(r, a, 1, "KEY", 3);
	registry_room_join(r, (uint32_t)r0, b);
	registry_room_join(r, (uint32_t)r0, c);
	registry_room_join(r, (uint32_t)r1, c);

	/* worker 1 died (its pid never held the lock) */
	int freed = registry_recover(r, 999999, 1, gone_cb, &g);
	assert_int_equal(freed, 2);
	assert_int_equal(g.calls, 2);
	int ia = gone_find(&g, "alice"), ic = gone_find(&g, "carol");
	assert_true(ia >= 0 && ic >= 0);
	assert_int_equal(g.dialect[ia], DIALECT_OKFAIL);
	assert_int_equal(g.nrooms[ia], 0);
	assert_int_equal(g.dialect[ic], DIALECT_NUMERIC);
	assert_int_equal(g.nrooms[ic], 2);
	assert_int_equal(g.rooms[ic][0], r0);
	assert_int_equal(g.rooms[ic][1], r1);
	assert_int_equal(registry_takeovers(r), 0);

	assert_int_equal(registry_user_count(r), 1);
	assert_int_equal(registry_users(r, v, 8), 1);
	assert_string_equal(v[0].name, "bob");
	assert_false(registry_room_has(r, (uint32_t)r0, c));
	assert_false(registry_room_has(r, (uint32_t)r1, c));
	assert_true(registry_room_has(r, (uint32_t)r0, b));
	char buf[64];
	assert_int_equal(registry_keys(r, UINT32_MAX, buf, sizeof(buf)), 0);
	assert_int_equal(registry_check(r), 0);
	/* the names are free, the rooms still there */
	claim(r, "alice", 0, 3, 10);
	claim(r, "carol", 0, 3, 11);
	assert_int_equal(registry_room_count(r), 2);
	/* a worker with no users: nothing to do */
	assert_int_equal(registry_recover(r, 999998, 7, gone_cb, &g), 0);
	assert_int_equal(registry_check(r), 0);
	registry_destroy(r);
}

/* Fork a "worker" that takes the registry lock, runs fn on the tables and
 * dies with the lock held; returns its (reaped) pid. */
static pid_t
die_holding_lock(struct registry *r, void (*fn)(struct registry *), int sig)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		shmlock_lock(&r->h->lock);
		fn(r);
		if (sig)
			raise(sig);
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(shmlock_owner(&r->h->lock), pid);
	return pid;
}

/* registry_claim() cut short after taking a slot off the free stack and
 * writing half the name: CLAIMING, not in the hash, counters stale. */
static void
half_claim(struct registry *m)
{
	uint32_t slot = m->free_stack[--m->h->free_top];
	struct reg_user *u = &m->users[slot];

	atomic_store(&u->state, SLOT_CLAIMING);
	u->worker = 4;
	u->conn_id = 42;
	memcpy(u->name, "half", 4); /* no terminator yet */
}

/* user_free() cut short: the slot is FREE but still in the hash, not on the
 * free stack and still counted. */
static void
half_free(struct registry *m)
{
	for (uint32_t i = 0; i < m->h->lim.max_users; i++) {
		struct reg_user *u = &m->users[i];
		if (atomic_load(&u->state) == SLOT_LIVE && u->worker == 4 &&
		    strcmp(u->name, "dora") == 0) {
			atomic_store(&u->state, SLOT_FREE);
			return;
		}
	}
	abort();
}

/* A corrupted published slot: LIVE, name without terminator. */
static void
half_name(struct registry *m)
{
	for (uint32_t i = 0; i < m->h->lim.max_users; i++) {
		struct reg_user *u = &m->users[i];
		if (atomic_load(&u->state) == SLOT_LIVE && u->worker == 4) {
			memset(u->name, 'x', REG_NAME_SZ);
			m->h->key_bytes += 1000;
			return;
		}
	}
	abort();
}

static void
recover_after(void (*fn)(struct registry *), int sig, int want_freed)
{
	struct registry *r = mkreg(8, 4);
	struct gone_log g = {0};
	struct reg_user_view v;

	int room = registry_room_create(r, "lobby", 5);
	uint32_t keep = claim(r, "keeper", DIALECT_NUMERIC, 3, 1);
	uint32_t dora = claim(r, "dora", DIALECT_NUMERIC, 4, 2);
	layout_ok(r, &(struct reg_user_view){
			     .slot = dora, .conn_id = 2, .name = "dora"});
	registry_room_join(r, (uint32_t)room, keep);
	registry_room_join(r, (uint32_t)room, dora);

	pid_t dead = die_holding_lock(r, fn, sig);
	int freed = registry_recover(r, dead, 4, gone_cb, &g);
	assert_int_equal(freed, want_freed);
	/* the gone callback always gets a terminated name */
	assert_int_equal(g.unterminated, 0);
	assert_int_equal(registry_takeovers(r), 1);
	assert_int_equal(shmlock_owner(&r->h->lock), 0);
	assert_int_equal(registry_check(r), 0);

	/* only the survivor is left, in its room */
	assert_int_equal(registry_user_count(r), 1);
	assert_int_equal(registry_lookup(r, "keeper", 6, &v), 0);
	assert_int_equal(v.slot, keep);
	assert_int_equal(registry_lookup(r, "dora", 4, &v), -ENOENT);
	assert_true(registry_room_has(r, (uint32_t)room, keep));
	assert_false(registry_room_has(r, (uint32_t)room, dora));
	char buf[64];
	size_t n = registry_room_members(r, (uint32_t)room, buf, sizeof(buf));
	assert_int_equal(n, 7);
	assert_memory_equal(buf, " keeper", 7);
	assert_int_equal(registry_keys(r, UINT32_MAX, buf, sizeof(buf)), 0);
	/* every other slot can be claimed again: the free stack is whole */
	char nm[16];
	for (int i = 0; i < 7; i++) {
		snprintf(nm, sizeof(nm), "again%d", i);
		claim(r, nm, 0, 3, 10 + (uint32_t)i);
	}
	assert_int_equal(registry_claim(r, "one_more", 0, 3, 1, 99, &v),
			 -ENOSPC);
	assert_int_equal(registry_check(r), 0);
	registry_destroy(r);
}

static void
test_recover_half_claim(void **state)
{
	(void)state;
	/* dora is freed; the half-claimed slot too (counted, no gone) */
	recover_after(half_claim, SIGKILL, 2);
}

static void
test_recover_half_free(void **state)
{
	(void)state;
	/* dora was already FREE in the table: only the index is repaired */
	recover_after(half_free, 0, 0);
}

static void
test_recover_corrupt_name(void **state)
{
	(void)state;
	recover_after(half_name, SIGKILL, 1);
}

/* A dead worker that held the lock but changed nothing: the lock is taken
 * back and the registry keeps working for everyone. */
static void
nothing(struct registry *m)
{
	(void)m;
}

static void
test_recover_lock_only(void **state)
{
	struct registry *r = mkreg(4, 2);
	struct reg_user_view v;

	(void)state;
	claim(r, "keeper", 0, 3, 1);
	pid_t dead = die_holding_lock(r, nothing, SIGKILL);
	assert_int_equal(registry_recover(r, dead, 5, NULL, NULL), 0);
	assert_int_equal(registry_takeovers(r), 1);
	assert_int_equal(registry_lookup(r, "keeper", 6, &v), 0);
	claim(r, "newbie", 0, 3, 2);
	assert_int_equal(registry_check(r), 0);
	registry_destroy(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claim_lookup_release),
		cmocka_unit_test(test_users_login_order),
		cmocka_unit_test(test_users_full),
		cmocka_unit_test(test_hash_churn),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_keys_from),
		cmocka_unit_test(test_rooms),
		cmocka_unit_test(test_rooms_sweep),
		cmocka_unit_test(test_release_clears_rooms),
		cmocka_unit_test(test_members_login_order),
		cmocka_unit_test(test_recover_frees_dead_worker),
		cmocka_unit_test(test_recover_half_claim),
		cmocka_unit_test(test_recover_half_free),
		cmocka_unit_test(test_recover_corrupt_name),
		cmocka_unit_test(test_recover_lock_only),
	};
	return cmocka_run_group_tests(tests, setup_quiet, NULL);
}
