#!/usr/bin/env bats
# The irc dialect's queries (docs/PROTOCOL.md "irc", rows irc.who, irc.whois,
# irc.whowas, irc.ison, irc.userhost, irc.away, irc.lusers, irc.version,
# irc.time, irc.ping, irc.cap.*): users of every dialect, on any worker.

load irc_helpers

setup() {
	fc_start_irc
}

@test "irc.whois: 311 user/host/real name, 319 channels, 312, 317, 318; any dialect; 401 + 318 for nobody; 431" {
	fc_numeric_room nora lobby
	fc_register c carol
	fc_register d dave
	fc_ijoin d "#lobby"
	fc_isend c "WHOIS dave"
	fc_iwait c "^:$IRCSRV 311 carol dave ~dave 127.0.0.1 \\* :dave test$"
	fc_iexpect c ":$IRCSRV 319 carol dave :#lobby"
	fc_iexpect c ":$IRCSRV 312 carol dave $IRCSRV :forkchat"
	fc_iexpect_match c "^:$IRCSRV 317 carol dave [0-9]+ [0-9]+ :seconds idle, signon time$"
	fc_iexpect c ":$IRCSRV 318 carol dave :End of /WHOIS list."
	fc_isend c "WHOIS NORA"
	fc_iexpect c ":$IRCSRV 311 carol nora nora numeric * :nora"
	fc_iexpect c ":$IRCSRV 319 carol nora :@#lobby"
	fc_iexpect c ":$IRCSRV 312 carol nora $IRCSRV :forkchat"
	fc_iexpect c ":$IRCSRV 318 carol nora :End of /WHOIS list."
	fc_isend c "WHOIS nobody"
	fc_iexpect c ":$IRCSRV 401 carol nobody :No such nick/channel"
	fc_iexpect c ":$IRCSRV 318 carol nobody :End of /WHOIS list."
	fc_isend c "WHOIS"
	fc_iexpect c ":$IRCSRV 461 carol WHOIS :Not enough parameters"
	fc_isend c "WHOIS $IRCSRV dave"
	fc_iexpect_match c "^:$IRCSRV 311 carol dave "
}

@test "irc.whowas: 314 and 312 per earlier user of the nick or nicks (the most recent first, at most <count>), 369; 406 for none; across workers" {
	fc_register a alice
	fc_register g gone
	fc_iexpect a ":$(fc_pfx gone) JOIN &all"
	fc_isend g "NICK gone2"
	fc_iexpect g ":$(fc_pfx gone) NICK :gone2"
	fc_isend g "QUIT"
	fc_iwait a "^:gone2!~gone@127.0.0.1 QUIT "
	fc_register h gone
	fc_isend h "QUIT"
	fc_iwait a "^:gone!~gone@127.0.0.1 QUIT "
	fc_isend a "WHOWAS gone"
	fc_iexpect a ":$IRCSRV 314 alice gone ~gone 127.0.0.1 * :gone test"
	fc_iexpect_match a "^:$IRCSRV 312 alice gone $IRCSRV :[A-Z][a-z]{2} "
	fc_iexpect a ":$IRCSRV 314 alice gone ~gone 127.0.0.1 * :gone test"
	fc_iexpect_match a "^:$IRCSRV 312 alice gone $IRCSRV :"
	fc_iexpect a ":$IRCSRV 369 alice gone :End of WHOWAS"
	fc_isend a "WHOWAS GONE2 1"
	fc_iexpect a ":$IRCSRV 314 alice gone2 ~gone 127.0.0.1 * :gone test"
	fc_iexpect_match a "^:$IRCSRV 312 alice gone2 "
	fc_iexpect a ":$IRCSRV 369 alice GONE2 :End of WHOWAS"
	fc_isend a "WHOWAS gone2,nobody"
	fc_iexpect a ":$IRCSRV 314 alice gone2 ~gone 127.0.0.1 * :gone test"
	fc_iexpect_match a "^:$IRCSRV 312 alice gone2 "
	fc_iexpect a ":$IRCSRV 369 alice gone2,nobody :End of WHOWAS"
	fc_isend a "WHOWAS nobody"
	fc_iexpect a ":$IRCSRV 406 alice nobody :There was no such nickname"
	fc_iexpect a ":$IRCSRV 369 alice nobody :End of WHOWAS"
	fc_isend a "WHOWAS"
	fc_iexpect a ":$IRCSRV 461 alice WHOWAS :Not enough parameters"
}

@test "irc.who: WHO #c gives 352 per member (H, or G when away) then 315; WHO nick and WHO mask match any dialect" {
	fc_numeric_room nora lobby
	fc_register c carol
	fc_ijoin c "#lobby"
	fc_isend c "AWAY :lunch"
	fc_iexpect c ":$IRCSRV 306 carol :You have been marked as being away"
	fc_isend c "WHO #lobby"
	fc_iexpect c ":$IRCSRV 352 carol #lobby nora numeric $IRCSRV nora H@ :0 nora"
	fc_iexpect c ":$IRCSRV 352 carol #lobby ~carol 127.0.0.1 $IRCSRV carol G :0 carol test"
	fc_iexpect c ":$IRCSRV 315 carol #lobby :End of WHO list."
	fc_isend c "WHO NORA"
	fc_iexpect c ":$IRCSRV 352 carol * nora numeric $IRCSRV nora H :0 nora"
	fc_iexpect c ":$IRCSRV 315 carol NORA :End of WHO list."
	fc_isend c "WHO no*"
	fc_iexpect c ":$IRCSRV 352 carol * nora numeric $IRCSRV nora H :0 nora"
	fc_iexpect c ":$IRCSRV 315 carol no* :End of WHO list."
	fc_isend c "WHO #none"
	fc_iexpect c ":$IRCSRV 315 carol #none :End of WHO list."
}

@test "irc.away: AWAY :msg gets 306 and 301 to senders of PRIVMSG (not NOTICE), across workers; AWAY alone gets 305" {
	fc_register c carol
	fc_register d dave
	fc_iexpect c ":$(fc_pfx dave) JOIN &all"
	fc_isend d "AWAY :gone fishing"
	fc_iexpect d ":$IRCSRV 306 dave :You have been marked as being away"
	fc_isend c "PRIVMSG dave :hi"
	fc_iexpect c ":$IRCSRV 301 carol dave :gone fishing"
	fc_iexpect d ":$(fc_pfx carol) PRIVMSG dave :hi"
	fc_isend c "NOTICE dave :hi"
	fc_iexpect d ":$(fc_pfx carol) NOTICE dave :hi"
	fc_isend c "WHOIS dave"
	fc_iwait c "^:$IRCSRV 301 carol dave :gone fishing$"
	fc_isend c "USERHOST dave"
	fc_iwait c "^:$IRCSRV 302 carol :dave=-~dave@127.0.0.1$"
	fc_isend d "AWAY"
	fc_iexpect d ":$IRCSRV 305 dave :You are no longer marked as being away"
	fc_isend c "PRIVMSG dave :back?"
	fc_isend c "PING x"
	fc_iexpect c ":$IRCSRV PONG $IRCSRV :x"
}

@test "irc.ison + irc.userhost: ISON lists who is on (as typed by its owner), USERHOST gives nick=+user@host" {
	fc_login Alice
	fc_login_numeric nora
	fc_register c carol
	fc_isend c "ISON alice nobody NORA carol"
	fc_iexpect c ":$IRCSRV 303 carol :Alice nora carol"
	fc_isend c "ISON :nobody"
	fc_iexpect c ":$IRCSRV 303 carol :"
	fc_isend c "ISON"
	fc_iexpect c ":$IRCSRV 461 carol ISON :Not enough parameters"
	fc_isend c "USERHOST carol alice nobody"
	fc_iexpect c ":$IRCSRV 302 carol :carol=+~carol@127.0.0.1 Alice=+Alice@okfail"
}

@test "irc.lusers + irc.version + irc.time + irc.motd: LUSERS 251-266, VERSION 351 and 005, TIME 391, MOTD 422" {
	fc_login alice
	fc_register c carol
	fc_isend c "LUSERS"
	fc_iexpect c ":$IRCSRV 251 carol :There are 2 users and 0 invisible on 1 servers"
	fc_iexpect c ":$IRCSRV 254 carol 1 :channels formed"
	fc_iexpect c ":$IRCSRV 255 carol :I have 2 clients and 0 servers"
	fc_iexpect c ":$IRCSRV 265 carol 2 2 :Current local users 2, max 2"
	fc_iexpect c ":$IRCSRV 266 carol 2 2 :Current global users 2, max 2"
	fc_isend c "VERSION"
	fc_iexpect_match c "^:$IRCSRV 351 carol forkchatd-[^ ]+\\. $IRCSRV :forkchat chat daemon$"
	fc_iexpect_match c "^:$IRCSRV 005 carol .*CASEMAPPING=ascii"
	fc_iexpect_match c "^:$IRCSRV 005 carol .*NICKLEN=14"
	fc_iexpect_match c "^:$IRCSRV 005 carol .*WHOX"
	fc_isend c "TIME"
	fc_iexpect_match c "^:$IRCSRV 391 carol $IRCSRV :[A-Z][a-z]+day [A-Z][a-z]+ [0-9]{2} [0-9]{4} -- [0-9:]{8} \\+00:00$"
	fc_isend c "MOTD"
	fc_iexpect c ":$IRCSRV 422 carol :MOTD File is missing"
}

@test "irc.ping: PING gets PONG with its token, 409 without; the server's PING is answered by PONG" {
	fc_stop
	fc_start_irc --ping-interval 0.3 --pong-timeout 5
	fc_register c carol
	# the server's own PINGs (every 0.3 s) may come in between on a
	# loaded machine: each wait skips them
	fc_isend c "PING :a b"
	fc_iwait c "^:$IRCSRV PONG $IRCSRV :a b$"
	fc_isend c "PING"
	fc_iwait c "^:$IRCSRV 409 carol :No origin specified$"
	fc_iwait c "^PING :$IRCSRV$"
	fc_isend c "PONG :$IRCSRV"
	fc_iwait c "^PING :$IRCSRV$"
	fc_isend c "PONG $IRCSRV"
	fc_iwait c "^PING :$IRCSRV$"
}

@test "irc.cap.uhnames: CAP REQ userhost-in-names and multi-prefix are ACKed; NAMES then shows nick!user@host" {
	fc_login alice
	fc_connect_irc c
	fc_isend c "CAP LS 302"
	fc_iexpect c ":$IRCSRV CAP * LS :away-notify batch cap-notify echo-message extended-monitor labeled-response message-tags multi-prefix server-time setname userhost-in-names"
	fc_isend c "CAP REQ :multi-prefix userhost-in-names"
	fc_iexpect c ":$IRCSRV CAP * ACK :multi-prefix userhost-in-names"
	fc_isend c "CAP REQ :sasl"
	fc_iexpect c ":$IRCSRV CAP * NAK :sasl"
	fc_isend c "NICK carol"
	fc_isend c "USER carol 0 * :carol test"
	fc_isend c "CAP END"
	fc_iwait c "^:$IRCSRV 353 carol = &all :alice!alice@okfail carol!~carol@127.0.0.1$"
	fc_iexpect c ":$IRCSRV 366 carol &all :End of /NAMES list."
	fc_isend c "CAP LIST"
	fc_iexpect c ":$IRCSRV CAP carol LIST :cap-notify multi-prefix userhost-in-names"
	fc_isend c "CAP REQ :-userhost-in-names"
	fc_iexpect c ":$IRCSRV CAP carol ACK :-userhost-in-names"
	fc_isend c "NAMES &all"
	fc_iexpect c ":$IRCSRV 353 carol = &all :alice carol"
}

@test "irc.join-all: with --irc-join-all 0 a client is in no channel until it joins &all" {
	fc_stop
	fc_start_irc --irc-join-all 0
	fc_connect_irc c
	fc_isend c "NICK carol"
	fc_isend c "USER carol 0 * :carol test"
	fc_iwait c " 422 carol "
	fc_login alice
	fc_send alice "BCST hello"
	fc_expect alice "OK BCST hello"
	fc_isend c "PING x"
	fc_iexpect c ":$IRCSRV PONG $IRCSRV :x"
	fc_isend c "JOIN &all"
	fc_iexpect c ":$(fc_pfx carol) JOIN &all"
}
