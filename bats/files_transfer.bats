#!/usr/bin/env bats
# numeric FILE transfer, docs/PROTOCOL.md ("File transfer"): the commands,
# their errors and the ordinary store-and-forward flow. Small files are
# checked byte for byte from bash; large and timing-sensitive ones use the
# raw-byte clients of tests/fcfile.py, whose events the tests wait on. The
# hostile cases (stalls, vanishing peers, quota, crashes) are in
# files_store.bats.

load files_helpers

setup() {
	files_start
}

teardown() {
	files_teardown
}

@test "file.ready + file.stored + file.header + file.delivered: a 1-byte file: 100 at once, 200 once stored, then 102 and the byte, then 714" {
	fc_login_numeric bob
	fc_login_numeric ann
	fc_expect bob "710 ann login"
	fc_send ann "FILE bob one.bin 1"
	fc_expect ann "100 Ready: send 1 bytes"
	fc_expect_silent ann 0.1
	fc_expect_silent bob 0.05
	fc_send_raw ann 'Z'
	fc_expect ann "200 File one.bin stored for bob"
	fc_expect bob "102 one.bin 1 ann"
	read_raw bob 1
	[ "$FC_RAW" = Z ] || fail "got '$FC_RAW'"
	fc_expect ann "714 bob one.bin delivered"
	# lines again afterwards, both sides
	fc_send ann "PRIV bob after"
	fc_expect ann "200 Sent to bob"
	fc_expect bob "701 ann after"
}

@test "file.zero: a 0-byte file: 100, 200, then 102 <name> 0 and 714" {
	fc_login_numeric bob
	fc_login_numeric ann
	fc_expect bob "710 ann login"
	fc_send ann "FILE bob empty.txt 0"
	fc_expect ann "100 Ready: send 0 bytes"
	fc_expect ann "200 File empty.txt stored for bob"
	fc_expect bob "102 empty.txt 0 ann"
	fc_expect ann "714 bob empty.txt delivered"
	fc_send ann "PRIV bob next"
	fc_expect ann "200 Sent to bob"
	fc_expect bob "701 ann next"
}

@test "file.stored: raw bytes are not lines; a command pipelined after them is answered after the 200" {
	fc_login_numeric bob
	fc_login_numeric ann
	fc_expect bob "710 ann login"
	fc_send ann "FILE bob bin.dat 11"
	fc_expect ann "100 Ready: send 11 bytes"
	fc_send_raw ann 'a\r\nb\x01\xffQUIT\nLIRO\n'
	fc_expect bob "102 bin.dat 11 ann"
	read_raw bob 11
	[ "$FC_RAW" = $'a\r\nb\x01\xffQUIT\n' ] || fail "bytes changed: '$FC_RAW'"
	fc_expect ann "200 File bin.dat stored for bob"
	# the LIRO reply and the 714 race: both come, in either order
	local got
	fc_read ann && got=$FC_LAST
	fc_read ann && got="$got|$FC_LAST"
	[ "$got" = "200 ROOMS|714 bob bin.dat delivered" ] ||
		[ "$got" = "714 bob bin.dat delivered|200 ROOMS" ] || fail "got '$got'"
}

@test "file.offer: usage, size, self, unknown user and okfail recipient errors; no byte expected after them" {
	fc_login alice
	fc_login_numeric bob
	fc_login_numeric ann
	fc_expect bob "710 ann login"
	fc_send ann "FILE"
	fc_expect ann "400 Invalid parameters"
	fc_send ann "FILE bob"
	fc_expect ann "400 Invalid parameters"
	fc_send ann "FILE bob f.txt"
	fc_expect ann "400 Usage: FILE <user> <filename> <size>"
	fc_send ann "FILE bob f.txt 1 2"
	fc_expect ann "400 Usage: FILE <user> <filename> <size>"
	fc_send ann "FILE bob f.txt ten"
	fc_expect ann "400 Invalid file size"
	fc_send ann "FILE bob f.txt -1"
	fc_expect ann "400 Invalid file size"
	fc_send ann "FILE zed f.txt 1"
	fc_expect ann "300 No such user zed"
	fc_send ann "FILE ann f.txt 1"
	fc_expect ann "400 Cannot send files to yourself"
	fc_send ann "FILE alice f.txt 1"
	fc_expect ann "301 alice cannot receive files (okfail client)"
	fc_send ann "LIRO"
	fc_expect ann "200 ROOMS"
	fc_expect_silent bob 0.1
	fc_wait_for alice "JOINED ann"
	fc_expect_silent alice 0.05
}

@test "file.name: '/', '..' and '.' in file names are refused with 400, nothing reaches the receiver" {
	fc_login_numeric bob
	fc_login_numeric ann
	fc_expect bob "710 ann login"
	local n
	for n in a/b /etc/passwd .. ../x a..b . x/ ...; do
		fc_send ann "FILE bob $n 1"
		fc_expect ann "400 Invalid file name: a base name, no / or .."
	done
	fc_send_raw ann 'FILE bob a\tb 1\n'
	fc_expect ann "400 Invalid file name: a base name, no / or .."
	fc_send ann "FILE bob .hidden 1"
	fc_expect ann "100 Ready: send 1 bytes"
	fc_send_raw ann 'x'
	fc_expect ann "200 File .hidden stored for bob"
	fc_expect bob "102 .hidden 1 ann"
	read_raw bob 1
	fc_expect ann "714 bob .hidden delivered"
	fc_expect_silent bob 0.1
}

@test "file.limit: --max-file-size enforced before any byte flows; exactly the limit is allowed" {
	fc_stop
	files_start --max-file-size 1000
	fc_login_numeric bob
	fc_login_numeric ann
	fc_expect bob "710 ann login"
	fc_send ann "FILE bob big.bin 1001"
	fc_expect ann "400 File too large (limit 1000 bytes)"
	fc_send ann "LIRO"
	fc_expect ann "200 ROOMS"
	fc_expect_silent bob 0.15
	fc_send ann "FILE bob ok.bin 1000"
	fc_expect ann "100 Ready: send 1000 bytes"
	fc_send_raw ann "$(printf 'x%.0s' $(seq 1 999))\n"
	fc_expect ann "200 File ok.bin stored for bob"
	fc_expect bob "102 ok.bin 1000 ann"
	fc_expect bob "$(printf 'x%.0s' $(seq 1 999))"
	fc_expect ann "714 bob ok.bin delivered"
}

@test "file.cross-worker: 64 MiB between two workers (proven apart) arrives with an identical sha256" {
	T=$BATS_TEST_TMPDIR
	head -c $((64 << 20)) /dev/urandom >"$T/big"
	local sum
	sum=$(sha256sum "$T/big" | cut -d' ' -f1)
	RECV_FLAGS=(--files 1)
	apart_pair "$T/big" big.bin
	touch "$T/go"
	FC_TIMEOUT=60 ev "$T/send" "LINE 714 bob big.bin delivered"
	ev "$T/send" "LINE 100 Ready: send $((64 << 20)) bytes"
	ev "$T/send" "LINE 200 File big.bin stored for bob"
	ev "$T/recv" "HEADER big.bin $((64 << 20)) ann"
	ev "$T/recv" "FILE big.bin $((64 << 20)) ann $sum"
}

@test "file.queue: a second file to a busy receiver gets 100 and 200 at once (the spool takes it) and arrives after the first, both intact, in order" {
	T=$BATS_TEST_TMPDIR
	head -c 300000 /dev/urandom >"$T/f1"
	head -c 100000 /dev/urandom >"$T/f2"
	client "$T/recv" recv "$NUMPORT" bob --files 2 --go "$T/go"
	client "$T/s1" send "$NUMPORT" ann bob first.bin "$T/f1"
	ev "$T/recv" "HEADER first.bin 300000 ann"
	client "$T/s2" send "$NUMPORT" cid bob second.bin "$T/f2"
	ev "$T/s2" "LINE 100 Ready: send 100000 bytes"
	ev "$T/s2" "LINE 200 File second.bin stored for bob"
	! grep -q "HEADER second.bin" "$T/recv" || fail "second file started early"
	touch "$T/go"
	ev "$T/recv" "FILE second.bin 100000 cid $(sha256sum "$T/f2" | cut -d' ' -f1)"
	ev "$T/recv" "FILE first.bin 300000 ann $(sha256sum "$T/f1" | cut -d' ' -f1)"
	[ "$(at "$T/recv" "FILE first.bin 300000 ann $(sha256sum "$T/f1" | cut -d' ' -f1)")" -lt \
		"$(at "$T/recv" "HEADER second.bin 100000 cid")" ] || fail "out of order: $(cat "$T/recv")"
	ev "$T/s1" "LINE 714 bob first.bin delivered"
	ev "$T/s2" "LINE 714 bob second.bin delivered"
}

@test "file.hold: a PRIV sent to the receiver during the transfer arrives after the file's bytes" {
	T=$BATS_TEST_TMPDIR
	head -c 300000 /dev/urandom >"$T/f1"
	client "$T/recv" recv "$NUMPORT" bob --files 1 --lines 3 --go "$T/go"
	fc_login_numeric cid
	ev "$T/recv" "LINE 710 cid login"
	client "$T/s1" send "$NUMPORT" ann bob held.bin "$T/f1"
	ev "$T/recv" "HEADER held.bin 300000 ann"
	fc_send cid "PRIV bob during the file"
	fc_wait_for cid "200 Sent to bob"
	fc_send cid "QUIT"
	fc_expect_closed cid
	touch "$T/go"
	ev "$T/recv" "LINE 701 cid during the file"
	local f
	f=$(at "$T/recv" "FILE held.bin 300000 ann $(sha256sum "$T/f1" | cut -d' ' -f1)")
	[ -n "$f" ] || fail "file corrupt or missing: $(cat "$T/recv")"
	[ "$f" -lt "$(at "$T/recv" "LINE 701 cid during the file")" ] ||
		fail "the PRIV overtook the file: $(cat "$T/recv")"
	ev "$T/s1" "LINE 714 bob held.bin delivered"
}
