#!/usr/bin/env bats
# --coalesce-ms (forkchatd(8)): a few lines pushed to a client that was
# sent pushed lines less than that long ago wait until then, to go out in
# one write; replies never wait. Times are measured from before the first
# send, so a slow machine can only make them later, never fail the wait.

bats_require_minimum_version 1.5.0
load helpers

@test "--coalesce-ms: a line pushed right after another waits until MS after the first was written, then comes, in order" {
	fc_start --coalesce-ms 1000 --flood-rate 0
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	local t0
	t0=$(fc_now_ms)
	fc_send alice "PM bob one"
	fc_expect alice "OK PM bob one"
	fc_expect bob "NPM alice one"
	fc_send alice "PM bob two"
	fc_expect alice "OK PM bob two"
	fc_read_timed bob 5 || fail "the second line never came"
	[ "$FC_LAST" = "NPM alice two" ] || fail "got '$FC_LAST'"
	[ $((FC_AT - t0)) -ge 990 ] || fail "it came after $((FC_AT - t0)) ms, before the 1000 ms hold ended"
}

@test "--coalesce-ms: a reply never waits; with 0 a pushed line goes at once" {
	fc_start --coalesce-ms 1000 --flood-rate 0
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	local t0
	fc_send alice "PM bob one"
	fc_expect bob "NPM alice one"
	# bob was just written to: his own reply still goes at once
	t0=$(fc_now_ms)
	fc_send bob "PM alice back"
	fc_read_timed bob 5 || fail "no reply"
	[ "$FC_LAST" = "OK PM alice back" ] || fail "got '$FC_LAST'"
	[ $((FC_AT - t0)) -lt 900 ] || fail "the reply came after $((FC_AT - t0)) ms"
	fc_stop
	fc_start --coalesce-ms 0 --flood-rate 0
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_send alice "PM bob one"
	fc_expect bob "NPM alice one"
	t0=$(fc_now_ms)
	fc_send alice "PM bob two"
	fc_read_timed bob 5 || fail "the second line never came"
	[ "$FC_LAST" = "NPM alice two" ] || fail "got '$FC_LAST'"
	[ $((FC_AT - t0)) -lt 900 ] || fail "without a hold it came after $((FC_AT - t0)) ms"
}
