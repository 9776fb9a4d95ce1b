#!/usr/bin/env bats
# Issue 12 item 9, local files: the pidfile and the log file are never
# opened through a symbolic link nor in a folder others can write; the
# default control socket lives in a per-user runtime directory; a squatted
# control socket is refused by the daemon and by `forkchatd status`; idle
# control clients never hold up the master (forkchatd(8) FILES, STATUS).

bats_require_minimum_version 1.5.0
load helpers

# a daemon that must refuse to start: -f, free ports, its own spool (the
# default one is machine state), FLAGS appended
start_refused() {
	run -1 --separate-stderr timeout 10 "$FORKCHATD" -f -w 1 \
		-l okfail=127.0.0.1:0 -l numeric=127.0.0.1:0 \
		--spool-dir "$BATS_TEST_TMPDIR/spool" "$@" </dev/null
}

# as user nobody (for squatters and non-root daemons); needs root
as_nobody() {
	setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"
}

# ... in SHARED, a folder under /tmp that nobody can reach
need_root_nobody() {
	[ "$(id -u)" = 0 ] || skip "needs root (to act as a second local user)"
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	command -v setpriv >/dev/null || skip "setpriv is not installed"
	SHARED=$(mktemp -d /tmp/forkchatd-item9.XXXXXX)
	chmod 0755 "$SHARED"
}

teardown() {
	fc_stop
	fc_detach_stop
	[ -z "${SHARED:-}" ] || rm -rf "$SHARED"
}

@test "item 9: a pidfile that is a symbolic link is refused, its target untouched" {
	local d=$BATS_TEST_TMPDIR
	printf 'precious\n' >"$d/victim"
	ln -s "$d/victim" "$d/forkchatd.pid"
	start_refused --control-socket "$d/ctl.sock" --pidfile "$d/forkchatd.pid"
	[ "$stderr" = "forkchatd: $d/forkchatd.pid is a symbolic link: refused" ] ||
		fail "stderr: $stderr"
	[ "$(cat "$d/victim")" = precious ] || fail "victim changed: $(cat "$d/victim")"
	[ ! -S "$d/ctl.sock" ]
}

@test "item 9: a log file that is a symbolic link is refused, its target untouched" {
	local d=$BATS_TEST_TMPDIR
	printf 'precious\n' >"$d/victim"
	ln -s "$d/victim" "$d/daemon.log"
	start_refused --control-socket "$d/ctl.sock" --log-file "$d/daemon.log"
	[[ $stderr == *"log file: $d/daemon.log is a symbolic link: refused" ]] ||
		fail "stderr: $stderr"
	[ "$(cat "$d/victim")" = precious ] || fail "victim changed: $(cat "$d/victim")"
	# a hard link to someone's file is refused too
	rm "$d/daemon.log"
	ln "$d/victim" "$d/daemon.log"
	start_refused --control-socket "$d/ctl.sock" --log-file "$d/daemon.log"
	[[ $stderr == *"$d/daemon.log has 2 hard links"* ]] || fail "stderr: $stderr"
	[ "$(cat "$d/victim")" = precious ]
}

@test "item 9: pidfile, log file and control socket are refused in a folder others can write" {
	local d=$BATS_TEST_TMPDIR/open
	mkdir "$d"
	chmod 0777 "$d"
	start_refused --control-socket "$BATS_TEST_TMPDIR/ctl.sock" --pidfile "$d/forkchatd.pid"
	[ "$stderr" = "forkchatd: folder $d is writable by others (mode 777)" ] ||
		fail "stderr: $stderr"
	[ ! -e "$d/forkchatd.pid" ]
	start_refused --control-socket "$BATS_TEST_TMPDIR/ctl.sock" --log-file "$d/log"
	[[ $stderr == *"folder $d is writable by others (mode 777)" ]] || fail "stderr: $stderr"
	start_refused --control-socket "$d/ctl.sock"
	[ "$stderr" = "forkchatd: folder $d is writable by others (mode 777)" ] ||
		fail "stderr: $stderr"
	[ ! -e "$d/ctl.sock" ]
	# the same folder made private is fine
	chmod 0755 "$d"
	FC_DPIDFILE=$d/forkchatd.pid FC_DLOG=$d/log FC_DCTL=$d/ctl.sock
	run -0 fc_detach_start
	FC_DPID=$(cat "$d/forkchatd.pid")
	grep -q 'listening dialect=numeric' "$d/log"
	fc_detach_stop
}

@test "item 9: a control socket squatted by another user is refused by the daemon and by status" {
	need_root_nobody
	local d=$SHARED/shared
	mkdir "$d"
	chmod 1777 "$d" # like /tmp: anyone may create, only the owner remove
	setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$FC_PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8)
print("squatting", flush=True)
while True:
    c, _ = s.accept()
    try:
        c.sendall(b"forkchatd pid 1, up 1s\nusers 0: all is well\n")
    except OSError:
        pass
    c.close()
' "$d/ctl.sock" >"$BATS_TEST_TMPDIR/squatter.out" 2>&1 3>&- &
	SQUATTER=$!
	fc_until "grep -q squatting '$BATS_TEST_TMPDIR/squatter.out'"
	# the owner's status refuses to print the squatter's text
	run -1 --separate-stderr "$FORKCHATD" status -S "$d/ctl.sock"
	[ -z "$output" ] || fail "printed the squatter's answer: $output"
	[[ $stderr == "forkchatd: refusing $d/ctl.sock: it is served by uid $(id -u nobody), "* ]] ||
		fail "stderr: $stderr"
	# the daemon does not start on someone else's socket
	start_refused --control-socket "$d/ctl.sock"
	[[ $stderr == "forkchatd: control socket $d/ctl.sock belongs to uid $(id -u nobody), not to us: refused"* ]] ||
		fail "stderr: $stderr"
	kill "$SQUATTER"
	wait "$SQUATTER" 2>/dev/null || true
}

@test "item 9: a non-root daemon's default control socket is in XDG_RUNTIME_DIR, never in /tmp" {
	need_root_nobody
	local rt=$SHARED/rt nuid
	nuid=$(id -u nobody)
	rm -f "/tmp/forkchatd-$nuid.sock"
	mkdir -m 0700 "$rt"
	chown nobody "$rt"
	local log=$BATS_TEST_TMPDIR/nobody.log
	XDG_RUNTIME_DIR=$rt setpriv --reuid=nobody --regid="$(id -g nobody)" \
		--clear-groups "$FORKCHATD" -f -w 1 -l okfail=127.0.0.1:0 \
		-l numeric=127.0.0.1:0 >"$log" 2>&1 </dev/null 3>&- &
	FC_PID=$!
	fc_until "grep -q 'listening dialect=numeric' '$log'"
	[ -S "$rt/forkchatd.sock" ] || fail "no socket in XDG_RUNTIME_DIR: $(cat "$log")"
	[ "$(stat -c '%a %u' "$rt/forkchatd.sock")" = "600 $nuid" ]
	[ ! -e "/tmp/forkchatd-$nuid.sock" ] || fail "socket made in /tmp"
	XDG_RUNTIME_DIR=$rt run -0 as_nobody "$FORKCHATD" status
	[[ $output == "forkchatd pid $FC_PID, up "* ]] || fail "status: $output"
	fc_stop
	# without XDG_RUNTIME_DIR there is no default: a clear line, no /tmp
	run -1 --separate-stderr env -u XDG_RUNTIME_DIR setpriv --reuid=nobody \
		--regid="$(id -g nobody)" --clear-groups "$FORKCHATD" status
	[[ $stderr == "forkchatd: no control socket: XDG_RUNTIME_DIR is not set"* ]] ||
		fail "stderr: $stderr"
}

@test "item 9: six idle control clients do not delay a worker respawn" {
	FC_WORKERS=2 fc_start
	local old pid0
	pid0=$(fc_worker_field 0 pid)
	# a worker that dies within 1 s of its start is respawned after a
	# back-off: let it grow older than that first
	fc_until "[ \$(ps -o etimes= -p $pid0) -ge 2 ]"
	# six clients that connect and never send a thing
	"$FC_PY" -c '
import socket, sys, time
cs = []
for _ in range(6):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); cs.append(s)
print("idle", flush=True)
time.sleep(15)
' "$FC_CTL" >"$BATS_TEST_TMPDIR/idle.out" 2>&1 3>&- &
	IDLE=$!
	fc_until "grep -q idle '$BATS_TEST_TMPDIR/idle.out'"
	local t0 t1
	t0=$(fc_now_ms)
	kill -9 "$pid0"
	fc_until "grep -q 'worker started slot=0 pid=[0-9]* gen=2' '$FC_LOG'"
	t1=$(fc_now_ms)
	kill "$IDLE"
	wait "$IDLE" 2>/dev/null || true
	echo "# respawn after $((t1 - t0)) ms with 6 idle control clients" >&3
	[ $((t1 - t0)) -lt 1500 ] || fail "respawn took $((t1 - t0)) ms"
	# and status answers meanwhile
	run -0 "$FORKCHATD" status -S "$FC_CTL"
	[[ $output == "forkchatd pid $FC_PID,"* ]]
}

@test "item 9: a control client that sends nothing is cut at its deadline" {
	fc_start
	run -0 "$FC_PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(10)
t = time.monotonic(); b = s.recv(100)
print(f"{b!r} {time.monotonic() - t:.1f}")
' "$FC_CTL"
	[[ $output =~ ^b\'\'\ ([0-9.]+)$ ]] || fail "output: $output"
	[ "${BASH_REMATCH[1]%.*}" -lt 5 ] || fail "cut after ${BASH_REMATCH[1]} s"
}
