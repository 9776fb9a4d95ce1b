#!/usr/bin/env bash
# bench/icount.sh: load-independent cost of a delivery, in user-space
# instructions counted by valgrind (callgrind) in every forkchatd process.
# Each run starts a fresh daemon, logs the clients in, and counts only
# between the loadgen's READY and DONE marks (loadgen --pause: the "OK"
# that every client sends at READY zeroes the counters, the first "USERS"
# after DONE dumps them: cg.PID.1), so logins and logouts do not count.
#   bash bench/icount.sh [ROOT...]   ROOT: a checkout with bin/forkchatd
#                                    (default: this one); several = A/B
# env: CLIENTS (1000) FAN_RATE (20 msgs/s) PM_RATE (200 msgs/s) DUR (4 s)
#      REPS (3); SCEN=login: a storm of CLIENTS logins from process start
#      (start-up included) per presence line, N(N-1)/2 of them
#      SCEN ("fanout pm") KEEP=1 keeps the callgrind files (path printed)
#      DIALECT=irc: the irc listener (no &all), marks PONG/LUSERS; a login
#      storm is then counted per login (irc announces no login)
. "$(dirname "$0")/lib.sh"
DIALECT=${DIALECT:-okfail}
ZERO='cmd_ack*' DUMP='cmd_users*'
[ "$DIALECT" = irc ] && ZERO='cmd_pong*' DUMP='cmd_lusers*'
CLIENTS=${CLIENTS:-1000}
FAN_RATE=${FAN_RATE:-20}
PM_RATE=${PM_RATE:-200}
DUR=${DUR:-4}
REPS=${REPS:-3}
SCEN=${SCEN:-fanout pm}
fc_scratch icount

start() { # root dir: forkchatd under callgrind, sets MPID PORT PIDS
	fc_start "$1/bin/forkchatd" "$2" valgrind --tool=callgrind \
		--callgrind-out-file="$2/cg.%p" \
		--zero-before="$ZERO" --dump-before="$DUMP" || return 1
	MPID=$FC_PID PORT=$FC_PORT PIDS=$FC_PIDS
}

stop() { # root dir: settle to 0 clients, stop, wait for callgrind's files
	fc_settle "$1/bin/forkchatd" "$2"
	kill -TERM "$MPID"
	wait "$MPID" 2>/dev/null
	MPID=
}

one() { # root scenario seconds -> "instructions deliveries"
	local d=$TMP/run.$RANDOM$RANDOM rate=$FAN_RATE out p conc=128
	mkdir -p "$d"
	[ "$2" = pm ] && rate=$PM_RATE
	start "$1" "$d" || return 1
	taskset -c 1 "$LG" --dialect "$DIALECT" --port "$PORT" --server fc \
		--conc 128 --pids "$PIDS" --scenario "$2" --clients "$CLIENTS" \
		--duration "$3" --rate "$rate" --window 64 --pause 3 \
		>"$d/lg.out" 2>"$d/lg.err" &
	local lg=$!
	wait "$lg"
	out=$(cat "$d/lg.out")
	echo "$out" >>"$TMP/results.txt"
	stop "$1" "$d"
	local ins deliv lost reord
	ins=$(cat "$d"/cg.*.1 | awk '/^summary:/ {s += $2} END {print s}')
	deliv=$(grep -o ' deliveries=[0-9]*' <<<"$out" | cut -d= -f2)
	# a login storm: every login is announced to everyone already in
	# (okfail), or to no one (irc: counted per login)
	[ "$2" = login ] && deliv=$((CLIENTS * (CLIENTS - 1) / 2))
	[ "$2" = login ] && [ "$DIALECT" = irc ] && deliv=$CLIENTS
	lost=$(grep -o ' lost=[0-9]*' <<<"$out" | cut -d= -f2)
	reord=$(grep -o ' reordered=[0-9]*' <<<"$out" | cut -d= -f2)
	[ "$2" = login ] && reord=0 # a login storm has no order to check
	[ "${lost:-1}" = 0 ] && [ "${reord:-1}" = 0 ] ||
		echo "icount: loss or reorder: $out" >&2
	echo "${ins:-0} ${deliv:-0}"
}

report() { # root scenario: REPS runs, the median per delivery
	local r i d all=()
	for r in $(seq "$REPS"); do
		read -r i d < <(one "$1" "$2" "$DUR")
		[ "${d:-0}" -gt 0 ] || { echo "icount: no deliveries ($1 $2)" >&2; continue; }
		all+=($((i / d)))
	done
	printf '%s %s: %s instructions per delivery (median of %s: %s; %s clients, %s s)\n' \
		"$(git -C "$1" rev-parse --short HEAD 2>/dev/null || basename "$1")" "$2" \
		"$(printf '%s\n' "${all[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" \
		"${#all[@]}" "${all[*]}" "$CLIENTS" "$DUR"
}

[ -x "$LG" ] || { echo "icount: make bench first" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "icount: needs valgrind" >&2; exit 2; }
[ $# -eq 0 ] && set -- "$HERE"
for s in $SCEN; do
	for root in "$@"; do report "$root" "$s"; done
done
