#!/usr/bin/env bats
# The irc dialect across nodes: an IRC user on one node and okfail/numeric
# users on another are users of one chat (docs/CLUSTER.md; the irc rows of
# docs/PROTOCOL.md, here across nodes).

# irc_helpers loads helpers.bash again, whose teardown stops one daemon:
# load it first, so that cluster_helpers' teardown (nodes and Redis) wins
load irc_helpers
load cluster_helpers

setup() {
	cn_redis_start
	cn_node_start n1
	cn_node_start n2
}

@test "cluster: irc.presence + irc.privmsg.nick + irc.all across nodes: JOINED, NPM/701 and PRIVMSG &all both ways, QUIT" {
	cn_login alice n2
	cn_login_numeric ben n2
	fc_expect alice "JOINED ben"
	IRCPORT=${CN_IRC[n1]} fc_register dave
	fc_expect alice "JOINED dave"
	fc_expect ben "710 dave login"
	fc_isend dave "PRIVMSG alice :hello from irc"
	fc_expect alice "NPM dave hello from irc"
	fc_isend dave "PRIVMSG BEN :hi numeric"
	fc_expect ben "701 dave hi numeric"
	fc_send alice "PM dave hi back"
	fc_expect alice "OK PM dave hi back"
	fc_iwait dave "^:alice![^ ]+ PRIVMSG dave :hi back$"
	fc_send alice "BCST to everyone"
	fc_expect alice "OK BCST to everyone"
	fc_expect ben "703 alice to everyone"
	fc_iwait dave "^:alice![^ ]+ PRIVMSG &all :to everyone$"
	fc_send alice "QUIT"
	fc_expect alice "OK GOODBYE"
	fc_iwait dave "^:alice![^ ]+ QUIT :"
}

@test "cluster: irc.all + irc.privmsg.chan across nodes: an IRC user's PRIVMSG &all and #room reach okfail and numeric users of another node once, as plain text" {
	cn_login alice n2
	cn_login_numeric ben n2
	fc_expect alice "JOINED ben"
	fc_send ben "ROOM lobby"
	fc_expect ben "200 Room lobby created"
	fc_send ben "JOIN lobby"
	fc_expect ben "200 Joined lobby"
	IRCPORT=${CN_IRC[n1]} fc_register dave
	fc_expect alice "JOINED dave"
	fc_expect ben "710 dave login"
	fc_ijoin dave "#lobby"
	fc_wait_for ben "712 lobby dave joined"
	IRCPORT=${CN_IRC[n2]} fc_register erin
	fc_ijoin erin "#lobby"
	fc_wait_for ben "712 lobby erin joined"
	fc_iwait dave "^:erin![^ ]+ JOIN #lobby$"
	fc_expect alice "JOINED erin"
	fc_isend dave "PRIVMSG &all :one"
	fc_isend dave $'PRIVMSG &all :\x02two\x02'
	fc_isend dave "PRIVMSG #lobby :three"
	fc_expect alice "BCST dave one"
	fc_expect alice "BCST dave two"
	fc_expect ben "703 dave one"
	fc_expect ben "703 dave two"
	fc_expect ben "702 lobby dave three"
	# IRC users of the other node get each once, formatting untouched
	# (a remote user's host is its dialect: docs/CLUSTER.md)
	fc_iwait erin "^:dave!dave@irc PRIVMSG &all :one$"
	fc_iexpect erin ":dave!dave@irc PRIVMSG &all :"$'\x02two\x02'
	fc_iexpect erin ":dave!dave@irc PRIVMSG #lobby :three"
	fc_send alice "BCST end"
	fc_expect alice "OK BCST end"
	fc_expect ben "703 alice end"
}

@test "cluster: irc.nick.taken across nodes: a nick held on another node (any case) is 433" {
	cn_login Erin n2
	IRCPORT=${CN_IRC[n1]} fc_connect_irc x
	fc_isend x "NICK erin"
	fc_isend x "USER erin 0 * :erin"
	fc_iwait x "^:irc.test 433 \* erin :"
}

# The nicks of WHO CHAN's 352 lines as NAME gets them, space-separated.
who_order() {
	local name=$1 chan=$2 out="" deadline=$((SECONDS + FC_TIMEOUT)) f
	fc_isend "$name" "WHO $chan"
	while [ $SECONDS -le $deadline ]; do
		fc_read "$name" 1 || continue
		[[ $FC_LAST == *" 315 "* ]] && break
		[[ $FC_LAST == *" 352 "* ]] || continue
		read -ra f <<<"$FC_LAST"
		out+="${f[7]} "
	done
	echo "$out"
}

@test "cluster: irc.names + irc.who across nodes: a channel lists its members of every node, in the one login order on both nodes" {
	cn_login_numeric ann n1
	IRCPORT=${CN_IRC[n2]} fc_register dave
	fc_expect ann "710 dave login"
	fc_isend dave "JOIN #lobby"
	fc_iwait dave "^:irc.test 366 dave #lobby "
	# the room reaches n1 through Redis
	cn_retry ann "JOIN lobby" "200 Joined lobby" "300 No such room lobby"
	fc_iwait dave "^:ann![^ ]+ JOIN #lobby$"
	IRCPORT=${CN_IRC[n1]} fc_register erin
	fc_expect ann "710 erin login"
	fc_isend erin "JOIN #lobby"
	# (an irc-modes build marks operators: @ or + before a nick)
	fc_iwait erin "^:irc.test 353 erin [=*@] #lobby :[@+]?ann [@+]?dave [@+]?erin$"
	fc_iwait dave "^:erin![^ ]+ JOIN #lobby$"
	fc_isend dave "NAMES #lobby"
	fc_iwait dave "^:irc.test 353 dave [=*@] #lobby :[@+]?ann [@+]?dave [@+]?erin$"
	[ "$(who_order erin '#lobby')" = "ann dave erin " ]
	[ "$(who_order dave '#lobby')" = "ann dave erin " ]
}
