#!/usr/bin/env bats
# The bus between nodes when it fails (docs/CLUSTER.md, failure table):
# a message to another node's user is refused while the bus is down
# (cluster.pm-down) instead of being acknowledged and dropped.

# irc_helpers loads helpers.bash again, whose teardown stops one daemon:
# load it first, so that cluster_helpers' teardown (nodes and Redis) wins
load irc_helpers
load cluster_helpers

CN_TTL=5 # a stopped link must not be declared dead meanwhile

setup() {
	cn_redis_start
	cn_node_start n1
	cn_node_start n2
}

@test "cluster: cluster.pm-down + cluster.login-down (irc 263): while Redis is away PM/PRIV/SECU/PRIVMSG to another node's user are refused (FAIL17/303/263), local ones served" {
	cn_login alice n1
	cn_login alma n1
	fc_expect alice "JOINED alma"
	cn_login bob n2
	fc_expect alice "JOINED bob"
	cn_login_numeric nina n2
	fc_expect alice "JOINED nina"
	IRCPORT=${CN_IRC[n1]} fc_register dave
	fc_expect nina "710 dave login"
	fc_expect alice "JOINED dave"
	fc_expect alma "JOINED bob"
	fc_expect alma "JOINED nina"
	fc_expect alma "JOINED dave"
	fc_expect bob "JOINED nina"
	fc_expect bob "JOINED dave"
	cn_redis_kill
	cn_log_wait n1 'cluster: Redis lost'
	cn_log_wait n2 'cluster: Redis lost'
	fc_send alice "PM bob are you there"
	fc_expect alice "FAIL17 Cluster unavailable, try again later"
	fc_send alice "PM_SESSIONKEY bob abc"
	fc_expect alice "FAIL17 Cluster unavailable, try again later"
	fc_send nina "PRIV alice hello"
	fc_expect nina "303 Cluster unavailable, try again later"
	fc_send nina "SECU alice hello"
	fc_expect nina "303 Cluster unavailable, try again later"
	fc_isend dave "PRIVMSG bob :hello"
	fc_iwait dave "^:irc.test 263 dave PRIVMSG :Cluster unavailable, try again later$"
	# the same node's users are reached as ever
	fc_send alice "PM alma still local"
	fc_expect alice "OK PM alma still local"
	fc_expect alma "NPM alice still local"
	fc_send nina "PRIV bob local too"
	fc_expect nina "200 Sent to bob"
	fc_expect bob "NPM nina local too"
	# an irc login is refused like the others' (cluster.login-down)
	IRCPORT=${CN_IRC[n1]} fc_connect_irc erin
	fc_isend erin "NICK erin"
	fc_isend erin "USER erin 0 * :erin"
	fc_iwait erin "^:irc.test 263 \* NICK :Cluster unavailable, try again later$"
	# back up: the same PM goes through, and nobody got a message that
	# was refused
	cn_redis_start "$CN_RPORT"
	cn_log_wait n1 'cluster: in sync'
	cn_log_wait n1 'cluster: node n1/.* up on Redis'
	cn_retry alice "PM bob are you there" "OK PM bob are you there" \
		"FAIL17 Cluster unavailable, try again later"
	fc_expect bob "NPM alice are you there"
	fc_send nina "PRIV alice hello again"
	fc_expect nina "200 Sent to alice"
	fc_expect alice "NPM nina hello again"
}

# the pid of NODE's link process
link_pid() {
	grep -o 'cluster link started slot=[0-9]* pid=[0-9]*' "${CN_DIR[$1]}/log" |
		tail -1 | sed 's/.*pid=//'
}

@test "cluster: a PM lost between Redis and the receiving node (its subscriber cut, or its link process killed) is detected, logged once, resynchronised" {
	cn_login alice n1
	cn_login bob n2
	fc_expect alice "JOINED bob"
	fc_send alice "PM bob first"
	fc_expect alice "OK PM bob first"
	fc_expect bob "NPM alice first"
	local link id
	link=$(link_pid n2)
	[ -n "$link" ] || fail "no link pid in n2's log"
	# n2's link stops; Redis cuts its subscriber (as its output buffer
	# limit would): what is published to n2 meanwhile reaches nobody
	kill -STOP "$link"
	id=$(redis-cli -p "$CN_RPORT" client list | sed -n 's/^id=\([0-9]*\) .* name=fc-n2-sub .*/\1/p')
	[ -n "$id" ] || fail "no subscriber named fc-n2-sub: $(redis-cli -p "$CN_RPORT" client list)"
	redis-cli -p "$CN_RPORT" client kill id "$id" >/dev/null
	fc_send alice "PM bob lost one"
	fc_expect alice "OK PM bob lost one"
	fc_send alice "PM bob lost two"
	fc_expect alice "OK PM bob lost two"
	kill -CONT "$link"
	cn_log_wait n2 "cluster: 2 message\\(s\\) to this node's users from n1/[^ ]* lost \\(published while this node was not listening\\); resynchronising"
	cn_retry alice "PM bob after" "OK PM bob after" \
		"FAIL17 Cluster unavailable, try again later"
	fc_expect bob "NPM alice after"
	# the link process dies with a delivery not yet read: the next one
	# knows what its predecessor had received
	kill -STOP "$link"
	fc_send alice "PM bob lost three"
	fc_expect alice "OK PM bob lost three"
	kill -KILL "$link"
	cn_log_wait n2 "cluster: 1 message\\(s\\) to this node's users from n1/[^ ]* lost \\(published while this node was not listening\\); resynchronising"
	cn_retry alice "PM bob again" "OK PM bob again" \
		"FAIL17 Cluster unavailable, try again later"
	fc_expect bob "NPM alice again"
	fc_expect_silent bob 0.3
	# each loss was logged once, and nothing else was taken for one
	[ "$(grep -c "message(s) to this node's users" "${CN_DIR[n2]}/log")" = 2 ]
	[ "$(grep -c "message(s) to this node's users" "${CN_DIR[n1]}/log")" = 0 ]
}
