#!/usr/bin/env bats
# IRCv3 MONITOR in the irc dialect (docs/PROTOCOL.md "irc", rows
# irc.monitor, irc.monitor.list, irc.monitor.cross, irc.monitor.nick,
# irc.v3.ext-monitor): presence of users of every dialect, on any worker.

load irc_helpers

setup() {
	fc_start_irc --irc-join-all 0
}

# register without &all (--irc-join-all 0)
reg() {
	local name=$1 nick=${2:-$1}
	fc_connect_irc "$name"
	fc_isend "$name" "NICK $nick"
	fc_isend "$name" "USER $nick 0 * :$nick test"
	fc_iwait "$name" "^:$IRCSRV (376|422) $nick "
}

@test "irc.monitor: MONITOR + gives 731 for an offline nick, 730 nick!user@host for an online one; later logins and quits give 730/731; MONITOR - stops them" {
	reg w watcher
	reg b bob
	fc_isend w "MONITOR + bob,zed"
	fc_iexpect w ":$IRCSRV 730 watcher :bob!~bob@127.0.0.1"
	fc_iexpect w ":$IRCSRV 731 watcher :zed"
	reg z zed
	fc_iexpect w ":$IRCSRV 730 watcher :zed!~zed@127.0.0.1"
	fc_isend b "QUIT"
	fc_iexpect w ":$IRCSRV 731 watcher :bob"
	fc_isend w "MONITOR - zed"
	fc_isend z "QUIT"
	fc_isend w "PING sync"
	fc_iexpect w ":$IRCSRV PONG $IRCSRV :sync"
	fc_isend w "MONITOR + b*"
	fc_iexpect w ":$IRCSRV 432 watcher b* :Erroneous nickname"
	fc_isend w "MONITOR"
	fc_iexpect w ":$IRCSRV 461 watcher MONITOR :Not enough parameters"
}

@test "irc.monitor.list: MONITOR L lists the targets (732, 733), S their status, C clears; ISUPPORT MONITOR=100 and 734 past it" {
	reg w watcher
	fc_isend w "MONITOR + aaa,bbb"
	fc_iexpect w ":$IRCSRV 731 watcher :aaa"
	fc_iexpect w ":$IRCSRV 731 watcher :bbb"
	fc_isend w "MONITOR L"
	fc_iexpect w ":$IRCSRV 732 watcher :aaa,bbb"
	fc_iexpect w ":$IRCSRV 733 watcher :End of MONITOR list"
	fc_isend w "MONITOR S"
	fc_iexpect w ":$IRCSRV 731 watcher :aaa"
	fc_iexpect w ":$IRCSRV 731 watcher :bbb"
	fc_isend w "MONITOR C"
	fc_isend w "MONITOR L"
	fc_iexpect w ":$IRCSRV 733 watcher :End of MONITOR list"
	local list="" i
	for i in $(seq 100 159); do list+="n$i,"; done
	fc_isend w "MONITOR + ${list%,}"
	list=""
	for i in $(seq 160 200); do list+="n$i,"; done
	fc_isend w "MONITOR + ${list%,}"
	fc_iwait w "^:$IRCSRV 731 watcher :n199$"
	fc_iexpect w ":$IRCSRV 734 watcher 100 n200 :Monitor list is full."
}

@test "irc.monitor.cross: okfail and numeric logins and logouts reach a watcher on another worker as 730/731" {
	reg w watcher
	fc_isend w "MONITOR + alice,nora"
	fc_iexpect w ":$IRCSRV 731 watcher :alice"
	fc_iexpect w ":$IRCSRV 731 watcher :nora"
	fc_login alice
	fc_iexpect w ":$IRCSRV 730 watcher :alice!alice@okfail"
	fc_login_numeric nora
	fc_iexpect w ":$IRCSRV 730 watcher :nora!nora@numeric"
	fc_send alice "QUIT"
	fc_iexpect w ":$IRCSRV 731 watcher :alice"
	fc_close nora
	fc_iexpect w ":$IRCSRV 731 watcher :nora"
}

@test "irc.monitor.nick: a rename to a monitored nick is 730, away from one 731; a change of case only is neither" {
	reg w watcher
	reg b bob
	fc_isend w "MONITOR + qux"
	fc_iexpect w ":$IRCSRV 731 watcher :qux"
	fc_isend b "NICK qux"
	fc_iexpect b ":bob!~bob@127.0.0.1 NICK :qux"
	fc_iexpect w ":$IRCSRV 730 watcher :qux!~bob@127.0.0.1"
	fc_isend b "NICK QUX"
	fc_iexpect b ":qux!~bob@127.0.0.1 NICK :QUX"
	fc_isend b "NICK other"
	fc_iexpect w ":$IRCSRV 731 watcher :QUX"
}

@test "irc.v3.ext-monitor: with extended-monitor and away-notify/setname a watcher sees AWAY and SETNAME of the nicks it monitors without sharing a channel" {
	fc_connect_irc w
	fc_isend w "CAP REQ :extended-monitor away-notify setname"
	fc_iexpect w ":$IRCSRV CAP * ACK :extended-monitor away-notify setname"
	fc_isend w "NICK watcher"
	fc_isend w "USER watcher 0 * :w"
	fc_isend w "CAP END"
	fc_iwait w "^:$IRCSRV (376|422) watcher "
	reg b bob
	fc_isend w "MONITOR + bob"
	fc_iexpect w ":$IRCSRV 730 watcher :bob!~bob@127.0.0.1"
	fc_isend b "AWAY :lunch"
	fc_iexpect w ":bob!~bob@127.0.0.1 AWAY :lunch"
	fc_isend b "AWAY"
	fc_iexpect w ":bob!~bob@127.0.0.1 AWAY"
	fc_isend b "SETNAME :Bob B"
	fc_iexpect w ":bob!~bob@127.0.0.1 SETNAME :Bob B"
}
