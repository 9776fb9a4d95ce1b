#!/usr/bin/env bats
# The irc dialect under the limits every dialect has (docs/PROTOCOL.md
# "irc", rows irc.limits.*): heartbeat, flood (delayed, not dropped), the
# output queue, server full, per-address limit, registration timeout,
# shutdown, and bytes the other dialects refuse. Each close is an ERROR line.

load irc_helpers
load limits_helpers

@test "irc.limits.heartbeat: PING :server every interval; no PONG gets ERROR (Ping timeout), a close, QUIT and 711 to the others" {
	fc_start_irc --ping-interval 0.4 --pong-timeout 0.4
	fc_login_numeric nora
	fc_register c carol
	fc_register d dave
	fc_iexpect c ":$(fc_pfx dave) JOIN &all"
	fc_iexpect c "PING :$IRCSRV"
	fc_isend c "PONG :$IRCSRV"
	fc_iexpect d "PING :$IRCSRV"
	fc_iexpect d "ERROR :Closing link: dave[127.0.0.1] (Ping timeout)"
	fc_expect_closed d
	fc_iwait c "^:$(fc_pfx dave) QUIT :Ping timeout$"
	fc_wait_for nora "711 dave logout"
}

@test "irc.limits.flood: over --flood-rate, lines are delayed (penalty), not dropped: every PING is answered in order" {
	fc_start_irc --flood-rate 40 --flood-burst 5
	fc_register c carol
	local i blob="" start=$SECONDS
	for i in $(seq 1 40); do blob+="PING t$i"$'\r\n'; done
	printf '%s' "$blob" >&"${FC_FD[c]}"
	for i in $(seq 1 40); do
		fc_iexpect c ":$IRCSRV PONG $IRCSRV :t$i"
	done
}

@test "irc.limits.flood.excess: far over the flood limit gets ERROR (Excess Flood) and a close" {
	fc_start_irc --flood-rate 1 --flood-burst 1 --flood-max-queued 1
	fc_register c carol
	local blob
	blob=$(for i in $(seq 1 700); do printf 'PONG :flood line number %04d\r\n' "$i"; done)
	printf '%s\n' "$blob" >&"${FC_FD[c]}"
	fc_iexpect c "ERROR :Closing link: carol[127.0.0.1] (Excess Flood)"
	fc_expect_closed c
}

@test "irc.limits.sendq: an IRC client that does not read is closed past --sendq-hard; QUIT :SendQ exceeded to the others" {
	# carol pushes megabytes as fast as she can: a load test sets its own flood limit
	fc_start_irc --sendq-hard 4096 --sendq-soft 1024 --sendq-soft-seconds 600 --flood-rate 0
	fc_slow_readers 'slow:'"$IRCPORT"':NICK slow\r\nUSER slow 0 * :slow\r\n'
	fc_register c carol
	fc_register d dave
	fc_push_until_gone c 'PRIVMSG %s :%s\r\n' slow
	fc_iwait d "^:slow!~slow@127.0.0.1 QUIT :SendQ exceeded$"
	fc_slow_drain
	fc_slow_ends_with slow "ERROR :Closing link: slow[127.0.0.1] (SendQ exceeded)"
}

@test "irc.limits.full: at --max-clients an IRC connection gets ERROR (Server full) instead of a welcome, then close" {
	fc_start_irc --max-clients 1
	fc_register c carol
	fc_connect_irc d
	fc_iexpect d "ERROR :Closing link: * (Server full)"
	fc_expect_closed d
}

@test "irc.limits.per-ip: past --max-per-ip an IRC connection gets ERROR (Too many connections from your address), then close" {
	fc_start_irc --max-per-ip 1
	fc_register c carol
	fc_connect_irc d
	fc_iexpect d "ERROR :Closing link: * (Too many connections from your address)"
	fc_expect_closed d
}

@test "irc.limits.login-timeout: an IRC connection that does not register in --login-timeout gets ERROR (Registration timeout)" {
	fc_start_irc --login-timeout 0.3
	fc_connect_irc c
	fc_isend c "NICK carol"
	fc_iexpect c "ERROR :Closing link: carol[127.0.0.1] (Registration timeout)"
	fc_expect_closed c
}

@test "irc.limits.shutdown: on SIGTERM IRC users get ERROR (Server shutting down) and the close" {
	fc_start_irc
	fc_register c carol
	kill -TERM "$FC_PID"
	fc_iexpect_match c "^ERROR :Closing link: carol\\[127\\.0\\.0\\.1\\] \\(Server shutting down"
	fc_expect_closed c
}

@test "irc.limits.bytes + irc.utf8only: a line that is not UTF-8 gets FAIL <cmd> INVALID_UTF8 and goes nowhere (UTF8ONLY); a NUL line is dropped" {
	fc_start_irc
	fc_login alice
	fc_register c carol
	fc_expect alice "JOINED carol"
	fc_send_raw c 'PRIVMSG alice :caf\xe9 ok\r\n'
	fc_iexpect c ":$IRCSRV FAIL PRIVMSG INVALID_UTF8 :Message rejected, your IRC software MUST use UTF-8 encoding on this network"
	fc_send_raw c 'PRIVMSG alice :a\x00b\r\nPING x\r\n'
	fc_iexpect c ":$IRCSRV PONG $IRCSRV :x"
	fc_expect_silent alice 0.2
	fc_send_raw c 'PRIVMSG alice :caf\xc3\xa9 ok\r\n'
	fc_expect alice "NPM carol café ok"
}
