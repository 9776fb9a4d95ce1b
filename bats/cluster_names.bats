#!/usr/bin/env bats
# Names are unique in the whole cluster (docs/CLUSTER.md): one atomic claim
# in Redis per login, before the OK / 200; a node stopped past its TTL is
# declared dead and closes its users (cluster.dead), so that a name is
# never held twice.

load cluster_helpers

setup() {
	cn_redis_start
	cn_node_start n1
	cn_node_start n2
}

@test "cluster: cluster.names: a name claimed on two nodes at the same instant: exactly one login wins (okfail.ident.taken across nodes)" {
	local i wins fails
	for i in 1 2 3 4 5 6 7 8; do
		cn_connect "a$i" n1 okfail
		cn_connect "b$i" n2 okfail
		fc_expect "a$i" "INIT Welcome to the server!"
		fc_expect "b$i" "INIT Welcome to the server!"
	done
	for i in 1 2 3 4 5 6 7 8; do
		# both in flight before either is answered
		fc_send "a$i" "IDENT same$i"
		fc_send "b$i" "IDENT same$i"
	done
	for i in 1 2 3 4 5 6 7 8; do
		wins=0 fails=0
		for who in "a$i" "b$i"; do
			fc_read "$who" || fail "$who: no answer"
			case $FC_LAST in
			"OK IDENT same$i") wins=$((wins + 1)) ;;
			"FAIL01 User already logged in") fails=$((fails + 1)) ;;
			*) fail "$who: unexpected '$FC_LAST'" ;;
			esac
		done
		[ $wins = 1 ] && [ $fails = 1 ] || fail "same$i: $wins wins, $fails refusals"
	done
	# and the cluster agrees with the winners: one holder each in Redis
	for i in 1 2 3 4 5 6 7 8; do
		[ -n "$(redis-cli -p "$CN_RPORT" get "fc:name:same$i")" ] || fail "same$i not in Redis"
	done
}

@test "cluster: numeric.user.taken across nodes and dialects; the name is free again after its logout" {
	cn_login alice n1
	cn_connect ann n2 numeric
	fc_send ann "USER alice"
	fc_expect ann "300 Username already taken"
	fc_send alice "QUIT"
	# the logout reaches n2 through Redis: try until the name is free
	cn_retry ann "USER alice" "200 Welcome alice!" "300 Username already taken"
}

@test "cluster: USERS lists the whole cluster in cluster-wide login order" {
	cn_login_numeric ann n1
	cn_login_numeric ben n2
	fc_expect ann "710 ben login"
	cn_login_numeric cid n1
	fc_expect ann "710 cid login"
	fc_expect ben "710 cid login"
	cn_login dora n2
	fc_expect ann "710 dora login"
	fc_send dora "USERS"
	fc_expect dora "OK USERS ann:ben:cid:dora"
}

@test "cluster: cluster.login-down: while Redis is away new logins are refused with a clear error, logged-in users are served" {
	cn_login alice n1
	cn_login alma n1
	fc_expect alice "JOINED alma"
	cn_redis_kill
	cn_log_wait n1 'cluster: Redis lost'
	cn_connect carl n1 okfail
	fc_expect carl "INIT Welcome to the server!"
	fc_send carl "IDENT carl"
	fc_expect carl "FAIL17 Cluster unavailable, try again later"
	cn_connect nina n2 numeric
	fc_send nina "USER nina"
	fc_expect nina "303 Cluster unavailable, try again later"
	fc_send alice "PM alma still local"
	fc_expect alice "OK PM alma still local"
	fc_expect alma "NPM alice still local"
	cn_redis_start "$CN_RPORT"
	cn_log_wait n1 'cluster: Redis came back empty'
	cn_log_wait n2 'cluster: Redis came back empty'
	fc_send carl "IDENT carl"
	fc_expect carl "OK IDENT carl"
	fc_expect alice "JOINED carl"
}

# Lines LINE1 and LINE2 reach NAME in either order, nothing else first.
expect_both() {
	local name=$1 a=$2 b=$3
	fc_read "$name" || fail "$name: expected '$a' and '$b', got nothing"
	if [ "$FC_LAST" = "$a" ]; then
		fc_expect "$name" "$b"
	elif [ "$FC_LAST" = "$b" ]; then
		fc_expect "$name" "$a"
	else
		fail "$name: expected '$a' or '$b', got '$FC_LAST'"
	fi
}

@test "cluster: cluster.dead: a node stopped past its TTL is declared dead: the others announce its users and free the names; resumed, it closes its users" {
	cn_login alice n1
	cn_login bob n2
	cn_login_numeric ben n2
	fc_expect alice "JOINED bob"
	fc_expect alice "JOINED ben"
	fc_expect bob "JOINED ben"
	cn_node_kill n2 STOP
	FC_TIMEOUT=$((${CN_TTL:-2} + 4)) expect_both alice "LEFT bob" "LEFT ben"
	# the names are free: bob logs in again, on n1
	cn_connect bobnew n1 okfail
	fc_expect bobnew "INIT Welcome to the server!"
	fc_send bobnew "IDENT bob"
	fc_expect bobnew "OK IDENT bob"
	fc_expect alice "JOINED bob"
	cn_node_kill n2 CONT
	# resumed, n2 learns it was declared dead and closes its users
	fc_expect bob "DSCN Declared dead by the cluster, log in again"
	fc_expect_closed bob
	fc_expect ben "905 Declared dead by the cluster, log in again"
	fc_expect_closed ben
	cn_log_wait n2 'cluster: node n2/.* was declared dead'
	# the name stayed with the new bob; nobody saw the old ones come back
	[ "$(redis-cli -p "$CN_RPORT" get fc:name:bob)" = n1 ]
	fc_expect_silent alice 1
	# n2 serves again: ben logs in there anew
	cn_login_numeric ben n2
	fc_expect alice "JOINED ben"
}

@test "cluster: names ignore ASCII case across nodes (okfail.ident.taken, numeric.priv): Bob on n1 blocks bob on n2, PRIV BOB reaches him" {
	cn_login Bob n1
	cn_connect bob n2 okfail
	fc_expect bob "INIT Welcome to the server!"
	fc_send bob "IDENT bob"
	fc_expect bob "FAIL01 User already logged in"
	cn_login_numeric carl n2
	fc_expect Bob "JOINED carl"
	fc_send carl "PRIV BOB hi across nodes"
	fc_expect carl "200 Sent to Bob"
	fc_expect Bob "NPM carl hi across nodes"
	[ "$(redis-cli -p "$CN_RPORT" get fc:name:bob)" = n1 ]
}
