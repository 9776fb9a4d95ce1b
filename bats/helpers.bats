#!/usr/bin/env bats
# The test kit's own test: every assertion helper of bats/helpers.bash and
# bats/client_helpers.bash fails on the wrong input (an open silent
# connection, a wrong line, a line that comes too late, a close, a partial
# line) and passes on the right one. The peer is a scripted server written
# below, driven by the test itself, so every case is deterministic: a line
# "comes too late" because the server sends it only when asked, after the
# helper gave up. Failing cases run under `run`, where errexit is off, so a
# helper that does not return non-zero by itself is caught too.

load client_helpers

# The scripted server. Two ports: the "okfail" one greets with INIT, the
# "numeric" one is silent. On both, the client's lines are commands:
#   SAY TEXT    send TEXT + LF          CRLF TEXT   send TEXT + CR LF
#   RAW TEXT    send TEXT, no newline   CLOSE       close the connection
#   RESET       close with a TCP reset  IDENT NAME  answer OK IDENT NAME
#   USER NAME   answer 200 Welcome NAME! (NAME "taken": 410 Name taken)
# After each command it appends "done CMD ARG" to the log, so a test can
# wait until the bytes are in the client's receive queue.
stub_py() {
	cat <<'PY'
import os, socket, struct, sys, threading
portfile, log = sys.argv[1], sys.argv[2]
lock = threading.Lock()
def done(line):
    with lock, open(log, "ab") as f:
        f.write(b"done " + line + b"\n")
def serve(c, greet):
    if greet:
        c.sendall(b"INIT Welcome to the server!\n")
    for line in c.makefile("rb"):
        line = line.rstrip(b"\r\n")
        cmd, _, arg = line.partition(b" ")
        if cmd == b"SAY":
            c.sendall(arg + b"\n")
        elif cmd == b"CRLF":
            c.sendall(arg + b"\r\n")
        elif cmd == b"RAW":
            c.sendall(arg)
        elif cmd == b"IDENT":
            c.sendall(b"OK IDENT " + arg + b"\n")
        elif cmd == b"USER":
            c.sendall(b"410 Name taken\n" if arg == b"taken" else
                      b"200 Welcome " + arg + b"!\n")
        elif cmd == b"RESET":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
            c.close()
            done(line)
            return
        elif cmd == b"CLOSE":
            c.close()
            done(line)
            return
        done(line)
    c.close()
def listen(greet):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    def loop():
        while True:
            c, _ = s.accept()
            threading.Thread(target=serve, args=(c, greet), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
    return s.getsockname()[1]
ports = "%d %d\n" % (listen(True), listen(False))
with open(portfile + ".tmp", "w") as f:
    f.write(ports)
os.rename(portfile + ".tmp", portfile)
threading.Event().wait()
PY
}

setup_file() {
	local pf=$BATS_FILE_TMPDIR/stub.ports
	export STUB_LOG=$BATS_FILE_TMPDIR/stub.log
	: >"$STUB_LOG"
	stub_py >"$BATS_FILE_TMPDIR/stub.py"
	"$FC_PY" "$BATS_FILE_TMPDIR/stub.py" "$pf" "$STUB_LOG" 3>&- &
	export STUB_PID=$!
	local deadline=$((SECONDS + 10))
	until [ -s "$pf" ]; do
		[ $SECONDS -lt $deadline ] || fail "the scripted server did not start"
		sleep 0.02
	done
	read -r STUB_GREET STUB_SILENT <"$pf"
	export STUB_GREET STUB_SILENT
}

teardown_file() {
	kill "$STUB_PID" 2>/dev/null || true
}

setup() {
	OKPORT=$STUB_GREET
	NUMPORT=$STUB_SILENT
}

# a connection to the silent port, and one to the greeting port
silent() { fc_connect "$1" numeric; }

# cmd NAME CMD ARG: have the server do CMD and wait until it has done it
cmd() {
	local stub_n stub_line="$2${3+ $3}"
	stub_n=$(grep -c . "$STUB_LOG" || true)
	fc_send "$1" "$stub_line"
	fc_until '[ "$(grep -c . "$STUB_LOG")" -gt $stub_n ] && grep -qxF "done $stub_line" "$STUB_LOG"'
}

# failed MSG: the helper run by `run` returned non-zero and said MSG
failed() {
	[ "$status" -ne 0 ] || fail "the helper passed; it should have failed (output: $output)"
	[[ $output == *"$1"* ]] || fail "the helper failed without '$1': $output"
}

# ---- fc_read: the three outcomes ----

@test "fc_read: 0 on a line (CR stripped), 2 at the deadline, 1 on a close" {
	silent s
	cmd s CRLF "one line"
	fc_read s 1
	[ "$FC_LAST" = "one line" ]
	fc_read s 0.2 || [ $? -eq 2 ] || fail "a silent connection did not give 2"
	cmd s SAY "two"
	fc_read s
	[ "$FC_LAST" = two ]
	cmd s CLOSE
	fc_read s || [ $? -eq 1 ] || fail "a closed connection did not give 1"
	run fc_read nobody
	failed "no connection called 'nobody'"
}

# ---- fc_expect ----

@test "fc_expect: passes on the right line; fails on a wrong line, silence, a late line, a close" {
	silent s
	cmd s SAY "right"
	fc_expect s "right"
	cmd s CRLF "right"
	fc_expect s "right"
	cmd s SAY "wrong"
	run fc_expect s "right"
	failed "expected 'right', got 'wrong'"
	# nothing comes within the deadline; the line comes after it
	FC_TIMEOUT=0.5 run fc_expect s "late"
	failed "got nothing within 0.5 s"
	cmd s SAY "late"
	fc_expect s "late"
	# a prefix of the line is not the line
	cmd s SAY "right and more"
	run fc_expect s "right"
	failed "got 'right and more'"
	cmd s RAW "righ"
	FC_TIMEOUT=0.5 run fc_expect s "right"
	failed "got the partial line 'righ' and nothing more within 0.5 s"
	cmd s CLOSE
	run fc_expect s "right"
	failed "the connection closed"
	run fc_expect nobody "right"
	failed "no connection called 'nobody'"
}

# ---- fc_expect_match ----

@test "fc_expect_match: passes on a match; fails on a mismatch, silence, a close" {
	silent s
	cmd s SAY "FAIL04 Command unknown"
	fc_expect_match s '^FAIL[0-9]{2} '
	cmd s SAY "OK IDENT x"
	run fc_expect_match s '^FAIL[0-9]{2} '
	failed "got 'OK IDENT x'"
	FC_TIMEOUT=0.5 run fc_expect_match s '^OK'
	failed "got nothing within 0.5 s"
	cmd s CLOSE
	run fc_expect_match s '.*'
	failed "the connection closed"
}

# ---- fc_wait_for ----

@test "fc_wait_for: skips other lines to the right one; fails on silence, a late line, a close" {
	silent s
	cmd s SAY "noise 1"
	cmd s SAY "noise 2"
	cmd s SAY "wanted"
	fc_wait_for s "wanted"
	cmd s SAY "noise 3"
	FC_TIMEOUT=1 run fc_wait_for s "wanted"
	failed "'wanted' never came within 1 s (saw: noise 3 | )"
	cmd s SAY "wanted"
	fc_wait_for s "wanted"
	# a close ends the wait at once, not at the deadline
	cmd s SAY "last words"
	cmd s CLOSE
	local t0
	t0=$(fc_now_ms)
	FC_TIMEOUT=5 run fc_wait_for s "wanted"
	failed "the connection closed (saw: last words | )"
	[ $(($(fc_now_ms) - t0)) -lt 4000 ] || fail "fc_wait_for waited for the deadline on a closed connection"
}

# ---- fc_expect_silent ----

@test "fc_expect_silent: passes on an open silent connection; fails on a line, a partial line, a close" {
	silent s
	fc_expect_silent s 0.2
	cmd s SAY "a line"
	run fc_expect_silent s 0.2
	failed "expected silence on an open connection, got the line 'a line'"
	cmd s RAW "part"
	run fc_expect_silent s 0.2
	failed "got the partial line 'part' and nothing more within 0.2 s"
	cmd s CLOSE
	run fc_expect_silent s 0.2
	failed "expected silence on an open connection, got the connection closed"
}

# ---- fc_expect_closed ----

@test "fc_expect_closed: fails on an open silent connection" {
	silent s
	FC_TIMEOUT=0.5 run fc_expect_closed s
	failed "expected the server to close, got nothing within 0.5 s"
	# and it really is open: the server still answers
	cmd s SAY "still here"
	fc_expect s "still here"
}

@test "fc_expect_closed: fails on a line instead of the close, passes on the close after it" {
	silent s
	cmd s SAY "bye"
	cmd s CLOSE
	run fc_expect_closed s
	failed "got the line 'bye'"
	fc_expect_closed s
}

@test "fc_expect_closed: fails on a partial line before the close; passes on a reset" {
	silent s
	cmd s RAW "half a li"
	cmd s CLOSE
	run fc_expect_closed s
	failed "got the partial line 'half a li', then the connection closed"
	silent r
	cmd r RESET
	fc_expect_closed r
	run fc_expect_closed nobody
	failed "no connection called 'nobody'"
}

@test "fc_expect_closed against forkchatd: a logged-in client is not closed; QUIT closes after OK GOODBYE" {
	fc_start
	fc_login alice
	FC_TIMEOUT=0.5 run fc_expect_closed alice
	failed "expected the server to close, got nothing within 0.5 s"
	fc_send alice "QUIT"
	run fc_expect_closed alice
	failed "got the line 'OK GOODBYE'"
	fc_expect_closed alice
}

# ---- the composite helpers stop at their first failing step ----

@test "fc_login: passes on the greeting and OK IDENT; fails without the greeting even if OK IDENT follows" {
	fc_login alice
	OKPORT=$STUB_SILENT FC_TIMEOUT=0.5 run fc_login bob
	failed "bob: expected 'INIT Welcome to the server!', got nothing"
}

@test "fc_login_numeric: passes on 200 Welcome; fails on another reply" {
	fc_login_numeric ann
	run fc_login_numeric taken
	failed "expected '200 Welcome taken!', got '410 Name taken'"
}

@test "fc_send: fails on an unknown connection" {
	run fc_send nobody "hello"
	failed "no connection called 'nobody'"
	run fc_send_raw nobody "hello"
	failed "no connection called 'nobody'"
}

# ---- fc_until ----

@test "fc_until: passes once the condition holds; fails at the deadline when it never does" {
	local c=$BATS_TEST_TMPDIR/count
	: >"$c"
	fc_until 'echo x >>"$c"; [ "$(wc -l <"$c")" -ge 3 ]'
	[ "$(wc -l <"$c")" -eq 3 ]
	local t0
	t0=$(fc_now_ms)
	FC_TIMEOUT=0.5 run fc_until false
	failed "condition never held within 0.5 s: false"
	[ $(($(fc_now_ms) - t0)) -ge 500 ] || fail "fc_until gave up before its deadline"
}

# ---- the client kit: cl_wait, cl_wait_match, cl_end, cl_wait_exit ----

@test "cl_wait: passes on the exact line; fails on another line and on a line that comes too late" {
	FORKCHAT=cat cl_start c
	cl_send c "hello there"
	cl_wait c "hello there"
	FC_TIMEOUT=0.5 run cl_wait c "hello"
	failed "c: 'hello' never came"
	cl_send c "hello"
	cl_wait c "hello"
}

@test "cl_wait_match: passes on a match; fails when nothing matches by the deadline" {
	FORKCHAT=cat cl_start c
	cl_send c "OK BCST hi"
	cl_wait_match c '^OK BCST'
	run cl_wait_match c '^FAIL' 0.5
	failed "c: /^FAIL/ never came"
}

@test "cl_end: sets CL_STATUS to the exit status; fails on a client that does not exit" {
	FORKCHAT=sh cl_start c -c 'cat >/dev/null; exit 3'
	cl_end c
	[ "$CL_STATUS" -eq 3 ]
	FORKCHAT=sleep cl_start z 60
	FC_TIMEOUT=0.5 run cl_end z
	failed "z did not exit"
	run cl_wait_exit nobody
	failed "no client called 'nobody'"
}
