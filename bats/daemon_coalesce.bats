#!/usr/bin/env bats
# --coalesce-ms (forkchatd(8)): a few lines pushed to a client that was
# sent pushed lines less than that long ago wait until then, to go out in
# one write; replies never wait. Times are measured from before the first
# send, so a slow machine can only make them later, never fail the wait.

bats_require_minimum_version 1.5.0
load helpers

# A daemon with FLAGS, alice and bob logged in, and bob sent one pushed
# line ("NPM alice one"), which starts his hold.
pushed_once() {
	fc_start "$@" --flood-rate 0
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_send alice "PM bob one"
	fc_expect alice "OK PM bob one"
	fc_expect bob "NPM alice one"
}

@test "--coalesce-ms: a line pushed right after another waits until MS after the first was written, then comes, in order" {
	local t0
	t0=$(fc_now_ms)
	pushed_once --coalesce-ms 1000
	fc_send alice "PM bob two"
	fc_expect alice "OK PM bob two"
	fc_read_timed bob 5 || fail "the second line never came"
	[ "$FC_LAST" = "NPM alice two" ] || fail "got '$FC_LAST'"
	[ $((FC_AT - t0)) -ge 990 ] || fail "it came after $((FC_AT - t0)) ms, before the 1000 ms hold ended"
}

# FROM sends CMD; TO's next line must be WANT, within MS ms of the send.
next_within() {
	local from=$1 cmd=$2 to=$3 want=$4 ms=$5 t0
	t0=$(fc_now_ms)
	fc_send "$from" "$cmd"
	fc_read_timed "$to" 5 || fail "$to: nothing after '$cmd'"
	[ "$FC_LAST" = "$want" ] || fail "$to got '$FC_LAST', want '$want'"
	[ $((FC_AT - t0)) -lt "$ms" ] || fail "'$want' came after $((FC_AT - t0)) ms"
}

@test "--coalesce-ms: a reply never waits; with 0 a pushed line goes at once" {
	pushed_once --coalesce-ms 1000
	# bob was just sent a pushed line: his own reply still goes at once
	next_within bob "PM alice back" bob "OK PM alice back" 900
	fc_stop
	pushed_once --coalesce-ms 0
	next_within alice "PM bob two" bob "NPM alice two" 900
}
