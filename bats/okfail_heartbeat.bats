#!/usr/bin/env bats
# Heartbeat rules of docs/PROTOCOL.md ("Heartbeat: PING / PONG"), with short
# intervals. Times are measured with $EPOCHREALTIME against the moment
# OK IDENT was read, and asserted within a window (the spec allows 100 ms).

load helpers

# login NAME: log in and set T0 to the time OK IDENT was read (ms)
login_t0() {
	fc_connect "$1" okfail
	fc_expect "$1" "INIT Welcome to the server!"
	fc_send "$1" "IDENT $1"
	fc_read_timed "$1" || fail "no OK IDENT"
	[ "$FC_LAST" = "OK IDENT $1" ] || fail "got '$FC_LAST'"
	T0=$FC_AT
}

# expect_at NAME LINE MS: the next line is LINE, arriving MS after T0 (+-100)
expect_at() {
	fc_read_timed "$1" 3 || fail "$1: expected '$2' at ${3} ms, got nothing"
	[ "$FC_LAST" = "$2" ] || fail "$1: expected '$2', got '$FC_LAST'"
	local dt=$((FC_AT - T0))
	[ $dt -ge $(($3 - 60)) ] && [ $dt -le $(($3 + 100)) ] ||
		fail "$1: '$2' came at $dt ms, expected about $3 ms"
}

# skip to LINE on NAME, answering PINGs meanwhile
wait_answering() {
	local deadline=$((SECONDS + FC_TIMEOUT))
	while [ $SECONDS -le $deadline ]; do
		fc_read "$1" 1 || continue
		[ "$FC_LAST" = PING ] && fc_send "$1" PONG
		[ "$FC_LAST" = "$2" ] && return 0
	done
	fail "$1: '$2' never came"
}

@test "hb.first: the first PING comes one interval after OK IDENT, none before login" {
	fc_start --ping-interval 0.3 --pong-timeout 0.2
	fc_connect idle okfail
	fc_expect idle "INIT Welcome to the server!"
	login_t0 alice
	expect_at alice PING 300
	fc_send alice PONG
	fc_expect_silent idle 0.05
}

@test "hb.schedule + hb.pong: PINGs keep a fixed schedule (OK IDENT + k x interval); PONG gets no reply" {
	fc_start --ping-interval 0.3 --pong-timeout 0.2
	login_t0 alice
	local k
	for k in 1 2 3 4; do
		expect_at alice PING $((k * 300))
		# answer late (but in time): the schedule must not drift
		fc_expect_silent alice 0.1
		fc_send alice PONG
	done
	fc_expect_silent alice 0.1
}

@test "hb.timeout + okfail.left: no PONG -> DSCN Pong timeout, close, LEFT / 711 to the others" {
	fc_start --ping-interval 0.3 --pong-timeout 0.2
	fc_login_numeric nina
	login_t0 alice
	fc_expect nina "710 alice login"
	expect_at alice PING 300
	# an okfail observer, logged in late enough not to time out first
	fc_login bob
	fc_expect alice "JOINED bob"
	expect_at alice "DSCN Pong timeout" 500
	fc_expect_closed alice
	wait_answering bob "LEFT alice"
	fc_wait_for nina "711 alice logout"
}

@test "hb.one-pong: one PONG answers every outstanding PING (pong timeout longer than the interval)" {
	fc_start --ping-interval 0.2 --pong-timeout 0.5
	login_t0 alice
	expect_at alice PING 200
	expect_at alice PING 400
	fc_send alice PONG
	fc_send alice PONG
	fc_expect alice "FAIL05 Pong without ping"
	expect_at alice PING 600
	fc_send alice PONG
	expect_at alice PING 800
	fc_send alice PONG
	expect_at alice PING 1000
	fc_send alice PONG
}

@test "hb.timeout: the pong timeout runs from the oldest unanswered PING" {
	fc_start --ping-interval 0.2 --pong-timeout 0.5
	login_t0 alice
	expect_at alice PING 200
	expect_at alice PING 400
	expect_at alice PING 600
	expect_at alice "DSCN Pong timeout" 700
	fc_expect_closed alice
}

@test "hb.unasked: PONG with no PING outstanding is FAIL05, before login and after" {
	fc_start --ping-interval 0.3 --pong-timeout 0.2
	fc_connect a okfail
	fc_expect a "INIT Welcome to the server!"
	fc_send a PONG
	fc_expect a "FAIL05 Pong without ping"
	fc_send a "IDENT alice"
	fc_expect a "OK IDENT alice"
	fc_send a pong
	fc_expect a "FAIL05 Pong without ping"
	fc_expect a PING
	fc_send a PONG
	fc_send a PONG
	fc_expect a "FAIL05 Pong without ping"
}
