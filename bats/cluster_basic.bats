#!/usr/bin/env bats
# Two nodes of two workers each, one Redis: users of different nodes are
# users of one chat (docs/CLUSTER.md; the delivery rules of
# docs/PROTOCOL.md, here across nodes).

load cluster_helpers

setup() {
	cn_redis_start
	cn_node_start n1
	cn_node_start n2
}

@test "cluster: okfail.ident.joined + okfail.bcst + okfail.pm + okfail.users across nodes" {
	cn_login alice n1
	cn_login bob n2
	fc_expect alice "JOINED bob"
	fc_send alice "BCST hello from n1"
	fc_expect alice "OK BCST hello from n1"
	fc_expect bob "BCST alice hello from n1"
	fc_send bob "PM alice hi alice"
	fc_expect bob "OK PM alice hi alice"
	fc_expect alice "NPM bob hi alice"
	fc_send alice "PM bob hi bob"
	fc_expect alice "OK PM bob hi bob"
	fc_expect bob "NPM alice hi bob"
	fc_send bob "USERS"
	fc_expect bob "OK USERS alice:bob"
	fc_send bob "QUIT"
	fc_expect alice "LEFT bob"
}

@test "cluster: a sender's order is kept across nodes (BCST and PM interleaved)" {
	cn_login alice n1
	cn_login bob n2
	fc_expect alice "JOINED bob"
	for i in 1 2 3 4 5 6 7 8 9 10; do
		fc_send alice "BCST b$i"
		fc_send alice "PM bob p$i"
	done
	for i in 1 2 3 4 5 6 7 8 9 10; do
		fc_expect bob "BCST alice b$i"
		fc_expect bob "NPM alice p$i"
	done
}

@test "cluster: numeric.user presence, PRIV and okfail BCST across nodes and dialects" {
	cn_login_numeric ann n1
	cn_login bob n2
	fc_expect ann "710 bob login"
	fc_send ann "PRIV bob psst"
	fc_expect ann "200 Sent to bob"
	fc_expect bob "NPM ann psst"
	fc_send bob "BCST all here"
	fc_expect bob "OK BCST all here"
	fc_expect ann "703 bob all here"
	fc_send bob "QUIT"
	fc_expect ann "711 bob logout"
}

@test "cluster: numeric rooms across nodes (ROOM, JOIN 712, SEND 702, LIME, LEVE 713)" {
	cn_login_numeric ann n1
	cn_login_numeric ben n2
	fc_expect ann "710 ben login"
	fc_send ann "ROOM lobby"
	fc_expect ann "200 Room lobby created"
	fc_send ann "JOIN lobby"
	fc_expect ann "200 Joined lobby"
	# the room reaches n2 through Redis: ask until it is listed there
	cn_retry ben "LIRO" "200 ROOMS lobby" "200 ROOMS"
	fc_send ben "JOIN lobby"
	fc_expect ben "200 Joined lobby"
	fc_expect ann "712 lobby ben joined"
	fc_send ann "SEND lobby hello room"
	fc_expect ann "200 Sent to lobby"
	fc_expect ben "702 lobby ann hello room"
	fc_send ben "LIME lobby"
	fc_expect ben "200 MEMBERS lobby ann ben"
	fc_send ben "LEVE lobby"
	fc_expect ben "200 Left lobby"
	fc_expect ann "713 lobby ben left"
}

@test "cluster: okfail.pubkey: a newcomer on another node receives the stored key" {
	cn_login alice n1
	fc_send alice "PM_PUBKEY alicekey123"
	fc_expect alice "OK PM_PUBKEY"
	cn_connect bob n2
	fc_expect bob "INIT Welcome to the server!"
	fc_send bob "IDENT bob"
	fc_expect bob "OK IDENT bob"
	fc_expect bob "PM_PUBKEY alice alicekey123"
}

@test "cluster: cluster.node-death: a node killed with SIGKILL: its users are announced gone within the TTL, their names free" {
	cn_login alice n1
	cn_login_numeric ann n1
	cn_login bob n2
	fc_expect alice "JOINED ann"
	fc_expect alice "JOINED bob"
	fc_expect ann "710 bob login"
	local t0=$SECONDS
	cn_node_kill n2 KILL
	FC_TIMEOUT=$((${CN_TTL:-2} + 3)) fc_expect alice "LEFT bob"
	fc_expect ann "711 bob logout"
	[ $((SECONDS - t0)) -le $((${CN_TTL:-2} + 1)) ] ||
		fail "announced after $((SECONDS - t0)) s, TTL ${CN_TTL:-2} s"
	cn_login bob n1
	fc_expect alice "JOINED bob"
}

@test "cluster: a clean stop (SIGTERM) announces the node's users at once" {
	cn_login alice n1
	cn_login bob n2
	fc_expect alice "JOINED bob"
	kill -TERM "${CN_PID[n2]}"
	FC_TIMEOUT=2 fc_expect alice "LEFT bob"
}

@test "cluster: forkchatd status (text and --json) shows the nodes, their users, the queue and Redis' round trip" {
	cn_login alice n1
	cn_login bob n2
	cn_login carl n2
	local ctl=${CN_DIR[n1]}/ctl.sock
	fc_until '"$FORKCHATD" status -S "$ctl" | grep -q "^node n2 users 2 "'
	run "$FORKCHATD" status -S "$ctl"
	assert_success
	assert_output --regexp 'cluster node n1 up, Redis rtt [0-9]+ ms, queue [0-9]+ bytes'
	assert_output --regexp 'remote users 2'
	assert_output --regexp 'node n1 users 1 ttl [0-9]+ ms'
	run "$FORKCHATD" status --json -S "$ctl"
	assert_success
	"$FC_PYTHON" -c '
import json, sys
c = json.loads(sys.argv[1])["cluster"]
assert c["node"] == "n1" and c["state"] == "up", c
assert c["rtt_ms"] >= 0 and c["queue"] >= 0 and c["remote_users"] == 2, c
assert {n["id"]: n["users"] for n in c["nodes"]} == {"n1": 1, "n2": 2}, c
' "$output"
}

@test "cluster: three nodes: a BCST reaches all of them; a room's channel is subscribed only by the nodes with members" {
	cn_node_start n3
	cn_login_numeric ann n1
	cn_login_numeric ben n2
	cn_login carl n3
	fc_expect ann "710 ben login"
	fc_expect ann "710 carl login"
	fc_expect ben "710 carl login"
	fc_send carl "BCST to everyone"
	fc_expect carl "OK BCST to everyone"
	fc_expect ann "703 carl to everyone"
	fc_expect ben "703 carl to everyone"
	fc_send ann "ROOM lobby"
	fc_expect ann "200 Room lobby created"
	fc_send ann "JOIN lobby"
	fc_expect ann "200 Joined lobby"
	cn_retry ben "JOIN lobby" "200 Joined lobby" "300 No such room lobby"
	fc_expect ann "712 lobby ben joined"
	# n3 has no member: it does not listen to the room's channel
	fc_until '[ "$(redis-cli -p "$CN_RPORT" pubsub numsub fc:ch:room:lobby | tail -1)" = 2 ]'
	fc_send ben "SEND lobby members only"
	fc_expect ben "200 Sent to lobby"
	fc_expect ann "702 lobby ben members only"
	fc_expect_silent carl 0.5
}
