#!/usr/bin/env bats
# The irc dialect's connection and registration (docs/PROTOCOL.md "irc",
# rows irc.frame.*, irc.reg.*, irc.welcome.*): framing, NICK/USER in either
# order, CAP, PASS, 451/431/432/433/462, the welcome burst, MOTD.

bats_require_minimum_version 1.5.0
load irc_helpers

@test "irc.frame.eol: lines end in \\r\\n or \\n, the server sends \\r\\n" {
	fc_start_irc
	fc_connect_irc a
	fc_send_raw a "NICK alice\nUSER al 0 * :Al\r\n"
	local raw
	IFS= read -r -t 5 -u "${FC_FD[a]}" raw || fail "no reply"
	[ "$raw" = ":$IRCSRV 001 alice :Welcome to the forkchat IRC Network, alice"$'\r' ] ||
		fail "got '$raw'"
}

@test "irc.reg.order: NICK then USER, and USER then NICK, both register" {
	fc_start_irc
	fc_register a alice
	fc_connect_irc b
	fc_isend b "USER bo 0 * :Bo B"
	fc_isend b "NICK bob"
	fc_iexpect b ":$IRCSRV 001 bob :Welcome to the forkchat IRC Network, bob"
	fc_iwait a "^:bob!~bo@127.0.0.1 JOIN &all$"
}

@test "irc.reg.burst: 001-004, 005 with the ISUPPORT tokens, LUSERS, 422 without a MOTD" {
	fc_start_irc
	fc_connect_irc a
	fc_isend a "NICK alice"
	fc_isend a "USER al 0 * :Al"
	fc_iexpect a ":$IRCSRV 001 alice :Welcome to the forkchat IRC Network, alice"
	fc_iexpect_match a "^:$IRCSRV 002 alice :Your host is $IRCSRV, running version forkchatd-"
	fc_iexpect_match a "^:$IRCSRV 003 alice :This server was created "
	fc_iexpect_match a "^:$IRCSRV 004 alice $IRCSRV forkchatd-[^ ]+ Biow beIiklmnopstv beIklov$"
	local isupport=""
	fc_read a && isupport+="$FC_LAST "
	fc_read a && isupport+="$FC_LAST "
	fc_read a && isupport+="$FC_LAST"
	local t
	for t in CASEMAPPING=ascii CHANTYPES=#\& NICKLEN=14 CHANNELLEN=33 LINELEN=512 \
		"PREFIX=(ov)@+ " CHANMODES=beI,k,l,imnpst MODES=4 MAXLIST=beI:64 NETWORK=forkchat \
		BOT=B ELIST=MNU MONITOR=100 UTF8ONLY WHOX; do
		[[ $isupport == *" $t"* ]] || fail "005 lacks $t: $isupport"
	done
	[[ $isupport == *":are supported by this server"* ]]
	fc_iexpect a ":$IRCSRV 251 alice :There are 1 users and 0 invisible on 1 servers"
	fc_iwait a "^:$IRCSRV 266 alice "
	fc_iexpect a ":$IRCSRV 422 alice :MOTD File is missing"
	fc_iexpect a ":alice!~al@127.0.0.1 JOIN &all"
}

@test "irc.welcome.motd: --motd FILE gives 375, one 372 per line, 376; MOTD repeats it" {
	printf 'first line\nsecond line\n' >"$BATS_TEST_TMPDIR/motd"
	fc_start_irc --motd "$BATS_TEST_TMPDIR/motd"
	fc_connect_irc a
	fc_isend a "NICK alice"
	fc_isend a "USER al 0 * :Al"
	fc_iwait a "^:$IRCSRV 375 alice :- $IRCSRV Message of the day - $"
	fc_iexpect a ":$IRCSRV 372 alice :- first line"
	fc_iexpect a ":$IRCSRV 372 alice :- second line"
	fc_iexpect a ":$IRCSRV 376 alice :End of /MOTD command."
	fc_iwait a "^:$IRCSRV 366 alice &all "
	fc_isend a "MOTD"
	fc_iexpect a ":$IRCSRV 375 alice :- $IRCSRV Message of the day - "
	fc_iexpect a ":$IRCSRV 372 alice :- first line"
}

@test "irc.welcome.reload: SIGHUP reads server-name and motd again" {
	local conf=$BATS_TEST_TMPDIR/fc.conf
	printf 'old motd\n' >"$BATS_TEST_TMPDIR/m1"
	printf 'new motd\n' >"$BATS_TEST_TMPDIR/m2"
	printf 'motd = %s\nserver-name = before.test\n' "$BATS_TEST_TMPDIR/m1" >"$conf"
	IRCSRV=before.test
	fc_start -l irc=127.0.0.1:0 -c "$conf"
	fc_until "grep -q 'listening dialect=irc ' '$FC_LOG'"
	IRCPORT=$(sed -n 's/.*listening dialect=irc addr=[^ ]*:\([0-9]*\) .*/\1/p' "$FC_LOG" | head -1)
	fc_register a alice
	fc_isend a "MOTD"
	fc_iwait a "^:before.test 372 alice :- old motd$"
	printf 'motd = %s\nserver-name = after.test\n' "$BATS_TEST_TMPDIR/m2" >"$conf"
	kill -HUP "$FC_PID"
	fc_until "grep -q 'reload' '$FC_LOG'"
	local deadline=$((SECONDS + 5))
	while :; do
		fc_isend a "MOTD"
		fc_iwait a " 376 alice "
		[[ $FC_LAST == ":after.test "* ]] && break
		[ $SECONDS -lt $deadline ] || fail "still $FC_LAST"
	done
	fc_isend a "MOTD"
	fc_iwait a "^:after.test 372 alice :- new motd$"
}

@test "irc.reg.451: a command other than NICK/USER/PASS/CAP/PING/PONG/QUIT before registration gets 451" {
	fc_start_irc
	fc_connect_irc a
	fc_isend a "JOIN #lobby"
	fc_iexpect a ":$IRCSRV 451 * :You have not registered"
	fc_isend a "PRIVMSG bob :hi"
	fc_iexpect a ":$IRCSRV 451 * :You have not registered"
	fc_isend a "NICK alice"
	fc_isend a "WHOIS alice"
	fc_iexpect a ":$IRCSRV 451 alice :You have not registered"
	fc_isend a "PING tok"
	fc_iexpect a ":$IRCSRV PONG $IRCSRV :tok"
	fc_isend a "BOGUS"
	fc_iexpect a ":$IRCSRV 421 alice BOGUS :Unknown command"
}

@test "irc.reg.431 + irc.reg.432: no nick gets 431, one outside [A-Za-z0-9_]{3,14} gets 432" {
	fc_start_irc
	fc_connect_irc a
	fc_isend a "NICK"
	fc_iexpect a ":$IRCSRV 431 * :No nickname given"
	local n
	for n in ab abcdefghijklmno 'b-b' '[x]' '9é9'; do
		fc_isend a "NICK $n"
		fc_iexpect a ":$IRCSRV 432 * $n :Erroneous nickname"
	done
	fc_isend a "NICK abcdefghijklmn"
	fc_isend a "USER u 0 * :u"
	fc_iexpect a ":$IRCSRV 001 abcdefghijklmn :Welcome to the forkchat IRC Network, abcdefghijklmn"
}

@test "irc.reg.433 + name.user.case: a nick in use in any dialect and any case gets 433; another nick then registers" {
	fc_start_irc
	fc_login Bob
	fc_connect_irc a
	fc_isend a "NICK bob"
	fc_iexpect a ":$IRCSRV 433 * bob :Nickname is already in use"
	fc_isend a "NICK BOB"
	fc_iexpect a ":$IRCSRV 433 * BOB :Nickname is already in use"
	fc_isend a "USER u 0 * :u"
	fc_expect_silent a 0.3
	fc_isend a "NICK bobby"
	fc_iexpect a ":$IRCSRV 001 bobby :Welcome to the forkchat IRC Network, bobby"
	fc_wait_for Bob "JOINED bobby"
}

@test "irc.reg.462: USER and PASS after registration get 462" {
	fc_start_irc
	fc_register a alice
	fc_isend a "USER x 0 * :x"
	fc_iexpect a ":$IRCSRV 462 alice :You may not reregister"
	fc_isend a "PASS x"
	fc_iexpect a ":$IRCSRV 462 alice :You may not reregister"
	fc_isend a "USER"
	fc_iexpect a ":$IRCSRV 461 alice USER :Not enough parameters"
}

@test "irc.reg.cap: CAP LS 302 lists what is implemented and holds registration until CAP END; CAP REQ of anything else gets NAK" {
	fc_start_irc
	fc_connect_irc a
	fc_isend a "CAP LS 302"
	fc_iexpect a ":$IRCSRV CAP * LS :away-notify batch cap-notify echo-message extended-monitor labeled-response message-tags multi-prefix server-time setname userhost-in-names"
	fc_isend a "NICK alice"
	fc_isend a "USER al 0 * :Al"
	fc_isend a "CAP REQ :multi-prefix sasl"
	fc_iexpect a ":$IRCSRV CAP alice NAK :multi-prefix sasl"
	fc_isend a "CAP LIST"
	fc_iexpect a ":$IRCSRV CAP alice LIST :cap-notify"
	fc_isend a "CAP REQ :multi-prefix"
	fc_iexpect a ":$IRCSRV CAP alice ACK :multi-prefix"
	fc_expect_silent a 0.3
	fc_isend a "CAP END"
	fc_iexpect a ":$IRCSRV 001 alice :Welcome to the forkchat IRC Network, alice"
	fc_iwait a "^:$IRCSRV 366 alice &all "
	fc_isend a "CAP FOO"
	fc_iexpect a ":$IRCSRV 410 alice FOO :Invalid CAP command"
}

@test "irc.reg.pass: PASS is accepted and ignored without --irc-password" {
	fc_start_irc
	fc_connect_irc a
	fc_isend a "PASS whatever"
	fc_isend a "NICK alice"
	fc_isend a "USER al 0 * :Al"
	fc_iexpect a ":$IRCSRV 001 alice :Welcome to the forkchat IRC Network, alice"
}

@test "irc.reg.pass: with --irc-password a wrong or missing PASS gets 464 and ERROR, the right one registers" {
	fc_start_irc --irc-password sesame
	fc_connect_irc a
	fc_isend a "NICK alice"
	fc_isend a "USER al 0 * :Al"
	fc_iexpect a ":$IRCSRV 464 alice :Password incorrect"
	fc_iexpect a "ERROR :Closing link: alice[127.0.0.1] (Bad password)"
	fc_expect_closed a
	fc_connect_irc b
	fc_isend b "PASS wrong"
	fc_isend b "NICK bob"
	fc_isend b "USER b 0 * :b"
	fc_iexpect b ":$IRCSRV 464 bob :Password incorrect"
	fc_connect_irc c
	fc_isend c "PASS sesame"
	fc_isend c "NICK carol"
	fc_isend c "USER c 0 * :c"
	fc_iexpect c ":$IRCSRV 001 carol :Welcome to the forkchat IRC Network, carol"
}

@test "irc.frame.maxline: 510 bytes of content are accepted, 511 get 417, the connection stays in sync" {
	fc_start_irc
	fc_register a alice
	local t
	t="ISON $(printf 'zz %.0s' $(seq 1 168))" # 5 + 3 * 168 = 509 bytes
	fc_isend a "${t}z"                        # 510 bytes
	fc_iexpect a ":$IRCSRV 303 alice :"
	fc_isend a "${t}zz"                       # 511 bytes
	fc_iexpect a ":$IRCSRV 417 alice :Input line was too long"
	fc_isend a "PING $(printf 'y%.0s' $(seq 1 2000))"
	fc_iexpect a ":$IRCSRV 417 alice :Input line was too long"
	fc_isend a "PING after"
	fc_iexpect a ":$IRCSRV PONG $IRCSRV :after"
}

@test "irc.frame.empty: an empty line is ignored, a line of tags and prefix only too" {
	fc_start_irc
	fc_register a alice
	fc_send_raw a "\r\n\n:alice\r\n@a=b :alice\r\nPING x\r\n"
	fc_iexpect a ":$IRCSRV PONG $IRCSRV :x"
}

@test "irc.frame.prefix: a client's own :prefix and message tags are skipped; command words ignore case" {
	fc_start_irc
	fc_register a alice
	fc_isend a ":alice!x@y ping one"
	fc_iexpect a ":$IRCSRV PONG $IRCSRV :one"
	fc_isend a "@label=1 PiNg :two words"
	fc_iexpect a ":$IRCSRV PONG $IRCSRV :two words"
}

@test "irc.frame.tls: an irc+tls listener serves the same dialect over TLS" {
	fc_make_cert one localhost
	fc_start_irc -l irc+tls=127.0.0.1:0 --tls-cert "$BATS_TEST_TMPDIR/one.pem" \
		--tls-key "$BATS_TEST_TMPDIR/one.key"
	local port
	port=$(fc_port_of irc+tls)
	[ -n "$port" ] || fail "no irc+tls port in $FC_LOG"
	fc_login_numeric nora
	run -0 timeout 20 "$FC_PYTHON" - "$port" "$BATS_TEST_TMPDIR/one.pem" <<'PY'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))),
                    server_hostname="localhost")
s.sendall(b"NICK carol\r\nUSER carol 0 * :c\r\nPRIVMSG nora :over tls\r\nQUIT :bye\r\n")
buf = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    buf += d
print(buf.decode())
PY
	assert_line ":$IRCSRV 001 carol :Welcome to the forkchat IRC Network, carol"$'\r'
	assert_line "ERROR :Closing link: carol[127.0.0.1] (Quit: bye)"$'\r'
	fc_wait_for nora "701 carol over tls"
}
