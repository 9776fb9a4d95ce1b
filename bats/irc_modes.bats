#!/usr/bin/env bats
# Channel operators and modes (docs/PROTOCOL.md "irc", rows irc.op.*,
# irc.mode.*, irc.join.refused, irc.msg.moderated, irc.topic.*, irc.kick,
# irc.invite*, irc.list.secret, irc.all.modes, and the numeric/cross rows
# numeric.join.modes, numeric.send.moderated, cross.kick, room.state.reset):
# the state lives with the room in the registry, so every worker sees it.

load irc_helpers

setup() {
	# the room.state.reset test needs rooms deleted soon after they empty
	if [[ $BATS_TEST_DESCRIPTION == room.state.reset* ]]; then
		fc_start_irc --irc-join-all 0 --room-linger 0.3
	else
		fc_start_irc --irc-join-all 0
	fi
}

# no_room USER ROOM: LIRO (numeric) does not list ROOM
no_room() {
	fc_send "$1" LIRO
	while fc_read "$1"; do
		[[ $FC_LAST == "200 ROOMS"* ]] && break
	done
	[[ " ${FC_LAST#200 ROOMS} " != *" $2 "* ]]
}

# reg NAME [NICK]: register (no &all: --irc-join-all 0)
reg() {
	fc_register_only "$@"
}

# join NAME NICK CHAN: JOIN and read up to the 366
join() {
	fc_isend "$1" "JOIN $3"
	fc_iexpect "$1" ":$(fc_pfx "$2") JOIN $3"
	fc_iwait "$1" "^:$IRCSRV 366 $2 $3 "
}

# two IRC users in #c: alice (its creator, so its operator) and bob
two() {
	reg a alice
	join a alice "#c"
	reg b bob
	join b bob "#c"
	fc_iexpect a ":$(fc_pfx bob) JOIN #c"
}

@test "irc.op.creator: the creator is @ in NAMES, WHO (H@) and WHOIS (@#c); multi-prefix shows @+; a numeric creator too" {
	two
	fc_isend b "NAMES #c"
	fc_iexpect b ":$IRCSRV 353 bob = #c :@alice bob"
	fc_iexpect b ":$IRCSRV 366 bob #c :End of /NAMES list."
	fc_isend b "WHO #c"
	fc_iexpect b ":$IRCSRV 352 bob #c ~alice 127.0.0.1 $IRCSRV alice H@ :0 alice test"
	fc_iexpect b ":$IRCSRV 352 bob #c ~bob 127.0.0.1 $IRCSRV bob H :0 bob test"
	fc_iexpect b ":$IRCSRV 315 bob #c :End of WHO list."
	fc_isend b "WHOIS alice"
	fc_iwait b "^:$IRCSRV 311 bob alice "
	fc_iexpect b ":$IRCSRV 319 bob alice :@#c"
	fc_iwait b " 318 bob alice "
	fc_isend a "MODE #c +v alice"
	fc_iexpect a ":$(fc_pfx alice) MODE #c +v alice"
	fc_iexpect b ":$(fc_pfx alice) MODE #c +v alice"
	fc_isend b "NAMES #c"
	fc_iexpect b ":$IRCSRV 353 bob = #c :@alice bob"
	fc_iwait b " 366 bob #c "
	fc_isend b "CAP REQ multi-prefix"
	fc_iwait b "CAP bob ACK :multi-prefix$"
	fc_isend b "NAMES #c"
	fc_iexpect b ":$IRCSRV 353 bob = #c :@+alice bob"
	fc_iwait b " 366 bob #c "
	fc_login_numeric nora
	fc_send nora "ROOM lobby"
	fc_expect nora "200 Room lobby created"
	fc_send nora "JOIN lobby"
	fc_expect nora "200 Joined lobby"
	fc_isend b "JOIN #lobby"
	fc_iexpect b ":$(fc_pfx bob) JOIN #lobby"
	fc_iexpect b ":$IRCSRV 353 bob = #lobby :bob @nora"
}

@test "irc.mode.op: MODE #c +o/-o/+v/-v nick is echoed to the channel; 401, 441; a non-operator gets 482" {
	two
	fc_isend b "MODE #c +o bob"
	fc_iexpect b ":$IRCSRV 482 bob #c :You're not channel operator"
	fc_isend a "MODE #c +ov bob bob"
	fc_iexpect a ":$(fc_pfx alice) MODE #c +ov bob bob"
	fc_iexpect b ":$(fc_pfx alice) MODE #c +ov bob bob"
	fc_isend b "MODE #c -o+v alice alice"
	fc_iexpect b ":$(fc_pfx bob) MODE #c -o+v alice alice"
	fc_iexpect a ":$(fc_pfx bob) MODE #c -o+v alice alice"
	fc_isend a "MODE #c +o alice"
	fc_iexpect a ":$IRCSRV 482 alice #c :You're not channel operator"
	fc_isend b "MODE #c +o nobody"
	fc_iexpect b ":$IRCSRV 401 bob nobody :No such nick/channel"
	reg c carol
	fc_isend b "MODE #c +v carol"
	fc_iexpect b ":$IRCSRV 441 bob carol #c :They aren't on that channel"
	fc_isend b "MODE #c -v bob"
	fc_iexpect b ":$(fc_pfx bob) MODE #c -v bob"
	fc_isend c "NAMES #c"
	fc_iexpect c ":$IRCSRV 353 carol = #c :+alice @bob"
}

@test "irc.mode.flags: +imnpst, +k key (696 when invalid), +l limit (696), 472 unknown; 324 shows them (the key to members)" {
	two
	fc_isend a "MODE #c +imsp-t"
	fc_iexpect a ":$(fc_pfx alice) MODE #c +imsp-t"
	fc_iexpect b ":$(fc_pfx alice) MODE #c +imsp-t"
	fc_isend a "MODE #c +k :two words"
	fc_iexpect a ":$IRCSRV 696 alice #c k * :Invalid key"
	fc_isend a "MODE #c +kl sesame 5"
	fc_iexpect a ":$(fc_pfx alice) MODE #c +kl sesame 5"
	fc_iexpect b ":$(fc_pfx alice) MODE #c +kl sesame 5"
	fc_isend a "MODE #c +l many"
	fc_iexpect a ":$IRCSRV 696 alice #c l many :Invalid limit"
	fc_isend a "MODE #c +X"
	fc_iexpect a ":$IRCSRV 472 alice X :is unknown mode char to me"
	fc_isend b "MODE #c"
	fc_iexpect b ":$IRCSRV 324 bob #c +nmispkl sesame 5"
	fc_iexpect_match b "^:$IRCSRV 329 bob #c [0-9]+$"
	reg c carol
	fc_isend c "MODE #c"
	fc_iexpect c ":$IRCSRV 324 carol #c +nmispkl * 5"
	fc_iwait c " 329 carol #c "
	fc_isend a "MODE #c -imspkl *"
	fc_iexpect a ":$(fc_pfx alice) MODE #c -imspkl *"
	fc_isend c "MODE #c"
	fc_iexpect c ":$IRCSRV 324 carol #c +n"
}

@test "irc.mode.lists: +b/+e/+I masks (nick -> nick!*@*) list as 367/368, 348/349, 346/347; 478 past 64 entries" {
	two
	fc_isend a "MODE #c +b dave"
	fc_iexpect a ":$(fc_pfx alice) MODE #c +b dave!*@*"
	fc_iexpect b ":$(fc_pfx alice) MODE #c +b dave!*@*"
	fc_isend a "MODE #c +eI *!~erin@* eve!*@*"
	fc_iexpect a ":$(fc_pfx alice) MODE #c +eI *!~erin@* eve!*@*"
	fc_iexpect b ":$(fc_pfx alice) MODE #c +eI *!~erin@* eve!*@*"
	fc_isend b "MODE #c +b"
	fc_iexpect_match b "^:$IRCSRV 367 bob #c dave!\\*@\\* alice [0-9]+$"
	fc_iexpect b ":$IRCSRV 368 bob #c :End of channel ban list"
	fc_isend b "MODE #c e"
	fc_iexpect_match b "^:$IRCSRV 348 bob #c \\*!~erin@\\* alice [0-9]+$"
	fc_iexpect b ":$IRCSRV 349 bob #c :End of channel exception list"
	fc_isend b "MODE #c I"
	fc_iexpect_match b "^:$IRCSRV 346 bob #c eve!\\*@\\* alice [0-9]+$"
	fc_iexpect b ":$IRCSRV 347 bob #c :End of channel invite list"
	fc_isend b "MODE #c -b dave"
	fc_iexpect b ":$IRCSRV 482 bob #c :You're not channel operator"
	fc_isend a "MODE #c -b dave!*@*"
	fc_iexpect a ":$(fc_pfx alice) MODE #c -b dave!*@*"
	local i
	for i in $(seq 1 62); do
		fc_isend a "MODE #c +b x$i"
		fc_iexpect a ":$(fc_pfx alice) MODE #c +b x$i!*@*"
	done
	fc_isend a "MODE #c +b full"
	fc_iexpect a ":$IRCSRV 478 alice #c full!*@* :Channel list is full"
}

@test "irc.join.refused: 474 banned (unless +e), 473 invite only (unless invited or +I), 475 wrong key, 471 full" {
	two
	fc_isend a "MODE #c +b carol"
	fc_iexpect a ":$(fc_pfx alice) MODE #c +b carol!*@*"
	reg c carol
	fc_isend c "JOIN #c"
	fc_iexpect c ":$IRCSRV 474 carol #c :Cannot join channel (+b)"
	fc_isend a "MODE #c +e *!~carol@*"
	fc_iexpect a ":$(fc_pfx alice) MODE #c +e *!~carol@*"
	join c carol "#c"
	fc_isend c "PART #c"
	fc_iexpect c ":$(fc_pfx carol) PART #c"
	fc_isend a "MODE #c -b+i carol!*@*"
	fc_iexpect a ":$(fc_pfx carol) JOIN #c"
	fc_iexpect a ":$(fc_pfx carol) PART #c"
	fc_iexpect a ":$(fc_pfx alice) MODE #c -b+i carol!*@*"
	fc_isend c "JOIN #c"
	fc_iexpect c ":$IRCSRV 473 carol #c :Cannot join channel (+i)"
	fc_isend a "MODE #c +I carol"
	fc_iexpect a ":$(fc_pfx alice) MODE #c +I carol!*@*"
	join c carol "#c"
	fc_isend c "PART #c"
	fc_iexpect c ":$(fc_pfx carol) PART #c"
	fc_isend a "MODE #c -i+k sesame"
	fc_iwait a "MODE #c -i\\+k sesame$"
	fc_isend c "JOIN #c nope"
	fc_iexpect c ":$IRCSRV 475 carol #c :Cannot join channel (+k)"
	fc_isend c "JOIN #c sesame"
	fc_iexpect c ":$(fc_pfx carol) JOIN #c"
	fc_iwait c " 366 carol #c "
	fc_isend c "PART #c"
	fc_iexpect c ":$(fc_pfx carol) PART #c"
	fc_isend a "MODE #c -k+l * 2"
	fc_iwait a "MODE #c -k\\+l \\* 2$"
	fc_isend c "JOIN #c"
	fc_iexpect c ":$IRCSRV 471 carol #c :Cannot join channel (+l)"
}

@test "irc.msg.moderated: +m lets only @ and + speak (404); -n lets outsiders send, +n (the default) refuses them" {
	two
	reg c carol
	fc_isend c "PRIVMSG #c :from outside"
	fc_iexpect c ":$IRCSRV 404 carol #c :Cannot send to channel"
	fc_isend a "MODE #c +m-n"
	fc_iexpect a ":$(fc_pfx alice) MODE #c +m-n"
	fc_iexpect b ":$(fc_pfx alice) MODE #c +m-n"
	fc_isend b "PRIVMSG #c :muted"
	fc_iexpect b ":$IRCSRV 404 bob #c :Cannot send to channel"
	fc_isend a "MODE #c +v bob"
	fc_iexpect b ":$(fc_pfx alice) MODE #c +v bob"
	fc_isend b "PRIVMSG #c :voiced"
	fc_iexpect a ":$(fc_pfx alice) MODE #c +v bob"
	fc_iexpect a ":$(fc_pfx bob) PRIVMSG #c :voiced"
	fc_isend a "MODE #c -m"
	fc_iexpect a ":$(fc_pfx alice) MODE #c -m"
	fc_isend c "PRIVMSG #c :from outside"
	fc_iexpect a ":$(fc_pfx carol) PRIVMSG #c :from outside"
}

@test "irc.topic.set: TOPIC #c :t reaches every member; JOIN and TOPIC #c show 332/333; +t (default) only ops; -t anyone; TOPIC #c : clears" {
	two
	fc_isend b "TOPIC #c :by bob"
	fc_iexpect b ":$IRCSRV 482 bob #c :You're not channel operator"
	fc_isend a "TOPIC #c :the topic"
	fc_iexpect a ":$(fc_pfx alice) TOPIC #c :the topic"
	fc_iexpect b ":$(fc_pfx alice) TOPIC #c :the topic"
	fc_isend b "TOPIC #c"
	fc_iexpect b ":$IRCSRV 332 bob #c :the topic"
	fc_iexpect_match b "^:$IRCSRV 333 bob #c alice!~alice@127.0.0.1 [0-9]+$"
	reg c carol
	fc_isend c "JOIN #c"
	fc_iexpect c ":$(fc_pfx carol) JOIN #c"
	fc_iexpect c ":$IRCSRV 332 carol #c :the topic"
	fc_iexpect_match c "^:$IRCSRV 333 carol #c alice!~alice@127.0.0.1 [0-9]+$"
	fc_iexpect c ":$IRCSRV 353 carol = #c :@alice bob carol"
	fc_isend a "MODE #c -t"
	fc_iwait b "MODE #c -t$"
	fc_isend b "TOPIC #c :by bob"
	fc_iexpect b ":$(fc_pfx bob) TOPIC #c :by bob"
	fc_isend b "TOPIC #c :"
	fc_iexpect b ":$(fc_pfx bob) TOPIC #c :"
	fc_isend b "TOPIC #c"
	fc_iexpect b ":$IRCSRV 331 bob #c :No topic is set"
}

@test "irc.kick: KICK #c nick[,nick] [:why] reaches every member and the kicked (default reason: the kicker); the kicked is out" {
	two
	reg c carol
	join c carol "#c"
	fc_iexpect a ":$(fc_pfx carol) JOIN #c"
	fc_iexpect b ":$(fc_pfx carol) JOIN #c"
	fc_isend a "KICK #c bob :bye"
	fc_iexpect a ":$(fc_pfx alice) KICK #c bob :bye"
	fc_iexpect b ":$(fc_pfx alice) KICK #c bob :bye"
	fc_iexpect c ":$(fc_pfx alice) KICK #c bob :bye"
	fc_isend b "PRIVMSG #c :still here?"
	fc_iexpect b ":$IRCSRV 404 bob #c :Cannot send to channel"
	join b bob "#c"
	fc_isend a "KICK #c bob,carol"
	fc_iexpect a ":$(fc_pfx bob) JOIN #c"
	fc_iexpect a ":$(fc_pfx alice) KICK #c bob :alice"
	fc_iexpect a ":$(fc_pfx alice) KICK #c carol :alice"
	fc_iwait c "KICK #c carol :alice$"
	fc_isend a "NAMES #c"
	fc_iexpect a ":$IRCSRV 353 alice = #c :@alice"
}

@test "irc.invite: INVITE nick #c gets 341 and the invitee INVITE; 443, 442, 482 (+i), 401; INVITE alone lists 336/337" {
	two
	reg c carol
	fc_isend a "MODE #c +i"
	fc_iexpect a ":$(fc_pfx alice) MODE #c +i"
	fc_isend b "INVITE carol #c"
	fc_iexpect b ":$(fc_pfx alice) MODE #c +i"
	fc_iexpect b ":$IRCSRV 482 bob #c :You're not channel operator"
	fc_isend c "INVITE bob #c"
	fc_iexpect c ":$IRCSRV 442 carol #c :You're not on that channel"
	fc_isend a "INVITE bob #c"
	fc_iexpect a ":$IRCSRV 443 alice bob #c :is already on channel"
	fc_isend a "INVITE nobody #c"
	fc_iexpect a ":$IRCSRV 401 alice nobody :No such nick/channel"
	fc_isend a "INVITE carol #c"
	fc_iexpect a ":$IRCSRV 341 alice carol #c"
	fc_iexpect c ":$(fc_pfx alice) INVITE carol #c"
	fc_isend c "INVITE"
	fc_iexpect c ":$IRCSRV 336 carol #c"
	fc_iexpect c ":$IRCSRV 337 carol :End of /INVITE list"
	join c carol "#c"
	fc_isend c "INVITE"
	fc_iexpect c ":$IRCSRV 337 carol :End of /INVITE list"
}

@test "irc.list.secret: +s/+p channels are left out of LIST, NAMES, WHO and WHOIS for outsiders; 353 marks them @ / *" {
	two
	fc_isend a "MODE #c +s"
	fc_iexpect a ":$(fc_pfx alice) MODE #c +s"
	fc_isend a "NAMES #c"
	fc_iexpect a ":$IRCSRV 353 alice @ #c :@alice bob"
	fc_iwait a " 366 alice #c "
	reg c carol
	fc_isend c "LIST"
	fc_iexpect c ":$IRCSRV 321 carol Channel :Users  Name"
	fc_iexpect c ":$IRCSRV 323 carol :End of /LIST"
	fc_isend c "NAMES #c"
	fc_iexpect c ":$IRCSRV 366 carol #c :End of /NAMES list."
	fc_isend c "WHO #c"
	fc_iexpect c ":$IRCSRV 315 carol #c :End of WHO list."
	fc_isend c "WHOIS alice"
	fc_iwait c "^:$IRCSRV 311 carol alice "
	fc_iexpect c ":$IRCSRV 312 carol alice $IRCSRV :forkchat"
	fc_isend a "MODE #c -s+p"
	fc_iexpect a ":$(fc_pfx alice) MODE #c -s+p"
	fc_isend b "NAMES #c"
	fc_iwait b "^:$IRCSRV 353 bob \\* #c :@alice bob$"
}

@test "irc.op.nick: a NICK change keeps the operator and voice flags" {
	two
	fc_isend a "MODE #c +v alice"
	fc_iexpect a ":$(fc_pfx alice) MODE #c +v alice"
	fc_isend a "NICK alicia"
	fc_iexpect a ":$(fc_pfx alice) NICK :alicia"
	fc_isend b "CAP REQ multi-prefix"
	fc_iwait b "ACK :multi-prefix"
	fc_isend b "NAMES #c"
	fc_iwait b "^:$IRCSRV 353 bob = #c :(bob )?@\\+alicia( bob)?$"
}

@test "irc.all.modes: &all has no operators: MODE &all +m, TOPIC &all :x, KICK and INVITE to &all get 482" {
	reg a alice
	join a alice "&all"
	reg b bob
	fc_iexpect a ":$(fc_pfx bob) JOIN &all"
	fc_isend a "MODE &all +m"
	fc_iexpect a ":$IRCSRV 482 alice &all :You're not channel operator"
	fc_isend a "TOPIC &all :x"
	fc_iexpect a ":$IRCSRV 482 alice &all :You're not channel operator"
	fc_isend a "KICK &all bob"
	fc_iexpect a ":$IRCSRV 482 alice &all :You're not channel operator"
	fc_isend a "INVITE bob &all"
	fc_iexpect a ":$IRCSRV 482 alice &all :You're not channel operator"
}

@test "numeric.join.modes: a numeric JOIN of a +b/+i/+k/+l room gets 300 Cannot join <room>: banned / invite only / key needed / room full" {
	two
	fc_login_numeric nora
	fc_isend a "MODE #c +b nora"
	fc_iexpect a ":$(fc_pfx alice) MODE #c +b nora!*@*"
	fc_send nora "JOIN c"
	fc_expect nora "300 Cannot join c: banned"
	fc_isend a "MODE #c -b+i nora!*@*"
	fc_iwait a "MODE #c -b\\+i nora!\\*@\\*$"
	fc_send nora "JOIN c"
	fc_expect nora "300 Cannot join c: invite only"
	fc_isend a "MODE #c -i+k sesame"
	fc_iwait a "MODE #c -i\\+k sesame$"
	fc_send nora "JOIN c"
	fc_expect nora "300 Cannot join c: key needed"
	fc_isend a "MODE #c -k+l * 2"
	fc_iwait a "MODE #c -k\\+l \\* 2$"
	fc_send nora "JOIN c"
	fc_expect nora "300 Cannot join c: room full"
	fc_isend a "INVITE nora #c"
	fc_iexpect a ":$IRCSRV 341 alice nora #c"
	fc_isend a "MODE #c -l+i"
	fc_iwait a "MODE #c -l\\+i$"
	fc_send nora "JOIN c"
	fc_expect nora "200 Joined c"
}

@test "numeric.send.moderated: a numeric SEND to a +m room without voice gets 300 Cannot send to <room>: moderated" {
	two
	fc_login_numeric nora
	fc_send nora "JOIN c"
	fc_expect nora "200 Joined c"
	fc_iexpect a ":nora!nora@numeric JOIN #c"
	fc_isend a "MODE #c +m"
	fc_iexpect a ":$(fc_pfx alice) MODE #c +m"
	fc_send nora "SEND c hello"
	fc_expect nora "300 Cannot send to c: moderated"
	fc_isend a "MODE #c +v nora"
	fc_iexpect a ":$(fc_pfx alice) MODE #c +v nora"
	fc_send nora "SEND c hello"
	fc_expect nora "200 Sent to c"
	fc_iexpect a ":nora!nora@numeric PRIVMSG #c :hello"
}

@test "cross.kick: a kicked numeric user and the numeric members get 713 <room> <user> left; IRC members see the KICK" {
	two
	fc_login_numeric nora
	fc_login_numeric nina
	fc_expect nora "710 nina login"
	fc_send nora "JOIN c"
	fc_expect nora "200 Joined c"
	fc_send nina "JOIN c"
	fc_expect nina "200 Joined c"
	fc_expect nora "712 c nina joined"
	fc_isend a "KICK #c nora :out"
	fc_iwait a "^:$(fc_pfx alice) KICK #c nora :out$"
	fc_iwait b "^:$(fc_pfx alice) KICK #c nora :out$"
	fc_expect nora "713 c nora left"
	fc_expect nina "713 c nora left"
	fc_send nora "SEND c hi"
	fc_expect nora "300 Not in room c"
	fc_send nora "JOIN c"
	fc_expect nora "200 Joined c"
	fc_expect nina "712 c nora joined"
	fc_isend a "KICK #c bob"
	fc_iwait b "^:$(fc_pfx alice) KICK #c bob :alice$"
	fc_expect nina "713 c bob left"
	fc_expect nora "713 c bob left"
}

@test "room.state.reset: a room deleted after --room-linger comes back as +nt, without topic or bans, its new creator @" {
	two
	fc_isend a "MODE #c +ib dave"
	fc_iexpect a ":$(fc_pfx alice) MODE #c +ib dave!*@*"
	fc_isend a "TOPIC #c :old"
	fc_iexpect a ":$(fc_pfx alice) TOPIC #c :old"
	fc_isend a "PART #c"
	fc_iexpect a ":$(fc_pfx alice) PART #c"
	fc_wait_all b ":$(fc_pfx alice) MODE #c +ib dave!*@*" \
		":$(fc_pfx alice) TOPIC #c :old" ":$(fc_pfx alice) PART #c"
	fc_isend b "PART #c"
	fc_iexpect b ":$(fc_pfx bob) PART #c"
	fc_login_numeric nora
	fc_until 'no_room nora c'
	fc_isend b "JOIN #c"
	fc_iexpect b ":$(fc_pfx bob) JOIN #c"
	fc_iexpect b ":$IRCSRV 353 bob = #c :@bob"
	fc_iwait b " 366 bob #c "
	fc_isend b "MODE #c"
	fc_iexpect b ":$IRCSRV 324 bob #c +nt"
	fc_iwait b " 329 bob #c "
	fc_isend b "MODE #c b"
	fc_iexpect b ":$IRCSRV 368 bob #c :End of channel ban list"
}

@test "irc.op.workers: ops, modes and KICK hold across workers (users spread over the workers)" {
	reg u1 user1
	join u1 user1 "#w"
	local i seen="" w
	for i in 2 3 4 5 6; do
		reg "u$i" "user$i"
		join "u$i" "user$i" "#w"
		w=$(fc_worker_of_quick "user$i")
		[[ " $seen " == *" $w "* ]] || seen+=" $w"
	done
	set -- $seen
	[ $# -ge 2 ] || skip "every user on one worker"
	fc_isend u1 "MODE #w +o user2"
	for i in 3 4 5 6; do
		fc_iwait "u$i" "^:$(fc_pfx user1) MODE #w \\+o user2$"
	done
	fc_isend u2 "KICK #w user6 :bye"
	for i in 3 4 5 6; do
		fc_iwait "u$i" "^:$(fc_pfx user2) KICK #w user6 :bye$"
	done
	fc_isend u6 "PRIVMSG #w :gone?"
	fc_iexpect u6 ":$IRCSRV 404 user6 #w :Cannot send to channel"
}

@test "irc.msg.statusmsg: PRIVMSG @#c reaches the operators only, +#c the operators and voiced; an outsider gets 404" {
	two
	reg c carol
	join c carol "#c"
	fc_wait_all a ":$(fc_pfx carol) JOIN #c"
	fc_iexpect b ":$(fc_pfx carol) JOIN #c"
	fc_isend a "MODE #c +v bob"
	fc_iexpect a ":$(fc_pfx alice) MODE #c +v bob"
	fc_iexpect b ":$(fc_pfx alice) MODE #c +v bob"
	fc_iexpect c ":$(fc_pfx alice) MODE #c +v bob"
	fc_isend b "PRIVMSG @#c :ops only"
	fc_iexpect a ":$(fc_pfx bob) PRIVMSG @#c :ops only"
	fc_isend c "PRIVMSG +#c :voiced too"
	fc_iexpect a ":$(fc_pfx carol) PRIVMSG +#c :voiced too"
	fc_iexpect b ":$(fc_pfx carol) PRIVMSG +#c :voiced too"
	fc_isend a "PRIVMSG #c :everyone"
	fc_iexpect c ":$(fc_pfx alice) PRIVMSG #c :everyone"
	reg d dave
	fc_isend d "PRIVMSG @#c :from outside"
	fc_iexpect d ":$IRCSRV 404 dave @#c :Cannot send to channel"
}

@test "irc.list.filters: LIST masks (*), !masks, >n and <n members; 322 carries the topic" {
	two
	fc_isend a "JOIN #chan2"
	fc_iwait a " 366 alice #chan2 "
	fc_isend a "TOPIC #chan2 :second"
	fc_iexpect a ":$(fc_pfx alice) TOPIC #chan2 :second"
	fc_isend b "LIST *an2"
	fc_iexpect b ":$IRCSRV 321 bob Channel :Users  Name"
	fc_iexpect b ":$IRCSRV 322 bob #chan2 1 :second"
	fc_iexpect b ":$IRCSRV 323 bob :End of /LIST"
	fc_isend b "LIST !*an2"
	fc_iexpect b ":$IRCSRV 321 bob Channel :Users  Name"
	fc_iexpect b ":$IRCSRV 322 bob #c 2 :"
	fc_iexpect b ":$IRCSRV 323 bob :End of /LIST"
	fc_isend b "LIST >1"
	fc_iexpect b ":$IRCSRV 321 bob Channel :Users  Name"
	fc_iexpect b ":$IRCSRV 322 bob #c 2 :"
	fc_iexpect b ":$IRCSRV 323 bob :End of /LIST"
	fc_isend b "LIST <2"
	fc_iexpect b ":$IRCSRV 321 bob Channel :Users  Name"
	fc_iexpect b ":$IRCSRV 322 bob #chan2 1 :second"
	fc_iexpect b ":$IRCSRV 323 bob :End of /LIST"
}
