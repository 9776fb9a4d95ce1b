#!/usr/bin/env bash
# bench/idlemem.sh: where an idle logged-in client's bytes go. Starts
# forkchatd (run.sh's flags), optionally runs fanout bursts first, logs N
# idle clients in and, while they stay connected, prints the loadgen's
# figure (Pss of every process + TCP socket memory) and its parts: Pss per
# process split into heap / shared memory (registry) / the rest, the
# sockets' skmem from `ss -tm`, and sockstat; then the workers' CPU time
# for the crowd's leaving all at once (until 0 clients, and in the 4 s
# after: a mass disconnect must leave no work behind).
#   bash bench/idlemem.sh [ROOT]     ROOT: a checkout with bin/forkchatd
# env: N (10000), BURSTS (0: fresh daemon; k: k fanout runs of 1000
#      clients at full speed, 3 s, before the idle crowd), DIALECT (okfail;
#      irc: the idle crowd registers over IRC, joining no &all, as run.sh's
#      forkchatd-irc)
. "$(dirname "$0")/lib.sh"
ROOT=${1:-$HERE}
FC=$ROOT/bin/forkchatd
N=${N:-10000}
BURSTS=${BURSTS:-0}
fc_scratch idlemem

fc_start "$FC" "$TMP" || exit 1
MPID=$FC_PID PORT=$FC_PORT PIDS=$FC_PIDS
settle() { fc_settle "$FC" "$TMP"; }
echo "# $(date -u +%FT%TZ) $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) N=$N bursts=$BURSTS $(uptime)"
for _ in $(seq "$BURSTS"); do
	taskset -c 1 "$LG" --dialect "${DIALECT:-okfail}" --port "$PORT" --conc 128 --pids "$PIDS" \
		--scenario fanout --clients 1000 --duration 3 | cut -c1-160
	settle
done
taskset -c 1 "$LG" --dialect "${DIALECT:-okfail}" --port "$PORT" --conc 128 --pids "$PIDS" \
	--scenario idle --clients "$N" --setup-timeout 180 --pause 8 \
	>"$TMP/lg.out" 2>"$TMP/lg.err" &
LGP=$!
worker_ms() { # the workers' user + system CPU time so far, in ms
	local t
	t=$(fc_cpu_ticks "${PIDS#*,}")
	echo $(((${t% *} + ${t#* }) * 1000 / $(getconf CLK_TCK)))
}
for _ in $(seq 1800); do grep -q 'LOADGEN MEASURED' "$TMP/lg.err" && break; sleep 0.1; done
t0=$(worker_ms) # the loadgen keeps the crowd 8 s more
cat "$TMP/lg.out"
for p in ${PIDS//,/ }; do
	awk -v p="$p" '
		/^[0-9a-f]+-[0-9a-f]+ / { name = $6; if (name == "") name = "[anon]" }
		/^Pss:/ { k = name ~ /heap/ ? "heap" : name ~ /SYSV|shm|memfd|dev\/zero|registry/ ? "shm" : name == "[anon]" ? "anon" : "file"; s[k] += $2; t += $2 }
		END { printf "pid %s Pss %d KiB: heap %d anon %d shm %d file/stack %d\n", p, t, s["heap"], s["anon"], s["shm"], s["file"] }' "/proc/$p/smaps"
done
grep TCP: /proc/net/sockstat
port_re=":$PORT\b"
ss -tmn state established "( sport = :$PORT )" 2>/dev/null | awk '
	/skmem/ { match($0, /skmem:\([^)]*\)/); m = substr($0, RSTART + 6, RLENGTH - 7); n++
		split(m, f, ","); for (i in f) { k = f[i]; gsub(/[^a-z]/, "", k); v = f[i]; gsub(/[^0-9]/, "", v); s[k] += v } }
	END { printf "server-side sockets %d, skmem sums (bytes): ", n; for (k in s) if (k != "rb" && k != "tb") printf "%s=%.0f ", k, s[k]; print "" }'
wait "$LGP"
settle
t1=$(worker_ms)
sleep 4
echo "mass disconnect of $N: workers' CPU $((t1 - t0)) ms until 0 clients, $(($(worker_ms) - t1)) ms in the 4 s after"
