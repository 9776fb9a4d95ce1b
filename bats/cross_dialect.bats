#!/usr/bin/env bats
# Cross-dialect rules of docs/PROTOCOL.md ("Cross-dialect rules"): okfail
# and numeric users are users of one chat.

load helpers

setup() {
	fc_start --ping-interval 3600
	fc_login alice
	fc_login_numeric nina
	fc_expect alice "JOINED nina"
}

@test "cross.users: okfail USERS lists numeric users, in login order" {
	fc_login_numeric nico
	fc_expect alice "JOINED nico"
	fc_send alice "USERS"
	fc_expect alice "OK USERS alice:nina:nico"
}

@test "cross.presence: okfail login -> 710 login, numeric login -> JOINED, logouts -> 711 / LEFT" {
	fc_login bob
	fc_expect nina "710 bob login"
	fc_expect alice "JOINED bob"
	fc_login_numeric nico
	fc_expect alice "JOINED nico"
	fc_expect bob "JOINED nico"
	fc_expect nina "710 nico login"
	fc_send nico "QUIT"
	fc_expect_closed nico
	fc_expect alice "LEFT nico"
	fc_expect nina "711 nico logout"
	fc_expect bob "LEFT nico"
	fc_send bob "QUIT"
	fc_expect bob "OK GOODBYE"
	fc_expect nina "711 bob logout"
	fc_expect alice "LEFT bob"
}

@test "cross.pm: okfail PM to a numeric user arrives as 701" {
	fc_send alice "PM nina hi  there"
	fc_expect alice "OK PM nina hi  there"
	fc_expect nina "701 alice hi  there"
}

@test "cross.priv: numeric PRIV to an okfail user arrives as NPM" {
	fc_send nina "PRIV alice hello  you"
	fc_expect nina "200 Sent to alice"
	fc_expect alice "NPM nina hello  you"
}

@test "cross.bcst: okfail BCST reaches numeric users as 703" {
	fc_login_numeric nico
	fc_expect alice "JOINED nico"
	fc_expect nina "710 nico login"
	fc_send alice "BCST to  all"
	fc_expect alice "OK BCST to  all"
	fc_expect nina "703 alice to  all"
	fc_expect nico "703 alice to  all"
}

@test "cross.secu: numeric SECU and FILE to an okfail user are 301, nothing delivered" {
	fc_send nina "SECU alice c2Vj"
	fc_expect nina "301 alice cannot receive secure messages (okfail client)"
	fc_send nina "FILE alice f.txt 10"
	fc_expect nina "301 alice cannot receive files (okfail client)"
	# no bytes are expected: the next line is a command again
	fc_send nina "LIRO"
	fc_expect nina "200 ROOMS"
	fc_expect_silent alice 0.15
}

@test "cross.e2e: okfail PM_SESSIONKEY / PRIVATE_MESSAGE to a numeric user are FAIL13" {
	fc_send alice "PM_SESSIONKEY nina a2V5"
	fc_expect alice "FAIL13 Recipient cannot receive encrypted messages"
	fc_send alice "PRIVATE_MESSAGE nina c2Vj"
	fc_expect alice "FAIL13 Recipient cannot receive encrypted messages"
	fc_expect_silent nina 0.15
}

@test "cross.pubkey: PM_PUBKEY never reaches numeric users, at publish or at their login" {
	fc_send alice "PM_PUBKEY a2V5"
	fc_expect alice "OK PM_PUBKEY"
	fc_expect_silent nina 0.15
	fc_login_numeric nico
	fc_expect_silent nico 0.15
}

@test "cross.rooms: room traffic (712, 702, 713) never reaches okfail users" {
	fc_login_numeric nico
	fc_expect alice "JOINED nico"
	fc_expect nina "710 nico login"
	fc_send nina "ROOM r"
	fc_expect nina "200 Room r created"
	fc_send nina "JOIN r"
	fc_expect nina "200 Joined r"
	fc_send nico "JOIN r"
	fc_expect nico "200 Joined r"
	fc_expect nina "712 r nico joined"
	fc_send nico "SEND r hi"
	fc_expect nico "200 Sent to r"
	fc_expect nina "702 r nico hi"
	fc_send nico "LEVE r"
	fc_expect nico "200 Left r"
	fc_expect nina "713 r nico left"
	fc_expect_silent alice 0.15
}

@test "cross.names: one name space across dialects" {
	fc_connect x okfail
	fc_expect x "INIT Welcome to the server!"
	fc_send x "IDENT nina"
	fc_expect x "FAIL01 User already logged in"
	fc_connect y numeric
	fc_send y "USER alice"
	fc_expect y "300 Username already taken"
	fc_send alice "PM nina x"
	fc_expect alice "OK PM nina x"
	fc_expect nina "701 alice x"
}
