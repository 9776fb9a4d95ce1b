#!/usr/bin/env bats
# Framing rules of docs/PROTOCOL.md ("Framing"), checked on the okfail
# listener (numeric_framing.bats checks the numeric codes).

load helpers

setup() {
	fc_start --max-line 64
}

# printf-able string of N copies of a character
rep() { printf "%${2}s" "" | tr ' ' "$1"; }

@test "frame.eol: \\n, \\r\\n and a lone \\r each end a line; the server ends lines with \\n" {
	fc_connect a okfail
	fc_expect a "INIT Welcome to the server!"
	fc_send_raw a 'IDENT alice\r'
	fc_expect a "OK IDENT alice"
	fc_send_raw a 'BCST one\rBCST two\r\nBCST three\n'
	fc_expect a "OK BCST one"
	fc_expect a "OK BCST two"
	fc_expect a "OK BCST three"
	fc_expect_silent a 0.15
	# the raw bytes of a reply: \n only, no \r
	local line
	fc_send_raw a 'BCST raw\r\n'
	IFS= read -r -t 2 -u "${FC_FD[a]}" line || fail "no reply"
	[ "$line" = "OK BCST raw" ] || fail "got '$line' (a \\r before the \\n?)"
}

@test "frame.eol.split: \\r at the end of one write and \\n at the start of the next are one terminator" {
	fc_login alice
	fc_send_raw alice 'BCST a\r'
	fc_expect alice "OK BCST a"
	fc_send_raw alice '\nBCST b\r'
	fc_expect alice "OK BCST b"
	fc_send_raw alice '\n'
	fc_expect_silent alice 0.15
	fc_send_raw alice '\r'
	fc_expect alice "FAIL00 Unknown command"
	fc_send_raw alice '\rBCST c\n'
	fc_expect alice "FAIL00 Unknown command"
	fc_expect alice "OK BCST c"
}

@test "frame.pipeline + frame.nodelay: many commands in one write are all answered, in order, once" {
	fc_login bob
	fc_connect a okfail
	fc_expect a "INIT Welcome to the server!"
	fc_send_raw a 'IDENT alice\nBCST one\nBCST two\r\nUSERS\rPM bob x\nFOO\nBCST three\n'
	fc_expect a "OK IDENT alice"
	fc_expect a "OK BCST one"
	fc_expect a "OK BCST two"
	fc_expect a "OK USERS bob:alice"
	fc_expect a "OK PM bob x"
	fc_expect a "FAIL00 Unknown command"
	fc_expect a "OK BCST three"
	fc_expect_silent a 0.15
	fc_expect bob "JOINED alice"
	fc_expect bob "BCST alice one"
	fc_expect bob "BCST alice two"
	fc_expect bob "NPM alice x"
	fc_expect bob "BCST alice three"
	fc_expect_silent bob 0.1
}

@test "frame.split: a command split over many writes is handled once, when its terminator arrives" {
	fc_login bob
	fc_login alice
	fc_expect bob "JOINED alice"
	local msg="BCST hello split world" i
	for ((i = 0; i < ${#msg}; i++)); do
		fc_send_raw alice "${msg:i:1}"
		fc_expect_silent alice 0.01
	done
	fc_expect_silent bob 0.05
	fc_send_raw alice '\n'
	fc_expect alice "OK BCST hello split world"
	fc_expect bob "BCST alice hello split world"
	fc_expect_silent alice 0.1
}

@test "frame.maxline: with --max-line 64, 62 bytes of content are accepted with any terminator" {
	fc_login alice
	local text
	text=$(rep x 57) # "BCST " + 57 = 62 bytes of content
	fc_send_raw alice "BCST $text\n"
	fc_expect alice "OK BCST $text"
	fc_send_raw alice "BCST $text\r\n"
	fc_expect alice "OK BCST $text"
	fc_send_raw alice "BCST $text\r"
	fc_expect alice "OK BCST $text"
}

@test "frame.maxline: 63 bytes of content (and more) are refused with FAIL09, nothing relayed" {
	fc_login bob
	fc_login alice
	fc_expect bob "JOINED alice"
	local text
	text=$(rep y 58) # 63 bytes of content
	fc_send_raw alice "BCST $text\n"
	fc_expect alice "FAIL09 Line too long"
	fc_send_raw alice "BCST $text\r\n"
	fc_expect alice "FAIL09 Line too long"
	fc_send_raw alice "BCST $(rep z 5000)\n"
	fc_expect alice "FAIL09 Line too long"
	fc_expect_silent alice 0.15
	fc_expect_silent bob 0.05
}

@test "frame.maxline.sync: after an over-long line the connection stays up and in sync (same write)" {
	fc_login bob
	fc_login alice
	fc_expect bob "JOINED alice"
	fc_send_raw alice "BCST $(rep q 100)\nBCST after\r\nUSERS\n"
	fc_expect alice "FAIL09 Line too long"
	fc_expect alice "OK BCST after"
	fc_expect alice "OK USERS bob:alice"
	fc_expect bob "BCST alice after"
	fc_expect_silent alice 0.15
}

@test "frame.maxline.sync: FAIL09 comes once, before the line ends; the rest of it is discarded up to its terminator" {
	fc_login bob
	fc_login alice
	fc_expect bob "JOINED alice"
	fc_send_raw alice "BCST $(rep a 100)"
	fc_expect alice "FAIL09 Line too long"
	fc_send_raw alice "$(rep b 300)"
	fc_expect_silent alice 0.1
	fc_send_raw alice "tail of the long line\r"
	fc_expect_silent alice 0.1
	fc_send_raw alice '\nBCST next\n'
	fc_expect alice "OK BCST next"
	fc_expect bob "BCST alice next"
	fc_expect_silent alice 0.1
	fc_expect_silent bob 0.05
}
