#!/usr/bin/env bats
# Issue 12, item 3: with the default settings idle sockets and half-sent TLS
# handshakes cannot hold slots for good: a login deadline (60 s) with a
# clear line, a TLS handshake deadline (10 s), a per-address limit (64).

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	fc_make_cert one localhost "$BATS_FILE_TMPDIR"
}

tls_start() {
	fc_start --tls-cert "$BATS_FILE_TMPDIR/one.pem" --tls-key "$BATS_FILE_TMPDIR/one.key" \
		-l okfail+tls=127.0.0.1:0 -l numeric+tls=127.0.0.1:0 "$@"
	OKTLS=$(fc_port_of okfail+tls)
	NUMTLS=$(fc_port_of numeric+tls)
}

# hold N sockets to PORT from 127.0.0.1, each sending PREFIX (hex bytes)
# and then nothing; print the seconds after which each was closed
hold_sockets() {
	python3 - "$@" <<'PY'
import socket, sys, time, select
port, n, prefix, limit = int(sys.argv[1]), int(sys.argv[2]), bytes.fromhex(sys.argv[3]), float(sys.argv[4])
socks, t0 = [], time.monotonic()
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    if prefix:
        s.sendall(prefix)
    socks.append(s)
open(sys.argv[5], "w").write("READY\n")
closed, last = {}, {}
while len(closed) < n and time.monotonic() - t0 < limit:
    r, _, _ = select.select([s for s in socks if s not in closed], [], [], 0.2)
    for s in r:
        try:
            d = s.recv(4096)
        except OSError:
            d = b""
        if d:
            last[s] = d
        else:
            closed[s] = time.monotonic() - t0
print(" ".join(f"{closed[s]:.1f}" if s in closed else "open" for s in socks))
for s in socks:
    if s in last:
        print(last[s].decode("utf-8", "replace").strip().splitlines()[-1])
PY
}

@test "hostile item 3: close.login-timeout: with the defaults a connection that never logs in gets DSCN Login timeout / 902 and is closed" {
	fc_start --ping-interval 3600
	fc_connect idle okfail
	fc_expect idle "INIT Welcome to the server!"
	fc_connect nidle numeric
	fc_login alice
	# the deadline is 60 s (forkchatd.8); allow for a loaded machine
	FC_TIMEOUT=75 fc_wait_for idle "DSCN Login timeout"
	FC_TIMEOUT=5 fc_wait_for nidle "902 Login timeout"
	fc_expect_closed idle
	fc_expect_closed nidle
	# a logged-in user is not touched
	fc_send alice USERS
	fc_wait_for alice "FAIL06 YOU ARE THE ONLY CONNECTED USER"
}

@test "hostile item 3: close.tls-handshake: with the defaults a half-sent TLS handshake and a silent TLS socket are closed within 10 s" {
	tls_start
	local out
	# 0x16 0x03 0x01: the start of a TLS record header, then nothing
	# each to its own file: two writers on one pipe interleave their lines
	local p
	hold_sockets "$OKTLS" 3 160301 20 "$BATS_TEST_TMPDIR/r1" >"$BATS_TEST_TMPDIR/o1" &
	p=$!
	hold_sockets "$NUMTLS" 3 "" 20 "$BATS_TEST_TMPDIR/r2" >"$BATS_TEST_TMPDIR/o2"
	wait "$p"
	out=$(cat "$BATS_TEST_TMPDIR/o1" "$BATS_TEST_TMPDIR/o2")
	echo "closed after: $out" >&3
	[[ $out != *open* ]] || fail "a half handshake was still open after 20 s: $out"
	local t
	for t in $(echo "$out" | head -2); do
		[ "${t%.*}" -ge 8 ] && [ "${t%.*}" -le 14 ] || fail "closed after $t s, not about 10: $out"
	done
}

@test "hostile item 3: 60 idle and half-handshake sockets cannot lock out a newcomer with the defaults" {
	tls_start
	hold_sockets "$OKPORT" 30 "" 40 "$BATS_TEST_TMPDIR/r1" >"$BATS_TEST_TMPDIR/h1" &
	local h1=$!
	hold_sockets "$OKTLS" 30 160301 40 "$BATS_TEST_TMPDIR/r2" >"$BATS_TEST_TMPDIR/h2" &
	local h2=$!
	fc_until '[ -e "$BATS_TEST_TMPDIR/r1" ] && [ -e "$BATS_TEST_TMPDIR/r2" ]'
	# a newcomer from the same address and one from another get in at once
	fc_login alice
	[ "$(fc_first_line_from 127.0.0.2 "$OKPORT")" = "INIT Welcome to the server!" ]
	fc_login_numeric bob
	fc_send alice "PM bob still open"
	fc_wait_for alice "OK PM bob still open"
	fc_expect bob "701 alice still open"
	kill "$h1" "$h2" 2>/dev/null || true
}

@test "hostile item 3: close.per-ip: with the defaults the 65th connection from one address gets FAIL15 / 901, another address is still served" {
	fc_start
	python3 - "$OKPORT" "$NUMPORT" "$BATS_TEST_TMPDIR/go" <<'PY' >"$BATS_TEST_TMPDIR/out" &
import socket, sys, time, os, select
ok, num, go = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks = []
for i in range(66):
    s = socket.create_connection(("127.0.0.1", ok if i % 2 else num))
    socks.append(s)
# which were refused? (accepts race each other: any two of the 66)
lines, t = {}, time.monotonic()
while time.monotonic() - t < 3:
    r, _, _ = select.select([s for s in socks if s not in lines], [], [], 0.2)
    for s in r:
        d = s.recv(200)
        lines[s] = d.decode().strip() if d else "EOF"
refused = [l for l in lines.values() if "Too many connections" in l]
print("refused=%d" % len(refused), flush=True)
for l in sorted(set(refused)):
    print(l, flush=True)
print("DONE", flush=True)
t = time.monotonic()
while not os.path.exists(go) and time.monotonic() - t < 30:
    time.sleep(0.05)
PY
	local job=$!
	FC_TIMEOUT=20 fc_until 'grep -q DONE "$BATS_TEST_TMPDIR/out"'
	grep -qx "refused=2" "$BATS_TEST_TMPDIR/out" || fail "$(cat "$BATS_TEST_TMPDIR/out")"
	grep -Eqx "FAIL15 Too many connections from your address|901 Too many connections from your address" \
		"$BATS_TEST_TMPDIR/out" || fail "$(cat "$BATS_TEST_TMPDIR/out")"
	[ "$(fc_first_line_from 127.0.0.2 "$OKPORT")" = "INIT Welcome to the server!" ]
	touch "$BATS_TEST_TMPDIR/go"
	wait "$job"
}
