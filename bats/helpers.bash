# Test kit for bats tests against a real forkchatd.
#
#   fc_start [daemon flags...]   start a daemon on free ports (OKPORT, NUMPORT)
#   fc_connect NAME okfail|numeric   open a client connection called NAME
#   fc_send NAME LINE            send LINE + "\n"
#   fc_send_raw NAME BYTES       send bytes as given (printf %b escapes)
#   fc_read NAME [SECS]          one line into FC_LAST; status 0 a line,
#                                1 closed (EOF or reset), 2 deadline passed,
#                                3 no connection NAME
#   fc_expect NAME LINE          the next line from NAME must be LINE
#   fc_expect_match NAME REGEX   the next line must match REGEX (bash =~)
#   fc_wait_for NAME LINE        skip lines until LINE comes (deadline); a
#                                close before it fails at once
#   fc_expect_silent NAME [SECS] the connection stays open and nothing (not
#                                even part of a line) arrives for SECS (0.3)
#   fc_expect_closed NAME        the next thing on NAME is the server's close:
#                                a line, a partial line or an open connection
#                                at the deadline fails
#   fc_login NAME / fc_login_numeric NAME   connect and log in as NAME
#   fc_worker_of USER            which worker serves USER (status socket)
#   fc_status_json               the daemon's status as JSON
#   fc_until COND                wait until the shell condition COND holds
#
# Every wait has a deadline (FC_TIMEOUT, default 5 s; fractions allowed);
# nothing sleeps and hopes. Each test starts its own daemon and stops only
# what it started. Every assertion helper returns non-zero when it fails,
# also where errexit is off (under `run`, in an `if` or an `||` list):
# bats/helpers.bats proves each of them against a scripted server.

bats_load_library bats-support
bats_load_library bats-assert

FORKCHATD=${FORKCHATD:-$BATS_TEST_DIRNAME/../bin/forkchatd}
FORKCHAT=${FORKCHAT:-$BATS_TEST_DIRNAME/../bin/forkchat}
FC_TIMEOUT=${FC_TIMEOUT:-5}
declare -gA FC_FD=()
FC_PID=
FC_LAST=

# fc_start [flags]: flags are appended (FC_WORKERS workers, default 3).
fc_start() {
	local dir=$BATS_TEST_TMPDIR
	FC_LOG=$dir/daemon.log
	FC_CTL=$dir/ctl.sock
	FC_PIDFILE=$dir/forkchatd.pid
	"$FORKCHATD" -f -w "${FC_WORKERS:-3}" \
		-l okfail=127.0.0.1:0 -l numeric=127.0.0.1:0 \
		--control-socket "$FC_CTL" --pidfile "$FC_PIDFILE" \
		--spool-dir "$dir/spool" \
		"$@" >"$FC_LOG" 2>&1 </dev/null &
	FC_PID=$!
	local deadline=$((SECONDS + 10))
	until grep -q 'listening dialect=numeric' "$FC_LOG" 2>/dev/null &&
		[ -s "$FC_PIDFILE" ]; do
		if ! kill -0 "$FC_PID" 2>/dev/null; then
			cat "$FC_LOG" >&2
			fail "forkchatd exited during start-up"
			return 1
		fi
		[ $SECONDS -lt $deadline ] || { fail "forkchatd did not start"; return 1; }
		sleep 0.02
	done
	OKPORT=$(sed -n 's/.*listening dialect=okfail addr=[^ ]*:\([0-9]*\) .*/\1/p' "$FC_LOG" | head -1)
	NUMPORT=$(sed -n 's/.*listening dialect=numeric addr=[^ ]*:\([0-9]*\) .*/\1/p' "$FC_LOG" | head -1)
	export OKPORT NUMPORT FC_PID FC_CTL
}

# Stop the daemon we started: TERM, then KILL after a deadline.
fc_stop() {
	local name
	for name in "${!FC_FD[@]}"; do
		{ exec {FC_FD[$name]}>&-; } 2>/dev/null || true
	done
	FC_FD=()
	[ -n "$FC_PID" ] || return 0
	kill -TERM "$FC_PID" 2>/dev/null || true
	local deadline=$((SECONDS + 10))
	while kill -0 "$FC_PID" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
		sleep 0.02
	done
	kill -KILL "$FC_PID" 2>/dev/null || true
	wait "$FC_PID" 2>/dev/null || true
	FC_PID=
}

teardown() {
	fc_stop
}

fc_connect() {
	local name=$1 dialect=${2:-okfail} port fd
	port=$OKPORT
	[ "$dialect" = numeric ] && port=$NUMPORT
	exec {fd}<>"/dev/tcp/127.0.0.1/$port" || { fail "cannot connect $name"; return 1; }
	FC_FD[$name]=$fd
}

fc_close() {
	{ exec {FC_FD[$1]}>&-; } 2>/dev/null || true
	unset "FC_FD[$1]"
}

# fc__fd NAME: FC_FDN = NAME's descriptor, or fail (a typo is no "close")
fc__fd() {
	FC_FDN=${FC_FD[$1]:-}
	[ -n "$FC_FDN" ] || { fail "no connection called '$1'"; return 1; }
}

fc_send() {
	fc__fd "$1" || return 1
	printf '%s\n' "$2" >&"$FC_FDN"
}

fc_send_raw() {
	fc__fd "$1" || return 1
	printf '%b' "$2" >&"$FC_FDN"
}

# fc__ms SECS: SECS (e.g. 5, 0.3) in whole milliseconds
fc__ms() {
	local s=$1 int frac=000
	int=${s%%.*}
	[[ $s == *.* ]] && frac=${s#*.}000
	echo $((10#${int:-0} * 1000 + 10#${frac:0:3}))
}

# fc_read NAME [SECS]: one line from NAME into FC_LAST (CR stripped), within
# SECS (default FC_TIMEOUT). Status: 0 a line; 1 the connection was closed
# or reset (FC_LAST holds any partial line); 2 the deadline passed (FC_LAST
# holds what part of a line came); 3 there is no connection NAME.
fc_read() {
	local name=$1 t=${2:-$FC_TIMEOUT} st=0
	FC_LAST=
	fc__fd "$name" || return 3
	IFS= read -r -t "$t" -u "$FC_FDN" FC_LAST 2>/dev/null || st=$?
	FC_LAST=${FC_LAST%$'\r'}
	[ $st -eq 0 ] && return 0
	[ $st -gt 128 ] && return 2
	return 1
}

# fc__got STATUS [SECS]: how a failed fc_read ended, for messages
fc__got() {
	case $1 in
	1) echo "${FC_LAST:+the partial line '$FC_LAST', then }the connection closed" ;;
	*) echo "${FC_LAST:+the partial line '$FC_LAST' and }nothing${FC_LAST:+ more} within ${2:-$FC_TIMEOUT} s" ;;
	esac
}

# fc__instead NAME WANT STATUS [SECS]: fail, saying what fc_read (STATUS)
# got instead of WANT
fc__instead() {
	case $3 in
	0) fail "$1: expected $2, got the line '$FC_LAST'" ;;
	3) return 1 ;; # fc__fd has said it
	*) fail "$1: expected $2, got $(fc__got "$3" "${4:-}")" ;;
	esac
}

# fc__line NAME WANT: read the next line into FC_LAST, or fail against WANT
fc__line() {
	local st=0
	fc_read "$1" || st=$?
	[ $st -eq 0 ] && return 0
	fc__instead "$1" "$2" $st
	return 1
}

fc_expect() {
	fc__line "$1" "'$2'" || return 1
	[ "$FC_LAST" = "$2" ] && return 0
	fail "$1: expected '$2', got '$FC_LAST'"
}

fc_expect_match() {
	fc__line "$1" "/$2/" || return 1
	[[ $FC_LAST =~ $2 ]] && return 0
	fail "$1: expected /$2/, got '$FC_LAST'"
}

fc_wait_for() {
	local name=$1 want=$2 seen="" st left t
	local end=$(($(fc_now_ms) + $(fc__ms "$FC_TIMEOUT")))
	while left=$((end - $(fc_now_ms))) && [ $left -gt 0 ]; do
		st=0
		printf -v t '%d.%03d' $((left / 1000)) $((left % 1000))
		fc_read "$name" "$t" || st=$?
		[ $st -ne 3 ] || return 1
		if [ $st -eq 1 ]; then
			fail "$name: '$want' never came: $(fc__got 1) (saw: $seen)"
			return 1
		fi
		[ $st -eq 0 ] || break
		[ "$FC_LAST" = "$want" ] && return 0
		seen+="$FC_LAST | "
	done
	fail "$name: '$want' never came within $FC_TIMEOUT s (saw: $seen${FC_LAST:+ and the partial line '$FC_LAST'})"
}

fc_expect_silent() {
	local st=0
	fc_read "$1" "${2:-0.3}" || st=$?
	[ $st -eq 2 ] && [ -z "$FC_LAST" ] && return 0
	fc__instead "$1" "silence on an open connection" $st "${2:-0.3}"
	return 1
}

fc_expect_closed() {
	local st=0
	fc_read "$1" || st=$?
	[ $st -eq 1 ] && [ -z "$FC_LAST" ] && return 0
	fc__instead "$1" "the server to close" $st
	return 1
}

fc_login() {
	fc_connect "$1" okfail || return 1
	fc_expect "$1" "INIT Welcome to the server!" || return 1
	fc_send "$1" "IDENT $1" || return 1
	fc_expect "$1" "OK IDENT $1"
}

fc_login_numeric() {
	fc_connect "$1" numeric || return 1
	fc_send "$1" "USER $1" || return 1
	fc_expect "$1" "200 Welcome $1!"
}

fc_status_json() {
	"$FORKCHATD" status --json -S "$FC_CTL"
}

fc_worker_of() {
	"$FORKCHATD" status --users -S "$FC_CTL" |
		python3 -c 'import json,sys; u=[x for x in json.load(sys.stdin) if x["name"]==sys.argv[1]]; print(u[0]["worker"] if u else -1)' "$1"
}

# Wait until a shell condition holds, with a deadline.
fc_until() {
	local end=$(($(fc_now_ms) + $(fc__ms "$FC_TIMEOUT")))
	until eval "$1"; do
		if [ "$(fc_now_ms)" -ge $end ]; then
			fail "condition never held within $FC_TIMEOUT s: $1"
			return 1
		fi
		sleep 0.02
	done
}
# ---- added for the protocol suites (okfail_*, numeric_*, cross_*, files_*) ----
#
#   fc_worker_clients            clients per worker slot, space-separated
#   fc_connect_avoid NAME DIALECT W...   connect NAME (okfail: INIT read)
#                                on a worker not in W...; sets FC_WORKER
#   fc_login_avoid NAME DIALECT W...     the same, then log in
#   fc_worker_field SLOT FIELD   a field (pid, up, restarts, gen) of a slot
#   fc_daemon_pids               master and worker pids
#   fc_rss_kb                    their summed VmRSS in KiB
#   fc_is_san                    true when FORKCHATD is a sanitizer build
#   fc_now_ms                    wall clock in ms (from $EPOCHREALTIME)
#   fc_read_timed NAME           fc_read, and FC_AT = arrival time in ms
#   FCFILE                       tests/fcfile.py (raw-byte clients)

FCFILE=${FCFILE:-$BATS_TEST_DIRNAME/../tests/fcfile.py}
# a python without a version-manager shim in front (fast start-up)
if [ -z "${FC_PYTHON:-}" ]; then
	FC_PYTHON=python3
	[ -x /usr/bin/python3 ] && FC_PYTHON=/usr/bin/python3
fi

# (plain bash and sed: no interpreter start-up on a busy machine)
fc__workers_json() {
	fc_status_json | grep -o '{"slot":[^}]*}'
}

fc_worker_clients() {
	local line out="" clients
	while IFS= read -r line; do
		clients=0
		[[ $line =~ \"up\":true.*\"clients\":([0-9]+) ]] && clients=${BASH_REMATCH[1]}
		out+="${out:+ }$clients"
	done < <(fc__workers_json)
	echo "$out"
}

fc_worker_field() {
	fc__workers_json | sed -n "$(($1 + 1))p" |
		sed 's/.*"'"$2"'":\([^,}]*\).*/\1/'
}

# the same answer as fc_worker_of, without python
fc_worker_of_quick() {
	local w
	w=$("$FORKCHATD" status --users -S "$FC_CTL" |
		grep -o '"name":"'"$1"'","worker":[0-9]*' | sed 's/.*://')
	echo "${w:--1}"
}

# Which slot gained a client between two fc_worker_clients outputs (-1: none).
fc__gained() {
	local -a a=($1) b=($2)
	local i
	for i in "${!a[@]}"; do
		if [ "${b[i]:-0}" -gt "${a[i]}" ]; then
			echo "$i"
			return
		fi
	done
	echo -1
}

# Connect NAME on a worker that is not one of the slots given. The kernel
# spreads connections over the workers' SO_REUSEPORT listeners, so retry:
# connect, see which worker's client count grew, close and retry when it is
# one to avoid. Nobody logs in meanwhile, so nobody sees JOINED/LEFT noise.
fc_connect_avoid() {
	local name=$1 dialect=$2 try before now slot w bad
	shift 2
	for try in $(seq 1 60); do
		before=$(fc_worker_clients)
		fc_connect "$name" "$dialect" || return 1
		if [ "$dialect" = okfail ]; then
			fc_expect "$name" "INIT Welcome to the server!" || return 1
		fi
		slot=-1
		local deadline=$((SECONDS + FC_TIMEOUT))
		while [ "$slot" = -1 ]; do
			now=$(fc_worker_clients)
			slot=$(fc__gained "$before" "$now")
			if [ "$slot" = -1 ] && [ $SECONDS -ge $deadline ]; then
				fail "fc_connect_avoid: $name never showed up in the status"
				return 1
			fi
			[ "$slot" != -1 ] || sleep 0.02
		done
		bad=0
		for w in "$@"; do [ "$w" = "$slot" ] && bad=1; done
		if [ $bad = 0 ]; then
			FC_WORKER=$slot
			return 0
		fi
		fc_close "$name"
		fc_until '[ "$(fc_worker_clients)" = "$before" ]' || return 1
	done
	fail "fc_connect_avoid: $name always landed on workers $*"
}

fc_login_avoid() {
	local name=$1 dialect=$2
	fc_connect_avoid "$@" || return 1
	if [ "$dialect" = okfail ]; then
		fc_send "$name" "IDENT $name" || return 1
		fc_expect "$name" "OK IDENT $name"
	else
		fc_send "$name" "USER $name" || return 1
		fc_expect "$name" "200 Welcome $name!"
	fi
}

fc_daemon_pids() {
	echo "$FC_PID"
	fc__workers_json | sed 's/.*"pid":\([0-9]*\).*/\1/' | grep -v '^0$'
}

fc_rss_kb() {
	local pid total=0 kb
	for pid in $FC_PIDS; do
		kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
		total=$((total + ${kb:-0}))
	done
	echo "$total"
}

fc_is_san() {
	grep -qa __asan_init "$FORKCHATD"
}

fc_now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

fc_read_timed() {
	fc_read "$1" "${2:-$FC_TIMEOUT}" || return
	FC_AT=$(fc_now_ms)
}

# Run a fcfile.py client in the background; its events go to FILE.
fc_file_client() {
	local out=$1
	shift
	"$FC_PYTHON" "$FCFILE" "$@" >"$out" 2>&1 3>&- &
	echo $!
}

# ---- generic helpers for the daemon tests (bats/daemon_*.bats) ----
#
#   fc_port_of DIALECT [LOG]     the port logged for DIALECT (okfail,
#                                numeric, okfail+tls, numeric+tls)
#   fc_make_cert NAME CN [DIR]   self-signed cert NAME.pem + NAME.key in
#                                DIR (default $BATS_TEST_TMPDIR; SAN
#                                DNS:localhost)
#   fc_detach_start [flags]      start a detached daemon (no -f); sets
#                                FC_DPID, FC_DPIDFILE, FC_DLOG, FC_DCTL
#   fc_detach_vars               set those three paths only
#   fc_detach_stop               TERM (then KILL) the detached daemon we
#                                started, found through FC_DPID only
#   fc_free_port                 a TCP port on 127.0.0.1 that was free
#   FC_PY                        a python3 that starts fast (/usr/bin/python3
#                                rather than a pyenv shim, when it exists)

FC_PY=${FC_PY:-$(command -v /usr/bin/python3 || command -v python3)}

fc_port_of() {
	local dialect=$1 log=${2:-$FC_LOG}
	sed -n "s/.*listening dialect=${dialect} addr=[^ ]*:\([0-9]*\) .*/\1/p" "$log" | head -1
}

fc_make_cert() {
	local name=$1 cn=$2 dir=${3:-$BATS_TEST_TMPDIR}
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$cn" \
		-addext "subjectAltName=DNS:localhost" \
		-keyout "$dir/$name.key" -out "$dir/$name.pem" 2>/dev/null ||
		fail "openssl req failed"
}

fc_free_port() {
	"$FC_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

FC_DPID=
# The paths fc_detach_start uses (call it first when fc_detach_start runs
# under `run`, a subshell).
fc_detach_vars() {
	local dir=$BATS_TEST_TMPDIR
	FC_DPIDFILE=${FC_DPIDFILE:-$dir/detached.pid}
	FC_DLOG=${FC_DLOG:-$dir/detached.log}
	FC_DCTL=${FC_DCTL:-$dir/detached.sock}
}

fc_detach_start() {
	fc_detach_vars
	"$FORKCHATD" -w "${FC_WORKERS:-3}" \
		-l okfail=127.0.0.1:0 -l numeric=127.0.0.1:0 \
		--control-socket "$FC_DCTL" --pidfile "$FC_DPIDFILE" \
		--spool-dir "$BATS_TEST_TMPDIR/spool" \
		--log-file "$FC_DLOG" "$@" </dev/null
	local rc=$?
	if [ $rc -eq 0 ] && [ -s "$FC_DPIDFILE" ]; then
		FC_DPID=$(cat "$FC_DPIDFILE")
	fi
	return $rc
}

fc_detach_stop() {
	# a test that failed before it read the pidfile: take the pid from
	# it, but only if that process is the daemon started with this pidfile
	if [ -z "$FC_DPID" ] && [ -n "${FC_DPIDFILE:-}" ] && [ -s "$FC_DPIDFILE" ]; then
		local p
		p=$(cat "$FC_DPIDFILE")
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null |
			grep -qF -- "--pidfile $FC_DPIDFILE " && FC_DPID=$p
	fi
	[ -n "$FC_DPID" ] || return 0
	kill -TERM "$FC_DPID" 2>/dev/null || true
	local deadline=$((SECONDS + 10))
	while kill -0 "$FC_DPID" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
		sleep 0.02
	done
	kill -KILL "$FC_DPID" 2>/dev/null || true
	FC_DPID=
}

# ---- added for the robustness suites (robust_*) ----
#
#   fc_tools                     build the load tools (tests/tools.mk) once;
#                                sets FCLOAD (build/tools/fcload), FCCHAOS
#   fc_scale NORMAL SAN          NORMAL, or SAN under a sanitizer build
#   fc_alive_any PIDS...         true while any of the pids exists
#   fc_fd_count PID              open descriptors of PID
#   fc_kv KEY LINE               the value of KEY=VALUE in a summary line
#   fc_first_line_from SRC PORT  connect from address SRC, print the first
#                                line the server sends (or EOF / TIMEOUT)

FC_ROOT=${FC_ROOT:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)}
FCLOAD=${FCLOAD:-$FC_ROOT/build/tools/fcload}
FCCHAOS=${FCCHAOS:-$FC_ROOT/tests/fcchaos.py}

fc_tools() {
	if [ ! -x "$FCLOAD" ] || [ "$FC_ROOT/tests/fcload.c" -nt "$FCLOAD" ]; then
		(cd "$FC_ROOT" && make -s -f tests/tools.mk tools) >&2 ||
			fail "cannot build the load tools"
	fi
}

fc_scale() {
	if fc_is_san; then echo "$2"; else echo "$1"; fi
}

fc_alive_any() {
	local p
	for p in "$@"; do
		kill -0 "$p" 2>/dev/null && return 0
	done
	return 1
}

fc_fd_count() {
	ls "/proc/$1/fd" 2>/dev/null | wc -l
}

fc_kv() {
	local re="(^| )$1=([^ ]*)"
	[[ $2 =~ $re ]] && echo "${BASH_REMATCH[2]}"
}

fc_first_line_from() {
	python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.socket()
s.settimeout(5)
s.bind((sys.argv[1], 0))
s.connect(("127.0.0.1", int(sys.argv[2])))
buf = b""
try:
    while b"\n" not in buf:
        b = s.recv(4096)
        if not b:
            break
        buf += b
except socket.timeout:
    print("TIMEOUT")
    sys.exit(0)
print(buf.split(b"\n")[0].decode(errors="replace") if b"\n" in buf else "EOF")
PY
}

# fc_pm_rtt A B [N]: log in okfail users A and B, send N (50) PMs from A to
# B one after another and print "max=MS avg=MS" of the round trip (sent ->
# NPM read). Timed in python: bash under bats adds tens of ms per command.
fc_pm_rtt() {
	python3 - "$OKPORT" "$1" "$2" "${3:-50}" <<'PY'
import socket, sys, time
port, a, b, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
deadline = time.monotonic() + 60
def conn(name):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = s.makefile("rb")
    f.readline()
    s.sendall(f"IDENT {name}\n".encode())
    return s, f
def until(f, prefix):
    while time.monotonic() < deadline:
        l = f.readline()
        if not l:
            sys.exit(f"closed while waiting for {prefix}")
        if l.startswith(prefix.encode()):
            return
        if l == b"PING\n":
            pass
    sys.exit(f"deadline waiting for {prefix}")
sa, fa = conn(a); until(fa, f"OK IDENT {a}")
sb, fb = conn(b); until(fb, f"OK IDENT {b}")
rt = []
for i in range(n):
    t = time.monotonic()
    sa.sendall(f"PM {b} r{i}\n".encode())
    until(fb, f"NPM {a} r{i}")
    rt.append((time.monotonic() - t) * 1000)
    until(fa, f"OK PM {b} r{i}")
sa.sendall(b"QUIT\n"); sb.sendall(b"QUIT\n")
print(f"max={max(rt):.0f} avg={sum(rt)/len(rt):.1f}")
PY
}

# Under a sanitizer build, a smaller ASan quarantine keeps RSS figures
# meaningful (use-after-free is still caught within the quarantine).
fc_san_lean() {
	if fc_is_san; then
		export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
	fi
	return 0
}
