#!/usr/bin/env bats
# The client against a hostile server (issue 12): a scripted fake server or
# a man in the middle (tests/fchostile.py) injects forged tokens, keys,
# bidi text and file offers; the client must not be fooled, slowed or made
# to leave files behind.

load client_helpers

HOSTILE=$BATS_TEST_DIRNAME/../tests/fchostile.py
HOSTILE_PIDS=()

setup() {
	DL=$BATS_TEST_TMPDIR/dl
	mkdir -p "$DL"
}

teardown() {
	local p
	for p in "${HOSTILE_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	cl_stop_all
	fc_stop
}

# hostile_start TAG ARGS...: start tests/fchostile.py; logs in
# $BATS_TEST_TMPDIR/TAG.N.c2s / .s2c; sets RELAYPORT
hostile_start() {
	local tag=$1 pf=$BATS_TEST_TMPDIR/$1.port
	shift
	rm -f "$pf"
	(
		_cl_close_fds
		exec "$PYTHON" "$HOSTILE" --log "$BATS_TEST_TMPDIR/$tag" \
			--port-file "$pf" "$@"
	) &
	HOSTILE_PIDS+=($!)
	_relay_wait_port "$pf"
}

# script FILE LINES...: a fake server's script, one step per argument
script() {
	local f=$1
	shift
	printf '%s\n' "$@" >"$f"
}

# secs_since STAMPFILE: seconds (float) from the stamp until now
secs_since() {
	python3 -c 'import sys, time; print(f"{time.time() - float(open(sys.argv[1]).read()):.3f}")' "$1"
}

@test "client: item 7 100 bogus SECU tokens with fresh salts do not delay a friend's message" {
	# USEK and the first SECU to bob each run one 600,000-round PBKDF2
	local FC_TIMEOUT=$((FC_TIMEOUT * 4))
	# a real token from alice to bob, made by the client under test
	script "$BATS_TEST_TMPDIR/a.script" 'expect ^USER alice' 'send 200 Welcome alice!\n'
	hostile_start a --script "$BATS_TEST_TMPDIR/a.script"
	cl_start alice -P numeric -n alice 127.0.0.1 "$RELAYPORT"
	cl_wait alice "200 Welcome alice!"
	cl_send alice "USEK shared secret"
	cl_send alice "SECU bob hello friend"
	fc_until 'grep -q "^SECU bob " "$BATS_TEST_TMPDIR/a.0.c2s"'
	local tok
	tok=$(sed -n 's/^SECU bob \([^ ]*\)$/\1/p' "$BATS_TEST_TMPDIR/a.0.c2s")
	[ -n "$tok" ]
	# 100 tokens of the right shape with fresh random salts, then alice's
	local flood=$BATS_TEST_TMPDIR/flood.txt i
	for i in $(seq 100); do
		printf '700 mallory %s\n' "$(head -c 60 /dev/urandom | base64 -w0)"
	done >"$flood"
	printf '700 alice %s\n' "$tok" >>"$flood"
	script "$BATS_TEST_TMPDIR/b.script" 'expect ^USER bob' 'send 200 Welcome bob!\n' \
		'expect ^LIRO' 'send 200 ROOMS\n' "stamp $BATS_TEST_TMPDIR/t0" \
		"sendfile $flood"
	hostile_start b --script "$BATS_TEST_TMPDIR/b.script"
	cl_start bob -P numeric -n bob 127.0.0.1 "$RELAYPORT"
	cl_wait bob "200 Welcome bob!"
	cl_send bob "USEK shared secret"
	cl_send bob "LIRO" # sent once USEK is done: the flood comes after
	cl_wait bob "700 alice hello friend"
	local took
	took=$(secs_since "$BATS_TEST_TMPDIR/t0")
	echo "friend's message shown ${took}s after the flood was sent"
	# 100 PBKDF2 runs took 2.9 s; 100 HKDFs take milliseconds
	python3 -c "import sys; sys.exit(0 if $took < 1.0 else 1)"
	[ "$(grep -c '^! secure message from mallory could not be decrypted' "$(cl_out bob)")" -eq 100 ]
	run tail -1 "$(cl_out bob)"
	assert_output "700 alice hello friend"
}

@test "client: item 7 a download is written under a temporary name and removed when cut off" {
	head -c 5000 /dev/urandom >"$BATS_TEST_TMPDIR/part"
	script "$BATS_TEST_TMPDIR/s" 'expect ^USER eve' 'send 200 Welcome eve!\n' \
		'send 102 part.bin 100000 mallory\n' "sendfile $BATS_TEST_TMPDIR/part" \
		'expect ^LIRO' 'close'
	hostile_start f --script "$BATS_TEST_TMPDIR/s"
	cl_start eve -P numeric -n eve --download-dir "$DL" 127.0.0.1 "$RELAYPORT"
	cl_wait eve "200 Welcome eve!"
	fc_until '[ -n "$(ls -A "$DL")" ]'
	# in progress: a hidden temporary file, nothing under the offered name
	[ ! -e "$DL/part.bin" ]
	run ls -A "$DL"
	assert_output --regexp '^\.forkchat-[0-9a-f]+\.part$'
	cl_send eve "LIRO"
	cl_wait_exit eve
	[ "$CL_STATUS" -ne 0 ]
	grep -q '^! file part.bin from mallory cut off after 5000 of 100000 bytes; nothing saved$' "$(cl_out eve)"
	run ls -A "$DL"
	assert_output ""
}

@test "client: item 7 a client stopped mid-download leaves no partial file" {
	head -c 5000 /dev/urandom >"$BATS_TEST_TMPDIR/part"
	script "$BATS_TEST_TMPDIR/s" 'expect ^USER eve' 'send 200 Welcome eve!\n' \
		'send 102 part.bin 100000 mallory\n' "sendfile $BATS_TEST_TMPDIR/part"
	hostile_start f --script "$BATS_TEST_TMPDIR/s"
	cl_start eve -P numeric -n eve --download-dir "$DL" 127.0.0.1 "$RELAYPORT"
	fc_until '[ -n "$(ls -A "$DL")" ]'
	kill -TERM "${CL_PID[eve]}"
	cl_wait_exit eve
	[ "$CL_STATUS" -eq 143 ]
	grep -q '^! file part.bin from mallory cut off after [0-9]* of 100000 bytes' "$(cl_out eve)"
	run ls -A "$DL"
	assert_output ""
}

@test "client: item 7 --no-files and --download-quota refuse files; the stream stays in sync" {
	{
		printf '200 Welcome eve!\n'
		printf '102 a.bin 10 mallory\n0123456789'
		printf '102 b.bin 3000 mallory\n'
		head -c 3000 /dev/zero
		printf '102 c.bin 5 mallory\nhello'
		printf '701 mallory still in sync\n'
	} >"$BATS_TEST_TMPDIR/offers"
	script "$BATS_TEST_TMPDIR/s" 'expect ^USER eve' "sendfile $BATS_TEST_TMPDIR/offers"
	hostile_start q --script "$BATS_TEST_TMPDIR/s"
	cl_start eve -P numeric -n eve --download-dir "$DL" --download-quota 1K \
		127.0.0.1 "$RELAYPORT"
	cl_wait eve "701 mallory still in sync"
	cl_end eve
	[ "$CL_STATUS" -eq 0 ]
	run cat "$(cl_out eve)"
	assert_line "102 a.bin 10 mallory saved $DL/a.bin"
	assert_line "! file b.bin (3000 bytes) from mallory refused: over this connection's download quota (--download-quota)"
	assert_line "102 c.bin 5 mallory saved $DL/c.bin"
	run ls -A "$DL"
	assert_output $'a.bin\nc.bin'
	mkdir "$DL/none"
	hostile_start n --script "$BATS_TEST_TMPDIR/s"
	cl_start nof -P numeric -n eve --download-dir "$DL/none" --no-files \
		127.0.0.1 "$RELAYPORT"
	cl_wait nof "701 mallory still in sync"
	cl_end nof
	[ "$(grep -c '^! file .* refused: files are refused (--no-files)$' "$(cl_out nof)")" -eq 3 ]
	run ls -A "$DL/none"
	assert_output ""
	run "$FORKCHAT" --download-quota 12X 127.0.0.1 1
	[ "$status" -eq 2 ]
}

@test "client: item 8 a token replayed as from another user is refused; a changed key is a loud warning" {
	fc_start
	local fake
	fake=$(head -c 32 /dev/urandom | base64 -w0)
	# the server forges: alice's key, session key and message again as
	# frank's; and a second key for carol
	hostile_start m --to "127.0.0.1:$OKPORT" \
		--dup '^(PM_PUBKEY|PM_SESSIONKEY|RECEIVE_PRIVATE_MSG) alice =>\1 frank ' \
		--dup "^PM_PUBKEY carol \\S+\$=>PM_PUBKEY carol $fake"
	cl_start bob -P okfail -n bob 127.0.0.1 "$RELAYPORT"
	cl_wait bob "OK IDENT bob"
	cl_start alice -P okfail -n alice 127.0.0.1 "$RELAYPORT"
	cl_wait alice "OK IDENT alice"
	cl_start carol -P okfail -n carol 127.0.0.1 "$RELAYPORT"
	cl_wait carol "OK IDENT carol"
	cl_send alice "PRIVATE_MESSAGE bob attack at dawn"
	cl_wait bob "RECEIVE_PRIVATE_MSG alice attack at dawn"
	cl_wait_match bob "^! session key from frank could not be opened"
	cl_wait_match bob "^! encrypted message from frank, but no session key from frank"
	! grep -q 'frank attack' "$(cl_out bob)"
	# carol's key is pinned: the forged one is refused, loudly
	cl_wait_match bob "^! WARNING: carol's public key changed without carol leaving"
	cl_send bob "PRIVATE_MESSAGE carol still you"
	cl_wait carol "RECEIVE_PRIVATE_MSG bob still you"
	cl_send carol "PRIVATE_MESSAGE bob yes me"
	cl_wait bob "RECEIVE_PRIVATE_MSG carol yes me"
	cl_end bob
	[ "$CL_STATUS" -eq 0 ]
	! grep -q '^!' "$(cl_out carol)"
}

@test "client: item 10 bidi overrides and C1 controls in text are shown escaped; such file names are refused" {
	script "$BATS_TEST_TMPDIR/o" 'send INIT Welcome\n' 'expect ^IDENT eve' \
		'send OK IDENT eve\n' \
		'send BCST mallory evil \u202egnp.exe\n' \
		'send BCST mallory \u2066iso\u2069 \u0085nel \u009b31m \u200fmark\n'
	hostile_start o --script "$BATS_TEST_TMPDIR/o"
	cl_start e -P okfail -n eve 127.0.0.1 "$RELAYPORT"
	cl_wait e 'BCST mallory evil \u202egnp.exe'
	cl_wait e 'BCST mallory \u2066iso\u2069 \u0085nel \u009b31m \u200fmark'
	run grep -c $'\u202e\|\u2066\|\u2069\|\u0085\|\u009b\|\u200f' "$(cl_out e)"
	assert_output 0
	script "$BATS_TEST_TMPDIR/n" 'expect ^USER eve' 'send 200 Welcome eve!\n' \
		'send 102 \u202egnp.exe 3 mallory\nAAA' \
		'send 102 a\u2067b 1 mallory\nB' \
		'send 701 mallory in sync\n'
	hostile_start n --script "$BATS_TEST_TMPDIR/n"
	cl_start f -P numeric -n eve --download-dir "$DL" 127.0.0.1 "$RELAYPORT"
	cl_wait f "701 mallory in sync"
	run cat "$(cl_out f)"
	assert_line '! file \u202egnp.exe (3 bytes) from mallory refused: name contains control, bidi or invisible characters or is not UTF-8'
	assert_line --regexp '^! file a\\u2067b \(1 bytes\) from mallory refused'
	run ls -A "$DL"
	assert_output ""
}

@test "client: also noticed: a slow greeting is still detected by the first bytes; -P skips detection" {
	# INIT after 1.5 s (a loaded machine): the old 1 s guess said numeric
	script "$BATS_TEST_TMPDIR/slow" 'sleep 1.5' 'send INIT Welcome\n' \
		'expect ^HELP$' 'send FAIL00 Unknown command\n' \
		'expect ^IDENT alice$' 'send OK IDENT alice\n' \
		'expect ^PM_PUBKEY ' 'send OK PM_PUBKEY\n' \
		'expect ^BCST hi$' 'send OK BCST hi\n'
	hostile_start s --script "$BATS_TEST_TMPDIR/slow"
	cl_start a -n alice 127.0.0.1 "$RELAYPORT"
	cl_send a "BCST hi"
	cl_wait a "OK BCST hi"
	cl_end a
	[ "$CL_STATUS" -eq 0 ]
	run cat "$(cl_out a)"
	assert_output $'INIT Welcome\nOK IDENT alice\nOK BCST hi'
	# -P: no probe, the login is the first thing sent
	script "$BATS_TEST_TMPDIR/p" 'expect ^USER bob' 'send 200 Welcome bob!\n'
	hostile_start p --script "$BATS_TEST_TMPDIR/p"
	cl_start b -P numeric -n bob 127.0.0.1 "$RELAYPORT"
	cl_wait b "200 Welcome bob!"
	run head -1 "$BATS_TEST_TMPDIR/p.0.c2s"
	assert_output "USER bob"
}
