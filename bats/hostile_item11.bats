#!/usr/bin/env bats
# Issue 12, item 11: limits the operating system sets. The master raises
# RLIMIT_NOFILE's soft limit to the hard one; when --max-clients cannot fit
# it says so and a worker answers the clients past its share with "Server
# full" instead of hanging them; every connection has TCP keepalive
# (--tcp-keepalive, 60 s idle, then 10 s x 3 probes).

bats_require_minimum_version 1.5.0
load helpers

worker_pid() {
	fc_status_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["workers"][0]["pid"])'
}

nofile() { # PID: "soft hard" of Max open files
	awk '/Max open files/ {print $4, $5}' "/proc/$1/limits"
}

@test "hostile item 11: the soft open-files limit is raised to the hard one in the master and the workers" {
	local hard
	hard=$(ulimit -Hn)
	[ "$hard" != unlimited ] || hard=1048576
	# start with a low soft limit (the hard one stays)
	ulimit -Sn 256
	FC_WORKERS=2 fc_start
	[ "$(nofile "$FC_PID")" = "$hard $hard" ] || fail "master: $(nofile "$FC_PID"), hard $hard"
	local w
	w=$(worker_pid)
	[ "$(nofile "$w")" = "$hard $hard" ] || fail "worker: $(nofile "$w"), hard $hard"
}

@test "hostile item 11: close.fd-limit: --max-clients past the open-files limit: a clear warning, and Server full past it instead of a hang" {
	# a hard limit of 256 for the daemon only: one worker fits 256 - 100
	# clients (forkchatd.8), far fewer than 1000
	local real=$FORKCHATD
	FORKCHATD=$BATS_TEST_TMPDIR/forkchatd-256
	printf '#!/bin/sh\nexec prlimit --nofile=256:256 -- "%s" "$@"\n' "$real" >"$FORKCHATD"
	chmod +x "$FORKCHATD"
	FC_WORKERS=1 fc_start --max-clients 1000 --max-per-ip 0
	grep -q "max-clients 1000 does not fit the open-files limit 256" "$FC_LOG" ||
		fail "no warning: $(cat "$FC_LOG")"
	python3 - "$OKPORT" <<'PY' >"$BATS_TEST_TMPDIR/out"
import socket, sys, time
port = int(sys.argv[1])
socks, first = [], {}
for i in range(400):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(5)
    try:
        l = s.recv(200).decode().strip()
    except socket.timeout:
        l = "HANG"
    first[l] = first.get(l, 0) + 1
    socks.append(s)
    if l != "INIT Welcome to the server!":
        break
print(" ".join(f"{k.replace(' ', '_')}={v}" for k, v in first.items()))
PY
	local out=$(cat "$BATS_TEST_TMPDIR/out")
	echo "$out" >&3
	[[ $out == *"FAIL14_Server_full=1"* ]] || fail "no Server full past the limit: $out"
	[[ $out != *HANG* ]] || fail "a client hung: $out"
	local n=$(fc_kv INIT_Welcome_to_the_server! "$out")
	[ "$n" -ge 120 ] || fail "too few clients fit: $out"
}

@test "hostile item 11: close.keepalive: every connection, okfail and numeric, has TCP keepalive with the documented 60 s idle time" {
	fc_start
	fc_login alice
	fc_login_numeric nina
	local out
	# ss shows the keepalive timer once the last reply is acknowledged
	# (while bytes are in flight it shows the retransmission timer)
	srv() { ss -tnoH state established "( sport = :$OKPORT or sport = :$NUMPORT )"; }
	fc_until '[ "$(srv | grep -c "timer:(keepalive")" = 2 ]' ||
		fail "no keepalive timer on the server side: $(srv)"
	# the idle time is the setting's
	fc_stop
	fc_start --tcp-keepalive 7
	fc_login_numeric bob
	fc_until 'srv | grep -q "timer:(keepalive"' || fail "$(srv)"
	out=$(srv)
	[[ $out =~ timer:\(keepalive,([0-9.]+)(sec|ms) ]] || fail "$out"
	[ "${BASH_REMATCH[1]%%.*}" -le 7 ] || fail "idle time not 7 s: $out"
	fc_stop
	fc_start --tcp-keepalive 0
	fc_login_numeric bob
	fc_until '[ "$(srv | grep -c .)" -ge 1 ] && ! srv | grep -q "timer:(on"' ||
		fail "$(srv)"
	out=$(srv)
	[[ $out != *keepalive* ]] || fail "keepalive on although 0: $out"
}
