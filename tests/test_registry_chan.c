/* Proves ipc/registry_chan.c: a room's channel state (modes, key, limit,
 * topic, +b/+e/+I lists bounded at REG_MAX_MASKS) and its member flags;
 * registry_room_enter's checks and the creator's op; that leaving, logging
 * out and the reuse of a deleted room's slot clear what they must. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "unit_quiet.h"
#include "../ipc/registry.h"

static struct registry *
mkreg(uint32_t users, uint32_t rooms)
{
	struct reg_limits lim = {users, rooms, 32};
	struct registry *r = registry_create(&lim);

	assert_non_null(r);
	return r;
}

static uint32_t
claim(struct registry *r, const char *name, uint32_t conn)
{
	struct reg_user_view v;

	assert_int_equal(registry_claim(r, name, DIALECT_IRC, 0, 1, conn, &v),
			 0);
	return v.slot;
}

static int
enter(struct registry *r, int room, uint32_t slot, const char *nuh,
      const char *key)
{
	struct reg_entry e = {nuh, key};

	return registry_room_enter(r, (uint32_t)room, slot, &e);
}

static void
test_new_room_defaults(void **state)
{
	struct registry *r = mkreg(8, 2);
	struct reg_chan_view v;

	(void)state;
	int room = registry_room_create(r, "c", 1);
	assert_int_equal(registry_chan_get(r, (uint32_t)room, &v), 0);
	assert_int_equal(v.modes, CM_NOEXT | CM_TOPIC);
	assert_true(v.created > 0);
	assert_string_equal(v.topic, "");
	assert_int_equal(registry_chan_get(r, 1, &v), -ENOENT);
	registry_destroy(r);
}

static void
test_creator_is_op(void **state)
{
	struct registry *r = mkreg(8, 2);
	uint32_t a = claim(r, "alice", 1), b = claim(r, "bob", 2);

	(void)state;
	int room = registry_room_create(r, "c", 1);
	assert_int_equal(enter(r, room, a, "alice!a@h", NULL), 0);
	assert_int_equal(enter(r, room, a, "alice!a@h", NULL), -EALREADY);
	assert_int_equal(enter(r, room, b, "bob!b@h", NULL), 0);
	assert_true(registry_member_flag(r, (uint32_t)room, a, RM_OP));
	assert_false(registry_member_flag(r, (uint32_t)room, b, RM_OP));
	assert_int_equal(
		registry_member_set(r, (uint32_t)room, b, RM_VOICE, true), 1);
	assert_int_equal(
		registry_member_set(r, (uint32_t)room, b, RM_VOICE, true), 0);
	/* leaving drops the flags */
	assert_int_equal(registry_room_leave(r, (uint32_t)room, a), 0);
	assert_false(registry_member_flag(r, (uint32_t)room, a, RM_OP));
	/* logging out too */
	registry_release(r, b, 2, NULL, NULL);
	assert_false(registry_member_flag(r, (uint32_t)room, b, RM_VOICE));
	/* the next one into the empty room is its operator */
	uint32_t c = claim(r, "carol", 3);
	assert_int_equal(enter(r, room, c, "carol!c@h", NULL), 0);
	assert_true(registry_member_flag(r, (uint32_t)room, c, RM_OP));
	registry_destroy(r);
}

static void
test_entry_checks(void **state)
{
	struct registry *r = mkreg(8, 2);
	uint32_t a = claim(r, "alice", 1), b = claim(r, "bob", 2);
	uint32_t c = claim(r, "carol", 3);

	(void)state;
	int room = registry_room_create(r, "c", 1);
	uint32_t rm = (uint32_t)room;
	assert_int_equal(enter(r, room, a, "alice!a@h", NULL), 0);
	assert_int_equal(
		registry_chan_mask(r, rm, 'b', "BOB!*@*", true, "alice", 1), 1);
	assert_int_equal(enter(r, room, b, "bob!b@h", NULL), -EPERM);
	assert_int_equal(
		registry_chan_mask(r, rm, 'e', "*!b@h", true, "alice", 2), 1);
	assert_int_equal(enter(r, room, b, "bob!b@h", NULL), 0);
	registry_room_leave(r, rm, b);
	assert_int_equal(registry_chan_mode(r, rm, CM_INVITE, true, NULL, 0),
			 1);
	assert_int_equal(enter(r, room, b, "bob!b@h", NULL), -EACCES);
	registry_member_set(r, rm, b, RM_INVITED, true);
	assert_int_equal(enter(r, room, b, "bob!b@h", NULL), 0);
	/* the invitation is used up */
	assert_false(registry_member_flag(r, rm, b, RM_INVITED));
	registry_room_leave(r, rm, b);
	assert_int_equal(enter(r, room, b, "bob!b@h", NULL), -EACCES);
	registry_chan_mode(r, rm, CM_INVITE, false, NULL, 0);
	registry_chan_mode(r, rm, CM_KEY, true, "sesame", 0);
	assert_int_equal(enter(r, room, b, "bob!b@h", NULL), -EKEYREJECTED);
	assert_int_equal(enter(r, room, b, "bob!b@h", "nope"), -EKEYREJECTED);
	assert_int_equal(enter(r, room, b, "bob!b@h", "sesame"), 0);
	registry_chan_mode(r, rm, CM_KEY, false, NULL, 0);
	registry_chan_mode(r, rm, CM_LIMIT, true, NULL, 2);
	assert_int_equal(enter(r, room, c, "carol!c@h", NULL), -EUSERS);
	registry_destroy(r);
}

static void
test_masks_bounded(void **state)
{
	struct registry *r = mkreg(4, 2);
	struct reg_mask_view v[REG_MAX_MASKS + 1];
	char mask[32];

	(void)state;
	uint32_t rm = (uint32_t)registry_room_create(r, "c", 1);
	for (int i = 0; i < REG_MAX_MASKS; i++) {
		snprintf(mask, sizeof(mask), "n%d!*@*", i);
		assert_int_equal(registry_chan_mask(r, rm, i % 2 ? 'b' : 'I',
						    mask, true, "op", i),
				 1);
	}
	assert_int_equal(registry_chan_mask(r, rm, 'e', "x!*@*", true, "op", 0),
			 -ENOSPC);
	assert_int_equal(
		registry_chan_mask(r, rm, 'b', "N1!*@*", true, "op", 0), 0);
	size_t n = registry_chan_masks(r, rm, 'b', v, REG_MAX_MASKS + 1);
	assert_int_equal(n, REG_MAX_MASKS / 2);
	assert_string_equal(v[0].mask, "n1!*@*");
	assert_string_equal(v[0].by, "op");
	assert_int_equal(
		registry_chan_mask(r, rm, 'b', "n1!*@*", false, NULL, 0), 1);
	assert_int_equal(
		registry_chan_mask(r, rm, 'b', "n1!*@*", false, NULL, 0), 0);
	assert_int_equal(registry_chan_mask(r, rm, 'e', "x!*@*", true, "op", 0),
			 1);
	assert_true(registry_chan_banned(r, rm, "n3!u@h"));
	assert_false(registry_chan_banned(r, rm, "n1!u@h"));
	registry_destroy(r);
}

/* A deleted room's slot comes back clean for the next room. */
static void
test_reuse_resets(void **state)
{
	struct registry *r = mkreg(4, 1);
	struct reg_chan_view v;
	struct reg_mask_view m[4];

	(void)state;
	uint32_t a = claim(r, "alice", 1), b = claim(r, "bob", 2);
	int room = registry_room_create(r, "c", 1);
	assert_int_equal(enter(r, room, a, "alice!a@h", NULL), 0);
	uint32_t rm = (uint32_t)room;
	registry_chan_mode(r, rm, CM_KEY, true, "k", 0);
	registry_chan_topic(r, rm, "old", 3, "alice!a@h", 5);
	registry_chan_mask(r, rm, 'b', "z!*@*", true, "alice", 5);
	registry_member_set(r, rm, b, RM_INVITED, true);
	registry_room_leave(r, rm, a);
	assert_int_equal(registry_rooms_sweep(r, 1000, 0), 1);
	assert_int_equal(registry_chan_get(r, rm, &v), -ENOENT);
	int again = registry_room_create(r, "d", 1);
	assert_int_equal(again, room);
	assert_int_equal(registry_chan_get(r, rm, &v), 0);
	assert_int_equal(v.modes, CM_NOEXT | CM_TOPIC);
	assert_string_equal(v.key, "");
	assert_string_equal(v.topic, "");
	assert_int_equal(registry_chan_masks(r, rm, 'b', m, 4), 0);
	assert_false(registry_member_flag(r, rm, b, RM_INVITED));
	assert_int_equal(enter(r, again, b, "bob!b@h", NULL), 0);
	assert_true(registry_member_flag(r, rm, b, RM_OP));
	registry_destroy(r);
}

static void
test_topic_cut(void **state)
{
	struct registry *r = mkreg(4, 1);
	struct reg_chan_view v;
	char big[600];

	(void)state;
	memset(big, 't', sizeof(big));
	uint32_t rm = (uint32_t)registry_room_create(r, "c", 1);
	assert_int_equal(
		registry_chan_topic(r, rm, big, sizeof(big), "a!b@c", 7), 0);
	assert_int_equal(registry_chan_get(r, rm, &v), 0);
	assert_int_equal(strlen(v.topic), REG_TOPIC_SZ - 1);
	assert_string_equal(v.topic_by, "a!b@c");
	assert_int_equal(v.topic_time, 7);
	registry_destroy(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_room_defaults),
		cmocka_unit_test(test_creator_is_op),
		cmocka_unit_test(test_entry_checks),
		cmocka_unit_test(test_masks_bounded),
		cmocka_unit_test(test_reuse_resets),
		cmocka_unit_test(test_topic_cut),
	};
	return cmocka_run_group_tests(tests, setup_quiet, NULL);
}
