#!/usr/bin/env bats
# Rooms across nodes (docs/CLUSTER.md): rooms deleted after --room-linger
# and their slots reused are still announced to the cluster, and LIRO, LIME
# and USERS list in one cluster-wide order on every node (rooms: creation
# order; users: login order).

load cluster_helpers

# ask NAME for CMD; the answer in FC_LAST
ask() {
	fc_send "$1" "$2"
	fc_read "$1" || fail "$1: no answer to $2"
}

# LIRO on NAME lists ROOM
liro_has() {
	ask "$1" LIRO
	[[ " ${FC_LAST#200 ROOMS} " == *" $2 "* ]]
}

@test "cluster: numeric.room.linger across nodes: a room deleted after the linger, its slot reused by a new room on either node: the new room is listed everywhere" {
	cn_redis_start
	cn_node_start n1 --room-linger 0.5
	cn_node_start n2 --room-linger 0.5
	cn_login_numeric ann n1
	cn_login_numeric ben n2
	fc_expect ann "710 ben login"
	fc_send ann "ROOM first"
	fc_expect ann "200 Room first created"
	fc_until 'liro_has ben first'
	# nobody joins: it is deleted on both nodes after the linger
	fc_until '! liro_has ann first'
	fc_until '! liro_has ben first'
	# a room created on n1 takes the freed slot; it still reaches n2
	fc_send ann "ROOM second"
	fc_expect ann "200 Room second created"
	fc_until 'liro_has ben second'
	fc_send ben "JOIN second"
	fc_expect ben "200 Joined second"
	# and one created on n2 in its freed slot reaches n1
	fc_until '! liro_has ben first'
	fc_send ben "ROOM third"
	fc_expect ben "200 Room third created"
	fc_until 'liro_has ann third'
	# the room deleted everywhere left the cluster's list in Redis
	[ -z "$(redis-cli -p "$CN_RPORT" zscore fc:rooms first)" ]
	[ -n "$(redis-cli -p "$CN_RPORT" zscore fc:rooms third)" ]
}

# the same answer to CMD from A, B and C (the cluster's order converges
# once each node heard of every room)
same_everywhere() {
	local cmd=$1 a b c
	shift
	ask "$1" "$cmd"; a=$FC_LAST
	ask "$2" "$cmd"; b=$FC_LAST
	ask "$3" "$cmd"; c=$FC_LAST
	[ "$a" = "$b" ] && [ "$b" = "$c" ] && [ "$a" = "$WANT" ]
}

@test "cluster: LIRO in cluster-wide creation order, LIME and USERS in cluster-wide login order, on every node (a node started later too)" {
	cn_redis_start
	cn_node_start n1
	cn_node_start n2
	cn_login_numeric ann n1
	cn_login_numeric ben n2
	fc_expect ann "710 ben login"
	# two rooms created on two nodes at the same instant: both nodes list
	# them in the one order Redis gave them
	fc_send ann "ROOM aa"
	fc_send ben "ROOM bb"
	fc_expect ann "200 Room aa created"
	fc_expect ben "200 Room bb created"
	fc_until 'liro_has ann bb && liro_has ben aa'
	local a b
	fc_until 'ask ann LIRO; a=$FC_LAST; ask ben LIRO; b=$FC_LAST; [ "$a" = "$b" ]'
	# more rooms, alternating nodes
	fc_send ben "ROOM cc"
	fc_expect ben "200 Room cc created"
	fc_until 'liro_has ann cc'
	fc_send ann "ROOM dd"
	fc_expect ann "200 Room dd created"
	fc_until 'liro_has ben dd'
	cn_login_numeric cid n1
	fc_expect ann "710 cid login"
	fc_expect ben "710 cid login"
	fc_send cid "JOIN dd"
	fc_expect cid "200 Joined dd"
	fc_send ben "JOIN dd"
	fc_expect ben "200 Joined dd"
	fc_expect cid "712 dd ben joined"
	fc_send ann "JOIN dd"
	fc_expect ann "200 Joined dd"
	fc_expect cid "712 dd ann joined"
	fc_expect ben "712 dd ann joined"
	# a third node loads rooms and users from Redis
	cn_node_start n3
	cn_login_numeric dan n3
	fc_expect ann "710 dan login"
	fc_expect ben "710 dan login"
	ask ann LIRO
	WANT=$FC_LAST
	[[ $WANT == "200 ROOMS "*" cc dd" ]] || fail "LIRO on n1: $WANT"
	fc_until 'same_everywhere LIRO ann ben dan'
	WANT="200 MEMBERS dd ann ben cid"
	fc_until 'same_everywhere "LIME dd" ann ben dan'
	# USERS (okfail) on every node: the whole cluster in login order
	cn_login oone n1
	cn_login otwo n2
	fc_expect oone "JOINED otwo"
	cn_login othree n3
	fc_expect oone "JOINED othree"
	fc_expect otwo "JOINED othree"
	WANT="OK USERS ann:ben:cid:dan:oone:otwo:othree"
	fc_until 'same_everywhere USERS oone otwo othree'
}
