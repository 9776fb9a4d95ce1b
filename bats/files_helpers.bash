# Shared by the file-transfer suites (bats/files_*.bats), on top of helpers:
#
#   read_raw NAME N              exactly N raw bytes from NAME into FC_RAW
#   client OUT ARGS...           a tests/fcfile.py client, events to OUT,
#                                waited for until READY
#   ev OUT LINE                  wait until OUT has the exact line LINE
#   at OUT LINE                  line number of LINE in OUT (empty: none)
#   apart_pair SRC FNAME         receiver bob and sender ann (held by $T/go)
#                                on different workers, proven; extra
#                                receiver flags in RECV_FLAGS
#   spool_fds                    "pid size" of every daemon descriptor open
#                                on a file of $SPOOL (the spool folder)
#   spool_bytes                  their summed size
#   files_start [FLAGS]          start the daemon (spool in $SPOOL)
#   files_teardown               kill the clients started, stop the daemon

load helpers

BG=()

files_teardown() {
	local p
	for p in "${BG[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	fc_stop
}

read_raw() {
	local LC_ALL=C
	FC_RAW=
	IFS= read -r -N "$2" -t "$FC_TIMEOUT" -u "${FC_FD[$1]}" FC_RAW ||
		fail "$1: fewer than $2 raw bytes came"
}

client() {
	local out=$1
	shift
	BG+=($(fc_file_client "$out" "$@"))
	fc_until "grep -qx READY '$out' || grep -q 'LOGIN-FAILED\\|TIMEOUT\\|EOF' '$out'"
	grep -qx READY "$out" || fail "client $*: $(cat "$out")"
}

ev() {
	local deadline=$((SECONDS + FC_TIMEOUT))
	until grep -qxF -- "$2" "$1"; do
		[ $SECONDS -lt $deadline ] || fail "'$2' not in $1: $(cat "$1")"
		sleep 0.02
	done
}

at() {
	grep -nxF -- "$2" "$1" | head -1 | cut -d: -f1
}

apart_pair() {
	local src=$1 fname=$2 rw sw try
	client "$T/recv" recv "$NUMPORT" bob "${RECV_FLAGS[@]}"
	rw=$(fc_worker_of_quick bob)
	for try in $(seq 1 40); do
		rm -f "$T/send"
		client "$T/send" send "$NUMPORT" ann bob "$fname" "$src" --go "$T/go" "${SEND_FLAGS[@]}"
		sw=$(fc_worker_of_quick ann)
		[ "$sw" != "$rw" ] && break
		kill "${BG[-1]}"
		wait "${BG[-1]}" 2>/dev/null || true
		fc_until '[ "$(fc_worker_of_quick ann)" = -1 ]'
	done
	[ "$(fc_worker_of bob)" != "$(fc_worker_of ann)" ] || fail "not apart"
}

spool_fds() {
	local p f l
	for p in $(fc_daemon_pids); do
		for f in /proc/"$p"/fd/*; do
			l=$(readlink "$f" 2>/dev/null) || continue
			[[ $l == "$SPOOL/"* ]] || continue
			echo "$p $(stat -L -c %s "$f" 2>/dev/null || echo 0)"
		done
	done
}

spool_bytes() {
	spool_fds | awk '{ s += $2 } END { print s + 0 }'
}

# start the daemon for a files suite: 3 workers, the spool in the test's
# folder (SPOOL), no per-address limit (every client is 127.0.0.1), extra
# flags appended
files_start() {
	SPOOL=$BATS_TEST_TMPDIR/spool
	FC_WORKERS=${FC_WORKERS:-3} fc_start --ping-interval 3600 --max-per-ip 0 \
		--spool-dir "$SPOOL" "$@"
	SPOOL=$(realpath "$SPOOL")
}
