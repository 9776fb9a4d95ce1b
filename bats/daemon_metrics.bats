#!/usr/bin/env bats
# `forkchatd status --prometheus` (forkchatd(8) METRICS, docs/OPERATIONS.md):
# the Prometheus text format that promtool accepts, under load, and
# counters that only go up across a SIGHUP and a worker's kill -9.

bats_require_minimum_version 1.5.0
load helpers

metrics() {
	"$FORKCHATD" status --prometheus -S "$FC_CTL"
}

# the value of one series, e.g. metric 'forkchat_users{dialect="okfail"}'
metric() {
	metrics | awk -v k="$1" '$1 == k { print $2; found=1 } END { if (!found) print "none" }'
}

# the sum over every series of a metric name
metric_sum() {
	metrics | awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $2 } END { print s + 0 }'
}

# Prints every counter series as "name{labels} value", sorted.
counters() {
	metrics | awk '/^# TYPE / { type[$3] = $4; next } /^#/ { next }
		{ n = $1; sub(/\{.*/, "", n); if (type[n] == "counter") print }' | sort
}

# Holds clients of every dialect, TLS ones too, and a FILE in flight,
# until killed; prints "ready" once all of them are in place.
hold_load() {
	"$FC_PY" - "$OKPORT" "$NUMPORT" "$OKTLS" "$NUMTLS" <<'PY' &
import socket, ssl, sys, time
ok, num, oktls, numtls = map(int, sys.argv[1:5])
keep = []
def conn(port, tls=False):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s)
    keep.append(s)
    return s, s.makefile("rb")
def want(f, prefix):
    while True:
        l = f.readline()
        if not l:
            sys.exit(f"closed waiting for {prefix}")
        if l.startswith(prefix.encode()):
            return l
for i, tls in ((0, False), (1, False), (2, True)):
    s, f = conn(oktls if tls else ok, tls)
    want(f, "INIT")
    s.sendall(f"IDENT ok{i}\n".encode()); want(f, f"OK IDENT ok{i}")
    s.sendall(f"BCST hello from ok{i}\n".encode()); want(f, "OK BCST")
    if i:
        s.sendall(b"PM ok0 hi\n"); want(f, "OK PM")
for i, tls in ((0, False), (1, False), (2, True)):
    s, f = conn(numtls if tls else num, tls)
    s.sendall(f"USER nu{i}\n".encode()); want(f, "200 Welcome")
    if i == 0:
        s.sendall(b"ROOM lobby\n"); want(f, "200 Room")
    s.sendall(b"JOIN lobby\n"); want(f, "200 Joined")
    s.sendall(f"SEND lobby hi from nu{i}\n".encode()); want(f, "200 Sent")
    if i == 1:
        rx = (s, f)
    if i == 2:
        # a file to nu1, half sent: in flight while the metrics are read
        s.sendall(b"FILE nu1 big.bin 1000000\n"); want(f, "100")
        s.sendall(b"x" * 200000)
print("ready", flush=True)
time.sleep(60)
PY
	LOAD=$!
}

teardown() {
	[ -z "${LOAD:-}" ] || kill "$LOAD" 2>/dev/null || true
	fc_stop
}

@test "metrics: promtool check metrics accepts a loaded daemon's output, with every family" {
	command -v promtool >/dev/null || skip "promtool is not installed (Debian package prometheus)"
	fc_make_cert one localhost
	printf 'tls-cert = one.pem\ntls-key = one.key\n' >"$BATS_TEST_TMPDIR/tls.conf"
	fc_start -c "$BATS_TEST_TMPDIR/tls.conf" -l okfail+tls=127.0.0.1:0 -l numeric+tls=127.0.0.1:0
	OKTLS=$(fc_port_of okfail+tls)
	NUMTLS=$(fc_port_of numeric+tls)
	hold_load >"$BATS_TEST_TMPDIR/load.out" 2>&1
	fc_until "grep -q ready '$BATS_TEST_TMPDIR/load.out' || ! kill -0 $LOAD"
	grep -q ready "$BATS_TEST_TMPDIR/load.out" || fail "load: $(cat "$BATS_TEST_TMPDIR/load.out")"
	metrics >"$BATS_TEST_TMPDIR/m.prom"
	run -0 promtool check metrics <"$BATS_TEST_TMPDIR/m.prom"
	[ -z "$output" ] || fail "promtool: $output"
	# each family the documentation promises is there, with HELP and TYPE
	local f
	for f in forkchat_connections forkchat_connections_accepted_total forkchat_users \
		forkchat_logins_total forkchat_messages_total forkchat_deliveries_total \
		forkchat_received_bytes_total forkchat_sent_bytes_total forkchat_sendq_bytes \
		forkchat_disconnects_total forkchat_flood_delays_total forkchat_worker_restarts_total \
		forkchat_worker_up forkchat_registry_lock_waits_total \
		forkchat_registry_lock_takeovers_total forkchat_file_transfers_started_total \
		forkchat_file_transfers_finished_total forkchat_file_transfers_active \
		forkchat_file_transferred_bytes_total forkchat_tls_handshakes_total \
		forkchat_rooms forkchat_start_time_seconds; do
		grep -q "^# TYPE $f " "$BATS_TEST_TMPDIR/m.prom" || fail "no family $f"
	done
	# and the values tell what the load did (summed over the workers)
	local want k v
	for want in 'forkchat_users{dialect="okfail"} 3' 'forkchat_users{dialect="numeric"} 3' \
		'forkchat_rooms 1' 'forkchat_worker_up 3' \
		'forkchat_connections{dialect="okfail" 3' 'forkchat_connections{dialect="numeric" 3' \
		'forkchat_logins_total{dialect="okfail" 3' 'forkchat_logins_total{dialect="numeric" 3' \
		'forkchat_messages_total{kind="broadcast" 3' 'forkchat_messages_total{kind="private" 2' \
		'forkchat_messages_total{kind="room" 3' 'forkchat_tls_handshakes_total{result="ok" 2' \
		'forkchat_file_transfers_started_total 1' 'forkchat_file_transfers_active 1'; do
		k=${want% *}
		v=$(awk -v k="$k" 'index($1, k) == 1 && (substr($1, length(k) + 1, 1) ~ /^[{,]?$/ || k ~ /[{]/) { s += $2 } END { print s + 0 }' "$BATS_TEST_TMPDIR/m.prom")
		[ "$v" = "${want##* }" ] || fail "$k: $v, want ${want##* }"
	done
	for k in forkchat_received_bytes_total forkchat_sent_bytes_total \
		forkchat_deliveries_total forkchat_file_transferred_bytes_total; do
		v=$(awk -v k="$k" 'index($1, k "{") == 1 { s += $2 } END { print s + 0 }' "$BATS_TEST_TMPDIR/m.prom")
		[ "$v" -gt 0 ] || fail "$k is 0 under load"
	done
}

@test "metrics: counters only go up across a SIGHUP and a worker's kill -9" {
	printf 'max-line = 8192\n' >"$BATS_TEST_TMPDIR/c.conf"
	fc_start -c "$BATS_TEST_TMPDIR/c.conf"
	fc_login alice
	local i
	for i in 1 2 3 4 5; do
		fc_send alice "BCST m$i"
		fc_expect alice "OK BCST m$i"
	done
	local w
	w=$(fc_worker_of alice)
	counters >"$BATS_TEST_TMPDIR/a"
	grep -q "forkchat_messages_total{kind=\"broadcast\",worker=\"$w\"} 5" "$BATS_TEST_TMPDIR/a" ||
		fail "alice's 5 messages not counted: $(grep messages_total "$BATS_TEST_TMPDIR/a")"
	# SIGHUP: a reload
	kill -HUP "$FC_PID"
	fc_until "grep -q 'configuration reloaded' '$FC_LOG'"
	counters >"$BATS_TEST_TMPDIR/b"
	# kill -9 alice's worker: her counts must stay
	local pid
	pid=$(fc_worker_field "$w" pid)
	kill -9 "$pid"
	fc_until "[ \"\$(fc_worker_field $w pid)\" != $pid ] && [ \"\$(fc_worker_field $w up)\" = true ]"
	counters >"$BATS_TEST_TMPDIR/c"
	fc_login bob
	fc_send bob "BCST after"
	fc_expect bob "OK BCST after"
	counters >"$BATS_TEST_TMPDIR/d"
	run -0 "$FC_PY" - "$BATS_TEST_TMPDIR"/{a,b,c,d} <<'PY'
import sys
snaps = []
for p in sys.argv[1:]:
    d = {}
    for line in open(p):
        k, v = line.rsplit(" ", 1)
        d[k] = float(v)
    snaps.append(d)
bad = []
for i in range(1, len(snaps)):
    for k, v in snaps[i - 1].items():
        if k not in snaps[i]:
            bad.append(f"{k} vanished in snapshot {i}")
        elif snaps[i][k] < v:
            bad.append(f"{k} went down: {v} -> {snaps[i][k]} (snapshot {i})")
print("\n".join(bad) or "monotonic")
sys.exit(1 if bad else 0)
PY
	[ "$output" = monotonic ]
	grep -q "^forkchat_worker_restarts_total{worker=\"$w\"} 1$" "$BATS_TEST_TMPDIR/c" ||
		fail "restart not counted: $(grep restarts "$BATS_TEST_TMPDIR/c")"
	grep -q "^forkchat_messages_total{kind=\"broadcast\",worker=\"$w\"} 5$" "$BATS_TEST_TMPDIR/c" ||
		fail "killed worker's count lost: $(grep 'messages_total' "$BATS_TEST_TMPDIR/c")"
}

@test "status --check: the registry of a running daemon passes its check (ok); --request sends a request as it is" {
	fc_start
	fc_login alice
	run -0 --separate-stderr "$FORKCHATD" status --check -S "$FC_CTL"
	[ "$output" = ok ] || fail "status --check said: $output"
	run -0 --separate-stderr "$FORKCHATD" status --request "users json" -S "$FC_CTL"
	[[ $output == *'"name":"alice"'* ]] || fail "users json said: $output"
	run -0 --separate-stderr "$FORKCHATD" status --request "no such" -S "$FC_CTL"
	[[ $output == "error: unknown request 'no such'"* ]] || fail "said: $output"
}
