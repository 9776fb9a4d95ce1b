#!/usr/bin/env bats
# Issue 12, item 10 (server side): C1 controls (U+0080-U+009F as UTF-8) are
# refused like C0 in every relayed text (frame.ctrl.c1); bidi overrides,
# isolates and marks are refused in file names (file.name, frame.bidi) and
# relayed in message text, where the client shows them escaped.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	fc_start --ping-interval 3600
	fc_login alice
	fc_login_numeric nina
	fc_login_numeric bob
	fc_wait_for alice "JOINED bob"
	fc_expect nina "710 bob login"
}

@test "hostile item 10: frame.ctrl.c1: U+009B (CSI) and U+0085 are refused with FAIL10 / 402 and nothing is relayed" {
	fc_send_raw alice 'BCST red \xc2\x9b31m text\n'
	fc_expect alice "FAIL10 Line contains control characters"
	fc_send_raw alice 'PM nina x\xc2\x85y\n'
	fc_expect alice "FAIL10 Line contains control characters"
	fc_send_raw bob 'PRIV nina a\xc2\x9fb\n'
	fc_expect bob "402 Line contains control characters"
	fc_send_raw bob 'ROOM r\nJOIN r\nSEND r \xc2\x80\n'
	fc_expect bob "200 Room r created"
	fc_expect bob "200 Joined r"
	fc_expect bob "402 Line contains control characters"
	fc_send_raw alice 'PM_PUBKEY k\xc2\x9b\n'
	fc_expect alice "FAIL10 Line contains control characters"
	fc_expect_silent nina
	# U+00A0 and up are text
	fc_send_raw alice 'PM nina caf\xc3\xa9\xc2\xa0ok\n'
	fc_expect alice $'OK PM nina caf\u00e9\u00a0ok'
	fc_expect nina $'701 alice caf\u00e9\u00a0ok'
	# bad UTF-8 is checked before C1: FAIL11 / 403
	fc_send_raw alice 'BCST \xc2\x9b\xff\n'
	fc_expect alice "FAIL11 Line is not valid UTF-8"
}

@test "hostile item 10: file.name: a bidi override, isolate or mark in a file name is refused, the receiver sees nothing" {
	local c
	for c in '\xe2\x80\xae' '\xe2\x81\xa6' '\xe2\x80\x8f' '\xd8\x9c'; do
		fc_send_raw bob "FILE nina ${c}gnp.exe 5\n"
		fc_expect bob "400 Invalid file name: a base name, no / or .."
	done
	fc_send_raw bob 'FILE nina a\xc2\x9b.txt 5\n'
	fc_expect_match bob "^40[02] "
	fc_expect_silent nina
	# an ordinary UTF-8 name still works
	fc_send_raw bob 'FILE nina caf\xc3\xa9.txt 0\n'
	fc_expect bob "100 Ready: send 0 bytes"
	fc_wait_for nina "102 café.txt 0 bob"
}

@test "hostile item 10: frame.bidi: bidi characters in message text are relayed byte for byte" {
	fc_send_raw alice 'PM nina \xe2\x80\x8fshalom\xe2\x80\xae\n'
	fc_expect alice $'OK PM nina \u200fshalom\u202e'
	fc_expect nina $'701 alice \u200fshalom\u202e'
}
