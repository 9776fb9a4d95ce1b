#!/usr/bin/env bats
# Issue 12, item 1: one connection, TLS or not, logged in or not, cannot keep
# its worker from the other clients (a per-event read budget for TLS too,
# with SSL_pending re-queued; the same for an upload's bytes). One worker, so
# that the attacker and the honest pair share it; the master's watchdog
# kills a worker whose heartbeat is 5 s old.

bats_require_minimum_version 1.5.0
load helpers

HOSTILE=$BATS_TEST_DIRNAME/../tests/hostile.py

setup_file() {
	fc_make_cert one localhost "$BATS_FILE_TMPDIR"
}

# Flood control off: the budget must hold whatever the limits are (the
# review ran with --flood-rate 0; a flood limit alone would hide the bug).
tls_start() {
	FC_WORKERS=1 fc_start --ping-interval 3600 --flood-rate 0 \
		--tls-cert "$BATS_FILE_TMPDIR/one.pem" --tls-key "$BATS_FILE_TMPDIR/one.key" \
		-l okfail+tls=127.0.0.1:0 -l numeric+tls=127.0.0.1:0 "$@"
	OKTLS=$(fc_port_of okfail+tls)
	NUMTLS=$(fc_port_of numeric+tls)
}

restarts() {
	fc_status_json | python3 -c 'import json,sys; print(sum(w["restarts"] for w in json.load(sys.stdin)["workers"]))'
}

# streams "OK x" lines (no reply needed, accepted before login) over TLS at
# C speed until killed
tls_streamer() {
	local port=$1
	yes 'OK x' | timeout 30 openssl s_client -quiet -connect "127.0.0.1:$port" \
		>/dev/null 2>&1 &
	BG+=($!)
}

# pms_unhindered WHAT: 8 s of PM round trips next to WHAT: none lost, at
# least 20, none slower than 300 ms (600 under ASan), the worker never
# replaced nor called unresponsive
pms_unhindered() {
	local rtt
	rtt=$(python3 "$HOSTILE" pmrtt "$OKPORT" 8) || fail "PM round trips failed: $rtt"
	echo "PM round trips next to $1: $rtt" >&3
	[ "$(fc_kv lost "$rtt")" = 0 ] || fail "a PM was lost (worker killed?): $rtt $(grep -i 'unresponsive\|killed' "$FC_LOG")"
	[ "$(fc_kv n "$rtt")" -ge 20 ] || fail "too few round trips: $rtt"
	[ "$(fc_kv max "$rtt")" -lt "$(fc_scale 300 600)" ] || fail "a PM waited behind $1: $rtt"
	[ "$(restarts)" = 0 ] || fail "the worker was replaced: $(grep -i 'unresponsive\|killed' "$FC_LOG")"
	! grep -q unresponsive "$FC_LOG"
}

teardown() {
	local p
	for p in "${BG[@]}"; do pkill -P "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
	fc_stop
}

@test "hostile item 1: a TLS client streaming OK lines before login cannot stall its worker" {
	BG=()
	tls_start
	tls_streamer "$OKTLS"
	tls_streamer "$OKTLS"
	pms_unhindered "two TLS streamers"
}

@test "hostile item 1: a TLS numeric client streaming lines cannot stall its worker either" {
	BG=()
	tls_start
	yes 'USEK x' | timeout 30 openssl s_client -quiet -connect "127.0.0.1:$NUMTLS" \
		>/dev/null 2>&1 &
	BG+=($!)
	pms_unhindered "a numeric TLS streamer"
}

@test "hostile item 1: a TLS upload whose receiver left cannot stall its worker" {
	BG=()
	tls_start
	fc_login_numeric bob
	# alice offers bob a huge file over TLS and streams bytes at C speed;
	# bob leaves at once, so the server discards or spools the rest
	{
		printf 'USER alice\nFILE bob big.bin 4000000000\n'
		sleep 0.5
		head -c 3000000000 /dev/zero
	} | timeout 30 openssl s_client -quiet -connect "127.0.0.1:$NUMTLS" \
		>"$BATS_TEST_TMPDIR/alice.out" 2>/dev/null &
	BG+=($!)
	fc_until 'grep -q "^100 " "$BATS_TEST_TMPDIR/alice.out"'
	fc_send bob QUIT
	pms_unhindered "an orphaned TLS upload"
}
