#!/usr/bin/env bats
# numeric FILE is store-and-forward, docs/PROTOCOL.md ("File transfer"): the
# server takes the whole upload into a nameless spool file first and only
# then offers it to the receiver. These are the hostile and failure cases of
# issue 12 item 2: each test names the protocol line it checks. Whether the
# server holds a file is read from /proc (the daemon's descriptors on files
# of the spool folder), never guessed from a sleep.

load files_helpers

setup() {
	T=$BATS_TEST_TMPDIR
	files_start
}

teardown() {
	files_teardown
}

# the next line NAME reads is LINE, though NAME may get 710/711 noise first
next_is() {
	local name=$1 want=$2
	while fc_read "$name"; do
		[[ $FC_LAST =~ ^71[01]\  ]] && continue
		[ "$FC_LAST" = "$want" ] || fail "$name: expected '$want', got '$FC_LAST'"
		return 0
	done
	fail "$name: expected '$want', got nothing"
}

@test "file.sender-gone: FILE alice x 1 then close: alice is not closed and nobody can take her name" {
	fc_login_numeric alice
	fc_login_numeric mallory
	fc_expect alice "710 mallory login"
	fc_send mallory "FILE alice x 1"
	fc_expect mallory "100 Ready: send 1 bytes"
	fc_close mallory
	# the server has seen the close when alice hears of the logout; no 102
	# came before it, and alice's connection is still open
	fc_expect alice "711 mallory logout"
	fc_login_numeric cid
	fc_expect alice "710 cid login"
	fc_connect thief numeric
	fc_send thief "USER alice"
	fc_expect thief "300 Username already taken"
	fc_send cid "PRIV alice still here?"
	fc_expect cid "200 Sent to alice"
	fc_expect alice "701 cid still here?"
}

@test "file.stored + file.header: the receiver gets 102 only once the server holds every byte" {
	head -c 1000000 /dev/urandom >"$T/src"
	client "$T/recv" recv "$NUMPORT" bob --files 1
	fc_login_numeric cid
	ev "$T/recv" "LINE 710 cid login"
	client "$T/send" send "$NUMPORT" ann bob half.bin "$T/src" --part 600000 --pause "$T/go"
	ev "$T/send" "SENT 600000"
	fc_until '[ "$(spool_bytes)" -ge 600000 ]'
	# the spool holds 600000 bytes; a PRIV sent now reaches bob before any 102
	fc_send cid "PRIV bob mark"
	fc_wait_for cid "200 Sent to bob"
	ev "$T/recv" "LINE 701 cid mark"
	! grep -q '^HEADER' "$T/recv" || fail "102 before the upload ended: $(cat "$T/recv")"
	touch "$T/go"
	ev "$T/send" "LINE 200 File half.bin stored for bob"
	ev "$T/recv" "FILE half.bin 1000000 ann $(sha256sum "$T/src" | cut -d' ' -f1)"
	ev "$T/send" "LINE 714 bob half.bin delivered"
	[ "$(at "$T/recv" "LINE 701 cid mark")" -lt "$(at "$T/recv" "HEADER half.bin 1000000 ann")" ] ||
		fail "order: $(cat "$T/recv")"
}

@test "file.stored + file.delivered: 200 frees the sender at once; 714 delivered only when the receiver has taken the bytes" {
	head -c $((16 << 20)) /dev/urandom >"$T/big"
	client "$T/recv" recv "$NUMPORT" bob --files 1 --go "$T/go" --rcvbuf 65536
	client "$T/send" send "$NUMPORT" ann bob slow.bin "$T/big" --then LIRO
	ev "$T/send" "LINE 200 File slow.bin stored for bob"
	ev "$T/send" "LINE 200 ROOMS"
	ev "$T/recv" "HEADER slow.bin $((16 << 20)) ann"
	# bob reads nothing yet: 16 MiB cannot all have left the server
	! grep -q '^LINE 714' "$T/send" || fail "714 before bob read: $(cat "$T/send")"
	touch "$T/go"
	FC_TIMEOUT=30 ev "$T/send" "LINE 714 bob slow.bin delivered"
	ev "$T/recv" "FILE slow.bin $((16 << 20)) ann $(sha256sum "$T/big" | cut -d' ' -f1)"
	[ "$(at "$T/send" "LINE 200 ROOMS")" -lt "$(at "$T/send" "LINE 714 bob slow.bin delivered")" ] ||
		fail "order: $(cat "$T/send")"
}

@test "file.upload-timeout: a stalled upload gets 101 and is closed; the receiver never hears of it" {
	fc_stop
	files_start --upload-timeout 0.5
	head -c 100000 /dev/urandom >"$T/src"
	client "$T/recv" recv "$NUMPORT" bob
	fc_login_numeric cid
	ev "$T/recv" "LINE 710 cid login"
	client "$T/send" send "$NUMPORT" ann bob stall.bin "$T/src" --part 1000 --stall
	ev "$T/send" "LINE 101 File transfer failed: upload timed out"
	ev "$T/send" "EOF"
	fc_until '[ -z "$(spool_fds)" ]'
	fc_send cid "PRIV bob after the stall"
	ev "$T/recv" "LINE 701 cid after the stall"
	! grep -q '^HEADER\|^EOF' "$T/recv" || fail "receiver touched: $(cat "$T/recv")"
	[ -z "$(ls -A "$SPOOL")" ] || fail "left in the spool: $(ls -A "$SPOOL")"
}

@test "file.sender-gone: a sender that vanishes mid-upload never touches the receiver; its spool file is gone" {
	head -c 1000000 /dev/urandom >"$T/src"
	client "$T/recv" recv "$NUMPORT" bob --files 1
	fc_login_numeric cid
	ev "$T/recv" "LINE 710 cid login"
	client "$T/send" send "$NUMPORT" ann bob part.bin "$T/src" --part 300000 --close
	ev "$T/send" "DONE"
	ev "$T/recv" "LINE 711 ann logout"
	fc_until '[ -z "$(spool_fds)" ]'
	fc_send cid "PRIV bob ok"
	ev "$T/recv" "LINE 701 cid ok"
	! grep -q '^HEADER\|^EOF' "$T/recv" || fail "receiver touched: $(cat "$T/recv")"
	# bob still receives files
	printf 'next' >"$T/small"
	client "$T/s2" send "$NUMPORT" dan bob next.txt "$T/small"
	ev "$T/recv" "FILE next.txt 4 dan $(sha256sum "$T/small" | cut -d' ' -f1)"
	ev "$T/s2" "LINE 714 bob next.txt delivered"
}

@test "file.receiver-gone: the receiver vanishes mid-download: 714 failed to the sender, whose connection is unaffected" {
	head -c $((4 << 20)) /dev/urandom >"$T/src"
	client "$T/recv" recv "$NUMPORT" bob --files 1 --close-after 50000
	client "$T/send" send "$NUMPORT" ann bob gone.bin "$T/src" --then LIRO
	ev "$T/send" "LINE 200 File gone.bin stored for bob"
	ev "$T/recv" "CLOSED 50000"
	ev "$T/send" "LINE 714 bob gone.bin failed receiver gone"
	ev "$T/send" "LINE 200 ROOMS"
	ev "$T/send" "DONE"
	fc_until '[ -z "$(spool_fds)" ]'
}

@test "file.quota: a FILE beyond --spool-max gets 101 before any byte; the space is back once the file is delivered" {
	fc_stop
	files_start --spool-max 1000000
	head -c 600000 /dev/urandom >"$T/src"
	client "$T/recv" recv "$NUMPORT" bob --files 2
	fc_login_numeric ann
	fc_send ann "FILE bob toobig.bin 1000001"
	fc_expect ann "101 File transfer failed: spool full"
	fc_send ann "LIRO"
	fc_expect ann "200 ROOMS"
	# 600000 held by a paused upload: a second 600000 does not fit
	client "$T/s1" send "$NUMPORT" cid bob one.bin "$T/src" --part 1000 --pause "$T/go"
	ev "$T/s1" "SENT 1000"
	client "$T/s2" send "$NUMPORT" dan bob two.bin "$T/src"
	ev "$T/s2" "LINE 101 File transfer failed: spool full"
	ev "$T/s2" "DONE"
	touch "$T/go"
	ev "$T/s1" "LINE 200 File one.bin stored for bob"
	ev "$T/recv" "FILE one.bin 600000 cid $(sha256sum "$T/src" | cut -d' ' -f1)"
	ev "$T/s1" "LINE 714 bob one.bin delivered"
	client "$T/s3" send "$NUMPORT" eve bob three.bin "$T/src" --no-714
	ev "$T/s3" "LINE 100 Ready: send 600000 bytes"
	ev "$T/s3" "LINE 200 File three.bin stored for bob"
	ev "$T/recv" "FILE three.bin 600000 eve $(sha256sum "$T/src" | cut -d' ' -f1)"
}

@test "file.hold + file.queue: deliveries to a busy receiver wait behind the file, in order of arrival, a second file in its turn" {
	head -c $((8 << 20)) /dev/urandom >"$T/f1"
	head -c 100000 /dev/urandom >"$T/f2"
	client "$T/recv" recv "$NUMPORT" bob --files 2 --lines 1 --go "$T/go" --rcvbuf 65536
	fc_login_numeric cid
	ev "$T/recv" "LINE 710 cid login"
	client "$T/s1" send "$NUMPORT" ann bob first.bin "$T/f1"
	ev "$T/recv" "HEADER first.bin $((8 << 20)) ann"
	fc_send cid "PRIV bob one"
	fc_wait_for cid "200 Sent to bob"
	client "$T/s2" send "$NUMPORT" dan bob second.bin "$T/f2"
	ev "$T/s2" "LINE 200 File second.bin stored for bob"
	fc_send cid "PRIV bob two"
	fc_wait_for cid "200 Sent to bob"
	touch "$T/go"
	ev "$T/recv" "DONE"
	local s1 s2
	s1=$(sha256sum "$T/f1" | cut -d' ' -f1)
	s2=$(sha256sum "$T/f2" | cut -d' ' -f1)
	local want got
	want=$(printf '%s\n' "LINE 710 ann login" "HEADER first.bin $((8 << 20)) ann" \
		"FILE first.bin $((8 << 20)) ann $s1" "LINE 701 cid one" "LINE 710 dan login" \
		"HEADER second.bin 100000 dan" "FILE second.bin 100000 dan $s2" "LINE 701 cid two")
	got=$(grep -v '^READY\|^LINE 710 cid\|^DONE' "$T/recv")
	[ "$got" = "$want" ] || fail "order: $got"
}

@test "file.hold: no line is ever written into a file's bytes: a receiver closed for its queue mid-file gets a clean prefix" {
	fc_stop
	files_start --sendq-hard 65536 --sendq-soft 16384 --flood-rate 0
	head -c $((8 << 20)) /dev/urandom >"$T/big"
	client "$T/recv" recv "$NUMPORT" bob --files 1 --rate 2000000 --rcvbuf 65536
	fc_login_numeric cid
	ev "$T/recv" "LINE 710 cid login"
	client "$T/send" send "$NUMPORT" ann bob big.bin "$T/big"
	ev "$T/recv" "HEADER big.bin $((8 << 20)) ann"
	# 300 KiB of PRIVs queue behind the file, past --sendq-hard
	local line i
	line="PRIV bob $(head -c 1000 /dev/zero | tr '\0' x)"
	for i in $(seq 1 300); do printf '%s\n' "$line"; done >&"${FC_FD[cid]}"
	ev "$T/recv" "EOF"
	local n sum
	n=$(sed -n 's/^PARTIAL \([0-9]*\) .*/\1/p' "$T/recv")
	sum=$(sed -n 's/^PARTIAL [0-9]* //p' "$T/recv")
	[ -n "$n" ] || fail "no partial body: $(cat "$T/recv")"
	[ "$(head -c "$n" "$T/big" | sha256sum | cut -d' ' -f1)" = "$sum" ] ||
		fail "the $n bytes received are not the file's first $n"
	ev "$T/send" "LINE 714 bob big.bin failed receiver gone"
}

@test "file.memory: 128 MiB through the spool to a slow reader: daemon RSS stays flat" {
	local size=$((128 << 20)) limit=4096 base max=0 rss
	# ASan keeps freed chunks in a quarantine (256 MiB by default): turn
	# it off for this daemon and allow for ASan's own heap overhead
	if fc_is_san; then
		fc_stop
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0 \
			files_start
		limit=8192
	fi
	head -c $size /dev/urandom >"$T/big"
	RECV_FLAGS=(--files 1 --rate 40000000 --rcvbuf 65536)
	apart_pair "$T/big" flat.bin
	FC_PIDS=$(fc_daemon_pids)
	base=$(fc_rss_kb)
	touch "$T/go"
	local deadline=$((SECONDS + 90))
	until grep -q '^FILE \|^EOF\|^TIMEOUT' "$T/recv"; do
		rss=$(fc_rss_kb)
		[ "$rss" -gt "$max" ] && max=$rss
		[ $SECONDS -lt $deadline ] || fail "transfer did not finish: $(cat "$T/recv")"
		sleep 0.05
	done
	ev "$T/recv" "FILE flat.bin $size ann $(sha256sum "$T/big" | cut -d' ' -f1)"
	ev "$T/send" "LINE 714 bob flat.bin delivered"
	echo "# RSS base ${base} KiB, max ${max} KiB, growth $((max - base)) KiB" >&3
	[ $((max - base)) -lt $limit ] ||
		fail "daemon RSS grew by $((max - base)) KiB (limit $limit KiB)"
}

@test "file.spool: kill -9 of the worker holding an upload leaves nothing in the spool folder, and its quota comes back" {
	fc_stop
	files_start --spool-max 2000000
	head -c 1500000 /dev/urandom >"$T/src"
	RECV_FLAGS=(--files 1)
	SEND_FLAGS=(--part 700000 --pause "$T/never")
	apart_pair "$T/src" doomed.bin
	touch "$T/go"
	ev "$T/send" "SENT 700000"
	fc_until '[ "$(spool_bytes)" -ge 700000 ]'
	local w pid
	w=$(fc_worker_of ann)
	pid=$(fc_worker_field "$w" pid)
	[ -n "$(spool_fds | grep "^$pid ")" ] || fail "the spool file is not in worker $w"
	kill -9 "$pid"
	fc_until '[ "$(fc_worker_field "$w" pid)" != "$pid" ] && [ "$(fc_worker_field "$w" up)" = true ]'
	[ -z "$(ls -A "$SPOOL")" ] || fail "left in the spool: $(ls -A "$SPOOL")"
	fc_until '[ -z "$(spool_fds)" ]'
	! grep -q '^HEADER' "$T/recv" || fail "receiver touched: $(cat "$T/recv")"
	# the dead worker's 1500000 reserved bytes are free again
	client "$T/s2" send "$NUMPORT" cid bob again.bin "$T/src"
	ev "$T/s2" "LINE 100 Ready: send 1500000 bytes"
	ev "$T/recv" "FILE again.bin 1500000 cid $(sha256sum "$T/src" | cut -d' ' -f1)"
	ev "$T/s2" "LINE 714 bob again.bin delivered"
}

@test "file.quota: one sender cannot fill the spool: its 17th file waiting for delivery gets 101 before any byte" {
	client "$T/recv" recv "$NUMPORT" bob --files 17 --go "$T/go" --rcvbuf 65536
	fc_login_numeric ann
	fc_send ann "FILE bob big.bin $((8 << 20))"
	fc_expect ann "100 Ready: send $((8 << 20)) bytes"
	head -c $((8 << 20)) /dev/zero >&"${FC_FD[ann]}"
	fc_expect ann "200 File big.bin stored for bob"
	ev "$T/recv" "HEADER big.bin $((8 << 20)) ann"
	local i
	for i in $(seq 1 15); do
		fc_send ann "FILE bob e$i.txt 0"
		fc_expect ann "100 Ready: send 0 bytes"
		fc_expect ann "200 File e$i.txt stored for bob"
	done
	fc_send ann "FILE bob e16.txt 0"
	fc_expect ann "101 File transfer failed: too many files waiting"
	fc_send ann "LIRO"
	fc_expect ann "200 ROOMS"
	touch "$T/go"
	FC_TIMEOUT=20 ev "$T/recv" "FILE e15.txt 0 ann $(sha256sum </dev/null | cut -d' ' -f1)"
	fc_wait_for ann "714 bob e15.txt delivered"
	# delivered files no longer count
	fc_send ann "FILE bob again.txt 0"
	fc_wait_for ann "200 File again.txt stored for bob"
	ev "$T/recv" "DONE"
}
