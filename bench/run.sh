#!/usr/bin/env bash
# bench/run.sh smoke|full|latency|file|cluster: every scenario against
# forkchatd, ngircd, InspIRCd and bench/limit, interleaved; results in
# bench/out/, plots in docs/bench/ (see docs/BENCHMARKS.md). smoke exits
# non-zero on any loss. file: the 1 GiB store-and-forward relay across
# workers against the plain TCP copy, the daemon's longest loop pass
# meanwhile, and bench/spoolio. cluster: the cluster rows (bench/cluster.sh).
# env: BENCH_SERVERS="forkchatd-irc ngircd ..." runs only those servers,
# BENCH_REPS (3) repetitions of full and cluster, BENCH_CLUSTER=0 skips
# full's cluster rows.
set -u
MODE=${1:-smoke}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/build/bench
LG=$B/loadgen
LIM=$B/limit
FC=$ROOT/bin/forkchatd
OUT=$ROOT/bench/out/$MODE-$(date +%Y%m%d-%H%M%S)
RES=$OUT/results.txt
LOG=$OUT/run.log
NICE="nice -n -15"
PIDS=()
FAIL=0
declare -A DIA PORT PP CONC

mkdir -p "$OUT"
ln -sfn "$(basename "$OUT")" "$ROOT/bench/out/latest-$MODE"

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM # exit (and so clean up) instead of carrying on

log() { echo "[$(date +%T)] $*" | tee -a "$LOG" >&2; }

free_port() {
	python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

wait_port() { # port: until it accepts, 10 s at most
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	log "port $1 never opened"
	return 1
}

install_deps() {
	local need=()
	command -v ngircd >/dev/null || need+=(ngircd)
	command -v inspircd >/dev/null || need+=(inspircd)
	command -v gnuplot >/dev/null || need+=(gnuplot-nox)
	[ ${#need[@]} -eq 0 ] && return
	log "installing ${need[*]}"
	apt-get update -qq >/dev/null 2>&1
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${need[@]}" >>"$LOG" 2>&1 || log "apt-get install failed: some peers skipped"
}

add_server() { # name dialect port pids conc
	DIA[$1]=$2; PORT[$1]=$3; PP[$1]=$4; CONC[$1]=$5
}

start_forkchatd() {
	$NICE "$FC" -f -w 2 -l okfail=127.0.0.1:0 -l numeric=127.0.0.1:0 -l irc=127.0.0.1:0 \
		--ping-interval 86400 --pong-timeout 86400 --max-clients 30000 \
		--flood-rate 0 --max-per-ip 0 --login-timeout 0 --irc-join-all 0 \
		--sendq-hard 16777216 --sendq-soft 8388608 --worker-budget 1073741824 \
		--max-file-size 4294967296 --control-socket "$OUT/fc.sock" \
		--spool-dir "$OUT/spool" \
		2>"$OUT/forkchatd.log" &
	PIDS+=($!)
	for _ in $(seq 50); do grep -q 'dialect=irc' "$OUT/forkchatd.log" && break; sleep 0.1; done
	local ok num irc pids
	ok=$(grep -o 'okfail addr=127.0.0.1:[0-9]*' "$OUT/forkchatd.log" | cut -d: -f2)
	num=$(grep -o 'numeric addr=127.0.0.1:[0-9]*' "$OUT/forkchatd.log" | cut -d: -f2)
	irc=$(grep -o 'irc addr=127.0.0.1:[0-9]*' "$OUT/forkchatd.log" | cut -d: -f2)
	pids=$("$FC" status --json -S "$OUT/fc.sock" | python3 -c \
		'import json,sys;d=json.load(sys.stdin);print(",".join(str(p) for p in [d["pid"]]+[w["pid"] for w in d["workers"]]))')
	add_server forkchatd okfail "$ok" "$pids" 128
	add_server forkchatd-numeric numeric "$num" "$pids" 128
	add_server forkchatd-irc irc "$irc" "$pids" 128
	log "forkchatd okfail=$ok numeric=$num irc=$irc pids=$pids"
}

start_ngircd() {
	command -v ngircd >/dev/null || { log "ngircd not available: skipped"; return; }
	local port; port=$(free_port)
	sed "s|@PORT@|$port|; s|@DIR@|$OUT|" "$ROOT/bench/peers/ngircd.conf" >"$OUT/ngircd.conf"
	$NICE ngircd -n -f "$OUT/ngircd.conf" >"$OUT/ngircd.log" 2>&1 &
	PIDS+=($!)
	# ngircd's listen backlog is small (SYNs beyond it are dropped and retried
	# after 1 s), so its login concurrency is 8 to measure it at its best.
	wait_port "$port" && add_server ngircd irc "$port" "$!" 8
	log "ngircd $(ngircd --version | head -1) port=$port"
}

start_inspircd() {
	command -v inspircd >/dev/null || { log "inspircd not available: skipped"; return; }
	local port; port=$(free_port)
	sed "s|@PORT@|$port|; s|@DIR@|$OUT|g" "$ROOT/bench/peers/inspircd.conf" >"$OUT/inspircd.conf"
	$NICE inspircd --runasroot --nofork --config "$OUT/inspircd.conf" >"$OUT/inspircd.out" 2>&1 &
	PIDS+=($!)
	# InspIRCd completes registrations only in its once-a-second background
	# pass, so its login concurrency is 2000 (all at once) to measure it at its best.
	wait_port "$port" && add_server inspircd irc "$port" "$!" 2000
	log "inspircd $(inspircd --version) port=$port"
}

start_limit() { # mode: coalesce | write
	local name=limit; [ "$1" = write ] && name=limit-write
	$NICE "$LIM" --mode "$1" 2>"$OUT/$name.log" &
	PIDS+=($!)
	local pid=$! port=
	for _ in $(seq 50); do
		port=$(grep -o '127.0.0.1:[0-9]*' "$OUT/$name.log" | cut -d: -f2)
		[ -n "$port" ] && break
		sleep 0.1
	done
	add_server "$name" okfail "$port" "$pid" 128
}

settle() { # server: wait until the previous run's clients are gone
	if [[ $1 == forkchatd* ]]; then
		for _ in $(seq 600); do
			"$FC" status --json -S "$OUT/fc.sock" 2>/dev/null | grep -q '"clients":0,' && return
			sleep 0.2
		done
		log "forkchatd still has clients after 120 s"
	else
		sleep 0.3
	fi
}

run() { # rep server loadgen-args... (BENCH_SERVERS="a b": only those)
	local rep=$1 s=$2; shift 2
	[ -n "${PORT[$s]:-}" ] || return 0
	[ -z "${BENCH_SERVERS:-}" ] || [[ " $BENCH_SERVERS " == *" $s "* ]] || return 0
	local out rc
	out=$($NICE taskset -c 1 "$LG" --dialect "${DIA[$s]}" --port "${PORT[$s]}" --server "$s" \
		--conc "${CONC[$s]}" --pids "${PP[$s]}" "$@" 2>>"$OUT/loadgen.err")
	rc=$?
	[ -n "$out" ] && echo "${out/RESULT /RESULT rep=$rep }" | tee -a "$RES" >&2
	if [ $rc -ne 0 ]; then
		FAIL=1
		log "FAILED (rc=$rc): $s $*"
	fi
	settle "$s"
}

run_copy() { # rep size
	local out
	out=$($NICE taskset -c 1 "$LG" --scenario copy --file-size "$2" 2>>"$OUT/loadgen.err") || FAIL=1
	echo "${out/RESULT /RESULT rep=$1 }" | tee -a "$RES" >&2
}

profile() { # perf on the forkchatd workers during a fanout, a login storm and PMs
	command -v perf >/dev/null || { log "perf missing: no profile"; return; }
	local workers; workers=$(echo "${PP[forkchatd]}" | cut -d, -f2-)
	for what in fanout login pm; do
		local args=(--scenario fanout --clients 1000 --duration 6)
		[ $what = login ] && args=(--scenario login --clients 3000)
		[ $what = pm ] && args=(--scenario pm --clients 1000 --duration 6)
		perf record -F 999 -g -o "$OUT/perf-$what.data" -p "$workers" -- sleep 5 \
			>/dev/null 2>&1 &
		local pp=$!
		sleep 0.2
		run prof forkchatd "${args[@]}"
		wait $pp
		perf report -i "$OUT/perf-$what.data" --no-children --percent-limit 0.7 \
			--stdio 2>/dev/null | grep -E '^ +[0-9.]+%' >"$OUT/perf-$what.txt"
		perf report -i "$OUT/perf-$what.data" --children --percent-limit 2 --stdio \
			-g none 2>/dev/null | grep -E '^ +[0-9.]+%' >"$OUT/perf-$what-children.txt"
	done
}

smoke() {
	local s
	for s in forkchatd forkchatd-numeric forkchatd-irc ngircd inspircd limit limit-write; do
		run 1 "$s" --scenario fanout --clients 50 --duration 1
	done
	run 1 forkchatd --scenario fanout --clients 50 --duration 1 --rate 200 --window 64
	for s in forkchatd forkchatd-numeric forkchatd-irc ngircd inspircd; do
		run 1 "$s" --scenario pm --clients 50 --duration 1
		run 1 "$s" --scenario pm --clients 50 --duration 1 --rate 200 --window 64
	done
	for s in forkchatd forkchatd-irc ngircd inspircd limit; do
		run 1 "$s" --scenario login --clients 200
		run 1 "$s" --scenario idle --clients 200
	done
	run 1 forkchatd-numeric --scenario file --file-size $((64 << 20))
	run_copy 1 $((64 << 20))
}

full_rep() { # rep
	local r=$1 n s fan=(forkchatd forkchatd-numeric forkchatd-irc ngircd inspircd limit limit-write)
	# 3000 only with BENCH_BIG=1: ngircd alone needs minutes to join 3000
	# clients to one channel (every JOIN goes to every member)
	for n in 100 300 1000 ${BENCH_BIG:+3000}; do
		for s in "${fan[@]}"; do
			run "$r" "$s" --scenario fanout --clients "$n" --duration 3
		done
	done
	for s in forkchatd forkchatd-numeric forkchatd-irc ngircd inspircd limit; do
		run "$r" "$s" --scenario fanout --clients 1000 --duration 3 --rate 1000 --window 64 \
			--cdf "$OUT/cdf-fanout-$s-$r.txt"
	done
	for s in forkchatd forkchatd-numeric forkchatd-irc ngircd inspircd; do
		run "$r" "$s" --scenario pm --clients 1000 --duration 3
		run "$r" "$s" --scenario pm --clients 1000 --duration 3 --rate 1000 --window 64 \
			--cdf "$OUT/cdf-pm-$s-$r.txt"
	done
	for s in forkchatd forkchatd-irc ngircd inspircd limit; do
		run "$r" "$s" --scenario login --clients 2000
	done
	for s in forkchatd forkchatd-irc ngircd inspircd limit; do
		run "$r" "$s" --scenario idle --clients 10000 --setup-timeout 180
	done
	run "$r" forkchatd-numeric --scenario file --file-size $((1 << 30))
	run_copy "$r" $((1 << 30))
}

latency_rep() { # rep: fanout below the loadgen's saturation (100k deliveries/s)
	local s
	for s in forkchatd forkchatd-numeric ngircd inspircd limit; do
		run "$1" "$s" --scenario fanout --clients 1000 --duration 3 --rate 100 --window 64 \
			--cdf "$OUT/cdf-fanout100-$s-$1.txt"
	done
}

file_only() { # one quick repetition: the relay, the copy, the loop, the disk
	run 1 forkchatd-numeric --scenario file --file-size $((1 << 30))
	run_copy 1 $((1 << 30))
	grep -E 'file (stored|delivered)' "$OUT/forkchatd.log" | sed 's/^/# /' | tee -a "$RES" >&2
	"$B/spoolio" "$OUT/spool" 1024 | sed 's/^/# spoolio: /' | tee -a "$RES" >&2
	log "done: $RES (failures: $FAIL)"
}

# shellcheck source=bench/cluster.sh
. "$ROOT/bench/cluster.sh"

main() {
	ulimit -n "$(ulimit -Hn)"
	[ -x "$LG" ] && [ -x "$LIM" ] && [ -x "$FC" ] || { echo "run: make && make bench first" >&2; exit 2; }
	if [ "$MODE" = cluster ]; then # only the cluster rows (cluster.sh)
		log "mode=cluster out=$OUT cpus=$(nproc) commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) load=$(cut -d" " -f1-3 /proc/loadavg)"
		cluster_main "${BENCH_REPS:-3}"
		log "done: $RES (failures: $FAIL)"
		exit $FAIL
	fi
	install_deps
	log "mode=$MODE out=$OUT nofile=$(ulimit -n) cpus=$(nproc) commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) forkchatd-md5=$(md5sum <"$FC" | cut -c1-8) load=$(cut -d" " -f1-3 /proc/loadavg)"
	start_forkchatd
	if [ "$MODE" = file ]; then
		file_only
		exit $FAIL
	fi
	start_ngircd
	start_inspircd
	start_limit coalesce
	start_limit write
	if [ "$MODE" = smoke ]; then
		smoke
	elif [ "$MODE" = latency ]; then
		for r in 1 2 3; do latency_rep "$r"; done
	else
		for r in $(seq "${BENCH_REPS:-3}"); do log "repetition $r"; full_rep "$r"; done
		profile
		python3 "$ROOT/bench/summarize.py" "$OUT" "$ROOT/docs/bench" | tee "$OUT/summary.md"
		[ "${BENCH_CLUSTER:-1}" = 0 ] || cluster_main "${BENCH_REPS:-3}" | tee -a "$OUT/summary.md"
	fi
	log "done: $RES (failures: $FAIL)"
	exit $FAIL
}

main
