# Test kit for bats tests against a real forkchatd.
#
#   fc_start [daemon flags...]   start a daemon on free ports (OKPORT, NUMPORT)
#   fc_connect NAME okfail|numeric   open a client connection called NAME
#   fc_send NAME LINE            send LINE + "\n"
#   fc_send_raw NAME BYTES       send bytes as given (printf %b escapes)
#   fc_expect NAME LINE          the next line from NAME must be LINE
#   fc_expect_match NAME REGEX   the next line must match REGEX (bash =~)
#   fc_wait_for NAME LINE        skip lines until LINE comes (deadline)
#   fc_expect_silent NAME [SECS] nothing arrives for SECS (default 0.3)
#   fc_expect_closed NAME        the server closes NAME's connection
#   fc_login NAME / fc_login_numeric NAME   connect and log in as NAME
#   fc_worker_of USER            which worker serves USER (status socket)
#   fc_status_json               the daemon's status as JSON
#
# Every wait has a deadline (FC_TIMEOUT, default 5 s); nothing sleeps and
# hopes. Each test starts its own daemon and stops only what it started.

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
		"$@" >"$FC_LOG" 2>&1 </dev/null &
	FC_PID=$!
	local deadline=$((SECONDS + 10))
	until grep -q 'listening dialect=numeric' "$FC_LOG" 2>/dev/null &&
		[ -s "$FC_PIDFILE" ]; do
		if ! kill -0 "$FC_PID" 2>/dev/null; then
			cat "$FC_LOG" >&2
			fail "forkchatd exited during start-up"
		fi
		[ $SECONDS -lt $deadline ] || fail "forkchatd did not start"
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
		exec {FC_FD[$name]}>&- 2>/dev/null || true
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
	exec {fd}<>"/dev/tcp/127.0.0.1/$port" || fail "cannot connect $name"
	FC_FD[$name]=$fd
}

fc_close() {
	exec {FC_FD[$1]}>&- 2>/dev/null || true
	unset "FC_FD[$1]"
}

fc_send() {
	printf '%s\n' "$2" >&"${FC_FD[$1]}"
}

fc_send_raw() {
	printf '%b' "$2" >&"${FC_FD[$1]}"
}

# Read one line from NAME into FC_LAST, within the deadline.
fc_read() {
	local name=$1 t=${2:-$FC_TIMEOUT}
	FC_LAST=
	IFS= read -r -t "$t" -u "${FC_FD[$name]}" FC_LAST || return 1
	FC_LAST=${FC_LAST%$'\r'}
}

fc_expect() {
	local name=$1 want=$2
	fc_read "$name" || fail "$name: expected '$want', got nothing (timeout or close)"
	[ "$FC_LAST" = "$want" ] || fail "$name: expected '$want', got '$FC_LAST'"
}

fc_expect_match() {
	local name=$1 re=$2
	fc_read "$name" || fail "$name: expected /$re/, got nothing"
	[[ $FC_LAST =~ $re ]] || fail "$name: expected /$re/, got '$FC_LAST'"
}

fc_wait_for() {
	local name=$1 want=$2 deadline=$((SECONDS + FC_TIMEOUT)) seen=""
	while [ $SECONDS -le $deadline ]; do
		fc_read "$name" 1 || continue
		[ "$FC_LAST" = "$want" ] && return 0
		seen+="$FC_LAST | "
	done
	fail "$name: '$want' never came (saw: $seen)"
}

fc_expect_silent() {
	local name=$1 t=${2:-0.3}
	if IFS= read -r -t "$t" -u "${FC_FD[$name]}" FC_LAST; then
		fail "$name: expected silence, got '$FC_LAST'"
	fi
	return 0
}

fc_expect_closed() {
	local name=$1 deadline=$((SECONDS + FC_TIMEOUT))
	while [ $SECONDS -le $deadline ]; do
		if IFS= read -r -t 1 -u "${FC_FD[$name]}" FC_LAST; then
			continue
		fi
		# read failed: EOF (status 1) or timeout (status > 128)
		local st=$?
		[ $st -le 128 ] && return 0
	done
	fail "$name: connection not closed"
}

fc_login() {
	fc_connect "$1" okfail
	fc_expect "$1" "INIT Welcome to the server!"
	fc_send "$1" "IDENT $1"
	fc_expect "$1" "OK IDENT $1"
}

fc_login_numeric() {
	fc_connect "$1" numeric
	fc_send "$1" "USER $1"
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
	local deadline=$((SECONDS + FC_TIMEOUT))
	until eval "$1"; do
		[ $SECONDS -lt $deadline ] || fail "condition never held: $1"
		sleep 0.02
	done
}
