#!/usr/bin/env bats
# Issue 12, item 4: replies never count against --sendq-hard (only pushed
# traffic does); public keys have a size limit (--max-key-size, 4096) and the
# key store a total bound; the worker budget never closes a client that is
# merely receiving its own reply.

bats_require_minimum_version 1.5.0
load helpers

HOSTILE=$BATS_TEST_DIRNAME/../tests/hostile.py

@test "hostile item 4: okfail.pubkey.toolong: a key over --max-key-size gets FAIL16 Public key too long and is not relayed; RSA-4096 and X25519 sizes pass" {
	fc_start
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	local big ok x25519
	big=$(printf 'A%.0s' $(seq 1 4097))
	ok=$(printf 'B%.0s' $(seq 1 4096))
	x25519=MCowBQYDK2VuAyEAq1i0pa2tr9vYqKz2HdZ0zV3mLw4gc7n1ZyD6yCqH8mQ=
	fc_send alice "PM_PUBKEY $big"
	fc_expect alice "FAIL16 Public key too long"
	fc_expect_silent bob
	fc_send alice "PM_PUBKEY $ok"
	fc_expect alice "OK PM_PUBKEY"
	fc_expect bob "PM_PUBKEY alice $ok"
	fc_send bob "PM_PUBKEY $x25519"
	fc_expect bob "OK PM_PUBKEY"
	fc_expect alice "PM_PUBKEY bob $x25519"
	# the size is a setting
	fc_stop
	fc_start --max-key-size 256
	fc_login carol
	fc_send carol "PM_PUBKEY $(printf 'C%.0s' $(seq 1 257))"
	fc_expect carol "FAIL16 Public key too long"
}

@test "hostile item 4: close.sendq: replies never count against --sendq-hard: a login whose key reply is 30x the limit is not closed" {
	# One worker: the limit counts what one pass of the event loop pushes
	# before it writes, and each publisher is pushed every later 4 KB key.
	# Across workers a loaded machine delivers two keys' frames in one pass
	# (8 KB, past the limit: the publishers were closed and the newcomers
	# could never get every key); in one worker a key goes out in the pass
	# that takes it, before the next publisher can send its own.
	FC_WORKERS=1 fc_start --sendq-hard 4096 --sendq-soft 4096 --ping-interval 3600
	local out
	out=$(python3 "$HOSTILE" keys "$OKPORT" --publishers 30 --key-size 4000 \
		--newcomers 3 --rcvbuf 4096 --rate 100000 --timeout 60)
	echo "keys: $out" >&3
	[ "$(fc_kv published "$out")" = 30 ] || fail "$out"
	[ "$(fc_kv kicked "$out")" = 0 ] || fail "a newcomer was closed for its own reply: $out"
	[ "$(fc_kv complete "$out")" = 3 ] || fail "a newcomer did not get every key: $out"
}

@test "hostile item 4: 40 publishers of big keys cannot get 20 slow-link newcomers kicked" {
	fc_start --ping-interval 3600
	local out
	out=$(python3 "$HOSTILE" keys "$OKPORT" --publishers 40 --key-size 4096 \
		--newcomers 20 --rcvbuf 8192 --rate 60000 --timeout 90)
	echo "keys: $out" >&3
	[ "$(fc_kv kicked "$out")" = 0 ] || fail "newcomers were kicked: $out"
	[ "$(fc_kv complete "$out")" = 20 ] || fail "$out"
}

@test "hostile item 4: close.sendq: the worker budget never closes a client that is merely receiving its own reply" {
	# 14 publishers: one key relayed to all the others (13 x 4 KB pushed)
	# stays under the 64 KiB budget; each newcomer's reply is 56 KB, six
	# of them 5 times the budget
	FC_WORKERS=1 fc_start --worker-budget 65536 --ping-interval 3600
	local out
	out=$(python3 "$HOSTILE" keys "$OKPORT" --publishers 14 --key-size 4000 \
		--newcomers 6 --rcvbuf 4096 --rate 100000 --push 0 --timeout 60)
	echo "keys: $out" >&3
	[ "$(fc_kv kicked "$out")" = 0 ] || fail "a newcomer was closed over the worker budget: $out"
	[ "$(fc_kv published "$out")" = 14 ] || fail "$out"
	[ "$(fc_kv complete "$out")" = 6 ] || fail "$out"
	! grep -q "over worker budget" "$FC_LOG" || fail "$(grep "over worker budget" "$FC_LOG")"
}
