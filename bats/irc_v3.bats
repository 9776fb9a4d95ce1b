#!/usr/bin/env bats
# IRCv3 capabilities of the irc dialect (docs/PROTOCOL.md "irc", rows
# irc.v3.*): message tags, TAGMSG, server-time, echo-message,
# labeled-response and batch, away-notify, setname, the bot tag. Tags stay
# within IRC; text from the other dialects still reaches IRC users.

load irc_helpers

setup() {
	fc_start_irc --irc-join-all 0
}

# reg NAME NICK CAPS...: register NICK after CAP REQ of CAPS (none: no CAP)
reg() {
	local name=$1 nick=$2
	shift 2
	fc_connect_irc "$name"
	if [ $# -gt 0 ]; then
		fc_isend "$name" "CAP REQ :$*"
		fc_iexpect "$name" ":$IRCSRV CAP * ACK :$*"
	fi
	fc_isend "$name" "NICK $nick"
	fc_isend "$name" "USER $nick 0 * :$nick test"
	[ $# -eq 0 ] || fc_isend "$name" "CAP END"
	fc_iwait "$name" "^:$IRCSRV (376|422) $nick "
}

join() {
	fc_isend "$1" "JOIN $2"
	fc_iwait "$1" "^(@[^ ]* )?:$IRCSRV 366 [^ ]+ $2 "
}

TIME_RE='time=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'

@test "irc.v3.tags: client tags (+name) reach IRC users with message-tags, with time and msgid; server-time users get only time; others no tags; other dialects the text" {
	fc_login_numeric nora
	fc_send nora "ROOM lobby"
	fc_expect nora "200 Room lobby created"
	fc_send nora "JOIN lobby"
	fc_expect nora "200 Joined lobby"
	reg a alice message-tags
	reg t tim server-time
	reg p plain
	join a "#lobby"
	join t "#lobby"
	join p "#lobby"
	fc_isend a "@+draft/reply=x1;fizz=buzz PRIVMSG #lobby :hi"
	fc_iwait t "^@$TIME_RE :alice!~alice@127.0.0.1 PRIVMSG #lobby :hi$"
	fc_iexpect p ":alice!~alice@127.0.0.1 PRIVMSG #lobby :hi"
	fc_wait_for nora "702 lobby alice hi"
	fc_isend t "PRIVMSG #lobby :back"
	fc_iwait a "^@$TIME_RE;msgid=[0-9a-f-]+ :tim!~tim@127.0.0.1 PRIVMSG #lobby :back$"
	fc_isend a "@+draft/reply=x1;fizz=buzz PRIVMSG tim :pm"
	fc_iexpect_match t "^@$TIME_RE :alice!~alice@127.0.0.1 PRIVMSG tim :pm$"
	reg b bob message-tags
	join b "#lobby"
	fc_isend a "@+draft/reply=x1;fizz=buzz PRIVMSG #lobby :tagged"
	fc_iwait b "^@$TIME_RE;msgid=[0-9a-f-]+;\\+draft/reply=x1 :alice!~alice@127.0.0.1 PRIVMSG #lobby :tagged$"
}

@test "irc.v3.time: with server-time every message carries @time, also those from okfail and numeric users" {
	fc_login alice
	fc_login_numeric nora
	fc_send nora "ROOM lobby"
	fc_expect nora "200 Room lobby created"
	fc_send nora "JOIN lobby"
	fc_expect nora "200 Joined lobby"
	reg t tim server-time
	join t "#lobby"
	join t "&all"
	fc_send alice "BCST hello"
	fc_iwait t "^@$TIME_RE :alice!alice@okfail PRIVMSG &all :hello$"
	fc_send nora "SEND lobby room text"
	fc_iwait t "^@$TIME_RE :nora!nora@numeric PRIVMSG #lobby :room text$"
	fc_send nora "PRIV tim private"
	fc_iwait t "^@$TIME_RE :nora!nora@numeric PRIVMSG tim :private$"
}

@test "irc.v3.tagmsg: TAGMSG reaches only IRC users with message-tags (with its client tags and msgid); 417 past 4096 bytes of tags" {
	fc_login_numeric nora
	fc_send nora "ROOM lobby"
	fc_expect nora "200 Room lobby created"
	fc_send nora "JOIN lobby"
	fc_expect nora "200 Joined lobby"
	reg a alice message-tags echo-message
	reg b bob message-tags
	reg t tim server-time
	join a "#lobby"
	join b "#lobby"
	join t "#lobby"
	fc_isend a "@+typing=active TAGMSG #lobby"
	fc_iwait a "^@$TIME_RE;msgid=[0-9a-f-]+;\\+typing=active :alice!~alice@127.0.0.1 TAGMSG #lobby$"
	fc_iwait b "^@$TIME_RE;msgid=[0-9a-f-]+;\\+typing=active :alice!~alice@127.0.0.1 TAGMSG #lobby$"
	local big
	big=$(head -c 4200 /dev/zero | tr '\0' a)
	fc_isend a "@+x=$big TAGMSG #lobby"
	fc_iexpect a ":$IRCSRV 417 alice :Input line was too long"
	fc_isend t "PING sync"
	fc_iexpect t ":$IRCSRV PONG $IRCSRV :sync"
	fc_expect_silent t 0.2
	fc_isend a "PRIVMSG #lobby :after"
	fc_wait_for nora "702 lobby alice after"
}

@test "irc.v3.echo: with echo-message a sender gets its own PRIVMSG and NOTICE back, with the msgid the others get" {
	reg a alice echo-message message-tags
	reg b bob message-tags
	join a "#c"
	join b "#c"
	fc_iwait a "^(@[^ ]* )?:bob!~bob@127.0.0.1 JOIN #c$"
	fc_isend a "PRIVMSG #c :hello"
	fc_iexpect_match a "^@$TIME_RE;msgid=([0-9a-f-]+) :alice!~alice@127.0.0.1 PRIVMSG #c :hello$"
	local mine=${BASH_REMATCH[1]}
	fc_iexpect_match b "^@$TIME_RE;msgid=([0-9a-f-]+) :alice!~alice@127.0.0.1 PRIVMSG #c :hello$"
	[ "${BASH_REMATCH[1]}" = "$mine" ] || fail "msgids differ: $mine ${BASH_REMATCH[1]}"
	fc_isend a "NOTICE bob :psst"
	fc_iexpect_match a "^@[^ ]+ :alice!~alice@127.0.0.1 NOTICE bob :psst$"
	fc_iexpect_match b "^@[^ ]+ :alice!~alice@127.0.0.1 NOTICE bob :psst$"
}

@test "irc.v3.label: a labeled command's one reply carries the label, several come in a BATCH labeled-response, none gets ACK" {
	reg a alice batch labeled-response
	fc_isend a "@label=l1 PING tok"
	fc_iexpect a "@label=l1 :$IRCSRV PONG $IRCSRV :tok"
	fc_isend a "@label=l2 PONG tok"
	fc_iexpect a "@label=l2 :$IRCSRV ACK"
	fc_isend a "@label=l3 JOIN #c"
	fc_iexpect_match a "^@label=l3 :$IRCSRV BATCH \\+([0-9a-f]+) labeled-response$"
	local id=${BASH_REMATCH[1]}
	fc_iexpect a "@batch=$id :alice!~alice@127.0.0.1 JOIN #c"
	fc_iexpect a "@batch=$id :$IRCSRV 353 alice = #c :@alice"
	fc_iexpect a "@batch=$id :$IRCSRV 366 alice #c :End of /NAMES list."
	fc_iexpect a ":$IRCSRV BATCH -$id"
	fc_isend a "@label=l4 FOO"
	fc_iexpect a "@label=l4 :$IRCSRV 421 alice FOO :Unknown command"
}

@test "irc.v3.away-notify: with away-notify, users sharing a channel see AWAY :text and AWAY, and the AWAY of an away user who joins" {
	reg a alice away-notify
	reg b bob
	reg p plain
	join a "#c"
	join b "#c"
	join p "#c"
	fc_isend b "AWAY :lunch"
	fc_iwait b "^:$IRCSRV 306 bob :You have been marked as being away$"
	fc_iwait a "^:bob!~bob@127.0.0.1 AWAY :lunch$"
	fc_isend b "AWAY"
	fc_iexpect a ":bob!~bob@127.0.0.1 AWAY"
	fc_isend b "AWAY :again"
	fc_iexpect a ":bob!~bob@127.0.0.1 AWAY :again"
	fc_isend a "JOIN #d"
	fc_iwait a "^:$IRCSRV 366 alice #d "
	reg e eve
	fc_isend e "AWAY :away already"
	fc_iwait e " 306 eve "
	fc_isend e "JOIN #d"
	fc_iexpect a ":eve!~eve@127.0.0.1 JOIN #d"
	fc_iexpect a ":eve!~eve@127.0.0.1 AWAY :away already"
	fc_isend p "PING sync"
	fc_iexpect p ":$IRCSRV PONG $IRCSRV :sync"
}

@test "irc.v3.setname: SETNAME :name changes the real name (WHOIS), is echoed with setname, goes to sharers with setname; FAIL INVALID_REALNAME when too long" {
	reg a alice setname
	reg b bob setname
	reg p plain
	join a "#c"
	join b "#c"
	join p "#c"
	fc_isend a "SETNAME :Alice Liddell"
	fc_iwait a "^:alice!~alice@127.0.0.1 SETNAME :Alice Liddell$"
	fc_iwait b "^:alice!~alice@127.0.0.1 SETNAME :Alice Liddell$"
	fc_isend p "WHOIS alice"
	fc_iexpect p ":$IRCSRV 311 plain alice ~alice 127.0.0.1 * :Alice Liddell"
	fc_iwait p " 318 plain alice "
	fc_expect_silent p 0.2
	fc_isend a "SETNAME :$(head -c 80 /dev/zero | tr '\0' x)"
	fc_iexpect a ":$IRCSRV FAIL SETNAME INVALID_REALNAME :Realname is not valid"
}

@test "irc.v3.bot: a user with MODE +B sends its messages with the bot tag to message-tags users; BOT=B in ISUPPORT" {
	reg r robot
	reg a alice message-tags
	join r "#c"
	join a "#c"
	fc_isend r "MODE robot +B"
	fc_iwait r "^:robot!~robot@127.0.0.1 MODE robot :\\+B$"
	fc_isend r "PRIVMSG #c :beep"
	fc_iwait a "^@$TIME_RE;msgid=[0-9a-f-]+;bot :robot!~robot@127.0.0.1 PRIVMSG #c :beep$"
}
