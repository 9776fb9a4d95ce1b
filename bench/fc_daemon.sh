# bench/fc_daemon.sh: sourced by the bench scripts (ab, growth, icount, idlemem,
# syscount): start one forkchatd with run.sh's flags and wait until clients
# are gone, and read processes' CPU time. Not a program of its own.

# fc_start FORKCHATD DIR [WRAPPER...]: the daemon (under WRAPPER, e.g. nice
# or valgrind) with its log and control socket in DIR; sets FC_PID (the
# wrapper's pid), FC_PORT (okfail, or irc with DIALECT=irc: its irc users
# join no &all, like run.sh's forkchatd-irc), FC_NPORT (numeric) and
# FC_PIDS (master,worker,worker). Returns 1 when it did not start within 60 s.
# FC_EXTRA: more daemon flags, space-separated (e.g. "--coalesce-ms 0").
fc_start() {
	local fc=$1 dir=$2
	shift 2
	local dia=${DIALECT:-okfail} lim=() h o
	h=$("$fc" --help 2>&1) # older builds (A/B) lack the later limits
	for o in flood-rate max-per-ip login-timeout irc-join-all; do
		[[ $h == *--$o* ]] && lim+=("--$o" 0)
	done
	[[ $h == *--spool-dir* ]] && lim+=(--spool-dir "$dir/spool")
	"$@" "$fc" -f -w 2 -l "$dia=127.0.0.1:0" -l numeric=127.0.0.1:0 "${lim[@]}" \
		--ping-interval 86400 --pong-timeout 86400 --max-clients 30000 \
		--sendq-hard 16777216 --sendq-soft 8388608 \
		--worker-budget 1073741824 --max-file-size 4294967296 \
		--control-socket "$dir/fc.sock" ${FC_EXTRA:-} \
		2>"$dir/fc.log" &
	FC_PID=$!
	FC_PORT= FC_PIDS=
	for _ in $(seq 300); do # the port, then every worker's pid
		[ -n "$FC_PORT" ] || FC_PORT=$(grep -o "$dia addr=127.0.0.1:[0-9]*" "$dir/fc.log" | cut -d: -f2)
		FC_NPORT=$(grep -o 'numeric addr=127.0.0.1:[0-9]*' "$dir/fc.log" | cut -d: -f2)
		[ -n "$FC_PORT" ] && FC_PIDS=$("$fc" status --json -S "$dir/fc.sock" 2>/dev/null | python3 -c \
			'import json,sys;d=json.load(sys.stdin);w=[x["pid"] for x in d["workers"] if x["pid"]];print(",".join(map(str,[d["pid"]]+w)) if len(w)==2 else "")' 2>/dev/null)
		[ -n "$FC_PIDS" ] && return 0
		sleep 0.2
	done
	echo "fc_start: $fc did not start (see $dir/fc.log)" >&2
	return 1
}

# fc_settle FORKCHATD DIR: until the daemon reports 0 clients (120 s at most).
fc_settle() {
	for _ in $(seq 600); do
		"$1" status --json -S "$2/fc.sock" 2>/dev/null | grep -q '"clients":0,' && return 0
		sleep 0.2
	done
	return 1
}

# fc_scratch NAME: TMP, a scratch directory removed at exit (KEEP=1 keeps
# it), where the daemon in MPID is stopped; the descriptor limit raised.
fc_scratch() {
	TMP=$(mktemp -d "/tmp/$1.XXXXXX")
	MPID=
	trap fc_cleanup EXIT
	ulimit -n "$(ulimit -Hn)"
}

fc_cleanup() {
	[ -n "${MPID:-}" ] && kill "$MPID" 2>/dev/null
	wait 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}

# fc_cpu_ticks PID...: "user system" clock ticks of those processes, summed
# (commas or spaces between the pids).
fc_cpu_ticks() {
	local tu=0 ts=0 p u s
	for p in ${*//,/ }; do
		read -r u s < <(cut -d' ' -f14,15 "/proc/$p/stat")
		tu=$((tu + u)) ts=$((ts + s))
	done
	echo "$tu $ts"
}
