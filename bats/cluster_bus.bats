#!/usr/bin/env bats
# The bus between nodes when it fails (docs/CLUSTER.md, failure table):
# a message to another node's user is refused while the bus is down
# (cluster.pm-down) instead of being acknowledged and dropped.

# irc_helpers loads helpers.bash again, whose teardown stops one daemon:
# load it first, so that cluster_helpers' teardown (nodes and Redis) wins
load irc_helpers
load cluster_helpers

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
	fc_iwait erin "^:irc.test 263 erin NICK :Cluster unavailable, try again later$"
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
