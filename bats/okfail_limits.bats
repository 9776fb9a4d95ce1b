#!/usr/bin/env bats
# Connection limits and server-initiated closes, docs/PROTOCOL.md
# ("Connection limits and server-initiated closes"), both dialects: the
# okfail DSCN/FAILnn line and the numeric 9xx code of each.

load limits_helpers

@test "close.full: FAIL14 / 900 Server full instead of the greeting at --max-clients, then close" {
	fc_start --max-clients 2
	fc_connect a okfail
	fc_expect a "INIT Welcome to the server!"
	fc_connect b numeric
	fc_send b "LIRO"
	fc_expect b "600 Please log in first: USER <name>"
	fc_until '[ "$(fc_status_json | grep -o "\"clients\":[0-9]*" | head -1)" = "\"clients\":2" ]'
	fc_connect c okfail
	fc_expect c "FAIL14 Server full"
	fc_expect_closed c
	fc_connect d numeric
	fc_expect d "900 Server full"
	fc_expect_closed d
	# a freed place can be used again
	fc_close b
	fc_until '[ "$(fc_status_json | grep -o "\"clients\":[0-9]*" | head -1)" = "\"clients\":1" ]'
	fc_connect e okfail
	fc_expect e "INIT Welcome to the server!"
}

@test "close.per-ip: FAIL15 / 901 Too many connections from your address at --max-per-ip, then close" {
	fc_start --max-per-ip 2
	fc_connect a okfail
	fc_expect a "INIT Welcome to the server!"
	fc_connect b okfail
	fc_expect b "INIT Welcome to the server!"
	fc_connect c okfail
	fc_expect c "FAIL15 Too many connections from your address"
	fc_expect_closed c
	fc_connect d numeric
	fc_expect d "901 Too many connections from your address"
	fc_expect_closed d
	fc_close a
	fc_until 'fc_connect e okfail && fc_read e 2 && [ "$FC_LAST" = "INIT Welcome to the server!" ] || { fc_close e; false; }'
}

@test "close.login-timeout: DSCN Login timeout / 902 Login timeout for connections not logged in" {
	fc_start --login-timeout 0.3
	fc_connect a okfail
	fc_expect a "INIT Welcome to the server!"
	fc_connect n numeric
	fc_login bob
	fc_expect a "DSCN Login timeout"
	fc_expect_closed a
	fc_expect n "902 Login timeout"
	fc_expect_closed n
	# a logged-in user is not affected
	fc_send bob "USERS"
	fc_expect bob "FAIL06 YOU ARE THE ONLY CONNECTED USER"
}

@test "close.line-timeout: DSCN Line timeout / 906 Line timeout for a line never ended" {
	fc_start --line-timeout 0.3
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_login_numeric nina
	fc_expect alice "JOINED nina"
	fc_expect bob "JOINED nina"
	fc_send_raw bob "BCST never ends"
	fc_send_raw nina "LIRO"
	fc_wait_for bob "DSCN Line timeout"
	fc_expect_closed bob
	fc_wait_for nina "906 Line timeout"
	fc_expect_closed nina
	fc_wait_for alice "LEFT bob"
}

@test "close.sendq: a client that reads is not closed when one burst pushes more than --sendq-hard to it at once" {
	fc_start --sendq-hard 4096 --sendq-soft 2048 --sendq-soft-seconds 600 \
		--flood-rate 0
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	# 80 PMs of ~110 bytes in one write: ~9 KB for bob in one loop pass,
	# all of which bob's empty socket buffer takes at once
	local text burst="" i
	text=$(printf 'x%.0s' $(seq 100))
	for i in $(seq 80); do burst+="PM bob $i $text\n"; done
	fc_send_raw alice "$burst"
	for i in $(seq 80); do fc_expect alice "OK PM bob $i $text"; done
	for i in $(seq 80); do fc_expect bob "NPM alice $i $text"; done
	fc_send bob "PM alice still here"
	fc_expect bob "OK PM alice still here"
	fc_expect alice "NPM bob still here"
}

@test "close.sendq: a client that does not read is closed past --sendq-hard; a final DSCN / 903 stands on a line of its own" {
	fc_start --sendq-hard 4096 --sendq-soft 1024 --sendq-soft-seconds 600 \
		--flood-rate 0
	fc_slow_readers "slow:$OKPORT:IDENT slow\\n" "nslow:$NUMPORT:USER nslow\\n"
	fc_login_numeric talker
	fc_login alice
	fc_push_until_gone talker 'PRIV %s %s\n' slow nslow
	fc_wait_for alice "LEFT slow"
	fc_slow_drain
	# the final line is best effort (it must fit in the socket's buffer);
	# when it comes it is the last line and stands on a line of its own
	fc_slow_ends_with slow "DSCN Output queue exceeded"
	fc_slow_ends_with nslow "903 Output queue exceeded"
	# their queues no longer count against the worker budget: each
	# worker's sendq in the status is back to 0
	fc_until '! "$FORKCHATD" status -S "$FC_CTL" | grep "^worker" | grep -qv " sendq 0 "'
}

@test "close.flood: DSCN Flooding / 904 Flooding for a client far over --flood-rate" {
	fc_start --flood-rate 1 --flood-burst 1 --flood-max-queued 1
	local blob
	# lines that get no reply of their own: only the 904 / DSCN comes back
	fc_login_numeric nina
	blob=$(for i in $(seq 1 700); do printf 'USEK flood line number %04d\n' "$i"; done)
	printf '%s\n' "$blob" >&"${FC_FD[nina]}"
	fc_expect nina "904 Flooding"
	fc_expect_closed nina
	fc_login alice
	blob=$(for i in $(seq 1 700); do printf 'OK flood line number %04d\n' "$i"; done)
	printf '%s\n' "$blob" >&"${FC_FD[alice]}"
	fc_expect alice "DSCN Flooding"
	fc_expect_closed alice
}

@test "close.flood: the final 904 line survives when the client has earlier lines still unread" {
	fc_start --flood-rate 1 --flood-burst 1 --flood-max-queued 1
	fc_login_numeric nina
	fc_login_numeric nico
	fc_expect nina "710 nico login"
	fc_close nico # nina now has '711 nico logout' unread
	local blob
	blob=$(for i in $(seq 1 700); do printf 'USEK flood line number %04d\n' "$i"; done)
	printf '%s\n' "$blob" >&"${FC_FD[nina]}"
	fc_wait_for nina "904 Flooding"
}

@test "close.shutdown: on SIGTERM okfail users get DSCN Server shutting down, every connection is closed" {
	fc_start
	fc_login alice
	fc_connect a okfail
	fc_expect a "INIT Welcome to the server!"
	fc_login_numeric nina
	fc_expect alice "JOINED nina"
	kill -TERM "$FC_PID"
	fc_expect alice "DSCN Server shutting down"
	fc_expect_closed alice
	fc_expect a "DSCN Server shutting down"
	fc_expect_closed a
	fc_expect_closed nina
}
