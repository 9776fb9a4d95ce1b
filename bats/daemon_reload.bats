#!/usr/bin/env bats
# SIGHUP and SIGUSR1 (forkchatd(8) SIGNALS, forkchatd.conf(5) "live"):
# limits and timers change while clients stay connected; the log file is
# reopened after it was moved.

bats_require_minimum_version 1.5.0
load helpers

conf() {
	CONF=$BATS_TEST_TMPDIR/forkchatd.conf
	printf '%s\n' "$@" >"$CONF"
}

# A BCST whose line (with "\n") is LEN bytes.
bcst_of_len() {
	local len=$1
	printf 'BCST %s' "$(head -c $((len - 6)) /dev/zero | tr '\0' x)"
}

@test "SIGHUP: a lowered max-line applies to new connections, the old stay up" {
	conf "max-line = 8192"
	fc_start -c "$CONF"
	fc_login alice
	local line
	line=$(bcst_of_len 300)
	fc_send alice "$line"
	fc_expect alice "OK $line"
	conf "max-line = 128"
	kill -HUP "$FC_PID"
	fc_until "grep -q 'configuration reloaded' '$FC_LOG'"
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_send bob "$line"
	fc_expect bob "FAIL09 Line too long"
	fc_send bob "BCST still here"
	fc_expect bob "OK BCST still here"
	fc_expect alice "BCST bob still here"
	# a short line from alice still works: she was never disconnected
	fc_send alice "BCST short"
	fc_expect alice "OK BCST short"
	fc_expect bob "BCST alice short"
}

@test "SIGHUP: a lowered max-line applies to a client connected before it" {
	conf "max-line = 8192"
	fc_start -c "$CONF"
	fc_login alice
	local line
	line=$(bcst_of_len 300)
	fc_send alice "$line"
	fc_expect alice "OK $line"
	conf "max-line = 128"
	kill -HUP "$FC_PID"
	fc_until "grep -q 'configuration reloaded' '$FC_LOG'"
	sleep 0.1 # the workers get the RELOAD frame right after the master logs
	fc_send alice "$line"
	fc_expect alice "FAIL09 Line too long"
	fc_send alice "BCST still connected"
	fc_expect alice "OK BCST still connected"
}

@test "SIGHUP: a changed ping interval applies to a connected client" {
	conf "ping-interval = 1" "pong-timeout = 5"
	fc_start -c "$CONF"
	fc_login alice
	conf "ping-interval = 0.2" "pong-timeout = 5"
	kill -HUP "$FC_PID"
	fc_until "grep -q 'configuration reloaded' '$FC_LOG'"
	# the PING already scheduled (1 s after login) keeps its time, the
	# ones after it come every 0.2 s
	fc_read_timed alice 3 || fail "no PING"
	[ "$FC_LAST" = PING ] || fail "got '$FC_LAST'"
	local t1=$FC_AT
	fc_send alice PONG
	fc_read_timed alice 2 || fail "no second PING"
	[ "$FC_LAST" = PING ] || fail "got '$FC_LAST'"
	local gap=$((FC_AT - t1))
	fc_send alice PONG
	[ $gap -ge 100 ] && [ $gap -le 850 ] || fail "second PING after ${gap} ms, want ~200"
	fc_read_timed alice 2 || fail "no third PING"
	[ "$FC_LAST" = PING ]
	fc_send alice PONG
	# a client logging in now gets its first PING after 0.2 s as well
	fc_connect bob okfail
	fc_expect bob "INIT Welcome to the server!"
	local t0=$(fc_now_ms)
	fc_send bob "IDENT bob"
	fc_expect bob "OK IDENT bob"
	fc_read_timed bob 2 || fail "bob: no PING"
	[ "$FC_LAST" = PING ]
	[ $((FC_AT - t0)) -le 850 ] || fail "bob's first PING after $((FC_AT - t0)) ms"
}

@test "SIGHUP: a config file with an error keeps the running settings" {
	conf "max-line = 128"
	fc_start -c "$CONF"
	conf "max-line = 4096" "bogus-key = 1"
	kill -HUP "$FC_PID"
	fc_until "grep -q 'reload failed' '$FC_LOG'"
	grep -q "reload failed, keeping the running settings: $CONF:2: unknown setting 'bogus-key'" "$FC_LOG"
	fc_login alice
	fc_send alice "$(bcst_of_len 300)"
	fc_expect alice "FAIL09 Line too long"
	kill -0 "$FC_PID"
}

@test "numeric.user.full: the user table keeps its start size; past it after a reload that raised max-clients, USER gets 302 User table full" {
	conf "max-clients = 1"
	fc_start -c "$CONF"
	fc_login_numeric nora
	conf "max-clients = 3"
	kill -HUP "$FC_PID"
	fc_until "grep -q 'configuration reloaded' '$FC_LOG'"
	fc_connect bob numeric
	fc_send bob "USER bob"
	fc_expect bob "302 User table full"
	fc_send bob "USER bob"
	fc_expect bob "302 User table full"
	fc_close nora
	fc_until '[ "$(fc_worker_of_quick nora)" = -1 ]'
	fc_send bob "USER bob"
	fc_expect bob "200 Welcome bob!"
}

@test "SIGUSR1: the log is reopened; the next line lands in a new file" {
	fc_start -v --log-file "$BATS_TEST_TMPDIR/daemon.log"
	fc_login alice
	fc_until "grep -q 'client accepted' '$FC_LOG'"
	mv "$FC_LOG" "$FC_LOG.1"
	kill -USR1 "$FC_PID"
	fc_until "[ -f '$FC_LOG' ] && grep -q 'log reopened' '$FC_LOG'"
	# the workers reopen theirs on the master's word: wait until a fresh
	# connection is logged in the new file, and only there
	fc_until "fc_connect probe numeric; fc_send probe QUIT; fc_close probe;
		grep -q 'client accepted.*dialect=numeric' '$FC_LOG'"
	run grep -c 'client accepted.*dialect=numeric' "$FC_LOG.1"
	[ "$output" = 0 ] || fail "a new connection was logged in the moved file"
	fc_login bob
	fc_until "grep -q 'client accepted.*dialect=okfail' '$FC_LOG'"
	# the moved file stopped growing
	local size=$(stat -c %s "$FC_LOG.1")
	fc_send bob QUIT
	fc_expect bob "OK GOODBYE"
	fc_until "grep -q 'user=bob' '$FC_LOG'"
	[ "$(stat -c %s "$FC_LOG.1")" = "$size" ]
}

@test "SIGHUP: flags still win over the file after a reload" {
	conf "max-line = 4096" "# nothing else"
	fc_start -c "$CONF" --max-line 128
	fc_login alice
	fc_send alice "$(bcst_of_len 300)"
	fc_expect alice "FAIL09 Line too long"
	kill -HUP "$FC_PID"
	fc_until "grep -q 'configuration reloaded' '$FC_LOG'"
	# --max-line 128 still holds for a new connection
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_send bob "$(bcst_of_len 300)"
	fc_expect bob "FAIL09 Line too long"
	# neither listeners (-l) nor workers (-w) changed: nothing needs a restart
	run grep -c 'need a restart' "$FC_LOG"
	[ "$output" = 0 ] || fail "reload claims listeners/workers changed"
}
