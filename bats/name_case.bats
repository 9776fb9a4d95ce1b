#!/usr/bin/env bats
# name.user.case and name.room.case (docs/PROTOCOL.md): names are unique
# ignoring ASCII case in every dialect and across workers; lookups find the
# owner whatever the spelling; listings show a name as its owner typed it.

load helpers

setup() {
	fc_start
}

@test "name.user.case: IDENT Bob while bob is logged in gets FAIL01, on any worker" {
	fc_login bob
	fc_connect_avoid other okfail "$(fc_worker_of_quick bob)"
	fc_send other "IDENT Bob"
	fc_expect other "FAIL01 User already logged in"
	fc_send other "IDENT BOB"
	fc_expect other "FAIL01 User already logged in"
}

@test "name.user.case: USER BOB while okfail bob is logged in gets 300" {
	fc_login bob
	fc_connect n numeric
	fc_send n "USER BOB"
	fc_expect n "300 Username already taken"
	fc_send n "USER bOb"
	fc_expect n "300 Username already taken"
}

@test "name.user.case: PRIV BOB hi reaches bob, the reply and USERS show bob as typed" {
	fc_login Bob
	fc_login_numeric nina
	fc_expect Bob "JOINED nina"
	fc_send nina "PRIV BOB hi"
	fc_expect nina "200 Sent to Bob"
	fc_expect Bob "NPM nina hi"
	fc_send Bob "PM NINA back"
	fc_expect Bob "OK PM nina back"
	fc_expect nina "701 Bob back"
	fc_send Bob "USERS"
	fc_expect Bob "OK USERS Bob:nina"
}

@test "name.user.case: a name is free in every case once its owner leaves" {
	fc_login bob
	fc_send bob "QUIT"
	fc_expect bob "OK GOODBYE"
	fc_expect_closed bob
	fc_login BOB
}

@test "name.room.case: ROOM LOBBY when lobby exists gets 300; JOIN/SEND/LIME Lobby use lobby" {
	fc_login_numeric ann
	fc_login_numeric bea
	fc_expect ann "710 bea login"
	fc_send ann "ROOM lobby"
	fc_expect ann "200 Room lobby created"
	fc_send bea "ROOM LOBBY"
	fc_expect bea "300 Room LOBBY already exists"
	fc_send ann "JOIN lobby"
	fc_expect ann "200 Joined lobby"
	fc_send bea "JOIN Lobby"
	fc_expect bea "200 Joined Lobby"
	fc_expect ann "712 lobby bea joined"
	fc_send bea "SEND LOBBY hi"
	fc_expect bea "200 Sent to LOBBY"
	fc_expect ann "702 lobby bea hi"
	fc_send ann "LIME lObBy"
	fc_expect ann "200 MEMBERS lObBy ann bea"
	fc_send ann "LIRO"
	fc_expect ann "200 ROOMS lobby"
}
