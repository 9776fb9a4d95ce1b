#!/usr/bin/env bats
# okfail dialect, one test per wire behaviour of docs/PROTOCOL.md
# ("okfail dialect"). Each test name cites the anchor it checks.

load helpers

setup() {
	fc_start --ping-interval 3600
}

@test "okfail.init: greeting on connect" {
	fc_connect a okfail
	fc_expect a "INIT Welcome to the server!"
}

@test "okfail.ident.ok + okfail.ident.joined: OK IDENT to the sender, JOINED to others only" {
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_expect_silent bob 0.15
	fc_login carol
	fc_expect alice "JOINED carol"
	fc_expect bob "JOINED carol"
	fc_expect_silent carol 0.15
}

@test "okfail.ident.twice: FAIL04 when logged in, before FAIL02 and FAIL01" {
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_send bob "IDENT carol"
	fc_expect bob "FAIL04 User cannot login twice"
	fc_send bob "IDENT x"
	fc_expect bob "FAIL04 User cannot login twice"
	fc_send bob "IDENT alice"
	fc_expect bob "FAIL04 User cannot login twice"
	fc_send bob "IDENT bob"
	fc_expect bob "FAIL04 User cannot login twice"
	fc_expect_silent alice 0.15
}

@test "okfail.ident.invalid + name.user: FAIL02 for missing, short, long, bad-char and space-prefixed names (frame.payload)" {
	fc_connect a okfail
	fc_expect a "INIT Welcome to the server!"
	local n
	for n in "IDENT" "IDENT " "IDENT ab" "IDENT abcdefghijklmno" "IDENT a-b" "IDENT a:b" "IDENT  xyz" "IDENT xyz " "IDENT héllo"; do
		fc_send a "$n"
		fc_expect a "FAIL02 Username has an invalid format or length"
	done
	fc_send a "IDENT abcdefghijklmn"
	fc_expect a "OK IDENT abcdefghijklmn"
}

@test "okfail.ident.taken: FAIL01 for a name in use, connection may retry; checked after FAIL02" {
	fc_login alice
	fc_connect b okfail
	fc_expect b "INIT Welcome to the server!"
	fc_send b "IDENT al"
	fc_expect b "FAIL02 Username has an invalid format or length"
	fc_send b "IDENT alice"
	fc_expect b "FAIL01 User already logged in"
	fc_send b "IDENT aLICE"
	fc_expect b "FAIL01 User already logged in"
	fc_send b "IDENT alice2"
	fc_expect b "OK IDENT alice2"
	fc_expect alice "JOINED alice2"
}

@test "okfail.bcst: OK BCST to the sender, BCST <sender> <text> to the others" {
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_login carol
	fc_expect alice "JOINED carol"
	fc_expect bob "JOINED carol"
	fc_send bob "BCST hi all"
	fc_expect bob "OK BCST hi all"
	fc_expect alice "BCST bob hi all"
	fc_expect carol "BCST bob hi all"
	fc_expect_silent bob 0.15
}

@test "okfail.bcst + frame.payload: text untrimmed, 'BCST a  b' relays 'a  b', trailing space kept, TAB and UTF-8 relayed" {
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_send bob "BCST a  b"
	fc_expect bob "OK BCST a  b"
	fc_expect alice "BCST bob a  b"
	fc_send bob "BCST  lead "
	fc_expect bob "OK BCST  lead "
	fc_expect alice "BCST bob  lead "
	fc_send bob "BCST tab	here"
	fc_expect bob "OK BCST tab	here"
	fc_expect alice "BCST bob tab	here"
	fc_send bob "BCST héllo 日本"
	fc_expect bob "OK BCST héllo 日本"
	fc_expect alice "BCST bob héllo 日本"
}

@test "okfail.bcst.empty: BCST without text is FAIL12, nothing delivered" {
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_send bob "BCST"
	fc_expect bob "FAIL12 Missing parameter"
	fc_send bob "BCST "
	fc_expect bob "FAIL12 Missing parameter"
	fc_expect_silent alice 0.15
}

@test "okfail.users: OK USERS in login order, asker included, numeric users too (cross.users)" {
	fc_login alice
	fc_login_numeric nina
	fc_expect alice "JOINED nina"
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_expect nina "710 bob login"
	fc_send bob "USERS"
	fc_expect bob "OK USERS alice:nina:bob"
	fc_send alice "USERS"
	fc_expect alice "OK USERS alice:nina:bob"
	# a name that logs out and in again moves to the end; a freed slot
	# reused by a later login does not change the order
	fc_send nina "QUIT"
	fc_expect_closed nina
	fc_expect alice "LEFT nina"
	fc_login carol
	fc_expect alice "JOINED carol"
	fc_login_numeric nina
	fc_expect alice "JOINED nina"
	fc_send alice "USERS"
	fc_expect alice "OK USERS alice:bob:carol:nina"
}

@test "okfail.users.alone: FAIL06 when the asker is the only user" {
	fc_login alice
	fc_send alice "USERS"
	fc_expect alice "FAIL06 YOU ARE THE ONLY CONNECTED USER"
	fc_expect_silent alice 0.15
	fc_connect b okfail
	fc_expect b "INIT Welcome to the server!"
	fc_send alice "USERS"
	fc_expect alice "FAIL06 YOU ARE THE ONLY CONNECTED USER"
}

@test "okfail.pm: OK PM to the sender, NPM to the recipient only" {
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_login carol
	fc_expect alice "JOINED carol"
	fc_expect bob "JOINED carol"
	fc_send bob "PM alice psst  there"
	fc_expect bob "OK PM alice psst  there"
	fc_expect alice "NPM bob psst  there"
	fc_expect_silent carol 0.15
}

@test "okfail.pm.errors: FAIL12 no user, FAIL07 unknown, FAIL08 self, FAIL12 empty text, in that order" {
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_send bob "PM"
	fc_expect bob "FAIL12 Missing parameter"
	fc_send bob "PM  alice hi"
	fc_expect bob "FAIL12 Missing parameter"
	fc_send bob "PM zed hi"
	fc_expect bob "FAIL07 USER DOES NOT EXIST"
	fc_send bob "PM zed"
	fc_expect bob "FAIL07 USER DOES NOT EXIST"
	fc_send bob "PM alicia hi"
	fc_expect bob "FAIL07 USER DOES NOT EXIST"
	fc_send bob "PM bob hi"
	fc_expect bob "FAIL08 CANNOT SEND PRIVATE MESSAGE TO YOURSELF"
	fc_send bob "PM BOB hi"
	fc_expect bob "FAIL08 CANNOT SEND PRIVATE MESSAGE TO YOURSELF"
	fc_send bob "PM alice"
	fc_expect bob "FAIL12 Missing parameter"
	fc_send bob "PM alice "
	fc_expect bob "FAIL12 Missing parameter"
	fc_expect_silent alice 0.15
}

@test "okfail.pubkey: OK PM_PUBKEY, relayed to other okfail users, not to numeric users (cross.pubkey)" {
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_login_numeric nina
	fc_expect alice "JOINED nina"
	fc_expect bob "JOINED nina"
	fc_send alice "PM_PUBKEY AAAAB3Nza+/=="
	fc_expect alice "OK PM_PUBKEY"
	fc_expect bob "PM_PUBKEY alice AAAAB3Nza+/=="
	fc_expect_silent nina 0.15
	fc_send alice "PM_PUBKEY"
	fc_expect alice "FAIL12 Missing parameter"
	fc_expect_silent bob 0.1
}

@test "okfail.pubkey.stored + okfail.ident.keys: stored keys sent after OK IDENT, replaced on republish, forgotten on leave" {
	fc_login alice
	fc_send alice "PM_PUBKEY key_a_1"
	fc_expect alice "OK PM_PUBKEY"
	fc_send alice "PM_PUBKEY key_a_2"
	fc_expect alice "OK PM_PUBKEY"
	fc_login bob
	fc_expect bob "PM_PUBKEY alice key_a_2"
	fc_expect_silent bob 0.1
	fc_expect alice "JOINED bob"
	fc_send bob "PM_PUBKEY key_b"
	fc_expect bob "OK PM_PUBKEY"
	fc_expect alice "PM_PUBKEY bob key_b"
	fc_login_numeric nina   # numeric users publish nothing and get nothing
	fc_expect_silent nina 0.1
	fc_login carol
	fc_read carol || fail "carol: no key line"
	local k1=$FC_LAST
	fc_read carol || fail "carol: no second key line"
	local k2=$FC_LAST
	[ "$(printf '%s\n' "$k1" "$k2" | sort)" = "$(printf '%s\n' "PM_PUBKEY alice key_a_2" "PM_PUBKEY bob key_b")" ] ||
		fail "carol got '$k1' / '$k2'"
	fc_expect_silent carol 0.1
	fc_send alice "QUIT"
	fc_wait_for alice "OK GOODBYE"
	fc_expect_closed alice
	fc_wait_for bob "LEFT alice"
	fc_login dave
	fc_expect dave "PM_PUBKEY bob key_b"
	fc_expect_silent dave 0.1
}

@test "okfail.pubkey.toolong: FAIL16 for a key longer than --max-key-size, nothing relayed, the stored key kept" {
	fc_stop
	fc_start --max-key-size 256 --ping-interval 3600
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	local key
	key=$(printf 'K%.0s' $(seq 1 256))
	fc_send alice "PM_PUBKEY $key"
	fc_expect alice "OK PM_PUBKEY"
	fc_expect bob "PM_PUBKEY alice $key"
	fc_send alice "PM_PUBKEY $(printf 'L%.0s' $(seq 1 257))"
	fc_expect alice "FAIL16 Public key too long"
	fc_expect_silent bob 0.15
	# the stored key is still the last good one
	fc_login carol
	fc_expect carol "PM_PUBKEY alice $key"
}

@test "okfail.sessionkey: OK PM_SESSIONKEY <user> to the sender, PM_SESSIONKEY <sender> <token> to the recipient" {
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_send alice "PM_SESSIONKEY bob Zm9v YmFy"
	fc_expect alice "OK PM_SESSIONKEY bob"
	fc_expect bob "PM_SESSIONKEY alice Zm9v YmFy"
	fc_send bob "OK PM_SESSIONKEY"
	fc_expect_silent bob 0.1
	fc_expect_silent alice 0.1
	fc_send alice "PM_SESSIONKEY zed tok"
	fc_expect alice "FAIL07 USER DOES NOT EXIST"
	fc_send alice "PM_SESSIONKEY alice tok"
	fc_expect alice "FAIL08 CANNOT SEND PRIVATE MESSAGE TO YOURSELF"
	fc_send alice "PM_SESSIONKEY bob"
	fc_expect alice "FAIL12 Missing parameter"
	fc_send alice "PM_SESSIONKEY"
	fc_expect alice "FAIL12 Missing parameter"
	fc_expect_silent bob 0.1
}

@test "okfail.private: OK PRIVATE_MESSAGE to the sender, RECEIVE_PRIVATE_MSG to the recipient" {
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_login carol
	fc_expect alice "JOINED carol"
	fc_expect bob "JOINED carol"
	fc_send alice "PRIVATE_MESSAGE bob c2VjcmV0:aXY="
	fc_expect alice "OK PRIVATE_MESSAGE bob c2VjcmV0:aXY="
	fc_expect bob "RECEIVE_PRIVATE_MSG alice c2VjcmV0:aXY="
	fc_expect_silent carol 0.1
	fc_send alice "PRIVATE_MESSAGE zed x"
	fc_expect alice "FAIL07 USER DOES NOT EXIST"
	fc_send alice "PRIVATE_MESSAGE alice x"
	fc_expect alice "FAIL08 CANNOT SEND PRIVATE MESSAGE TO YOURSELF"
	fc_send alice "PRIVATE_MESSAGE bob"
	fc_expect alice "FAIL12 Missing parameter"
}

@test "okfail.e2e.numeric (cross.e2e): PM_SESSIONKEY / PRIVATE_MESSAGE to a numeric user is FAIL13, nothing relayed" {
	fc_login alice
	fc_login_numeric nina
	fc_expect alice "JOINED nina"
	fc_send alice "PM_SESSIONKEY nina Zm9v"
	fc_expect alice "FAIL13 Recipient cannot receive encrypted messages"
	fc_send alice "PRIVATE_MESSAGE nina c2Vj"
	fc_expect alice "FAIL13 Recipient cannot receive encrypted messages"
	fc_expect_silent nina 0.15
}

@test "okfail.ack: client 'OK ...' acknowledgements get no reply (logged in or not); bare OK is FAIL00" {
	fc_connect a okfail
	fc_expect a "INIT Welcome to the server!"
	fc_send a "OK PM_PUBKEY"
	fc_expect_silent a 0.1
	fc_login alice
	fc_send alice "OK PM_PUBKEY"
	fc_send alice "OK PM_SESSIONKEY"
	fc_send alice "ok PM_SESSIONKEY"
	fc_expect_silent alice 0.2
	fc_send alice "OK"
	fc_expect alice "FAIL00 Unknown command"
}

@test "okfail.quit + okfail.left: OK GOODBYE, close, LEFT to okfail users and 711 to numeric users" {
	fc_login alice
	fc_login_numeric nina
	fc_expect alice "JOINED nina"
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_expect nina "710 bob login"
	fc_send bob "QUIT"
	fc_expect bob "OK GOODBYE"
	fc_expect_closed bob
	fc_expect alice "LEFT bob"
	fc_expect nina "711 bob logout"
}

@test "okfail.quit: QUIT before login is OK GOODBYE and close, nobody told" {
	fc_login alice
	fc_connect b okfail
	fc_expect b "INIT Welcome to the server!"
	fc_send b "quit"
	fc_expect b "OK GOODBYE"
	fc_expect_closed b
	fc_expect_silent alice 0.15
}

@test "okfail.left: a dropped socket is LEFT to the others" {
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_close bob
	fc_expect alice "LEFT bob"
}

@test "okfail.login-first: FAIL03 for every known command but IDENT/QUIT/PONG before login" {
	fc_login alice
	fc_connect b okfail
	fc_expect b "INIT Welcome to the server!"
	local cmd
	for cmd in "BCST hi" "USERS" "PM alice hi" "PM_PUBKEY k" "PM_SESSIONKEY alice k" "PRIVATE_MESSAGE alice k" "bcst hi"; do
		fc_send b "$cmd"
		fc_expect b "FAIL03 USER MUST LOGIN FIRST"
	done
	fc_expect_silent alice 0.1
}

@test "okfail.unknown + frame.empty + frame.check-order: FAIL00 for unknown words and empty lines, logged in or not" {
	fc_connect a okfail
	fc_expect a "INIT Welcome to the server!"
	fc_send a "HELLO"
	fc_expect a "FAIL00 Unknown command"
	fc_send a ""
	fc_expect a "FAIL00 Unknown command"
	fc_send a "IDENTX bob"
	fc_expect a "FAIL00 Unknown command"
	fc_send a " BCST hi"
	fc_expect a "FAIL00 Unknown command"
	fc_send a "IDENT abc"
	fc_expect a "OK IDENT abc"
	fc_send a "HELLO there"
	fc_expect a "FAIL00 Unknown command"
	fc_send a ""
	fc_expect a "FAIL00 Unknown command"
	fc_send a "PRIVATE MESSAGE abc hi"
	fc_expect a "FAIL00 Unknown command"
}

@test "frame.case: command words are case-insensitive; a name in another case is the same user (name.user.case)" {
	fc_connect a okfail
	fc_expect a "INIT Welcome to the server!"
	fc_send a "ident alice"
	fc_expect a "OK IDENT alice"
	fc_login bob
	fc_expect a "JOINED bob"
	fc_send bob "Bcst Hi"
	fc_expect bob "OK BCST Hi"
	fc_expect a "BCST bob Hi"
	fc_send bob "users"
	fc_expect bob "OK USERS alice:bob"
	fc_send bob "pm alice x"
	fc_expect bob "OK PM alice x"
	fc_expect a "NPM bob x"
	fc_send bob "pm ALICE y"
	fc_expect bob "OK PM alice y"
	fc_expect a "NPM bob y"
	fc_send bob "Pm_PubKey K"
	fc_expect bob "OK PM_PUBKEY"
	fc_expect a "PM_PUBKEY bob K"
	fc_send a "Quit"
	fc_expect a "OK GOODBYE"
}

@test "frame.ctrl: control characters (NUL, ESC, 0x01, DEL) refused with FAIL10, nothing relayed" {
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_send_raw bob 'BCST a\x1b[31mred\n'
	fc_expect bob "FAIL10 Line contains control characters"
	fc_send_raw bob 'BCST a\x01b\n'
	fc_expect bob "FAIL10 Line contains control characters"
	fc_send_raw bob 'BCST a\x7fb\n'
	fc_expect bob "FAIL10 Line contains control characters"
	fc_send_raw bob 'BCST a\x00b\n'
	fc_expect bob "FAIL10 Line contains control characters"
	fc_send_raw bob 'PM alice \x07\n'
	fc_expect bob "FAIL10 Line contains control characters"
	fc_expect_silent alice 0.15
	fc_send bob "BCST fine"
	fc_expect bob "OK BCST fine"
	fc_expect alice "BCST bob fine"
}

@test "frame.utf8: invalid UTF-8 refused with FAIL11 (stray, overlong, surrogate), nothing relayed; FAIL10 checked first" {
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	local bad
	for bad in '\xff' '\x80abc' '\xc0\xaf' '\xed\xa0\x80' '\xf4\x90\x80\x80' '\xc3'; do
		fc_send_raw bob "BCST x${bad}y\n"
		fc_expect bob "FAIL11 Line is not valid UTF-8"
	done
	fc_send_raw bob 'BCST \xff\x01\n'
	fc_expect bob "FAIL10 Line contains control characters"
	fc_connect c okfail
	fc_expect c "INIT Welcome to the server!"
	fc_send_raw c 'IDENT \xffbob\n'
	fc_expect c "FAIL11 Line is not valid UTF-8"
	fc_expect_silent alice 0.15
}
