#!/usr/bin/env bats
# forkchat in script mode against a real daemon: replies and deliveries one
# line each, exit status, login retries, protocol detection, PING/DSCN,
# hostile server text (client/forkchat.1, SCRIPT MODE).

load client_helpers

setup() {
	fc_start
}

@test "client: two okfail clients chat; exit 0 once input ends and replies came" {
	cl_start bob -P okfail -n bob 127.0.0.1 "$OKPORT"
	cl_wait bob "OK IDENT bob"
	cl_start alice -P okfail -n alice 127.0.0.1 "$OKPORT"
	cl_wait bob "JOINED alice"
	cl_send alice "bcst hello all"
	cl_send alice "USERS"
	cl_send alice "pm bob just us"
	cl_end alice
	[ "$CL_STATUS" -eq 0 ]
	run cat "$(cl_out alice)"
	assert_output "INIT Welcome to the server!
OK IDENT alice
OK BCST hello all
OK USERS bob:alice
OK PM bob just us"
	cl_wait bob "LEFT alice"
	run cat "$(cl_out bob)"
	assert_line "BCST alice hello all"
	assert_line "NPM alice just us"
	cl_end bob
	[ "$CL_STATUS" -eq 0 ]
}

@test "client: three clients across dialects see each other" {
	cl_start alice -P okfail -n alice 127.0.0.1 "$OKPORT"
	cl_wait alice "OK IDENT alice"
	cl_start bob -P okfail -n bob 127.0.0.1 "$OKPORT"
	cl_wait bob "OK IDENT bob"
	cl_start carol -P numeric -n carol 127.0.0.1 "$NUMPORT"
	cl_wait carol "200 Welcome carol!"
	cl_wait alice "JOINED carol"
	cl_send alice "BCST hi from alice"
	cl_wait bob "BCST alice hi from alice"
	cl_wait carol "703 alice hi from alice"
	cl_send carol "PRIV bob psst"
	cl_wait_match carol "^200 "
	cl_wait bob "NPM carol psst"
	cl_send bob "PM carol back"
	cl_wait carol "701 bob back"
	cl_send carol "QUIT"
	cl_wait_exit carol
	[ "$CL_STATUS" -eq 0 ]
	cl_wait alice "LEFT carol"
	cl_end alice
	[ "$CL_STATUS" -eq 0 ]
	cl_end bob
	[ "$CL_STATUS" -eq 0 ]
}

@test "client: protocol detected from the first bytes (INIT → okfail, a 200 reply to the probe → numeric)" {
	cl_start a -n alice 127.0.0.1 "$OKPORT"
	cl_wait a "OK IDENT alice"
	cl_start b -n bob 127.0.0.1 "$NUMPORT"
	cl_wait b "200 Welcome bob!"
	cl_send b "lime nosuchroom"
	cl_wait_match b "^300 "
	cl_end b
	[ "$CL_STATUS" -eq 0 ]
	cl_end a
	[ "$CL_STATUS" -eq 0 ]
}

@test "client: numeric HELP is one reply ending at its '200 ' line" {
	cl_start b -P numeric -n bob 127.0.0.1 "$NUMPORT"
	cl_send b "help"
	cl_send b "LIRO"
	cl_end b
	[ "$CL_STATUS" -eq 0 ]
	run tail -1 "$(cl_out b)"
	assert_output "200 ROOMS"
	run grep -c '^200-' "$(cl_out b)"
	[ "$output" -gt 3 ]
}

@test "client: a refused -n name ends a script with an error; names from input are retried" {
	cl_start a -P okfail -n alice 127.0.0.1 "$OKPORT"
	cl_wait a "OK IDENT alice"
	cl_start dup -P okfail -n alice 127.0.0.1 "$OKPORT"
	cl_wait_exit dup
	[ "$CL_STATUS" -ne 0 ]
	grep -q '^FAIL01' "$(cl_out dup)"
	cl_start ask -P okfail 127.0.0.1 "$OKPORT"
	cl_send ask "alice"
	cl_send ask "x"
	cl_send ask "alice2"
	cl_send ask "BCST ok"
	cl_end ask
	[ "$CL_STATUS" -eq 0 ]
	grep -q '^FAIL01' "$(cl_out ask)"
	grep -q '^FAIL02' "$(cl_out ask)"
	grep -qx 'OK IDENT alice2' "$(cl_out ask)"
	grep -qx 'OK BCST ok' "$(cl_out ask)"
	cl_start n -P numeric 127.0.0.1 "$NUMPORT"
	cl_send n "alice"
	cl_send n "nora"
	cl_end n
	[ "$CL_STATUS" -eq 0 ]
	grep -q '^300 ' "$(cl_out n)"
	grep -qx '200 Welcome nora!' "$(cl_out n)"
}

@test "client: answers PING by itself; DSCN or a close ends the session non-zero" {
	fc_stop
	fc_start --ping-interval 0.1 --pong-timeout 0.5
	cl_relay_start "$OKPORT"
	cl_start a -P okfail -n alice 127.0.0.1 "$RELAYPORT"
	cl_wait a "OK IDENT alice"
	fc_until '[ "$(grep -c "^PONG" "$BATS_TEST_TMPDIR/relay.0.c2s" 2>/dev/null)" -ge 5 ]'
	cl_send a "BCST still here"
	cl_wait a "OK BCST still here"
	! grep -q PING "$(cl_out a)"
	fc_stop
	cl_wait_exit a
	[ "$CL_STATUS" -ne 0 ]
	grep -q '^DSCN' "$(cl_out a)"
	cl_start n -P numeric -n nora 127.0.0.1 "$NUMPORT"
	cl_wait_exit n
	[ "$CL_STATUS" -ne 0 ]
}

@test "client: numeric session cut by the server exits non-zero with a clear message" {
	cl_start n -P numeric -n nora 127.0.0.1 "$NUMPORT"
	cl_wait n "200 Welcome nora!"
	fc_stop
	cl_wait_exit n
	[ "$CL_STATUS" -ne 0 ]
	grep -q '^! connection closed by the server' "$(cl_out n)"
}

@test "client: control characters and escapes from the wire are never printed raw" {
	printf 'INIT Welcome\nOK IDENT eve\nBCST mallory \033[2J\033]0;pwn\007x\r\nBCST mallory \302\23331m c1\nBCST mallory \377bad\tz\n' \
		>"$BATS_TEST_TMPDIR/evil.txt"
	cl_fake_start "$BATS_TEST_TMPDIR/evil.txt"
	cl_start e -P okfail -n eve 127.0.0.1 "$RELAYPORT"
	cl_wait e 'BCST mallory \x1B[2J\x1B]0;pwn\x07x'
	cl_wait e 'BCST mallory \u009b31m c1' # a C1 control, by code point
	cl_wait e 'BCST mallory \xFFbad\x09z'
	run grep -c $'\033\|\007\|\302\233' "$(cl_out e)"
	assert_output 0
}
