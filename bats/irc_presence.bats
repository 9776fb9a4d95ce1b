#!/usr/bin/env bats
# Who is shown the logins of others in the irc dialect (docs/PROTOCOL.md
# rows irc.all.part and irc.join-all) on one worker whose users are all IRC
# users, where a worker shows no one a login while none of its users is in
# &all (bench/run.sh measures forkchatd-irc that way: --irc-join-all 0).

load irc_helpers

setup() {
	FC_WORKERS=1 fc_start_irc --irc-join-all 0
}

# NAME registers as NICK, in no channel (--irc-join-all 0)
register_out() {
	fc_connect_irc "$1"
	fc_isend "$1" "NICK $1"
	fc_isend "$1" "USER $1 0 * :$1 test"
	fc_iwait "$1" "^:$IRCSRV 422 $1 "
}

# NAME was shown nothing meanwhile: its next line answers a PING
shown_nothing() {
	fc_isend "$1" "PING sync"
	fc_iexpect "$1" ":$IRCSRV PONG $IRCSRV :sync"
}

@test "irc.join-all + irc.all.part: logins are shown once one joins &all, not after it parts, again after it rejoins" {
	register_out carol
	register_out dave
	shown_nothing carol
	fc_isend carol "JOIN &all"
	fc_iexpect carol ":$(fc_pfx carol) JOIN &all"
	fc_iwait carol "^:$IRCSRV 366 carol &all "
	register_out erin
	fc_iexpect carol ":$(fc_pfx erin) JOIN &all"
	fc_isend carol "PART &all"
	fc_iexpect carol ":$(fc_pfx carol) PART &all"
	register_out fred
	shown_nothing carol
	fc_isend carol "JOIN &all"
	fc_iexpect carol ":$(fc_pfx carol) JOIN &all"
	fc_iwait carol "^:$IRCSRV 366 carol &all "
	register_out gina
	fc_iexpect carol ":$(fc_pfx gina) JOIN &all"
	shown_nothing dave
}
