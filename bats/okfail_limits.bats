#!/usr/bin/env bats
# Connection limits and server-initiated closes, docs/PROTOCOL.md
# ("Connection limits and server-initiated closes"), both dialects: the
# okfail DSCN/FAILnn line and the numeric 9xx code of each.

load helpers

BG=()

@test "close.full: FAIL14 / 900 Server full instead of the greeting at --max-clients, then close" {
	fc_start --max-clients 2
	fc_connect a okfail
	fc_expect a "INIT Welcome to the server!"
	fc_connect b numeric
	fc_send b "LIRO"
	fc_expect b "600 Please log in first: USER <name>"
	fc_until '[ "$(fc_status_json | grep -o "\"clients\":[0-9]*" | head -1)" = "\"clients\":2" ]'
	fc_connect c okfail
	fc_expect c "FAIL14 Server full"
	fc_expect_closed c
	fc_connect d numeric
	fc_expect d "900 Server full"
	fc_expect_closed d
	# a freed place can be used again
	fc_close b
	fc_until '[ "$(fc_status_json | grep -o "\"clients\":[0-9]*" | head -1)" = "\"clients\":1" ]'
	fc_connect e okfail
	fc_expect e "INIT Welcome to the server!"
}

@test "close.per-ip: FAIL15 / 901 Too many connections from your address at --max-per-ip, then close" {
	fc_start --max-per-ip 2
	fc_connect a okfail
	fc_expect a "INIT Welcome to the server!"
	fc_connect b okfail
	fc_expect b "INIT Welcome to the server!"
	fc_connect c okfail
	fc_expect c "FAIL15 Too many connections from your address"
	fc_expect_closed c
	fc_connect d numeric
	fc_expect d "901 Too many connections from your address"
	fc_expect_closed d
	fc_close a
	fc_until 'fc_connect e okfail && fc_read e 2 && [ "$FC_LAST" = "INIT Welcome to the server!" ] || { fc_close e; false; }'
}

@test "close.login-timeout: DSCN Login timeout / 902 Login timeout for connections not logged in" {
	fc_start --login-timeout 0.3
	fc_connect a okfail
	fc_expect a "INIT Welcome to the server!"
	fc_connect n numeric
	fc_login bob
	fc_expect a "DSCN Login timeout"
	fc_expect_closed a
	fc_expect n "902 Login timeout"
	fc_expect_closed n
	# a logged-in user is not affected
	fc_send bob "USERS"
	fc_expect bob "FAIL06 YOU ARE THE ONLY CONNECTED USER"
}

@test "close.line-timeout: DSCN Line timeout / 906 Line timeout for a line never ended" {
	fc_start --line-timeout 0.3
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_login_numeric nina
	fc_expect alice "JOINED nina"
	fc_expect bob "JOINED nina"
	fc_send_raw bob "BCST never ends"
	fc_send_raw nina "LIRO"
	fc_wait_for bob "DSCN Line timeout"
	fc_expect_closed bob
	fc_wait_for nina "906 Line timeout"
	fc_expect_closed nina
	fc_wait_for alice "LEFT bob"
}

@test "close.sendq: a client that reads is not closed when one burst pushes more than --sendq-hard to it at once" {
	fc_start --sendq-hard 4096 --sendq-soft 2048 --sendq-soft-seconds 600 \
		--flood-rate 0
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	# 80 PMs of ~110 bytes in one write: ~9 KB for bob in one loop pass,
	# all of which bob's empty socket buffer takes at once
	local text burst="" i
	text=$(printf 'x%.0s' $(seq 100))
	for i in $(seq 80); do burst+="PM bob $i $text\n"; done
	fc_send_raw alice "$burst"
	for i in $(seq 80); do fc_expect alice "OK PM bob $i $text"; done
	for i in $(seq 80); do fc_expect bob "NPM alice $i $text"; done
	fc_send bob "PM alice still here"
	fc_expect bob "OK PM alice still here"
	fc_expect alice "NPM bob still here"
}

@test "close.sendq: a client that does not read is closed past --sendq-hard; a final DSCN / 903 stands on a line of its own" {
	fc_start --sendq-hard 4096 --sendq-soft 1024 --sendq-soft-seconds 600 \
		--flood-rate 0
	T=$BATS_TEST_TMPDIR
	# victims with tiny receive buffers that read nothing until told
	"$FC_PYTHON" - "$OKPORT" "$NUMPORT" "$T" 3>&- <<'PY' &
import socket, sys, os, time
ok, nu, t = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks = []
for port, login in ((ok, b"IDENT slow\n"), (nu, b"USER nslow\n")):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(login)
    socks.append(s)
open(t + "/victims", "w").close()
end = time.time() + 30
while not os.path.exists(t + "/drain") and time.time() < end:
    time.sleep(0.02)
for s, name in zip(socks, ("ok", "num")):
    s.settimeout(10)
    buf = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    open(t + "/" + name, "wb").write(buf)
PY
	BGPID=$!
	BG=($BGPID)
	fc_until "[ -e '$T/victims' ]"
	fc_login_numeric talker
	fc_until '[ "$(fc_worker_of_quick nslow)" != -1 ] && [ "$(fc_worker_of_quick slow)" != -1 ]'
	local text i
	text=$(printf 'm%.0s' $(seq 1 1000))
	fc_login alice
	for i in $(seq 1 4000); do
		fc_send talker "PRIV slow $text"
		fc_send talker "PRIV nslow $text"
		if [ $((i % 100)) = 0 ]; then
			fc_read talker 0.01 || true
			[ "$(fc_worker_of_quick slow)" = -1 ] && [ "$(fc_worker_of_quick nslow)" = -1 ] && break
		fi
	done
	fc_until '[ "$(fc_worker_of_quick slow)" = -1 ] && [ "$(fc_worker_of_quick nslow)" = -1 ]'
	touch "$T/drain"
	wait $BGPID
	# the final line is best effort (it must fit in the socket's buffer);
	# when it comes it is the last line and stands on a line of its own
	if grep -q "DSCN Output queue exceeded" "$T/ok"; then
		[ "$(tail -c 28 "$T/ok")" = $'\nDSCN Output queue exceeded' ] ||
			fail "okfail victim ended with: $(tail -c 80 "$T/ok" | od -c | tail -3)"
	fi
	if grep -q "903 Output queue exceeded" "$T/num"; then
		[ "$(tail -c 27 "$T/num")" = $'\n903 Output queue exceeded' ] ||
			fail "numeric victim ended with: $(tail -c 80 "$T/num" | od -c | tail -3)"
	fi
	fc_wait_for alice "LEFT slow"
}

@test "close.flood: DSCN Flooding / 904 Flooding for a client far over --flood-rate" {
	fc_start --flood-rate 1 --flood-burst 1 --flood-max-queued 1
	local blob
	# lines that get no reply of their own: only the 904 / DSCN comes back
	fc_login_numeric nina
	blob=$(for i in $(seq 1 700); do printf 'USEK flood line number %04d\n' "$i"; done)
	printf '%s\n' "$blob" >&"${FC_FD[nina]}"
	fc_expect nina "904 Flooding"
	fc_expect_closed nina
	fc_login alice
	blob=$(for i in $(seq 1 700); do printf 'OK flood line number %04d\n' "$i"; done)
	printf '%s\n' "$blob" >&"${FC_FD[alice]}"
	fc_expect alice "DSCN Flooding"
	fc_expect_closed alice
}

@test "close.flood: the final 904 line survives when the client has earlier lines still unread" {
	fc_start --flood-rate 1 --flood-burst 1 --flood-max-queued 1
	fc_login_numeric nina
	fc_login_numeric nico
	fc_expect nina "710 nico login"
	fc_close nico # nina now has '711 nico logout' unread
	local blob
	blob=$(for i in $(seq 1 700); do printf 'USEK flood line number %04d\n' "$i"; done)
	printf '%s\n' "$blob" >&"${FC_FD[nina]}"
	fc_wait_for nina "904 Flooding"
}

@test "close.shutdown: on SIGTERM okfail users get DSCN Server shutting down, every connection is closed" {
	fc_start
	fc_login alice
	fc_connect a okfail
	fc_expect a "INIT Welcome to the server!"
	fc_login_numeric nina
	fc_expect alice "JOINED nina"
	kill -TERM "$FC_PID"
	fc_expect alice "DSCN Server shutting down"
	fc_expect_closed alice
	fc_expect a "DSCN Server shutting down"
	fc_expect_closed a
	fc_expect_closed nina
}

teardown() {
	local p
	for p in "${BG[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	fc_stop
}
