#!/usr/bin/env bats
# Limits (issue 6): max clients, per-address limit, login and line
# timeouts, flood control, bad bytes, over-long lines, and a churn leak
# check (RSS and descriptors back to the baseline).

load helpers

setup() {
	fc_tools
	fc_san_lean
}

status_clients() {
	fc_status_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["clients"])'
}

@test "robust: --max-clients 5 across 3 workers: the 6th gets FAIL14 / 900 and is closed; a freed place is taken again" {
	fc_start --max-clients 5
	local i
	for i in 1 2 3 4 5; do
		fc_connect c$i okfail
		fc_expect c$i "INIT Welcome to the server!"
		fc_until '[ "$(status_clients)" = '$i' ]'
	done
	fc_connect c6 okfail
	fc_expect c6 "FAIL14 Server full"
	fc_expect_closed c6
	fc_connect n7 numeric
	fc_expect n7 "900 Server full"
	fc_expect_closed n7
	# the five are still served
	fc_send c1 "IDENT alice"
	fc_expect c1 "OK IDENT alice"
	fc_close c2
	fc_until '[ "$(status_clients)" = 4 ]'
	fc_connect c8 okfail
	fc_expect c8 "INIT Welcome to the server!"
}

@test "robust: --max-per-ip 2: a third connection from 127.0.0.1 gets FAIL15 / 901, 127.0.0.2 is still accepted" {
	fc_start --max-per-ip 2
	fc_connect a1 okfail
	fc_expect a1 "INIT Welcome to the server!"
	fc_connect a2 numeric
	fc_send a2 "USER bob"
	fc_expect a2 "200 Welcome bob!"
	fc_connect a3 okfail
	fc_expect a3 "FAIL15 Too many connections from your address"
	fc_expect_closed a3
	fc_connect a4 numeric
	fc_expect a4 "901 Too many connections from your address"
	fc_expect_closed a4
	run fc_first_line_from 127.0.0.2 "$OKPORT"
	assert_output "INIT Welcome to the server!"
	# a freed place can be used again
	fc_close a1
	fc_until '[ "$(status_clients)" = 1 ]'
	fc_connect a5 okfail
	fc_expect a5 "INIT Welcome to the server!"
}

@test "robust: --login-timeout: DSCN Login timeout / 902 and close; a logged-in user is not affected" {
	fc_start --login-timeout 0.5
	fc_login alice
	fc_connect x okfail
	fc_expect x "INIT Welcome to the server!"
	fc_connect y numeric
	local t0=$(fc_now_ms)
	fc_expect x "DSCN Login timeout"
	local took=$(($(fc_now_ms) - t0))
	fc_expect_closed x
	fc_expect y "902 Login timeout"
	fc_expect_closed y
	[ $took -ge 300 ] || fail "login timeout after only ${took} ms"
	fc_send alice "BCST still in"
	fc_expect alice "OK BCST still in"
}

@test "robust: --line-timeout: a line that never ends gets DSCN Line timeout / 906 and a close, others unaffected" {
	fc_start --line-timeout 0.5
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_login_numeric carol
	fc_send_raw alice "BCST never ends"
	fc_send_raw carol "PRIV bob never"
	fc_wait_for alice "DSCN Line timeout"
	fc_expect_closed alice
	fc_wait_for carol "906 Line timeout"
	fc_expect_closed carol
	fc_wait_for bob "LEFT alice"
	fc_send bob "BCST fine"
	fc_wait_for bob "OK BCST fine"
}

@test "robust: --flood-rate delays a burst but drops nothing, and does not slow another pair" {
	fc_start --flood-rate 20 --flood-burst 10 --ping-interval 120
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	local i lines="" t0
	for i in $(seq 1 40); do lines+="BCST f$i\n"; done
	t0=$(fc_now_ms)
	fc_send_raw alice "$lines"
	# another pair meanwhile: unaffected
	local rtt
	# (8 PMs: the pair stays within its own burst; every client is limited)
	rtt=$(fc_pm_rtt carol dave 8) || fail "$rtt"
	echo "PM round trip while alice is throttled: $rtt" >&3
	[ "$(fc_kv max "$rtt")" -lt 200 ] || fail "the flooder slowed another pair: $rtt"
	for i in $(seq 1 40); do
		FC_TIMEOUT=10 fc_wait_for alice "OK BCST f$i"
	done
	local took=$(($(fc_now_ms) - t0))
	echo "40 commands at 20/s (burst 10) took ${took} ms" >&3
	[ $took -ge 1000 ] || fail "40 commands went through in ${took} ms: not rate limited"
	for i in $(seq 1 40); do
		fc_wait_for bob "BCST alice f$i"
	done
	fc_send alice "BCST done"
	FC_TIMEOUT=10 fc_wait_for alice "OK BCST done"
}

@test "robust: flooding far over --flood-max-queued: DSCN Flooding and a close, others unaffected" {
	fc_start --flood-rate 5 --flood-burst 5 --flood-max-queued 16
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	# one big write, as a flooding program does (the daemon reads 16 KiB
	# at a time; see the next test for what happens with smaller reads)
	python3 -c 'import os,sys; os.write(int(sys.argv[1]), b"".join(b"BCST flooding line %d\n" % i for i in range(3000)))' "${FC_FD[alice]}" || true
	fc_wait_for alice "DSCN Flooding"
	fc_expect_closed alice
	fc_wait_for bob "LEFT alice"
	fc_send bob "BCST calm"
	fc_expect bob "OK BCST calm"
}

@test "robust: flooding megabytes with the default --flood-max-queued: DSCN Flooding and a close" {
	fc_start --flood-rate 5 --flood-burst 5
	fc_login alice
	python3 - "$OKPORT" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.recv(100); s.sendall(b"IDENT flooder\n")
data = b"".join(b"BCST flood %d\n" % i for i in range(300000))
s.settimeout(0.2); sent = 0; end = time.monotonic() + 10
while sent < len(data) and time.monotonic() < end:
    try: sent += s.send(data[sent:sent + 65536])
    except socket.timeout: pass
    except OSError: break
time.sleep(1)
PY
	local job=$!
	FC_TIMEOUT=15 fc_wait_for alice "LEFT flooder"
	wait $job || true
}

@test "robust: NUL, control characters and invalid UTF-8 each get their error; the connection stays usable and nothing is relayed" {
	fc_start
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_login_numeric carol
	fc_expect alice "JOINED carol"
	fc_expect bob "JOINED carol"
	fc_send_raw alice 'BCST a\x00b\n'
	fc_expect alice "FAIL10 Line contains control characters"
	fc_send_raw alice 'BCST \x1b[31mred\n'
	fc_expect alice "FAIL10 Line contains control characters"
	fc_send_raw alice 'BCST bell\x07\n'
	fc_expect alice "FAIL10 Line contains control characters"
	fc_send_raw alice 'BCST bad \xff\xfe\n'
	fc_expect alice "FAIL11 Line is not valid UTF-8"
	fc_send_raw alice 'BCST overlong \xc0\xaf\n'
	fc_expect alice "FAIL11 Line is not valid UTF-8"
	fc_send alice "BCST clean"
	fc_expect alice "OK BCST clean"
	fc_expect bob "BCST alice clean"
	fc_expect carol "703 alice clean"
	fc_send_raw carol 'PRIV bob x\x00y\n'
	fc_expect carol "402 Line contains control characters"
	fc_send_raw carol 'PRIV bob \x1b]0;title\x07\n'
	fc_expect carol "402 Line contains control characters"
	fc_send_raw carol 'PRIV bob \xed\xa0\x80\n'
	fc_expect carol "403 Line is not valid UTF-8"
	fc_send carol "PRIV bob ok"
	fc_expect carol "200 Sent to bob"
	fc_expect bob "NPM carol ok"
	fc_expect_silent alice
}

@test "robust: a 1 MB line without a newline: FAIL09 / 401, the stream stays in sync, others unaffected" {
	fc_start
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_login_numeric carol
	fc_expect alice "JOINED carol"
	fc_expect bob "JOINED carol"
	{ printf 'BCST '; head -c 1048576 /dev/zero | tr '\0' 'a'; printf '\nBCST after\n'; } >&"${FC_FD[alice]}"
	FC_TIMEOUT=10 fc_expect alice "FAIL09 Line too long"
	fc_expect alice "OK BCST after"
	fc_expect bob "BCST alice after"
	fc_expect carol "703 alice after"
	{ printf 'PRIV bob '; head -c 1048576 /dev/zero | tr '\0' 'b'; printf '\nPRIV bob after\n'; } >&"${FC_FD[carol]}"
	FC_TIMEOUT=10 fc_expect carol "401 Line too long"
	fc_expect carol "200 Sent to bob"
	fc_expect bob "NPM carol after"
	fc_expect_silent bob
}

@test "robust: churn leak check: 2000 connect/login/quit cycles, worker RSS and descriptors return to the baseline" {
	fc_start --flood-rate 0 --max-per-ip 0
	FC_PIDS=$(fc_status_json | python3 -c 'import json,sys; print(" ".join(str(w["pid"]) for w in json.load(sys.stdin)["workers"]))')
	local out cycles p
	# warm-up: allocator pools, tables, first-use pages
	out=$("$FCLOAD" churn "$OKPORT" -n "$NUMPORT" -c 300 -C 6 -P w)
	[ "$(fc_kv failures "$out")" = 0 ] || fail "warm-up: $out"
	fc_until '[ "$(status_clients)" = 0 ]'
	local rss0=$(fc_rss_kb) fds0=""
	for p in $FC_PIDS; do fds0+="$(fc_fd_count "$p") "; done
	cycles=2000
	out=$("$FCLOAD" churn "$OKPORT" -n "$NUMPORT" -c "$cycles" -C 6 -P c)
	echo "churn: $out" >&3
	[ "$(fc_kv cycles "$out")" = "$cycles" ] || fail "$out"
	[ "$(fc_kv failures "$out")" = 0 ] || fail "$out"
	FC_TIMEOUT=10 fc_until '[ "$(status_clients)" = 0 ]'
	[ "$(fc_status_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["users"])')" = 0 ]
	local rss1=$(fc_rss_kb) fds1=""
	for p in $FC_PIDS; do fds1+="$(fc_fd_count "$p") "; done
	echo "workers: rss $rss0 -> $rss1 KiB, fds [$fds0] -> [$fds1]" >&3
	[ "$fds1" = "$fds0" ] || fail "descriptors leaked: [$fds0] -> [$fds1]"
	local limit=$(fc_scale 4096 65536)
	[ $((rss1 - rss0)) -lt "$limit" ] || fail "worker RSS grew $((rss1 - rss0)) KiB over $cycles cycles"
}
