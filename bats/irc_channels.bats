#!/usr/bin/env bats
# Channels are rooms (docs/PROTOCOL.md "irc", rows irc.join.*, irc.part.*,
# irc.names, irc.list, irc.topic, irc.mode.*, irc.all.*): #lobby is the room
# lobby, ##x the room #x, &all the okfail broadcast; membership maps both
# ways with the numeric dialect's JOIN/LEVE (712/713).

load irc_helpers

setup() {
	fc_start_irc
}

@test "irc.join: JOIN #new creates the room (numeric LIRO shows it), answers JOIN, 353 and 366" {
	fc_register a alice
	fc_isend a "JOIN #new"
	fc_iexpect a ":$(fc_pfx alice) JOIN #new"
	fc_iexpect a ":$IRCSRV 353 alice = #new :@alice"
	fc_iexpect a ":$IRCSRV 366 alice #new :End of /NAMES list."
	fc_login_numeric nora
	fc_send nora "LIRO"
	fc_expect nora "200 ROOMS new"
}

@test "irc.join.map: #lobby is room lobby, ##x is room #x; numeric JOIN/LEVE are JOIN/PART and back (712/713)" {
	fc_login_numeric nora
	fc_send nora "ROOM lobby"
	fc_expect nora "200 Room lobby created"
	fc_send nora "ROOM #x"
	fc_expect nora "200 Room #x created"
	fc_send nora "JOIN lobby"
	fc_expect nora "200 Joined lobby"
	fc_register a alice
	fc_expect nora "710 alice login"
	fc_isend a "JOIN #lobby,##x"
	fc_iexpect a ":$(fc_pfx alice) JOIN #lobby"
	fc_iexpect a ":$IRCSRV 353 alice = #lobby :@nora alice"
	fc_iexpect a ":$IRCSRV 366 alice #lobby :End of /NAMES list."
	fc_iexpect a ":$(fc_pfx alice) JOIN ##x"
	fc_iwait a "^:$IRCSRV 366 alice ##x "
	fc_expect nora "712 lobby alice joined"
	fc_send nora "JOIN #x"
	fc_expect nora "200 Joined #x"
	fc_iexpect a ":nora!nora@numeric JOIN ##x"
	fc_send nora "LEVE #x"
	fc_expect nora "200 Left #x"
	fc_iexpect a ":nora!nora@numeric PART ##x"
	fc_isend a "PART #lobby :see you"
	fc_iexpect a ":$(fc_pfx alice) PART #lobby :see you"
	fc_expect nora "713 lobby alice left"
}

@test "irc.join.case + name.room.case: JOIN #LOBBY joins lobby and shows its own spelling" {
	fc_login_numeric nora
	fc_send nora "ROOM lobby"
	fc_expect nora "200 Room lobby created"
	fc_register a alice
	fc_isend a "JOIN #LOBBY"
	fc_iexpect a ":$(fc_pfx alice) JOIN #lobby"
}

@test "irc.join.errors: 461 without a channel, 403 for a bad name, a second JOIN is silent, JOIN 0 parts all" {
	fc_register a alice
	fc_isend a "JOIN"
	fc_iexpect a ":$IRCSRV 461 alice JOIN :Not enough parameters"
	local ch
	for ch in lobby '#' '&x' '#a:b' '#abcdefghijabcdefghijabcdefghijabc'; do
		fc_isend a "JOIN $ch"
		fc_iexpect a ":$IRCSRV 403 alice $ch :No such channel"
	done
	fc_isend a "JOIN #a"
	fc_iwait a " 366 alice #a "
	fc_isend a "JOIN #a"
	fc_isend a "JOIN #b"
	fc_iexpect a ":$(fc_pfx alice) JOIN #b"
	fc_iwait a " 366 alice #b "
	fc_isend a "JOIN 0"
	fc_iexpect_match a "^:$(fc_pfx alice) PART #(a|b)$"
	fc_iexpect_match a "^:$(fc_pfx alice) PART #(a|b)$"
	fc_isend a "PING x"
	fc_iexpect a ":$IRCSRV PONG $IRCSRV :x"
}

@test "irc.join.room-full: 405 when the room table is full" {
	fc_stop
	fc_start_irc --max-rooms 1
	fc_register a alice
	fc_isend a "JOIN #one"
	fc_iwait a " 366 alice #one "
	fc_isend a "JOIN #two"
	fc_iexpect a ":$IRCSRV 405 alice #two :You have joined too many channels"
}

@test "irc.part.errors: 461, 403 no such channel, 442 not on it; PART to two channels" {
	fc_register a alice
	fc_register b bob
	fc_iwait a "JOIN &all$"
	fc_isend a "PART"
	fc_iexpect a ":$IRCSRV 461 alice PART :Not enough parameters"
	fc_isend a "PART #nope"
	fc_iexpect a ":$IRCSRV 403 alice #nope :No such channel"
	fc_isend b "JOIN #b1,#b2"
	fc_iwait b " 366 bob #b2 "
	fc_isend a "PART #b1"
	fc_iexpect a ":$IRCSRV 442 alice #b1 :You're not on that channel"
	fc_isend a "JOIN #b1"
	fc_iwait a " 366 alice #b1 "
	fc_iexpect b ":$(fc_pfx alice) JOIN #b1"
	fc_isend b "PART #b1,#b2 :bye now"
	fc_iexpect b ":$(fc_pfx bob) PART #b1 :bye now"
	fc_iexpect b ":$(fc_pfx bob) PART #b2 :bye now"
	fc_iexpect a ":$(fc_pfx bob) PART #b1 :bye now"
}

@test "irc.all: every IRC user is in &all; NAMES &all lists every user of every dialect" {
	fc_login alice
	fc_login_numeric nora
	fc_register c carol
	fc_isend c "NAMES &all"
	fc_iexpect c ":$IRCSRV 353 carol = &all :alice nora carol"
	fc_iexpect c ":$IRCSRV 366 carol &all :End of /NAMES list."
}

@test "irc.all.bcst: PRIVMSG &all is an okfail BCST (BCST/703); a BCST reaches IRC users as PRIVMSG &all" {
	fc_login alice
	fc_login_numeric nora
	fc_register c carol
	fc_wait_for alice "JOINED carol"
	fc_isend c "PRIVMSG &all :hello everyone"
	fc_expect alice "BCST carol hello everyone"
	fc_wait_for nora "703 carol hello everyone"
	fc_send alice "BCST hi back"
	fc_expect alice "OK BCST hi back"
	fc_iexpect c ":alice!alice@okfail PRIVMSG &all :hi back"
}

@test "irc.all.part: PART &all stops broadcasts and presence; JOIN &all takes them back" {
	fc_register c carol
	fc_isend c "PART &all"
	fc_iexpect c ":$(fc_pfx carol) PART &all"
	fc_login alice
	fc_send alice "BCST not for carol"
	fc_expect alice "OK BCST not for carol"
	fc_isend c "PRIVMSG &all :x"
	fc_iexpect c ":$IRCSRV 404 carol &all :Cannot send to channel"
	fc_isend c "JOIN &all"
	fc_iexpect c ":$(fc_pfx carol) JOIN &all"
	fc_iexpect c ":$IRCSRV 353 carol = &all :carol alice"
	fc_iexpect c ":$IRCSRV 366 carol &all :End of /NAMES list."
	fc_send alice "BCST now for carol"
	fc_iexpect c ":alice!alice@okfail PRIVMSG &all :now for carol"
}

@test "irc.names: NAMES #c lists members in login order (with prefixes); NAMES #a,#b ends with one 366; unknown channel and no argument end with 366 only" {
	fc_login_numeric nora
	fc_send nora "ROOM lobby"
	fc_expect nora "200 Room lobby created"
	fc_send nora "JOIN lobby"
	fc_expect nora "200 Joined lobby"
	fc_register a alice
	fc_isend a "NAMES #lobby"
	fc_iexpect a ":$IRCSRV 353 alice = #lobby :@nora"
	fc_iexpect a ":$IRCSRV 366 alice #lobby :End of /NAMES list."
	fc_isend a "NAMES #lobby,#nope,&all"
	fc_iexpect a ":$IRCSRV 353 alice = #lobby :@nora"
	fc_iexpect a ":$IRCSRV 353 alice = &all :nora alice"
	fc_iexpect a ":$IRCSRV 366 alice #lobby,#nope,&all :End of /NAMES list."
	fc_isend a "NAMES #nope"
	fc_iexpect a ":$IRCSRV 366 alice #nope :End of /NAMES list."
	fc_isend a "NAMES"
	fc_iexpect a ":$IRCSRV 366 alice * :End of /NAMES list."
}

@test "irc.names.split: a long NAMES list comes in several 353 lines of at most 512 bytes" {
	local i
	for i in $(seq 1 40); do
		fc_login_numeric "user_number_$i"
	done
	fc_register a alice
	fc_isend a "NAMES &all"
	local n=0 names=0
	while fc_read a; do
		[[ $FC_LAST == *" 366 "* ]] && break
		[[ $FC_LAST == ":$IRCSRV 353 alice = &all :"* ]] || fail "got $FC_LAST"
		[ ${#FC_LAST} -le 510 ] || fail "line of ${#FC_LAST} bytes"
		n=$((n + 1))
		set -- ${FC_LAST#*&all :}
		names=$((names + $#))
	done
	[ "$n" -ge 2 ] || fail "one 353 line only"
	[ "$names" -eq 41 ]
}

@test "irc.list: 321, one 322 per room with its member count, 323; LIST #c,&all only those" {
	fc_register a alice
	fc_isend a "JOIN #one"
	fc_iwait a " 366 alice #one "
	fc_login_numeric nora
	fc_iexpect a ":nora!nora@numeric JOIN &all"
	fc_send nora "ROOM two"
	fc_expect nora "200 Room two created"
	fc_isend a "LIST"
	fc_iexpect a ":$IRCSRV 321 alice Channel :Users  Name"
	fc_iexpect a ":$IRCSRV 322 alice #one 1 :"
	fc_iexpect a ":$IRCSRV 322 alice #two 0 :"
	fc_iexpect a ":$IRCSRV 323 alice :End of /LIST"
	fc_isend a "LIST #one,#none,&all"
	fc_iexpect a ":$IRCSRV 321 alice Channel :Users  Name"
	fc_iexpect a ":$IRCSRV 322 alice #one 1 :"
	fc_iexpect a ":$IRCSRV 322 alice &all 2 :"
	fc_iexpect a ":$IRCSRV 323 alice :End of /LIST"
}

@test "irc.topic: TOPIC #c gets 331 when unset; 442 off the channel, 403 no channel, 461 without one" {
	fc_register a alice
	fc_isend a "JOIN #one"
	fc_iwait a " 366 alice #one "
	fc_isend a "TOPIC #one"
	fc_iexpect a ":$IRCSRV 331 alice #one :No topic is set"
	fc_isend a "PART #one"
	fc_iexpect a ":$(fc_pfx alice) PART #one"
	fc_isend a "TOPIC #one :x"
	fc_iexpect a ":$IRCSRV 442 alice #one :You're not on that channel"
	fc_isend a "TOPIC #none"
	fc_iexpect a ":$IRCSRV 403 alice #none :No such channel"
	fc_isend a "TOPIC"
	fc_iexpect a ":$IRCSRV 461 alice TOPIC :Not enough parameters"
}

@test "irc.mode.channel: MODE #c gets 324 +nt and 329; MODE #c b/e/I end their empty lists; MODE &all is +nt" {
	fc_register a alice
	fc_isend a "JOIN #one"
	fc_iwait a " 366 alice #one "
	fc_isend a "MODE #one"
	fc_iexpect a ":$IRCSRV 324 alice #one +nt"
	fc_iexpect_match a "^:$IRCSRV 329 alice #one [0-9]+$"
	fc_isend a "MODE #one b"
	fc_iexpect a ":$IRCSRV 368 alice #one :End of channel ban list"
	fc_isend a "MODE #one +b"
	fc_iexpect a ":$IRCSRV 368 alice #one :End of channel ban list"
	fc_isend a "MODE #one e"
	fc_iexpect a ":$IRCSRV 349 alice #one :End of channel exception list"
	fc_isend a "MODE #one I"
	fc_iexpect a ":$IRCSRV 347 alice #one :End of channel invite list"
	fc_isend a "MODE #none"
	fc_iexpect a ":$IRCSRV 403 alice #none :No such channel"
	fc_isend a "MODE &all"
	fc_iexpect a ":$IRCSRV 324 alice &all +nt"
	fc_iexpect_match a "^:$IRCSRV 329 alice &all [0-9]+$"
}

@test "irc.mode.user: MODE nick gets 221; +i is echoed; other users get 502, unknown nicks 401, unknown flags 501" {
	fc_register a alice
	fc_login bob
	fc_iexpect a ":bob!bob@okfail JOIN &all"
	fc_isend a "MODE alice"
	fc_iexpect a ":$IRCSRV 221 alice +"
	fc_isend a "MODE alice +i"
	fc_iexpect a ":$(fc_pfx alice) MODE alice :+i"
	fc_isend a "MODE alice"
	fc_iexpect a ":$IRCSRV 221 alice +i"
	fc_isend a "MODE alice +i"
	fc_isend a "MODE alice +z"
	fc_iexpect a ":$IRCSRV 501 alice :Unknown MODE flag"
	fc_isend a "MODE bob"
	fc_iexpect a ":$IRCSRV 502 alice :Can't change mode for other users"
	fc_isend a "MODE nobody"
	fc_iexpect a ":$IRCSRV 401 alice nobody :No such nick/channel"
	fc_isend a "MODE"
	fc_iexpect a ":$IRCSRV 461 alice MODE :Not enough parameters"
}

@test "irc.kick.errors: KICK by a non-operator gets 482, off the channel 442, no such channel 403; OPER gets 491" {
	fc_register a alice
	fc_isend a "JOIN #one"
	fc_iwait a " 366 alice #one "
	fc_register b bob
	fc_isend b "JOIN #one"
	fc_iwait b " 366 bob #one "
	fc_isend b "KICK #one alice"
	fc_iexpect b ":$IRCSRV 482 bob #one :You're not channel operator"
	fc_register c carol
	fc_isend c "KICK #one alice"
	fc_iexpect c ":$IRCSRV 442 carol #one :You're not on that channel"
	fc_wait_all a ":$(fc_pfx bob) JOIN &all" ":$(fc_pfx bob) JOIN #one" \
		":$(fc_pfx carol) JOIN &all"
	fc_isend a "KICK #none bob"
	fc_iexpect a ":$IRCSRV 403 alice #none :No such channel"
	fc_isend a "KICK #one nobody"
	fc_iexpect a ":$IRCSRV 401 alice nobody :No such nick/channel"
	fc_isend a "KICK #one carol"
	fc_iexpect a ":$IRCSRV 441 alice carol #one :They aren't on that channel"
	fc_isend a "OPER root secret"
	fc_iexpect a ":$IRCSRV 491 alice :No O-lines for your host"
}
