#!/usr/bin/env bats
# Issue 12, item 5: with the default flood settings one flooder cannot get a
# reader on a modest link (1 Mbit/s, reading slowly) disconnected; the bucket
# counts bytes as well as lines; a flooder is slowed, then dropped with its
# own error; ordinary use (a 20-line paste, a login burst) is not delayed.

bats_require_minimum_version 1.5.0
load helpers

HOSTILE=$BATS_TEST_DIRNAME/../tests/hostile.py

@test "hostile item 5: close.flood: with the defaults one flooder of 8 KB lines cannot get a 1 Mbit/s reader disconnected, and is dropped with DSCN Flooding" {
	fc_start --ping-interval 3600
	local out
	out=$(python3 "$HOSTILE" flood "$OKPORT" --seconds 14 --rate 125000 --rcvbuf 16384 --line 8000)
	echo "flood: $out" >&3
	[ "$(fc_kv reader "$out")" = alive ] || fail "the reader was disconnected: $out"
	[ "$(fc_kv flooder "$out")" = dropped ] || fail "the flooder was not dropped: $out"
	# slowed before it was dropped: far fewer than it sent were relayed
	[ "$(fc_kv reader_got "$out")" -le 120 ] || fail "the flooder was not slowed: $out"
}

@test "hostile item 5: close.flood: the bucket counts bytes: 8 KB lines are paced to --flood-bytes even when the line rate allows them" {
	fc_start --flood-rate 1000 --flood-burst 1000 --flood-bytes 65536 \
		--flood-bytes-burst 65536 --flood-max-queued 8000 --ping-interval 3600
	local out
	# 24 lines of 8 KB: 192 KB, 64 KB at once, the rest at 64 KB/s: >= 2 s
	out=$(python3 "$HOSTILE" paste "$OKPORT" --lines 24 --size 8000)
	echo "paste: $out" >&3
	[ "$(fc_kv ok "$out")" = 24 ] && [ "$(fc_kv got "$out")" = 24 ] || fail "lines lost: $out"
	[ "$(fc_kv ms "$out")" -ge 1500 ] || fail "the byte rate did not slow the sender: $out"
	[ "$(fc_kv ms "$out")" -le 8000 ] || fail "slowed far more than the byte rate: $out"
}

@test "hostile item 5: close.flood: the defaults do not delay ordinary use: a 20-line paste and a numeric login burst are answered at once" {
	fc_start --ping-interval 3600
	local out
	out=$(python3 "$HOSTILE" paste "$OKPORT" --lines 20 --size 400)
	echo "paste: $out" >&3
	[ "$(fc_kv ok "$out")" = 20 ] && [ "$(fc_kv got "$out")" = 20 ] || fail "$out"
	[ "$(fc_kv ms "$out")" -lt 300 ] || fail "a 20-line paste was delayed: $out"
	# a client's burst of commands at login, in one write (timed in
	# python: bash adds tens of ms per line under load)
	out=$(python3 "$HOSTILE" burst "$NUMPORT")
	echo "burst: $out" >&3
	[ "$(fc_kv done "$out")" = 1 ] || fail "$out"
	[ "$(fc_kv ms "$out")" -lt 300 ] || fail "the login burst was delayed: $out"
}

@test "hostile item 5: close.flood: --flood-rate 0 still turns flood control off, bytes included" {
	fc_start --flood-rate 0 --ping-interval 3600
	local out
	out=$(python3 "$HOSTILE" paste "$OKPORT" --lines 300 --size 4000)
	echo "paste: $out" >&3
	[ "$(fc_kv ok "$out")" = 300 ] || fail "$out"
	[ "$(fc_kv ms "$out")" -lt 3000 ] || fail "paced although flood control is off: $out"
}
