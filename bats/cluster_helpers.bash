# Test kit for the cluster tests: one redis-server on a free loopback port
# (no persistence) and several forkchatd nodes joined through it.
#
#   cl_redis_start [PORT]        start redis-server (CL_RPORT, CL_RPID)
#   cl_redis_kill                SIGKILL it (its data is gone)
#   cl_node_start NODE [flags]   a node with CL_WORKERS workers (2) and a
#                                liveness TTL of CL_TTL seconds (2); waits
#                                until it serves and is up on Redis
#   cl_node_kill NODE [SIG]      signal the node's master and its children
#   cl_login USER NODE / cl_login_numeric USER NODE / cl_connect USER NODE D
#   cl_log_wait NODE REGEX       wait for a line in the node's log
#   cl_retry NAME CMD WANT [OK...]  send CMD until the answer is WANT (state
#                                that travels between nodes through Redis);
#                                other answers must be one of OK...
#
# Everything waits with a deadline; teardown stops only what we started.

load helpers

declare -gA CL_PID=() CL_OK=() CL_NUM=() CL_DIR=()
CL_RPID=
CL_RPORT=

cl_free_port() {
	"$FC_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

cl_redis_start() {
	command -v redis-server >/dev/null ||
		fail "redis-server is not installed (make deps installs it)"
	CL_RPORT=${1:-${CL_RPORT:-$(cl_free_port)}}
	redis-server --port "$CL_RPORT" --bind 127.0.0.1 --save '' \
		--appendonly no --loglevel warning \
		>>"$BATS_TEST_TMPDIR/redis.log" 2>&1 &
	CL_RPID=$!
	local deadline=$((SECONDS + 10))
	until redis-cli -p "$CL_RPORT" ping 2>/dev/null | grep -q PONG; do
		kill -0 "$CL_RPID" 2>/dev/null || fail "redis-server exited"
		[ $SECONDS -lt $deadline ] || fail "redis-server did not start"
		sleep 0.02
	done
}

cl_redis_kill() {
	[ -n "$CL_RPID" ] || return 0
	kill -KILL "$CL_RPID" 2>/dev/null || true
	wait "$CL_RPID" 2>/dev/null || true
	CL_RPID=
}

cl_node_start() {
	local node=$1 dir=$BATS_TEST_TMPDIR/node-$1
	shift
	mkdir -p "$dir"
	echo "--- cl_node_start" >>"$dir/log"
	"$FORKCHATD" -f -w "${CL_WORKERS:-2}" \
		-l okfail=127.0.0.1:0 -l numeric=127.0.0.1:0 \
		--control-socket "$dir/ctl.sock" --pidfile "$dir/pid" \
		--cluster "redis://127.0.0.1:$CL_RPORT" --node-id "$node" \
		--cluster-ttl "${CL_TTL:-2}" --ping-interval 3600 \
		--spool-dir "$dir/spool" \
		"$@" >>"$dir/log" 2>&1 </dev/null &
	CL_PID[$node]=$!
	CL_DIR[$node]=$dir
	cl_log_wait "$node" 'listening dialect=numeric'
	cl_log_wait "$node" 'cluster: in sync'
	CL_OK[$node]=$(cl_log_run "$node" | sed -n 's/.*listening dialect=okfail addr=[^ ]*:\([0-9]*\) .*/\1/p' | tail -1)
	CL_NUM[$node]=$(cl_log_run "$node" | sed -n 's/.*listening dialect=numeric addr=[^ ]*:\([0-9]*\) .*/\1/p' | tail -1)
}

# The log of the node's latest start only.
cl_log_run() {
	awk '/^--- cl_node_start$/ { buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' \
		"${CL_DIR[$1]}/log" 2>/dev/null
}

cl_log_wait() {
	local node=$1 re=$2 deadline=$((SECONDS + FC_TIMEOUT + 5))
	until cl_log_run "$node" | grep -Eq "$re"; do
		[ $SECONDS -lt $deadline ] ||
			fail "node $node: no log line /$re/: $(tail -5 "${CL_DIR[$node]}/log")"
		sleep 0.02
	done
}

# The master and every process it forked (workers and the link).
cl_node_pids() {
	local pid=${CL_PID[$1]}
	echo "$pid"
	pgrep -P "$pid" 2>/dev/null || true
}

cl_node_kill() {
	local node=$1 sig=${2:-KILL} pids
	pids=$(cl_node_pids "$node")
	# shellcheck disable=SC2086
	kill -"$sig" $pids 2>/dev/null || true
	if [ "$sig" = KILL ]; then
		wait "${CL_PID[$node]}" 2>/dev/null || true
		unset "CL_PID[$node]"
	fi
}

cl_connect() {
	OKPORT=${CL_OK[$2]} NUMPORT=${CL_NUM[$2]} fc_connect "$1" "${3:-okfail}"
}

cl_login() {
	cl_connect "$1" "$2" okfail
	fc_expect "$1" "INIT Welcome to the server!"
	fc_send "$1" "IDENT $1"
	fc_expect "$1" "OK IDENT $1"
}

cl_login_numeric() {
	cl_connect "$1" "$2" numeric
	fc_send "$1" "USER $1"
	fc_expect "$1" "200 Welcome $1!"
}

cl_retry() {
	local name=$1 cmd=$2 want=$3 deadline=$((SECONDS + FC_TIMEOUT)) a ok
	shift 3
	while :; do
		fc_send "$name" "$cmd"
		fc_read "$name" || fail "$name: no answer to '$cmd'"
		[ "$FC_LAST" = "$want" ] && return 0
		ok=$#
		for a in "$@"; do [ "$FC_LAST" = "$a" ] && ok=0; done
		[ "$ok" = 0 ] || [ $# = 0 ] || fail "$name: '$cmd' answered '$FC_LAST'"
		[ $SECONDS -lt $deadline ] || fail "$name: '$cmd' never answered '$want' (last: '$FC_LAST')"
		sleep 0.05
	done
}

cl_stop_all() {
	local node pid deadline
	fc_stop
	for node in "${!CL_PID[@]}"; do
		pid=${CL_PID[$node]}
		kill -CONT $(cl_node_pids "$node") 2>/dev/null || true
		kill -TERM "$pid" 2>/dev/null || true
		deadline=$((SECONDS + 10))
		while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
			sleep 0.02
		done
		kill -KILL $(cl_node_pids "$node") 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	CL_PID=()
	cl_redis_kill
	# a sanitizer report in any node's log fails the test that caused it
	for node in "${!CL_DIR[@]}"; do
		if grep -Eq 'Sanitizer|runtime error:' "${CL_DIR[$node]}/log"; then
			grep -E -A20 'Sanitizer|runtime error:' "${CL_DIR[$node]}/log" >&2
			fail "node $node: sanitizer report in its log"
		fi
	done
}

teardown() {
	cl_stop_all
}
