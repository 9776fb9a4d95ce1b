# Test kit for bats/client_*.bats: script-mode forkchat clients fed through
# a fifo, so lines can be sent over time and output awaited with deadlines.
#
#   cl_start NAME [forkchat args...]  start a client; output in $(cl_out NAME)
#   cl_send NAME LINE                 type LINE into NAME's standard input
#   cl_wait NAME LINE                 wait until NAME printed exactly LINE
#   cl_wait_match NAME REGEX [SECS]   wait until a line matches (grep -E)
#   cl_count NAME REGEX               how many output lines match
#   cl_end NAME                       close NAME's input, wait for its exit;
#                                     sets CL_STATUS
#   cl_wait_exit NAME                 wait for NAME's exit; sets CL_STATUS
#   cl_relay_start / cl_fake_start    recording relay or fake server
#                                     (tests/relay.py); sets RELAYPORT
#
# Every wait has a deadline (FC_TIMEOUT seconds); nothing sleeps and hopes.
# The waits fail (non-zero, with the client's output) at the deadline, also
# where errexit is off; bats/helpers.bats proves it.

load helpers

RELAY=$BATS_TEST_DIRNAME/../tests/relay.py
# the system python starts in 0.1 s; a pyenv shim can take seconds
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
declare -gA CL_PID=() CL_FD=()
CL_STATUS=
RELAY_PID=

cl_out() { echo "$BATS_TEST_TMPDIR/$1.out"; }

# In a child: close the other clients' fifo ends, or a client would never
# see the end of its input while another child holds the writer open.
_cl_close_fds() {
	local f
	for f in "${CL_FD[@]}"; do
		exec {f}>&-
	done
}

cl_start() {
	local name=$1 fd
	shift
	local dir=$BATS_TEST_TMPDIR
	rm -f "$dir/$name.in"
	mkfifo "$dir/$name.in"
	: >"$dir/$name.out"
	(
		_cl_close_fds
		exec "$FORKCHAT" "$@" <"$dir/$name.in" >"$dir/$name.out" \
			2>"$dir/$name.err"
	) &
	CL_PID[$name]=$!
	exec {fd}>"$dir/$name.in"
	CL_FD[$name]=$fd
}

cl_send() {
	printf '%s\n' "$2" >&"${CL_FD[$1]}"
}

cl_dump() {
	echo "--- $1 output:" >&2
	cat "$(cl_out "$1")" >&2
	cat "$BATS_TEST_TMPDIR/$1.err" >&2
}

cl_wait() {
	local name=$1 want=$2 end=$(($(fc_now_ms) + $(fc__ms "$FC_TIMEOUT")))
	until grep -Fxq -- "$want" "$(cl_out "$name")"; do
		if [ "$(fc_now_ms)" -ge $end ]; then
			cl_dump "$name"
			fail "$name: '$want' never came"; return 1
		fi
		sleep 0.02
	done
}

cl_wait_match() {
	local name=$1 re=$2 end=$(($(fc_now_ms) + $(fc__ms "${3:-$FC_TIMEOUT}")))
	until grep -Eq -- "$re" "$(cl_out "$name")"; do
		if [ "$(fc_now_ms)" -ge $end ]; then
			cl_dump "$name"
			fail "$name: /$re/ never came"; return 1
		fi
		sleep 0.02
	done
}

cl_count() {
	grep -Ec -- "$2" "$(cl_out "$1")" || true
}

# Close the input and wait (with a deadline) for the client to exit.
cl_end() {
	local name=$1
	{ exec {CL_FD[$name]}>&-; } 2>/dev/null || true
	cl_wait_exit "$name"
}

cl_wait_exit() {
	local name=$1 pid=${CL_PID[$1]:-} end=$(($(fc_now_ms) + $(fc__ms "$FC_TIMEOUT")))
	[ -n "$pid" ] || { fail "no client called '$name'"; return 1; }
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$(fc_now_ms)" -ge $end ]; then
			cl_dump "$name"
			fail "$name did not exit"; return 1
		fi
		sleep 0.02
	done
	CL_STATUS=0
	wait "$pid" || CL_STATUS=$?
	unset "CL_PID[$name]"
}

cl_stop_all() {
	local name
	for name in "${!CL_FD[@]}"; do
		{ exec {CL_FD[$name]}>&-; } 2>/dev/null || true
	done
	for name in "${!CL_PID[@]}"; do
		kill "${CL_PID[$name]}" 2>/dev/null || true
		wait "${CL_PID[$name]}" 2>/dev/null || true
	done
	CL_PID=()
	CL_FD=()
	if [ -n "$RELAY_PID" ]; then
		kill "$RELAY_PID" 2>/dev/null || true
		wait "$RELAY_PID" 2>/dev/null || true
		RELAY_PID=
	fi
}

teardown() {
	cl_stop_all
	fc_stop
}

_relay_wait_port() {
	local pf=$1 deadline=$((SECONDS + FC_TIMEOUT))
	until [ -s "$pf" ]; do
		[ $SECONDS -lt $deadline ] || { fail "relay did not start"; return 1; }
		sleep 0.02
	done
	RELAYPORT=$(cat "$pf")
}

# cl_relay_start PORT [--rate N]: relay to the daemon's PORT; logs go to
# $BATS_TEST_TMPDIR/relay.N.c2s / .s2c
cl_relay_start() {
	local port=$1
	shift
	local pf=$BATS_TEST_TMPDIR/relay.port
	rm -f "$pf"
	(
		_cl_close_fds
		exec "$PYTHON" "$RELAY" --to "127.0.0.1:$port" \
			--log "$BATS_TEST_TMPDIR/relay" --port-file "$pf" "$@"
	) &
	RELAY_PID=$!
	_relay_wait_port "$pf" || return 1
}

# cl_fake_start FILE: a fake server that sends FILE's bytes to its client.
cl_fake_start() {
	local pf=$BATS_TEST_TMPDIR/fake.port
	rm -f "$pf"
	(
		_cl_close_fds
		exec "$PYTHON" "$RELAY" --fake "$1" \
			--log "$BATS_TEST_TMPDIR/fake" --port-file "$pf"
	) &
	RELAY_PID=$!
	_relay_wait_port "$pf"
}
