#!/usr/bin/env bash
# bench/ab.sh: wall-clock A/B of two (or more) forkchatd builds, interleaved
# (every scenario runs on each build in turn, REPS times), with run.sh's
# daemon flags and loadgen; the load average is printed with every result.
#   bash bench/ab.sh ROOT_A ROOT_B ...   ROOT: a checkout with bin/forkchatd,
#   or ROOT+FLAGS: that build with more daemon flags, comma-separated
#   (bench/ab.sh .+--coalesce-ms=0 . compares one build with and without)
# env: REPS (3), CLIENTS (1000), DUR (3), SCEN ("fanout pm pm1000"):
#   fanout = 10 senders full speed; pm = full speed; pm1000 = 1000 msgs/s
#   fan1000 = fanout at 1000 msgs/s; idle = 10,000 idle clients (IDLE_N);
#   login = a storm of 2000 okfail logins (LOGIN_N); file = numeric FILE of
#   1 GiB across workers (FILE_MIB), upload and delivery
#   (ab_summary.py: MiB/s of the whole, then upload/delivery)
. "$(dirname "$0")/lib.sh"
REPS=${REPS:-3}
CLIENTS=${CLIENTS:-1000}
DUR=${DUR:-3}
SCEN=${SCEN:-fanout pm pm1000}
IDLE_N=${IDLE_N:-10000}
TMP=$(mktemp -d /tmp/ab.XXXXXX)
NICE="nice -n -15"
declare -a MP PORT NPORT PIDS
FAIL=0

cleanup() {
	for p in "${MP[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${AB_KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

start() { # index root[+flags]
	local flags=
	[[ $2 == *+* ]] && flags=${2#*+}
	mkdir -p "$TMP/$1"
	# shellcheck disable=SC2086
	FC_EXTRA=${flags//,/ } fc_start "${2%%+*}/bin/forkchatd" "$TMP/$1" $NICE || exit 1
	MP[$1]=$FC_PID PORT[$1]=$FC_PORT NPORT[$1]=$FC_NPORT PIDS[$1]=$FC_PIDS
}

settle() { # index root
	fc_settle "${2%%+*}/bin/forkchatd" "$TMP/$1"
}

args() { # scenario -> loadgen arguments
	case $1 in
	fanout) echo "--scenario fanout --clients $CLIENTS --duration $DUR" ;;
	fan1000) echo "--scenario fanout --clients $CLIENTS --duration $DUR --rate 1000 --window 64" ;;
	pm) echo "--scenario pm --clients $CLIENTS --duration $DUR" ;;
	pm1000) echo "--scenario pm --clients $CLIENTS --duration $DUR --rate 1000 --window 64" ;;
	idle) echo "--scenario idle --clients $IDLE_N --setup-timeout 180" ;;
	login) echo "--scenario login --clients ${LOGIN_N:-2000}" ;;
	file) echo "--scenario file --file-size $((${FILE_MIB:-1024} << 20))" ;;
	esac
}

run() { # rep index root scenario
	local out load dia=${DIALECT:-okfail} port=${PORT[$2]}
	[ "$4" = file ] && dia=numeric port=${NPORT[$2]}
	load=$(cut -d" " -f1-3 /proc/loadavg)
	# shellcheck disable=SC2046
	out=$($NICE taskset -c 1 "$LG" --dialect $dia --port "$port" \
		--server "$(git -C "${3%%+*}" rev-parse --short HEAD 2>/dev/null || basename "${3%%+*}")${3#"${3%%+*}"}" --conc 128 \
		--pids "${PIDS[$2]}" $(args "$4") 2>>"$TMP/lg.err") || FAIL=1
	echo "${out/RESULT /RESULT rep=$1 load=${load// /\/} }"
	grep -q ' lost=0' <<<"$out" || FAIL=1
	[ "$4" = idle ] || [ "$4" = login ] || [ "$4" = file ] || grep -q ' reordered=0 misdelivered=0' <<<"$out" || FAIL=1
	settle "$2" "$3"
}

[ -x "$LG" ] && [ $# -ge 1 ] || { echo "usage: ab.sh ROOT_A ROOT_B... (make bench first)" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)"
roots=("$@")
for i in "${!roots[@]}"; do start "$i" "${roots[$i]}"; done
echo "# $(date -u +%FT%TZ) $(uptime)"
for r in $(seq "$REPS"); do
	for s in $SCEN; do
		for i in "${!roots[@]}"; do run "$r" "$i" "${roots[$i]}" "$s"; done
	done
done
exit $FAIL
