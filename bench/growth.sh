#!/usr/bin/env bash
# bench/growth.sh: how forkchatd scales with the room: fanout deliveries/s
# (10 senders at full speed) and the workers' CPU time per delivery at 100,
# 300, 1000, 3000 and 5000 clients, then idle bytes per client at 1k, 5k and
# 10k, against one daemon with run.sh's flags; plots docs/bench/growth_*.png.
# The CPU time counts only the traffic (the loadgen's --pause marks), not
# the logins, whose presence lines grow as N^2; it is split into user and
# system time. The limit server (bench/limit.c, coalescing) runs the same
# fanouts: its CPU per delivery is what the kernel alone costs at each size.
#   bash bench/growth.sh [ROOT]     env: REPS (1), SIZES, IDLE_SIZES, DUR (3)
# Results: bench/out/growth-DATE/results.txt (RESULT lines + cpu_us_per_delivery).
set -u
HERE=$(cd "$(dirname "$0")/.." && pwd)
ROOT=${1:-$HERE}
LG=$HERE/build/bench/loadgen
REPS=${REPS:-1}
SIZES=${SIZES:-100 300 1000 3000 5000}
IDLE_SIZES=${IDLE_SIZES:-1000 5000 10000}
DUR=${DUR:-3}
. "$HERE/bench/fc_daemon.sh"
[ -x "$LG" ] && [ -x "$HERE/build/bench/limit" ] && [ -x "$ROOT/bin/forkchatd" ] || { echo "growth: make && make bench first" >&2; exit 2; }
OUT=$HERE/bench/out/growth-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
ln -sfn "$(basename "$OUT")" "$HERE/bench/out/latest-growth"

per_delivery() { # ticks deliveries: CPU µs per delivery
	awk -v t="$1" -v d="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.3f", t / hz * 1e6 / d}'
}

wait_mark() { # file marker pid: until the loadgen printed it (300 s at most, or until it exits)
	for _ in $(seq 3000); do
		grep -q "LOADGEN $2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

run() { # rep server port "pids" loadgen-args...: CPU between READY and DONE only
	local rep=$1 srv=$2 port=$3 pids=$4 out t0 t1 d err=$TMP/lg.$$.err lgp
	shift 4
	: >"$err"
	local pause=(--pause 1)
	[ "$2" = idle ] && pause=()
	nice -n -15 taskset -c 1 "$LG" --dialect okfail --port "$port" --server "$srv" \
		--conc 128 --pids "${pids// /,}" "${pause[@]}" "$@" >"$TMP/lg.out" 2>"$err" &
	lgp=$!
	t0= t1=
	if [ ${#pause[@]} -gt 0 ]; then
		wait_mark "$err" READY "$lgp" && t0=$(fc_cpu_ticks "$pids")
		wait_mark "$err" DONE "$lgp" && t1=$(fc_cpu_ticks "$pids")
	fi
	wait "$lgp" || FAIL=1
	grep -v '^LOADGEN' "$err" >>"$OUT/loadgen.err"
	out=$(cat "$TMP/lg.out")
	d=$(grep -o ' deliveries=[0-9]*' <<<"$out" | cut -d= -f2)
	if [ -n "$d" ] && [ "$d" -gt 0 ] && [ -n "${t0:-}" ] && [ -n "${t1:-}" ]; then
		local u=$((${t1% *} - ${t0% *})) s=$((${t1#* } - ${t0#* }))
		out="$out cpu_us_per_delivery=$(per_delivery $((u + s)) "$d")"
		out="$out user_us_per_delivery=$(per_delivery "$u" "$d") sys_us_per_delivery=$(per_delivery "$s" "$d")"
	fi
	echo "${out/RESULT /RESULT rep=$rep }" | tee -a "$OUT/results.txt" >&2
	grep -q ' lost=0' <<<"$out" || FAIL=1
	if [ "$srv" = forkchatd ]; then fc_settle "$ROOT/bin/forkchatd" "$TMP"; else sleep 0.5; fi
}

start_limit() { # the limit server on a free port: LPID, LPORT
	"$HERE/build/bench/limit" --mode coalesce 2>"$TMP/limit.log" &
	LPID=$! LPORT=
	for _ in $(seq 50); do
		LPORT=$(grep -o '127.0.0.1:[0-9]*' "$TMP/limit.log" | cut -d: -f2)
		[ -n "$LPORT" ] && return 0
		sleep 0.1
	done
	echo "growth: the limit server did not start" >&2
	exit 2
}

fc_scratch growth
fc_start "$ROOT/bin/forkchatd" "$TMP" nice -n -15 || exit 1
MPID=$FC_PID
WORKERS=$(echo "$FC_PIDS" | cut -d, -f2- | tr , ' ')
start_limit
trap 'kill "$LPID" 2>/dev/null; fc_cleanup' EXIT
FAIL=0
echo "# growth $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" |
	tee "$OUT/results.txt" >&2
for r in $(seq "$REPS"); do
	for n in $SIZES; do
		run "$r" forkchatd "$FC_PORT" "$WORKERS" --scenario fanout --clients "$n" \
			--duration "$DUR" --setup-timeout 180
		run "$r" limit "$LPORT" "$LPID" --scenario fanout --clients "$n" \
			--duration "$DUR" --setup-timeout 180
	done
	for n in $IDLE_SIZES; do
		run "$r" forkchatd "$FC_PORT" "$FC_PIDS" --scenario idle --clients "$n" --setup-timeout 180
	done
done
python3 "$HERE/bench/growth_plot.py" "$OUT" "$HERE/docs/bench"
exit $FAIL
