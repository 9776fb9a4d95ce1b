# Test kit for the cluster tests: one redis-server on a free loopback port
# (no persistence) and several forkchatd nodes joined through it.
#
#   cn_redis_start [PORT]        start redis-server (CN_RPORT, CN_RPID)
#   cn_redis_kill                SIGKILL it (its data is gone)
#   cn_node_start NODE [flags]   a node with CN_WORKERS workers (2) and a
#                                liveness TTL of CN_TTL seconds (2); waits
#                                until it serves and is up on Redis
#   cn_node_kill NODE [SIG]      signal the node's master and its children
#   cn_login USER NODE / cn_login_numeric USER NODE / cn_connect USER NODE D
#   cn_log_wait NODE REGEX       wait for a line in the node's log
#   cn_retry NAME CMD WANT [OK...]  send CMD until the answer is WANT (state
#                                that travels between nodes through Redis);
#                                other answers must be one of OK...
#
# Everything waits with a deadline; teardown stops only what we started.

load helpers

declare -gA CN_PID=() CN_OK=() CN_NUM=() CN_IRC=() CN_DIR=()
CN_RPID=
CN_RPORT=

cn_free_port() {
	"$FC_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

cn_redis_start() {
	command -v redis-server >/dev/null ||
		fail "redis-server is not installed (make deps installs it)"
	CN_RPORT=${1:-${CN_RPORT:-$(cn_free_port)}}
	redis-server --port "$CN_RPORT" --bind 127.0.0.1 --save '' \
		--appendonly no --loglevel warning \
		>>"$BATS_TEST_TMPDIR/redis.log" 2>&1 &
	CN_RPID=$!
	local deadline=$((SECONDS + 10))
	until redis-cli -p "$CN_RPORT" ping 2>/dev/null | grep -q PONG; do
		kill -0 "$CN_RPID" 2>/dev/null || fail "redis-server exited"
		[ $SECONDS -lt $deadline ] || fail "redis-server did not start"
		sleep 0.02
	done
}

cn_redis_kill() {
	[ -n "$CN_RPID" ] || return 0
	kill -KILL "$CN_RPID" 2>/dev/null || true
	wait "$CN_RPID" 2>/dev/null || true
	CN_RPID=
}

cn_node_start() {
	local node=$1 dir=$BATS_TEST_TMPDIR/node-$1
	shift
	mkdir -p "$dir"
	echo "--- cn_node_start" >>"$dir/log"
	"$FORKCHATD" -f -w "${CN_WORKERS:-2}" \
		-l okfail=127.0.0.1:0 -l numeric=127.0.0.1:0 \
		-l irc=127.0.0.1:0 --server-name irc.test \
		--control-socket "$dir/ctl.sock" --pidfile "$dir/pid" \
		--cluster "redis://127.0.0.1:$CN_RPORT" --node-id "$node" \
		--cluster-ttl "${CN_TTL:-2}" --ping-interval 3600 \
		--spool-dir "$dir/spool" \
		"$@" >>"$dir/log" 2>&1 </dev/null &
	CN_PID[$node]=$!
	CN_DIR[$node]=$dir
	cn_log_wait "$node" 'listening dialect=numeric'
	cn_log_wait "$node" 'cluster: in sync'
	CN_OK[$node]=$(cn_log_run "$node" | sed -n 's/.*listening dialect=okfail addr=[^ ]*:\([0-9]*\) .*/\1/p' | tail -1)
	CN_NUM[$node]=$(cn_log_run "$node" | sed -n 's/.*listening dialect=numeric addr=[^ ]*:\([0-9]*\) .*/\1/p' | tail -1)
	CN_IRC[$node]=$(cn_log_run "$node" | sed -n 's/.*listening dialect=irc addr=[^ ]*:\([0-9]*\) .*/\1/p' | tail -1)
}

# The log of the node's latest start only.
cn_log_run() {
	awk '/^--- cn_node_start$/ { buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' \
		"${CN_DIR[$1]}/log" 2>/dev/null
}

cn_log_wait() {
	local node=$1 re=$2 deadline=$((SECONDS + FC_TIMEOUT + 5))
	until cn_log_run "$node" | grep -Eq "$re"; do
		[ $SECONDS -lt $deadline ] ||
			fail "node $node: no log line /$re/: $(tail -5 "${CN_DIR[$node]}/log")"
		sleep 0.02
	done
}

# The master and every process it forked (workers and the link).
cn_node_pids() {
	local pid=${CN_PID[$1]}
	echo "$pid"
	pgrep -P "$pid" 2>/dev/null || true
}

cn_node_kill() {
	local node=$1 sig=${2:-KILL} pids
	pids=$(cn_node_pids "$node")
	# shellcheck disable=SC2086
	kill -"$sig" $pids 2>/dev/null || true
	if [ "$sig" = KILL ]; then
		wait "${CN_PID[$node]}" 2>/dev/null || true
		unset "CN_PID[$node]"
	fi
}

cn_connect() {
	OKPORT=${CN_OK[$2]} NUMPORT=${CN_NUM[$2]} fc_connect "$1" "${3:-okfail}"
}

cn_login() {
	cn_connect "$1" "$2" okfail
	fc_expect "$1" "INIT Welcome to the server!"
	fc_send "$1" "IDENT $1"
	fc_expect "$1" "OK IDENT $1"
}

cn_login_numeric() {
	cn_connect "$1" "$2" numeric
	fc_send "$1" "USER $1"
	fc_expect "$1" "200 Welcome $1!"
}

cn_retry() {
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

cn_stop_all() {
	local node pid deadline
	fc_stop
	for node in "${!CN_PID[@]}"; do
		pid=${CN_PID[$node]}
		kill -CONT $(cn_node_pids "$node") 2>/dev/null || true
		kill -TERM "$pid" 2>/dev/null || true
		deadline=$((SECONDS + 10))
		while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
			sleep 0.02
		done
		kill -KILL $(cn_node_pids "$node") 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	CN_PID=()
	cn_redis_kill
	# a sanitizer report in any node's log fails the test that caused it
	for node in "${!CN_DIR[@]}"; do
		if grep -Eq 'Sanitizer|runtime error:' "${CN_DIR[$node]}/log"; then
			grep -E -A20 'Sanitizer|runtime error:' "${CN_DIR[$node]}/log" >&2
			fail "node $node: sanitizer report in its log"
		fi
	done
}

teardown() {
	cn_stop_all
}
