#!/usr/bin/env bats
# Server operators and the server's texts in the irc dialect
# (docs/PROTOCOL.md "irc", rows irc.oper, irc.kill, irc.wallops, irc.info,
# irc.help, irc.who.whox, irc.mode.user, irc.whois.flags): an operator block
# from --irc-oper, checked on any worker.

load irc_helpers

# "name:pbkdf2-sha256$ITER$SALT$KEY" for password pw, made with openssl kdf
# as docs/IRC.md tells operators to
oper_block() {
	local name=$1 pw=$2 salt=00112233445566778899aabbccddeeff key
	key=$(openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt "pass:$pw" \
		-kdfopt "hexsalt:$salt" -kdfopt iter:1000 PBKDF2 | tr -d ':' |
		tr 'A-F' 'a-f')
	[ ${#key} -eq 64 ] || fail "openssl kdf gave '$key'"
	echo "$name:pbkdf2-sha256\$1000\$$salt\$$key"
}

setup() {
	fc_start_irc --irc-oper "$(oper_block boss 's3cret pw')"
}

@test "irc.oper: OPER with the block's name and password gets MODE +o and 381; a wrong one 464; without a block 491; 461 with one parameter" {
	fc_register c carol
	fc_isend c "OPER boss wrong"
	fc_iexpect c ":$IRCSRV 464 carol :Password incorrect"
	fc_isend c "OPER nobody s3cret"
	fc_iexpect c ":$IRCSRV 464 carol :Password incorrect"
	fc_isend c "OPER boss"
	fc_iexpect c ":$IRCSRV 461 carol OPER :Not enough parameters"
	fc_isend c "OPER boss :s3cret pw"
	fc_iexpect c ":carol MODE carol :+o"
	fc_iexpect c ":$IRCSRV 381 carol :You are now an IRC operator"
	fc_isend c "MODE carol"
	fc_iexpect c ":$IRCSRV 221 carol +o"
	fc_stop
	fc_start_irc
	fc_register d dave
	fc_isend d "OPER boss :s3cret pw"
	fc_iexpect d ":$IRCSRV 491 dave :No O-lines for your host"
}

@test "irc.oper.rate: wrong OPERs beyond a burst of 4 get 263 without a password check; the worker answers meanwhile; a later OPER works" {
	fc_register c carol
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do fc_isend c "OPER boss wrong$i"; done
	fc_isend c "PING :alive"
	fc_iexpect c ":$IRCSRV 464 carol :Password incorrect"
	fc_iwait c "^:$IRCSRV 263 carol OPER :Too many OPER attempts, try again later$"
	fc_iwait c "^:$IRCSRV PONG $IRCSRV :alive$"
	# the bucket refills: the right password is taken again within seconds
	local deadline=$((SECONDS + 10))
	while :; do
		[ $SECONDS -lt $deadline ] || fail "OPER never taken again"
		fc_isend c "OPER boss :s3cret pw"
		fc_iwait c "^:$IRCSRV (381|263) carol "
		[[ $FC_LAST == *" 381 "* ]] && break
		sleep 0.3
	done
}

@test "irc.whois.flags: an operator shows 313 in WHOIS and * in WHO, a bot (MODE +B) 335 and B, to users on every worker; MODE -o drops it" {
	fc_register c carol
	fc_register d dave
	fc_register b robot
	fc_isend c "OPER boss :s3cret pw"
	fc_iwait c " 381 carol "
	fc_isend b "MODE robot +B"
	fc_iexpect b ":$(fc_pfx robot) MODE robot :+B"
	fc_isend d "WHOIS carol"
	fc_iwait d "^:$IRCSRV 313 dave carol :is an IRC operator$"
	fc_iwait d " 318 dave carol "
	fc_isend d "WHOIS robot"
	fc_iwait d "^:$IRCSRV 335 dave robot :is a bot on forkchat$"
	fc_iwait d " 318 dave robot "
	fc_isend d "WHO carol"
	fc_iexpect d ":$IRCSRV 352 dave * ~carol 127.0.0.1 $IRCSRV carol H* :0 carol test"
	fc_iexpect d ":$IRCSRV 315 dave carol :End of WHO list."
	fc_isend d "WHO robot"
	fc_iexpect d ":$IRCSRV 352 dave * ~robot 127.0.0.1 $IRCSRV robot HB :0 robot test"
	fc_iexpect d ":$IRCSRV 315 dave robot :End of WHO list."
	fc_isend c "MODE carol -o"
	fc_iexpect c ":$(fc_pfx carol) MODE carol :-o"
	fc_isend c "MODE carol +o"
	fc_isend c "MODE carol"
	fc_iexpect c ":$IRCSRV 221 carol +"
	fc_isend d "WHO carol"
	fc_iexpect d ":$IRCSRV 352 dave * ~carol 127.0.0.1 $IRCSRV carol H :0 carol test"
}

@test "irc.kill: an operator's KILL closes an IRC user on any worker (ERROR … (Killed (oper)), QUIT to the others, LEFT to okfail); 481 for others; 483 for other dialects; 401" {
	fc_login alice
	fc_register c carol
	fc_register v victim
	fc_iwait c "^:$(fc_pfx victim) JOIN &all$"
	fc_expect alice "JOINED carol"
	fc_expect alice "JOINED victim"
	fc_isend v "KILL carol :no"
	fc_iexpect v ":$IRCSRV 481 victim :Permission Denied- You're not an IRC operator"
	fc_isend c "OPER boss :s3cret pw"
	fc_iwait c " 381 carol "
	fc_isend c "KILL alice :no"
	fc_iexpect c ":$IRCSRV 483 carol alice :Only IRC users can be killed"
	fc_isend c "KILL nobody"
	fc_iexpect c ":$IRCSRV 401 carol nobody :No such nick/channel"
	fc_isend c "KILL victim :spam"
	fc_iwait v "^ERROR :Closing link: victim\\[127.0.0.1\\] \\(Killed \\(carol\\)\\)$"
	fc_expect_closed v
	fc_iexpect c ":$(fc_pfx victim) QUIT :Killed (carol)"
	fc_expect alice "LEFT victim"
}

@test "irc.wallops: an operator's WALLOPS reaches the IRC users with +w on every worker, not the others; 481 for a non-operator" {
	fc_login alice
	fc_register c carol
	fc_register w watcher
	fc_register q quiet
	fc_isend w "MODE watcher +w"
	fc_iwait w "^:$(fc_pfx watcher) MODE watcher :\\+w$"
	fc_isend q "WALLOPS :hi"
	fc_iwait q "^:$IRCSRV 481 quiet :Permission Denied"
	fc_isend c "OPER boss :s3cret pw"
	fc_iwait c " 381 carol "
	fc_isend c "WALLOPS :server restart at noon"
	fc_iwait w "^:$(fc_pfx carol) WALLOPS :server restart at noon$"
	fc_isend q "PING sync"
	fc_iwait q "^:$IRCSRV PONG $IRCSRV :sync$"
	fc_expect_silent q 0.2
	fc_wait_for alice "JOINED quiet"
	fc_expect_silent alice 0.2
}

@test "irc.info + irc.help: INFO gives 371 lines and 374, 402 for another server; HELP/HELPOP give 704, 705 lines, 706; 524 for an unknown subject" {
	fc_register c carol
	fc_isend c "INFO"
	fc_iexpect_match c "^:$IRCSRV 371 carol :forkchatd"
	fc_iwait c "^:$IRCSRV 374 carol :End of /INFO list$"
	fc_isend c "INFO other.server"
	fc_iexpect c ":$IRCSRV 402 carol other.server :No such server"
	fc_isend c "HELP privmsg"
	fc_iexpect c ":$IRCSRV 704 carol privmsg :PRIVMSG <target>{,<target>} :<text>"
	fc_iexpect c ":$IRCSRV 705 carol privmsg :Sends text to channels or nicks, in any dialect."
	fc_iexpect c ":$IRCSRV 706 carol privmsg :End of /HELP"
	fc_isend c "HELPOP"
	fc_iexpect_match c "^:$IRCSRV 704 carol index :Commands: "
	fc_iwait c "^:$IRCSRV 706 carol index :End of /HELP$"
	fc_isend c "HELP NOSUCH"
	fc_iexpect c ":$IRCSRV 524 carol NOSUCH :No help available on this topic"
}

@test "irc.who.whox: WHO <mask> %fields[,token] gets 354 with the fields in tcuihsnfdlaor order, then 315; any dialect" {
	fc_login_numeric nora
	fc_register c carol
	fc_isend c "WHO carol %tcuihsnfdlaor,42"
	fc_iexpect_match c "^:$IRCSRV 354 carol 42 \\* ~carol 127.0.0.1 127.0.0.1 $IRCSRV carol H 0 [0-9]+ 0 n/a :carol test$"
	fc_iexpect c ":$IRCSRV 315 carol carol :End of WHO list."
	fc_isend c "WHO nora %rn"
	fc_iexpect c ":$IRCSRV 354 carol nora :nora"
	fc_iexpect c ":$IRCSRV 315 carol nora :End of WHO list."
	fc_isend c "WHO nora %ih"
	fc_iexpect c ":$IRCSRV 354 carol 255.255.255.255 numeric"
	fc_iexpect c ":$IRCSRV 315 carol nora :End of WHO list."
}
