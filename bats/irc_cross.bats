#!/usr/bin/env bats
# Every cross-dialect mapping of docs/PROTOCOL.md's irc part (rows
# irc.cross.*): private messages, NOTICE, presence, room messages, NICK,
# CTCP and formatting, what IRC cannot carry, long texts, and all of it
# across workers.

load irc_helpers

setup() {
	fc_start_irc
}

@test "irc.cross.pm: PRIVMSG to okfail is NPM, to numeric is 701; PM and PRIV come back as PRIVMSG" {
	fc_login alice
	fc_login_numeric nora
	fc_register c carol
	fc_isend c "PRIVMSG alice :hello alice"
	fc_wait_for alice "NPM carol hello alice"
	fc_isend c "PRIVMSG NORA :hello nora"
	fc_wait_for nora "701 carol hello nora"
	fc_send alice "PM carol hi carol"
	fc_expect alice "OK PM carol hi carol"
	fc_iexpect c ":alice!alice@okfail PRIVMSG carol :hi carol"
	fc_send nora "PRIV Carol yo"
	fc_expect nora "200 Sent to carol"
	fc_iexpect c ":nora!nora@numeric PRIVMSG carol :yo"
}

@test "irc.cross.pm.irc: PRIVMSG between IRC users, to two targets, and to oneself" {
	fc_register c carol
	fc_register d dave
	fc_iexpect c ":$(fc_pfx dave) JOIN &all"
	fc_isend c "PRIVMSG dave :hi dave"
	fc_iexpect d ":$(fc_pfx carol) PRIVMSG dave :hi dave"
	fc_isend d "PRIVMSG carol,dave :to both"
	fc_iexpect c ":$(fc_pfx dave) PRIVMSG carol :to both"
	fc_iexpect d ":$(fc_pfx dave) PRIVMSG dave :to both"
}

@test "irc.cross.pm.errors: 411 no recipient, 412 no text, 401 no such nick, 403 no such channel, 407 over 4 targets, 404 not a member" {
	fc_register c carol
	fc_isend c "PRIVMSG"
	fc_iexpect c ":$IRCSRV 411 carol :No recipient given (PRIVMSG)"
	fc_isend c "PRIVMSG alice"
	fc_iexpect c ":$IRCSRV 412 carol :No text to send"
	fc_isend c "PRIVMSG alice :"
	fc_iexpect c ":$IRCSRV 412 carol :No text to send"
	fc_isend c "PRIVMSG nobody :hi"
	fc_iexpect c ":$IRCSRV 401 carol nobody :No such nick/channel"
	fc_isend c "PRIVMSG #nope :hi"
	fc_iexpect c ":$IRCSRV 403 carol #nope :No such channel"
	fc_isend c "PRIVMSG a1,a2,a3,a4,a5 :hi"
	fc_iexpect c ":$IRCSRV 407 carol a1,a2,a3,a4,a5 :Too many targets"
	fc_login_numeric nora
	fc_iexpect c ":nora!nora@numeric JOIN &all"
	fc_send nora "ROOM lobby"
	fc_expect nora "200 Room lobby created"
	fc_isend c "PRIVMSG #lobby :hi"
	fc_iexpect c ":$IRCSRV 404 carol #lobby :Cannot send to channel"
}

@test "irc.cross.notice: NOTICE is routed like PRIVMSG and never answered with an error" {
	fc_login alice
	fc_register c carol
	fc_register d dave
	fc_iexpect c ":$(fc_pfx dave) JOIN &all"
	fc_isend c "NOTICE alice :note"
	fc_wait_for alice "NPM carol note"
	fc_isend c "NOTICE dave :psst"
	fc_iwait d "^:$(fc_pfx carol) NOTICE dave :psst$"
	fc_isend c "NOTICE nobody :x"
	fc_isend c "NOTICE #nope :x"
	fc_isend c "NOTICE"
	fc_isend c "NOTICE dave"
	fc_isend c "PING done"
	fc_iexpect c ":$IRCSRV PONG $IRCSRV :done"
}

@test "irc.cross.presence + irc.quit: registration and QUIT are JOINED/LEFT and 710/711; logins and logouts reach IRC users as JOIN &all and QUIT" {
	fc_login alice
	fc_login_numeric nora
	fc_register c carol
	fc_wait_for alice "JOINED carol"
	fc_wait_for nora "710 carol login"
	fc_login bob
	fc_iexpect c ":bob!bob@okfail JOIN &all"
	fc_send bob "QUIT"
	fc_expect bob "OK GOODBYE"
	fc_iexpect c ":bob!bob@okfail QUIT :Quit"
	fc_login_numeric nick2
	fc_iexpect c ":nick2!nick2@numeric JOIN &all"
	fc_close nick2
	fc_iexpect_match c "^:nick2!nick2@numeric QUIT :Connection (closed|reset)$"
	fc_isend c "QUIT :off now"
	fc_iexpect c "ERROR :Closing link: carol[127.0.0.1] (Quit: off now)"
	fc_expect_closed c
	fc_wait_for alice "LEFT carol"
	fc_wait_for nora "711 carol logout"
}

@test "irc.cross.room: PRIVMSG #lobby is 702 to numeric members; SEND lobby is PRIVMSG #lobby to IRC members" {
	fc_numeric_room nora lobby
	fc_register c carol
	fc_ijoin c "#lobby"
	fc_wait_for nora "712 lobby carol joined"
	fc_isend c "PRIVMSG #lobby :hello room"
	fc_expect nora "702 lobby carol hello room"
	fc_send nora "SEND lobby hi  carol "
	fc_expect nora "200 Sent to lobby"
	fc_iexpect c ":nora!nora@numeric PRIVMSG #lobby :hi  carol "
}

@test "irc.cross.room.quit: an IRC user's QUIT is 713 per room then 711; a numeric user's logout is one QUIT, no PART" {
	fc_numeric_room nora r1
	fc_register c carol
	fc_ijoin c "#r1"
	fc_isend c "PART &all"
	fc_iexpect c ":$(fc_pfx carol) PART &all"
	fc_register d dave
	fc_ijoin d "#r1"
	fc_iexpect c ":$(fc_pfx dave) JOIN #r1"
	fc_close nora
	fc_iexpect_match c "^:nora!nora@numeric QUIT :Connection (closed|reset)$"
	fc_login_numeric nina
	fc_send nina "JOIN r1"
	fc_expect nina "200 Joined r1"
	fc_iexpect c ":nina!nina@numeric JOIN #r1"
	fc_isend d "QUIT"
	fc_wait_for nina "713 r1 dave left"
	fc_wait_for nina "711 dave logout"
	fc_iexpect c ":$(fc_pfx dave) QUIT :Quit"
}

@test "irc.cross.nick: NICK after registration is NICK to IRC users, a logout and a login (and room rejoin) to the others" {
	fc_login alice
	fc_numeric_room nora lobby
	fc_register c carol
	fc_register d dave
	fc_ijoin c "#lobby"
	fc_wait_for nora "712 lobby carol joined"
	fc_isend c "NICK caroline"
	fc_iexpect c ":$(fc_pfx carol) NICK :caroline"
	fc_iexpect d ":$(fc_pfx carol) NICK :caroline"
	fc_wait_for alice "LEFT carol"
	fc_expect alice "JOINED caroline"
	fc_expect nora "713 lobby carol left"
	fc_expect nora "711 carol logout"
	fc_expect nora "710 caroline login"
	fc_expect nora "712 lobby caroline joined"
	fc_send alice "PM caroline still here?"
	fc_expect alice "OK PM caroline still here?"
	fc_iexpect c ":alice!alice@okfail PRIVMSG caroline :still here?"
	fc_send alice "PM carol gone?"
	fc_expect alice "FAIL07 USER DOES NOT EXIST"
	fc_send nora "LIME lobby"
	fc_expect nora "200 MEMBERS lobby nora caroline"
}

@test "irc.cross.nick.errors: NICK to a taken name (any case) gets 433, a bad one 432; a change of case renames" {
	fc_login alice
	fc_register c carol
	fc_isend c "NICK ALICE"
	fc_iexpect c ":$IRCSRV 433 carol ALICE :Nickname is already in use"
	fc_isend c "NICK a-b"
	fc_iexpect c ":$IRCSRV 432 carol a-b :Erroneous nickname"
	fc_isend c "NICK Carol"
	fc_iexpect c ":$(fc_pfx carol) NICK :Carol"
	fc_wait_for alice "LEFT carol"
	fc_expect alice "JOINED Carol"
	fc_send alice "USERS"
	fc_expect alice "OK USERS alice:Carol"
}

@test "irc.cross.ctcp: CTCP and formatting pass untouched between IRC users; others get it stripped, ACTION as '* nick text'" {
	fc_login alice
	fc_numeric_room nora lobby
	fc_register c carol
	fc_register d dave
	fc_isend c "JOIN #lobby"
	fc_ijoin d "#lobby"
	fc_wait_for nora "712 lobby dave joined"
	fc_isend c $'PRIVMSG #lobby :\x01ACTION waves\x01'
	fc_iwait d $'^:'"$(fc_pfx carol)"$' PRIVMSG #lobby :\x01ACTION waves\x01$'
	fc_expect nora "702 lobby carol * carol waves"
	fc_isend c $'PRIVMSG #lobby :\x02bold\x02 and \x0304,12colour\x03'
	fc_iexpect d $':'"$(fc_pfx carol)"$' PRIVMSG #lobby :\x02bold\x02 and \x0304,12colour\x03'
	fc_expect nora "702 lobby carol bold and colour"
	fc_isend c $'PRIVMSG alice :\x1funder\x1f'
	fc_wait_for alice "NPM carol under"
	fc_isend c $'PRIVMSG alice :\x01VERSION\x01'
	fc_isend c $'PRIVMSG &all :\x01ACTION dances\x01'
	fc_wait_for alice "BCST carol * carol dances"
	fc_iexpect d $':'"$(fc_pfx carol)"$' PRIVMSG &all :\x01ACTION dances\x01'
}

@test "irc.cross.cannot: SECU and FILE to an IRC user get 301; PM_SESSIONKEY and PRIVATE_MESSAGE get FAIL13" {
	fc_login alice
	fc_login_numeric nora
	fc_register c carol
	fc_expect nora "710 carol login"
	fc_wait_for alice "JOINED carol"
	fc_send nora "SECU carol abc"
	fc_expect nora "301 carol cannot receive secure messages (irc client)"
	fc_send nora "FILE carol f.txt 3"
	fc_expect nora "301 carol cannot receive files (irc client)"
	fc_send alice "PM_SESSIONKEY carol key"
	fc_expect alice "FAIL13 Recipient cannot receive encrypted messages"
	fc_send alice "PRIVATE_MESSAGE carol ct"
	fc_expect alice "FAIL13 Recipient cannot receive encrypted messages"
	fc_send alice "PM_PUBKEY mykey"
	fc_expect alice "OK PM_PUBKEY"
	fc_isend c "PING x"
	fc_iexpect c ":$IRCSRV PONG $IRCSRV :x"
}

@test "irc.cross.split: a long okfail text reaches IRC users in several lines of at most 512 bytes, cut at UTF-8 boundaries" {
	fc_login alice
	fc_register c carol
	fc_expect alice "JOINED carol"
	local text="" i
	for i in $(seq 1 300); do text+="é€"; done # 1500 bytes
	fc_send alice "BCST $text"
	fc_expect alice "OK BCST $text"
	local got="" n=0 raw
	while [ ${#got} -lt ${#text} ]; do
		IFS= read -r -t 5 -u "${FC_FD[c]}" raw || fail "only $n lines: ${#got} chars"
		[ "$(printf '%s' "$raw" | wc -c)" -le 511 ] || fail "line too long"
		raw=${raw%$'\r'}
		[[ $raw == ":alice!alice@okfail PRIVMSG &all :"* ]] || fail "got $raw"
		printf '%s' "${raw#*&all :}" | iconv -f UTF-8 -t UTF-8 >/dev/null ||
			fail "not UTF-8: $raw"
		got+=${raw#*&all :}
		n=$((n + 1))
	done
	[ "$got" = "$text" ]
	[ "$n" -ge 4 ]
}

@test "irc.cross.truncate: an IRC user's PRIVMSG that no longer fits with the sender's prefix is cut to one line" {
	fc_register c carol
	fc_register d dave
	local text
	text=$(printf 'y%.0s' $(seq 1 495))
	fc_isend c "PRIVMSG dave :$text" # 14 + 495 = 509 bytes
	fc_iexpect_match d "^:$(fc_pfx carol) PRIVMSG dave :y+$"
	[ "$(printf '%s\r\n' "$FC_LAST" | wc -c)" -eq 512 ]
	fc_isend d "PING x"
	fc_iexpect d ":$IRCSRV PONG $IRCSRV :x"
}

@test "irc.cross.workers: presence, rooms and messages cross workers (IRC users on three workers)" {
	fc_login_numeric nora
	fc_send nora "ROOM lobby"
	fc_expect nora "200 Room lobby created"
	local i w seen=""
	for i in 1 2 3 4 5 6; do
		fc_register "u$i" "user$i"
		fc_isend "u$i" "JOIN #lobby"
		fc_iwait "u$i" " 366 user$i #lobby "
		w=$(fc_worker_of_quick "user$i")
		[[ " $seen " == *" $w "* ]] || seen+=" $w"
	done
	fc_isend u1 "PRIVMSG #lobby :to everyone"
	for i in 2 3 4 5 6; do
		fc_iwait "u$i" "^:$(fc_pfx user1) PRIVMSG #lobby :to everyone$"
	done
	fc_isend u6 "PRIVMSG user1 :back"
	fc_iwait u1 "^:$(fc_pfx user6) PRIVMSG user1 :back$"
	fc_isend u6 "WHOIS user1"
	fc_iwait u6 "^:$IRCSRV 311 user6 user1 ~user1 127.0.0.1 \\* :user1 test$"
	fc_iexpect u6 ":$IRCSRV 319 user6 user1 :@#lobby"
	echo "workers used:$seen" >&3
	[ "$(echo $seen | wc -w)" -ge 2 ]
}
