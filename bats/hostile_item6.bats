#!/usr/bin/env bats
# Issue 12, item 6: the room table cannot be filled for good. A room without
# members is deleted after --room-linger (it leaves LIRO, its name is free);
# one user may have at most --max-rooms-per-user rooms; no single user can
# exhaust a shared table.

bats_require_minimum_version 1.5.0
load helpers

# liro_has USER ROOM: LIRO (deliveries before its reply are skipped) lists ROOM
liro_has() {
	fc_send "$1" LIRO
	while fc_read "$1"; do
		[[ $FC_LAST == "200 ROOMS"* ]] && break
	done
	[[ $FC_LAST == "200 ROOMS"* ]] || fail "$1: no LIRO reply"
	[[ " ${FC_LAST#200 ROOMS} " == *" $2 "* ]]
}

@test "hostile item 6: numeric.room.linger: a room without members is deleted after --room-linger and LIRO stops listing it" {
	fc_start --room-linger 0.5 --ping-interval 3600
	fc_login_numeric bob
	fc_login_numeric nina
	fc_expect bob "710 nina login"
	fc_send bob "ROOM lobby"
	fc_expect bob "200 Room lobby created"
	fc_send bob "JOIN lobby"
	fc_expect bob "200 Joined lobby"
	fc_send nina "ROOM never_joined"
	fc_expect nina "200 Room never_joined created"
	liro_has nina lobby || fail "lobby not listed: $FC_LAST"
	# a room with a member stays past the linger
	fc_send nina "LIME lobby"
	fc_expect nina "200 MEMBERS lobby bob"
	fc_until '! liro_has nina never_joined'
	liro_has nina lobby || fail "a room with a member was deleted: $FC_LAST"
	# the last member leaves: the room goes after the linger
	fc_send bob "LEVE lobby"
	fc_expect bob "200 Left lobby"
	fc_until '! liro_has nina lobby'
	fc_send nina "JOIN lobby"
	fc_expect nina "300 No such room lobby"
	# and its name is free again
	fc_send nina "ROOM lobby"
	fc_expect nina "200 Room lobby created"
}

@test "hostile item 6: numeric.room.linger: a room whose last member disconnects is deleted too, and rejoining within the linger keeps it" {
	fc_start --room-linger 1.5 --ping-interval 3600
	fc_login_numeric bob
	fc_login_numeric nina
	fc_expect bob "710 nina login"
	fc_send bob "ROOM den"
	fc_expect bob "200 Room den created"
	fc_send bob "JOIN den"
	fc_expect bob "200 Joined den"
	fc_send bob "LEVE den"
	fc_expect bob "200 Left den"
	fc_send nina "JOIN den"
	fc_expect nina "200 Joined den"
	fc_close nina
	fc_until '! liro_has bob den'
}

@test "hostile item 6: numeric.room.per-user: one user cannot create more than --max-rooms-per-user rooms (16 by default); others still can" {
	fc_start --ping-interval 3600
	fc_login_numeric mallory
	local i
	for i in $(seq 1 16); do
		fc_send mallory "ROOM r$i"
		fc_expect mallory "200 Room r$i created"
	done
	fc_send mallory "ROOM r17"
	fc_expect mallory "302 Too many rooms created by you"
	fc_login_numeric bob
	fc_send bob "ROOM mine"
	fc_expect bob "200 Room mine created"
}

@test "hostile item 6: numeric.room.linger: a user who made rooms and left cannot keep the table full: the rooms linger out and the table is usable" {
	fc_start --max-rooms 8 --max-rooms-per-user 8 --room-linger 0.5 --ping-interval 3600
	fc_login_numeric mallory
	local i
	for i in $(seq 1 8); do
		fc_send mallory "ROOM m$i"
		fc_expect mallory "200 Room m$i created"
	done
	fc_send mallory "ROOM m9"
	fc_expect mallory "302 Room table full"
	fc_close mallory
	fc_login_numeric bob
	fc_until 'fc_send bob "ROOM fresh"; fc_read bob && [ "$FC_LAST" = "200 Room fresh created" ]'
}
