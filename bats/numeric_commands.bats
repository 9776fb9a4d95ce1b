#!/usr/bin/env bats
# numeric dialect, one test per wire behaviour of docs/PROTOCOL.md
# ("numeric dialect"). Each test name cites the anchor it checks.

load helpers

setup() {
	fc_start --max-line 64
}

HELP_LINES=(
	"200-Commands (case-insensitive):"
	"200-USER <name>          log in (3-14 letters, digits or _)"
	"200-LIRO                 list rooms"
	"200-LIME <room>          list the members of a room"
	"200-ROOM <room>          create a room"
	"200-JOIN <room>          join a room"
	"200-LEVE <room>          leave a room"
	"200-SEND <room> <text>   send to a room"
	"200-PRIV <user> <text>   private message"
	"200-SECU <user> <cipher> encrypted message (the client encrypts)"
	"200-FILE <user> <name> <size>  send a file: wait for 100, then the bytes"
	"200-USEK <key>           client-side: set the SECU key"
	"200-HELP                 this list"
	"200 QUIT                 leave"
)

expect_help() {
	local l
	for l in "${HELP_LINES[@]}"; do
		fc_expect "$1" "$l"
	done
}

@test "numeric.nogreeting + numeric.user: no greeting; USER -> 200 Welcome, 710 to numeric and JOINED to okfail users" {
	fc_login alice
	fc_login_numeric nina
	fc_expect alice "JOINED nina"
	fc_connect b numeric
	fc_expect_silent b 0.15
	fc_send b "USER bob"
	fc_expect b "200 Welcome bob!"
	fc_expect nina "710 bob login"
	fc_expect alice "JOINED bob"
	fc_expect_silent b 0.1
}

@test "numeric.user.twice: USER when logged in is 300, checked first" {
	fc_login_numeric bob
	fc_send bob "USER bob"
	fc_expect bob "300 You are already logged in"
	fc_send bob "USER x"
	fc_expect bob "300 You are already logged in"
	fc_send bob "USER other"
	fc_expect bob "300 You are already logged in"
}

@test "numeric.user.invalid: missing or invalid name is 400" {
	fc_connect b numeric
	local n
	for n in "USER" "USER " "USER ab" "USER abcdefghijklmno" "USER a-b" "USER  bob" "USER bob x"; do
		fc_send b "$n"
		fc_expect b "400 Invalid username: 3-14 letters, digits or _"
	done
	fc_send b "USER abcdefghijklmn"
	fc_expect b "200 Welcome abcdefghijklmn!"
}

@test "numeric.user.taken + cross.names: a name in use in either dialect is 300 Username already taken" {
	fc_login_numeric bob
	fc_login alice
	fc_connect c numeric
	fc_send c "USER bob"
	fc_expect c "300 Username already taken"
	fc_send c "USER alice"
	fc_expect c "300 Username already taken"
	fc_connect d okfail
	fc_expect d "INIT Welcome to the server!"
	fc_send d "IDENT bob"
	fc_expect d "FAIL01 User already logged in"
	fc_send c "USER carol"
	fc_expect c "200 Welcome carol!"
}

@test "numeric.help: multi-line 200- ... 200 reply, before and after login, any case" {
	fc_connect b numeric
	fc_send b "HELP"
	expect_help b
	fc_send b "USER bob"
	fc_expect b "200 Welcome bob!"
	fc_send b "help"
	expect_help b
	fc_expect_silent b 0.1
}

@test "numeric.login-first: every known command but USER/HELP/USEK/QUIT before login is 600" {
	fc_connect b numeric
	local cmd
	for cmd in LIRO "LIME r" "ROOM r" "JOIN r" "LEVE r" "SEND r hi" "PRIV x hi" "SECU x c" "FILE x f 1" "liro"; do
		fc_send b "$cmd"
		fc_expect b "600 Please log in first: USER <name>"
	done
}

@test "numeric.unknown + frame.empty: unknown word or empty line is 500, logged in or not (checked before 600)" {
	fc_connect b numeric
	fc_send b "FOO"
	fc_expect b "500 Unknown command"
	fc_send b ""
	fc_expect b "500 Unknown command"
	fc_send b "LIROX"
	fc_expect b "500 Unknown command"
	fc_send b "USER bob"
	fc_expect b "200 Welcome bob!"
	fc_send b "BCST hi"
	fc_expect b "500 Unknown command"
	fc_send b ""
	fc_expect b "500 Unknown command"
}

@test "frame.case: numeric command words are case-insensitive (user, Liro, room, jOIN, send); room names too (name.room.case)" {
	fc_connect b numeric
	fc_send b "user bob"
	fc_expect b "200 Welcome bob!"
	fc_send b "room Lobby"
	fc_expect b "200 Room Lobby created"
	fc_send b "jOIN Lobby"
	fc_expect b "200 Joined Lobby"
	fc_send b "Liro"
	fc_expect b "200 ROOMS Lobby"
	fc_send b "join lobby"
	fc_expect b "300 Already in room lobby"
	fc_send b "send Lobby hi"
	fc_expect b "200 Sent to Lobby"
	fc_send b "leve Lobby"
	fc_expect b "200 Left Lobby"
}

@test "numeric.liro: 200 ROOMS alone when there is none, then every room in creation order" {
	fc_login_numeric bob
	fc_send bob "LIRO"
	fc_expect bob "200 ROOMS"
	fc_send bob "ROOM zeta"
	fc_expect bob "200 Room zeta created"
	fc_send bob "ROOM alpha"
	fc_expect bob "200 Room alpha created"
	fc_send bob "ROOM #c.d-e_f"
	fc_expect bob "200 Room #c.d-e_f created"
	fc_send bob "LIRO"
	fc_expect bob "200 ROOMS zeta alpha #c.d-e_f"
}

@test "numeric.room + name.room: 200 created, 300 exists, 400 invalid name; the creator is not a member" {
	fc_login_numeric bob
	fc_send bob "ROOM r1"
	fc_expect bob "200 Room r1 created"
	fc_send bob "ROOM r1"
	fc_expect bob "300 Room r1 already exists"
	local r
	for r in "ROOM" "ROOM " "ROOM a b" "ROOM bad!" "ROOM $(printf 'r%.0s' $(seq 1 33))"; do
		fc_send bob "$r"
		fc_expect bob "400 Invalid room name: 1-32 of A-Z a-z 0-9 _ # . -"
	done
	fc_send bob "ROOM $(printf 'r%.0s' $(seq 1 32))"
	fc_expect bob "200 Room $(printf 'r%.0s' $(seq 1 32)) created"
	fc_send bob "LIME r1"
	fc_expect bob "200 MEMBERS r1"
}

@test "numeric.room.full: 302 Room table full at --max-rooms" {
	fc_stop
	fc_start --max-rooms 2
	fc_login_numeric bob
	fc_send bob "ROOM r1"
	fc_expect bob "200 Room r1 created"
	fc_send bob "ROOM r2"
	fc_expect bob "200 Room r2 created"
	fc_send bob "ROOM r3"
	fc_expect bob "302 Room table full"
	fc_send bob "ROOM r1"
	fc_expect bob "300 Room r1 already exists"
	fc_send bob "LIRO"
	fc_expect bob "200 ROOMS r1 r2"
}

@test "numeric.lime: 200 MEMBERS in login order, 300 no such room, 400 invalid name" {
	fc_login_numeric ann
	fc_login_numeric bob
	fc_wait_for ann "710 bob login"
	fc_login_numeric cid
	fc_wait_for ann "710 cid login"
	fc_send ann "ROOM r1"
	fc_wait_for ann "200 Room r1 created"
	fc_send ann "LIME r1"
	fc_wait_for ann "200 MEMBERS r1"
	fc_send cid "JOIN r1"
	fc_wait_for cid "200 Joined r1"
	fc_send ann "JOIN r1"
	fc_wait_for ann "200 Joined r1"
	fc_send bob "LIME r1"
	fc_wait_for bob "200 MEMBERS r1 ann cid"
	fc_send bob "LIME nope"
	fc_wait_for bob "300 No such room nope"
	fc_send bob "LIME"
	fc_wait_for bob "400 Invalid room name: 1-32 of A-Z a-z 0-9 _ # . -"
	fc_send bob "LIME bad!"
	fc_wait_for bob "400 Invalid room name: 1-32 of A-Z a-z 0-9 _ # . -"
}

@test "numeric.lime: login order holds when a later login reuses a freed registry slot" {
	fc_login_numeric ann
	fc_login_numeric bob
	fc_login_numeric cid
	fc_expect bob "710 cid login"
	fc_send bob "QUIT"
	fc_expect_closed bob
	fc_wait_for ann "711 bob logout"
	fc_login_numeric dan # may take bob's old slot
	fc_wait_for ann "710 dan login"
	fc_send ann "ROOM r1"
	fc_wait_for ann "200 Room r1 created"
	fc_send dan "JOIN r1"
	fc_wait_for dan "200 Joined r1"
	fc_send cid "JOIN r1"
	fc_wait_for cid "200 Joined r1"
	fc_send ann "LIME r1"
	fc_wait_for ann "200 MEMBERS r1 cid dan"
}

@test "numeric.join: 200 Joined, 712 to the other members only; 300 no such room / already in; 400" {
	fc_login_numeric ann
	fc_login_numeric bob
	fc_expect ann "710 bob login"
	fc_login_numeric cid
	fc_expect ann "710 cid login"
	fc_expect bob "710 cid login"
	fc_send ann "ROOM r1"
	fc_expect ann "200 Room r1 created"
	fc_send ann "JOIN r1"
	fc_expect ann "200 Joined r1"
	fc_expect_silent bob 0.1
	fc_send bob "JOIN r1"
	fc_expect bob "200 Joined r1"
	fc_expect ann "712 r1 bob joined"
	fc_expect_silent cid 0.1
	fc_send bob "JOIN r1"
	fc_expect bob "300 Already in room r1"
	fc_send bob "JOIN nope"
	fc_expect bob "300 No such room nope"
	fc_send bob "JOIN"
	fc_expect bob "400 Invalid room name: 1-32 of A-Z a-z 0-9 _ # . -"
	fc_send bob "JOIN a b"
	fc_expect bob "400 Invalid room name: 1-32 of A-Z a-z 0-9 _ # . -"
	fc_expect_silent ann 0.1
}

@test "numeric.leve: 200 Left, 713 to the remaining members; 300 no such room / not in it; 400" {
	fc_login_numeric ann
	fc_login_numeric bob
	fc_expect ann "710 bob login"
	fc_send ann "ROOM r1"
	fc_expect ann "200 Room r1 created"
	fc_send ann "JOIN r1"
	fc_expect ann "200 Joined r1"
	fc_send bob "JOIN r1"
	fc_expect bob "200 Joined r1"
	fc_expect ann "712 r1 bob joined"
	fc_send bob "LEVE r1"
	fc_expect bob "200 Left r1"
	fc_expect ann "713 r1 bob left"
	fc_send bob "LEVE r1"
	fc_expect bob "300 Not in room r1"
	fc_send bob "LEVE nope"
	fc_expect bob "300 No such room nope"
	fc_send bob "LEVE bad!"
	fc_expect bob "400 Invalid room name: 1-32 of A-Z a-z 0-9 _ # . -"
	fc_send bob "LIME r1"
	fc_expect bob "200 MEMBERS r1 ann"
	fc_expect_silent ann 0.1
}

@test "numeric.send: 200 Sent to, 702 to the other members only, text untrimmed" {
	fc_login_numeric ann
	fc_login_numeric bob
	fc_expect ann "710 bob login"
	fc_login_numeric cid
	fc_expect ann "710 cid login"
	fc_expect bob "710 cid login"
	fc_login alice # okfail users are never in rooms (cross.rooms)
	fc_expect ann "710 alice login"
	fc_expect bob "710 alice login"
	fc_expect cid "710 alice login"
	fc_send ann "ROOM r1"
	fc_expect ann "200 Room r1 created"
	fc_send ann "JOIN r1"
	fc_expect ann "200 Joined r1"
	fc_send bob "JOIN r1"
	fc_expect bob "200 Joined r1"
	fc_expect ann "712 r1 bob joined"
	fc_send bob "SEND r1 hello  everyone "
	fc_expect bob "200 Sent to r1"
	fc_expect ann "702 r1 bob hello  everyone "
	fc_expect_silent bob 0.1
	fc_expect_silent cid 0.05
	fc_expect_silent alice 0.05
}

@test "numeric.send errors: 400 missing room/empty text, 400 bad room, 300 no such room, 300 not a member" {
	fc_login_numeric ann
	fc_login_numeric bob
	fc_expect ann "710 bob login"
	fc_send ann "ROOM r1"
	fc_expect ann "200 Room r1 created"
	fc_send ann "JOIN r1"
	fc_expect ann "200 Joined r1"
	fc_send bob "SEND r1 hi"
	fc_expect bob "300 Not in room r1"
	fc_send bob "SEND nope hi"
	fc_expect bob "300 No such room nope"
	fc_send bob "SEND bad! hi"
	fc_expect bob "400 Invalid room name: 1-32 of A-Z a-z 0-9 _ # . -"
	local s
	for s in "SEND" "SEND r1" "SEND r1 " "SEND  hi"; do
		fc_send ann "$s"
		fc_expect ann "400 Invalid parameters"
	done
	fc_expect_silent bob 0.1
}

@test "numeric.priv: 200 Sent to, 701 to the recipient only" {
	fc_login_numeric ann
	fc_login_numeric bob
	fc_expect ann "710 bob login"
	fc_login_numeric cid
	fc_expect ann "710 cid login"
	fc_expect bob "710 cid login"
	fc_send ann "PRIV bob hello  bob "
	fc_expect ann "200 Sent to bob"
	fc_expect bob "701 ann hello  bob "
	fc_expect_silent cid 0.1
}

@test "numeric.target.errors: PRIV 400 params, 300 no such user, 400 to yourself (in any case: name.user.case)" {
	fc_login_numeric ann
	local s
	for s in "PRIV" "PRIV bob" "PRIV bob " "PRIV  bob hi"; do
		fc_send ann "$s"
		fc_expect ann "400 Invalid parameters"
	done
	fc_send ann "PRIV b-b hi"
	fc_expect ann "300 No such user b-b"
	fc_send ann "PRIV zed hi"
	fc_expect ann "300 No such user zed"
	fc_send ann "PRIV ann hi"
	fc_expect ann "400 Cannot send a private message to yourself"
	fc_send ann "PRIV Ann hi"
	fc_expect ann "400 Cannot send a private message to yourself"
}

@test "numeric.secu: 200 Sent to, 700 to the recipient; errors as numeric.target.errors" {
	fc_login_numeric ann
	fc_login_numeric bob
	fc_expect ann "710 bob login"
	fc_send ann "SECU bob Uryyb+/= jbeyq"
	fc_expect ann "200 Sent to bob"
	fc_expect bob "700 ann Uryyb+/= jbeyq"
	fc_send ann "SECU bob"
	fc_expect ann "400 Invalid parameters"
	fc_send ann "SECU zed x"
	fc_expect ann "300 No such user zed"
	fc_send ann "SECU ann x"
	fc_expect ann "400 Cannot send secure messages to yourself"
	fc_expect_silent bob 0.1
}

@test "numeric.usek: USEK gets no reply, before and after login" {
	fc_connect b numeric
	fc_send b "USEK secret"
	fc_expect_silent b 0.15
	fc_send b "USER bob"
	fc_expect b "200 Welcome bob!"
	fc_send b "usek other"
	fc_expect_silent b 0.15
	fc_send b "LIRO"
	fc_expect b "200 ROOMS"
}

@test "numeric.quit: no reply, connection closed, 711 / LEFT to the others; QUIT before login too" {
	fc_login alice
	fc_login_numeric ann
	fc_expect alice "JOINED ann"
	fc_login_numeric bob
	fc_expect alice "JOINED bob"
	fc_expect ann "710 bob login"
	fc_send bob "QUIT"
	fc_expect_closed bob
	fc_expect ann "711 bob logout"
	fc_expect alice "LEFT bob"
	fc_connect c numeric
	fc_send c "quit"
	fc_expect_closed c
	fc_expect_silent ann 0.1
}

@test "numeric.disconnect: a user who disconnects leaves every room: 713 per room to its members, then 711" {
	fc_login_numeric ann
	fc_login_numeric bob
	fc_expect ann "710 bob login"
	fc_login_numeric cid
	fc_expect ann "710 cid login"
	fc_expect bob "710 cid login"
	local r
	for r in r1 r2; do
		fc_send ann "ROOM $r"
		fc_expect ann "200 Room $r created"
		fc_send ann "JOIN $r"
		fc_expect ann "200 Joined $r"
		fc_send bob "JOIN $r"
		fc_expect bob "200 Joined $r"
		fc_expect ann "712 $r bob joined"
	done
	fc_close bob
	fc_expect ann "713 r1 bob left"
	fc_expect ann "713 r2 bob left"
	fc_expect ann "711 bob logout"
	fc_expect cid "711 bob logout"
	fc_send cid "LIME r1"
	fc_expect cid "200 MEMBERS r1 ann"
	# the name is free again and the new bob is in no room
	fc_login_numeric bob
	fc_send bob "SEND r1 hi"
	fc_expect bob "300 Not in room r1"
}

@test "frame.maxline (numeric): 62 bytes accepted, 63 refused with 401, connection in sync" {
	fc_login_numeric bob
	local t
	t=$(printf 'x%.0s' $(seq 1 56)) # "ROOM " + 56 = 61; "LIME " + ... see below
	fc_send bob "ROOM r"
	fc_expect bob "200 Room r created"
	fc_send bob "JOIN r"
	fc_expect bob "200 Joined r"
	t=$(printf 'x%.0s' $(seq 1 55)) # "SEND r " + 55 = 62 bytes of content
	fc_send_raw bob "SEND r $t\r\n"
	fc_expect bob "200 Sent to r"
	fc_send_raw bob "SEND r ${t}y\nLIRO\n"
	fc_expect bob "401 Line too long"
	fc_expect bob "200 ROOMS r"
	fc_send_raw bob "SEND r $t$t"
	fc_expect bob "401 Line too long"
	fc_send_raw bob "$t\nLIRO\n"
	fc_expect bob "200 ROOMS r"
	fc_expect_silent bob 0.1
}

@test "frame.ctrl + frame.utf8 (numeric): 402 for control characters, 403 for invalid UTF-8, nothing relayed" {
	fc_login_numeric ann
	fc_login_numeric bob
	fc_expect ann "710 bob login"
	fc_send_raw bob 'PRIV ann a\x1b[2Jb\n'
	fc_expect bob "402 Line contains control characters"
	fc_send_raw bob 'PRIV ann a\x00b\n'
	fc_expect bob "402 Line contains control characters"
	fc_send_raw bob 'PRIV ann a\x7f\n'
	fc_expect bob "402 Line contains control characters"
	fc_send_raw bob 'PRIV ann a\xffb\n'
	fc_expect bob "403 Line is not valid UTF-8"
	fc_send_raw bob 'PRIV ann \xc0\x80\n'
	fc_expect bob "403 Line is not valid UTF-8"
	fc_expect_silent ann 0.1
	fc_send bob "PRIV ann tab	é"
	fc_expect bob "200 Sent to ann"
	fc_expect ann "701 bob tab	é"
}

@test "frame.eol + frame.pipeline + frame.split (numeric): lone \\r, split \\r\\n, pipelined and split commands" {
	fc_connect b numeric
	fc_send_raw b 'USER bob\rLIRO\r'
	fc_expect b "200 Welcome bob!"
	fc_expect b "200 ROOMS"
	fc_send_raw b '\nROOM r\r\nJOIN r\nLIME r\n'
	fc_expect b "200 Room r created"
	fc_expect b "200 Joined r"
	fc_expect b "200 MEMBERS r bob"
	fc_send_raw b 'LI'
	fc_expect_silent b 0.05
	fc_send_raw b 'R'
	fc_expect_silent b 0.05
	fc_send_raw b 'O\r'
	fc_expect b "200 ROOMS r"
	fc_send_raw b '\n'
	fc_expect_silent b 0.1
}
