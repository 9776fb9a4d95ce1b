#!/usr/bin/env bash
# bench/syscount.sh: system calls per delivery, counted by strace -c on the
# workers while the loadgen runs one scenario (load-independent, like
# bench/icount.sh, but for the kernel side that valgrind does not see).
#   bash bench/syscount.sh ROOT [loadgen args...]
#   default args: --scenario pm --clients 1000 --duration 3 --rate 1000 --window 64
#   DIALECT=irc: the irc listener (no &all); per delivery reads per login
#   for --scenario login (from the first connection to the last welcome)
. "$(dirname "$0")/lib.sh"
ROOT=$1
shift
[ $# -eq 0 ] && set -- --scenario pm --clients 1000 --duration 3 --rate 1000 --window 64
FC=$ROOT/bin/forkchatd
fc_scratch syscount
fc_start "$FC" "$TMP" || exit 1
MPID=$FC_PID PORT=$FC_PORT PIDS=$FC_PIDS
args=()
for p in $(echo "$PIDS" | cut -d, -f2- | tr , ' '); do args+=(-p "$p"); done
trace() { # strace -c on the workers, in SP, until it has attached
	strace -c -f -o "$TMP/strace.txt" "${args[@]}" 2>"$TMP/strace.err" &
	SP=$!
	for _ in $(seq 100); do [ "$(grep -c attached "$TMP/strace.err")" -ge 2 ] && return; sleep 0.1; done
}
LOGIN=0
[[ " $* " == *" --scenario login "* ]] && LOGIN=1 && trace # from the first connection
taskset -c 1 "$LG" --dialect "${DIALECT:-okfail}" --port "$PORT" --conc 128 --pids "$PIDS" "$@" \
	--pause 2 >"$TMP/lg.out" 2>"$TMP/lg.err" &
LGP=$!
if [ $LOGIN = 0 ]; then
	for _ in $(seq 1800); do grep -q 'LOADGEN READY' "$TMP/lg.err" && break; sleep 0.1; done
	trace
fi
for _ in $(seq 1800); do grep -q 'LOADGEN DONE' "$TMP/lg.err" && break; sleep 0.1; done
kill -INT "$SP"
wait "$SP" 2>/dev/null
wait "$LGP"
D=$(grep -o ' deliveries=[0-9]*' "$TMP/lg.out" | cut -d= -f2)
[ $LOGIN = 1 ] && D=$(grep -o ' logins=[0-9]*' "$TMP/lg.out" | cut -d= -f2) # per login
echo "# $(basename "$ROOT") $* : $(cut -c1-200 "$TMP/lg.out")"
awk -v d="$D" '$1 ~ /^[0-9.]+$/ && NF >= 5 { n = $4; name = $NF; if (name == "total") next;
	printf "%-14s %8d calls  %6.2f per delivery\n", name, n, n / d; t += n }
	END { printf "%-14s %8d calls  %6.2f per delivery (%d deliveries)\n", "all", t, t / d, d }' "$TMP/strace.txt"
