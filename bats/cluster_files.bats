#!/usr/bin/env bats
# numeric FILE between users of two nodes (docs/CLUSTER.md; the FILE rules
# of docs/PROTOCOL.md, here across nodes): the same 100/200/102/714, the
# bytes intact, memory bounded in Redis and on both nodes whatever the size.

# read_raw, client and ev from the single-node file suites
load files_helpers
load cluster_helpers

setup() {
	BG=()
	cn_redis_start
	cn_node_start n1
	cn_node_start n2
}

teardown() {
	local p
	for p in "${BG[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	cn_stop_all
}

@test "cluster: file.ready + file.stored + file.header + file.delivered across nodes: 100, 200, 102 then the bytes, 714" {
	cn_login_numeric bob n2
	cn_login_numeric ann n1
	fc_expect bob "710 ann login"
	fc_send ann "FILE bob five.bin 5"
	fc_expect ann "100 Ready: send 5 bytes"
	fc_send_raw ann 'Z\tq!y'
	fc_expect ann "200 File five.bin stored for bob"
	fc_expect bob "102 five.bin 5 ann"
	read_raw bob 5
	[ "$FC_RAW" = $'Z\tq!y' ] || fail "got '$FC_RAW'"
	fc_expect ann "714 bob five.bin delivered"
	fc_send ann "PRIV bob after"
	fc_expect ann "200 Sent to bob"
	fc_expect bob "701 ann after"
}

@test "cluster: file.zero across nodes: 100, 200, 102 <name> 0, 714" {
	cn_login_numeric bob n2
	cn_login_numeric ann n1
	fc_expect bob "710 ann login"
	fc_send ann "FILE bob empty.bin 0"
	fc_expect ann "100 Ready: send 0 bytes"
	fc_expect ann "200 File empty.bin stored for bob"
	fc_expect bob "102 empty.bin 0 ann"
	fc_expect ann "714 bob empty.bin delivered"
}

@test "cluster: file.memory across nodes: 32 MiB to a slow reader, identical sha256, Redis and both nodes' memory bounded" {
	T=$BATS_TEST_TMPDIR
	local size=$((32 << 20)) max=0 rmax=0 used base rbase rss pids limit=$((12 << 10))
	# ASan keeps freed memory in a quarantine: the nodes start again
	# without it, and ASan's own heap overhead is allowed for
	if fc_is_san; then
		cn_node_kill n1 TERM
		cn_node_kill n2 TERM
		wait "${CN_PID[n1]}" "${CN_PID[n2]}" 2>/dev/null || true
		export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0
		cn_node_start n1
		cn_node_start n2
		limit=$((32 << 10))
	fi
	head -c $size /dev/urandom >"$T/big"
	client "$T/recv" recv "${CN_NUM[n2]}" bob --files 1 --rate 8000000 --rcvbuf 65536
	base=$(redis-cli -p "$CN_RPORT" info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
	pids="$(cn_node_pids n1) $(cn_node_pids n2)"
	rbase=0
	for p in $pids; do rbase=$((rbase + $(awk '/^VmRSS:/ {print $2}' /proc/$p/status))); done
	client "$T/send" send "${CN_NUM[n1]}" ann bob big.bin "$T/big"
	local deadline=$((SECONDS + 90))
	until grep -q '^FILE ' "$T/recv"; do
		used=$(redis-cli -p "$CN_RPORT" info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
		[ "${used:-0}" -gt "$max" ] && max=$used
		rss=0
		for p in $pids; do rss=$((rss + $(awk '/^VmRSS:/ {print $2}' /proc/$p/status 2>/dev/null || echo 0))); done
		[ "$rss" -gt "$rmax" ] && rmax=$rss
		[ $SECONDS -lt $deadline ] || fail "transfer did not finish: $(cat "$T/recv")"
		sleep 0.05
	done
	ev "$T/recv" "FILE big.bin $size ann $(sha256sum "$T/big" | cut -d' ' -f1)"
	ev "$T/send" "LINE 200 File big.bin stored for bob"
	ev "$T/send" "LINE 714 bob big.bin delivered"
	echo "# Redis used_memory growth $(((max - base) >> 10)) KiB; nodes' RSS base ${rbase} KiB, growth $((rmax - rbase)) KiB" >&3
	# the window is 8 chunks of 60 KiB: a few MiB at most, never the file
	[ $((max - base)) -lt $((8 << 20)) ] ||
		fail "Redis grew by $(((max - base) >> 10)) KiB for a $((size >> 20)) MiB file"
	[ $((rmax - rbase)) -lt $limit ] ||
		fail "the nodes grew by $((rmax - rbase)) KiB for a $((size >> 20)) MiB file"
}

@test "cluster: file.delivered 'failed': the receiver's node is killed before delivery: 714 ... failed receiver gone" {
	T=$BATS_TEST_TMPDIR
	head -c 4000000 /dev/urandom >"$T/src"
	client "$T/recv" recv "${CN_NUM[n2]}" bob --files 1 --go "$T/go"
	client "$T/send" send "${CN_NUM[n1]}" ann bob slow.bin "$T/src"
	ev "$T/recv" "HEADER slow.bin 4000000 ann"
	cn_node_kill n2 KILL
	FC_TIMEOUT=$((${CN_TTL:-2} + 5)) ev "$T/send" "LINE 714 bob slow.bin failed receiver gone"
}
