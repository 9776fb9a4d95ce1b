# bench/cluster.sh: the cluster rows of bench/run.sh (sourced by it; uses its
# log, free_port, LG, FC, OUT, RES, NICE, PIDS). One Redis on a free port
# (no persistence), then for each shape the same load spread round-robin
# over the nodes' ports, so that (n-1)/n of the deliveries cross nodes:
#   1x2 (one node, 2 workers, no cluster) | 1x2c (the same with --cluster)
#   2x1 (2 nodes, 1 worker each) | 3x1 (3 nodes, 1 worker each)
# Each RESULT line gains redis_cpu_pct and nodes_cpu_pct: CPU used during
# the run, in percent of one CPU, by redis-server and by every forkchatd
# process of the shape.

CLB_RPID=
CLB_RPORT=
CLB_NODES=()   # master pids of the current shape
CLB_CTLS=()    # their control sockets

cpu_ticks() { # pids...: utime+stime, clock ticks
	local t=0 p f
	for p in "$@"; do
		f=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue
		t=$((t + ${f% *} + ${f#* }))
	done
	echo "$t"
}

cluster_pids() { # every process of the current shape
	local m
	for m in "${CLB_NODES[@]}"; do
		echo "$m"
		pgrep -P "$m" 2>/dev/null
	done
}

cluster_redis() {
	command -v redis-server >/dev/null || { log "redis-server missing: no cluster rows"; return 1; }
	CLB_RPORT=$(free_port)
	$NICE redis-server --port "$CLB_RPORT" --bind 127.0.0.1 --save '' --appendonly no \
		--loglevel warning >"$OUT/redis.log" 2>&1 &
	CLB_RPID=$!
	PIDS+=($!)
	for _ in $(seq 100); do
		redis-cli -p "$CLB_RPORT" ping 2>/dev/null | grep -q PONG && return 0
		sleep 0.1
	done
	log "redis-server did not start"
	return 1
}

cluster_node() { # name workers [cluster]: starts a node, adds its ports
	local name=$1 w=$2 log=$OUT/$1.log extra=()
	[ "${3:-}" = cluster ] && extra=(--cluster "redis://127.0.0.1:$CLB_RPORT" --node-id "$name")
	$NICE "$FC" -f -w "$w" -l okfail=127.0.0.1:0 -l numeric=127.0.0.1:0 \
		--ping-interval 86400 --pong-timeout 86400 --max-clients 30000 \
		--sendq-hard 16777216 --sendq-soft 8388608 --worker-budget 1073741824 \
		--control-socket "$OUT/$name.sock" --spool-dir "$OUT/$name-spool" \
		"${extra[@]}" 2>"$log" &
	CLB_NODES+=($!)
	CLB_CTLS+=("$OUT/$name.sock")
	PIDS+=($!)
	local ok= num=
	for _ in $(seq 100); do
		ok=$(sed -n 's/.*listening dialect=okfail addr=127.0.0.1:\([0-9]*\) .*/\1/p' "$log")
		num=$(sed -n 's/.*listening dialect=numeric addr=127.0.0.1:\([0-9]*\) .*/\1/p' "$log")
		[ -n "$ok" ] && [ -n "$num" ] &&
			{ [ ${#extra[@]} = 0 ] || grep -q 'cluster: in sync' "$log"; } && break
		sleep 0.1
	done
	[ -n "$ok" ] && [ -n "$num" ] || log "node $name did not start: $(tail -3 "$log")"
	CLB_OK+="${CLB_OK:+,}$ok"
	CLB_NUM+="${CLB_NUM:+,}$num"
}

cluster_stop() {
	local m
	for m in "${CLB_NODES[@]}"; do kill "$m" 2>/dev/null; done
	for m in "${CLB_NODES[@]}"; do wait "$m" 2>/dev/null; done
	CLB_NODES=()
	CLB_CTLS=()
	CLB_OK=
	CLB_NUM=
	redis-cli -p "$CLB_RPORT" flushall >/dev/null 2>&1
}

cluster_shape() { # 1x2 | 1x2c | 2x1 | 3x1
	cluster_stop
	case $1 in
	1x2) cluster_node "$1-a" 2 ;;
	1x2c) cluster_node "$1-a" 2 cluster ;;
	2x1) cluster_node "$1-a" 1 cluster; cluster_node "$1-b" 1 cluster ;;
	3x1) cluster_node "$1-a" 1 cluster; cluster_node "$1-b" 1 cluster
	     cluster_node "$1-c" 1 cluster ;;
	esac
	log "cluster shape $1: okfail=$CLB_OK numeric=$CLB_NUM"
}

cluster_settle() { # until every node of the shape has no client
	local s
	for s in "${CLB_CTLS[@]}"; do
		for _ in $(seq 600); do
			"$FC" status --json -S "$s" 2>/dev/null | grep -q '"clients":0,' && break
			sleep 0.2
		done
	done
}

cluster_run() { # rep shape dialect loadgen-args...
	local rep=$1 shape=$2 dia=$3 ports out rc r0 n0 r1 n1 t0 t1
	shift 3
	ports=$CLB_OK
	[ "$dia" = numeric ] && ports=$CLB_NUM
	local pids; pids=$(cluster_pids | tr '\n' ' ')
	# shellcheck disable=SC2086
	r0=$(cpu_ticks "$CLB_RPID"); n0=$(cpu_ticks $pids); t0=$(date +%s%N)
	out=$($NICE taskset -c 1 "$LG" --dialect "$dia" --ports "$ports" \
		--server "cluster-$shape" --conc 128 "$@" 2>>"$OUT/loadgen.err")
	rc=$?
	# shellcheck disable=SC2086
	r1=$(cpu_ticks "$CLB_RPID"); n1=$(cpu_ticks $pids); t1=$(date +%s%N)
	local hz; hz=$(getconf CLK_TCK)
	local wall=$(((t1 - t0) / 1000000)) # ms
	local rp=$(((r1 - r0) * 100000 / hz / (wall ? wall : 1)))
	local np=$(((n1 - n0) * 100000 / hz / (wall ? wall : 1)))
	[ "$shape" = 1x2 ] && rp=0
	[ -n "$out" ] && echo "${out/RESULT /RESULT rep=$rep } redis_cpu_pct=$rp nodes_cpu_pct=$np" |
		tee -a "$RES" >&2
	[ $rc -eq 0 ] || { FAIL=1; log "FAILED (rc=$rc): cluster-$shape $*"; }
	cluster_settle
}

cluster_rep() { # rep
	local shape
	for shape in 1x2 1x2c 2x1 3x1; do
		cluster_shape "$shape"
		# a first short run warms the processes up; not counted
		cluster_run warm "$shape" numeric --scenario fanout --clients 300 --duration 1
		cluster_run "$1" "$shape" numeric --scenario fanout --clients 300 --duration 3
		cluster_run "$1" "$shape" numeric --scenario fanout --clients 300 --duration 3 \
			--rate 100 --window 64
		cluster_run "$1" "$shape" okfail --scenario pm --clients 300 --duration 3 \
			--rate 1000 --window 64
	done
	cluster_stop
}

cluster_main() { # reps
	cluster_redis || return 0
	local r
	for r in $(seq "$1"); do
		log "cluster repetition $r"
		cluster_rep "$r"
	done
	python3 "$ROOT/bench/cluster_summary.py" "$OUT" | tee "$OUT/cluster-summary.md"
}
