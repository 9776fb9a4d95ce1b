#!/usr/bin/env bats
# numeric FILE between users of two nodes (docs/CLUSTER.md; the FILE rules
# of docs/PROTOCOL.md, here across nodes): the same 100/101/102/200, the
# bytes intact, memory bounded on both nodes and in Redis.

load cluster_helpers

setup() {
	BG=()
	cl_redis_start
	cl_node_start n1
	cl_node_start n2
}

teardown() {
	local p
	for p in "${BG[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	cl_stop_all
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

@test "cluster: file.ready + file.header + file.done across nodes: 100, 102 then the bytes, 200 to the sender" {
	cl_login_numeric bob n2
	cl_login_numeric ann n1
	fc_expect bob "710 ann login"
	fc_send ann "FILE bob five.bin 5"
	fc_expect ann "100 Ready: send 5 bytes"
	fc_send_raw ann 'Z\tq!y'
	fc_expect bob "102 five.bin 5 ann"
	read_raw bob 5
	[ "$FC_RAW" = $'Z\tq!y' ] || fail "got '$FC_RAW'"
	fc_expect ann "200 File five.bin delivered to bob"
	fc_send ann "PRIV bob after"
	fc_expect ann "200 Sent to bob"
	fc_expect bob "701 ann after"
}

@test "cluster: file.zero across nodes: 100, 102 <name> 0, 200" {
	cl_login_numeric bob n2
	cl_login_numeric ann n1
	fc_expect bob "710 ann login"
	fc_send ann "FILE bob empty.bin 0"
	fc_expect ann "100 Ready: send 0 bytes"
	fc_expect bob "102 empty.bin 0 ann"
	fc_expect ann "200 File empty.bin delivered to bob"
}

@test "cluster: file.memory across nodes: 32 MiB through a slow reader, identical sha256, Redis and both nodes bounded" {
	T=$BATS_TEST_TMPDIR
	local size=$((32 << 20)) max=0 used base
	head -c $size /dev/urandom >"$T/big"
	client "$T/recv" recv "${CL_NUM[n2]}" bob --files 1 --rate 8000000 --rcvbuf 65536
	base=$(redis-cli -p "$CL_RPORT" info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
	client "$T/send" send "${CL_NUM[n1]}" ann bob big.bin "$T/big"
	ev "$T/recv" "HEADER big.bin $size ann"
	local deadline=$((SECONDS + 90))
	until grep -q '^FILE ' "$T/recv"; do
		used=$(redis-cli -p "$CL_RPORT" info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
		[ "${used:-0}" -gt "$max" ] && max=$used
		[ $SECONDS -lt $deadline ] || fail "transfer did not finish: $(cat "$T/recv")"
		sleep 0.05
	done
	ev "$T/recv" "FILE big.bin $size ann $(sha256sum "$T/big" | cut -d' ' -f1)"
	ev "$T/send" "LINE 200 File big.bin delivered to bob"
	echo "# Redis used_memory base $base, max $max, growth $(((max - base) >> 10)) KiB" >&3
	# the window is 8 chunks of 60 KiB: a few MiB at most, never the file
	[ $((max - base)) -lt $((8 << 20)) ] ||
		fail "Redis grew by $(((max - base) >> 10)) KiB for a $((size >> 20)) MiB file"
}

@test "cluster: file.receiver-gone across nodes: 101 to the sender, the next command works" {
	T=$BATS_TEST_TMPDIR
	head -c 1000000 /dev/urandom >"$T/src"
	client "$T/recv" recv "${CL_NUM[n2]}" bob --files 1 --close-after 50000
	client "$T/send" send "${CL_NUM[n1]}" ann bob gone.bin "$T/src" --part 200000 --until "101" --then "LIRO"
	ev "$T/recv" "HEADER gone.bin 1000000 ann"
	ev "$T/recv" "CLOSED 50000"
	ev "$T/send" "LINE 101 File transfer failed: receiver gone"
	ev "$T/send" "LINE 200 ROOMS"
}

@test "cluster: file.receiver-gone: the receiver's node is killed mid-file: 101 to the sender" {
	T=$BATS_TEST_TMPDIR
	head -c 4000000 /dev/urandom >"$T/src"
	client "$T/recv" recv "${CL_NUM[n2]}" bob --files 1 --rate 200000
	client "$T/send" send "${CL_NUM[n1]}" ann bob slow.bin "$T/src" --part 2000000 --until "101" --then "LIRO"
	ev "$T/recv" "HEADER slow.bin 4000000 ann"
	cl_node_kill n2 KILL
	FC_TIMEOUT=$((${CL_TTL:-2} + 5)) ev "$T/send" "LINE 101 File transfer failed: receiver gone"
	# the sender's connection goes on: its next line is the reply to LIRO
	# or bob's logout, whichever the node sends first
	ev "$T/send" "DONE"
	grep -Eq '^LINE (200 ROOMS|711 bob logout)$' "$T/send" ||
		fail "no line after the 101: $(cat "$T/send")"
	! grep -q '^LINE 200 File' "$T/send" || fail "a 200 after the 101"
}
