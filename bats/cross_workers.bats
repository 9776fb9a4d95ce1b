#!/usr/bin/env bats
# Users served by different worker processes are users of one chat
# (docs/PROTOCOL.md: name.reuse, close.worker-death, and every delivery
# rule, here proven across workers with fc_worker_of).

load helpers

setup() {
	# many connections from 127.0.0.1: no per-address limit here
	FC_WORKERS=3 fc_start --ping-interval 3600 --max-per-ip 0
}

assert_apart() {
	local wa wb
	wa=$(fc_worker_of "$1")
	wb=$(fc_worker_of "$2")
	[ "$wa" != -1 ] && [ "$wb" != -1 ] && [ "$wa" != "$wb" ] ||
		fail "$1 on worker $wa, $2 on worker $wb: not apart"
}

@test "okfail.bcst + okfail.pm + okfail.ident.joined across workers (proven apart)" {
	fc_login alice
	local wa
	wa=$(fc_worker_of_quick alice)
	fc_login_avoid bob okfail "$wa"
	assert_apart alice bob
	fc_expect alice "JOINED bob"
	fc_send bob "BCST over  there"
	fc_expect bob "OK BCST over  there"
	fc_expect alice "BCST bob over  there"
	fc_send alice "PM bob psst"
	fc_expect alice "OK PM bob psst"
	fc_expect bob "NPM alice psst"
	fc_send alice "PM_PUBKEY a2V5"
	fc_expect alice "OK PM_PUBKEY"
	fc_expect bob "PM_PUBKEY alice a2V5"
	fc_send bob "PRIVATE_MESSAGE alice c2Vj"
	fc_expect bob "OK PRIVATE_MESSAGE alice c2Vj"
	fc_expect alice "RECEIVE_PRIVATE_MSG bob c2Vj"
	fc_send bob "USERS"
	fc_expect bob "OK USERS alice:bob"
	fc_send bob "QUIT"
	fc_expect bob "OK GOODBYE"
	fc_expect alice "LEFT bob"
}

@test "numeric.send + numeric.join + numeric.priv across workers (proven apart)" {
	fc_login_numeric ann
	local wa
	wa=$(fc_worker_of_quick ann)
	fc_login_avoid bob numeric "$wa"
	assert_apart ann bob
	fc_expect ann "710 bob login"
	fc_send ann "ROOM r1"
	fc_expect ann "200 Room r1 created"
	fc_send ann "JOIN r1"
	fc_expect ann "200 Joined r1"
	fc_send bob "JOIN r1"
	fc_expect bob "200 Joined r1"
	fc_expect ann "712 r1 bob joined"
	fc_send bob "SEND r1 hello  room"
	fc_expect bob "200 Sent to r1"
	fc_expect ann "702 r1 bob hello  room"
	fc_send ann "PRIV bob hi"
	fc_expect ann "200 Sent to bob"
	fc_expect bob "701 ann hi"
	fc_send ann "SECU bob Uryyb"
	fc_expect ann "200 Sent to bob"
	fc_expect bob "700 ann Uryyb"
	fc_send bob "LIME r1"
	fc_expect bob "200 MEMBERS r1 ann bob"
	fc_close ann
	fc_expect bob "713 r1 ann left"
	fc_expect bob "711 ann logout"
}

@test "cross.pm + cross.priv + cross.bcst across workers (proven apart)" {
	fc_login alice
	local wa
	wa=$(fc_worker_of_quick alice)
	fc_login_avoid nina numeric "$wa"
	assert_apart alice nina
	fc_expect alice "JOINED nina"
	fc_send alice "PM nina hi"
	fc_expect alice "OK PM nina hi"
	fc_expect nina "701 alice hi"
	fc_send nina "PRIV alice yo"
	fc_expect nina "200 Sent to alice"
	fc_expect alice "NPM nina yo"
	fc_send alice "BCST all"
	fc_expect alice "OK BCST all"
	fc_expect nina "703 alice all"
	fc_send nina "SECU alice x"
	fc_expect nina "301 alice cannot receive secure messages (okfail client)"
	fc_send alice "PRIVATE_MESSAGE nina x"
	fc_expect alice "FAIL13 Recipient cannot receive encrypted messages"
}

@test "name.reuse: 20 times drop the socket and log in again at once with the same name (across workers)" {
	local i w seen=""
	fc_connect x okfail
	fc_expect x "INIT Welcome to the server!"
	fc_send x "IDENT xname"
	fc_expect x "OK IDENT xname"
	seen+=" $(fc_worker_of_quick xname)"
	for i in $(seq 1 20); do
		fc_close x
		fc_connect x okfail
		fc_expect x "INIT Welcome to the server!"
		fc_send x "IDENT xname"
		fc_expect x "OK IDENT xname"
		w=$(fc_worker_of_quick xname)
		[[ " $seen " == *" $w "* ]] || seen+=" $w"
	done
	# the loop crossed workers (3 workers, 21 logins)
	[ $(wc -w <<<"$seen") -ge 2 ] || fail "all logins on worker(s)$seen"
}

@test "name.reuse (numeric): drop the socket and USER again at once, 10 times" {
	local i
	fc_login_numeric nn_x
	for i in $(seq 1 10); do
		fc_close nn_x
		fc_login_numeric nn_x
	done
}

@test "close.worker-death: kill -9 of a worker: LEFT/713/711 to the others, others keep chatting, respawn, name free" {
	fc_login_numeric vic
	local wv pid
	wv=$(fc_worker_of_quick vic)
	fc_login_avoid obs okfail "$wv"
	fc_login_avoid nobs numeric "$wv"
	assert_apart vic obs
	assert_apart vic nobs
	fc_send vic "ROOM r1"
	fc_wait_for vic "200 Room r1 created"
	fc_send vic "JOIN r1"
	fc_wait_for vic "200 Joined r1"
	fc_send nobs "JOIN r1"
	fc_wait_for nobs "200 Joined r1"
	# vic has read all it was sent: the next thing it sees is the close
	fc_expect vic "712 r1 nobs joined"
	[ "$(fc_worker_field "$wv" restarts)" = 0 ] || fail "restarts before the kill"
	pid=$(fc_worker_field "$wv" pid)
	[ "$pid" -gt 0 ] || fail "no pid for worker $wv"
	kill -9 "$pid"
	fc_expect_closed vic
	fc_wait_for obs "LEFT vic"
	fc_wait_for nobs "713 r1 vic left"
	fc_expect nobs "711 vic logout"
	# everybody else keeps chatting
	fc_send obs "BCST still here"
	fc_expect obs "OK BCST still here"
	fc_expect nobs "703 obs still here"
	fc_send nobs "PRIV obs yes"
	fc_expect nobs "200 Sent to obs"
	fc_expect obs "NPM nobs yes"
	# the master respawns the slot
	fc_until '[ "$(fc_worker_field '"$wv"' up)" = true ] && [ "$(fc_worker_field '"$wv"' restarts)" = 1 ]'
	[ "$(fc_worker_field "$wv" pid)" != "$pid" ] || fail "same pid after respawn"
	# the dead user's name can be claimed again, and is in no room
	fc_login_numeric vic
	fc_send vic "LIME r1"
	fc_expect vic "200 MEMBERS r1 nobs"
	fc_wait_for obs "JOINED vic"
}

@test "workers: 90 connections are shared by all 3 workers (each serves at least 10)" {
	# SO_REUSEPORT hashes each connection to one worker's listener; with
	# 90 connections a worker left with fewer than 10 would mean the
	# listeners are not shared (odds of that by chance: below 1e-6).
	run "$FC_PYTHON" - "$OKPORT" "$FORKCHATD" "$FC_CTL" <<'PY'
import json, socket, subprocess, sys
port, fcd, ctl = int(sys.argv[1]), sys.argv[2], sys.argv[3]
socks = []
for _ in range(90):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = s.makefile("rb")
    line = f.readline()
    assert line.startswith(b"INIT"), line
    socks.append((s, f))
st = json.loads(subprocess.check_output([fcd, "status", "--json", "-S", ctl]))
print(" ".join(str(w["clients"]) for w in st["workers"] if w["up"]))
PY
	[ "$status" -eq 0 ] || fail "client script failed: $output"
	echo "clients per worker: $output"
	local -a per=($output)
	[ "${#per[@]}" -eq 3 ] || fail "expected 3 workers, got: $output"
	local n total=0
	for n in "${per[@]}"; do
		[ "$n" -ge 10 ] || fail "a worker serves only $n of 90: $output"
		total=$((total + n))
	done
	[ "$total" -eq 90 ] || fail "the workers count $total clients, not 90: $output"
}
