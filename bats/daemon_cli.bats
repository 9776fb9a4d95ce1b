#!/usr/bin/env bats
# forkchatd's command line and config file (forkchatd(8), forkchatd.conf(5),
# interface.md "forkchatd"): errors name file:line, -t, flags win over the
# file, --help, -V, a bad flag and an unusable port.

bats_require_minimum_version 1.5.0
load helpers

conf() {
	CONF=$BATS_TEST_TMPDIR/forkchatd.conf
	printf '%s\n' "$@" >"$CONF"
}

@test "config: an unknown key is file:line: unknown setting, exit 2" {
	conf "# a comment" "" "max-line = 4096" "max-lines = 100"
	run -2 --separate-stderr "$FORKCHATD" -t -c "$CONF"
	[ -z "$output" ]
	[ "$stderr" = "forkchatd: $CONF:4: unknown setting 'max-lines'" ]
}

@test "config: a bad value is file:line: key: bad value, exit 2" {
	conf "max-line = 4096  # fine" "ping-interval = soon"
	run -2 --separate-stderr "$FORKCHATD" -t -c "$CONF"
	[[ $stderr == "forkchatd: $CONF:2: ping-interval: bad value 'soon'"* ]]
	conf "max-line = 12"
	run -2 --separate-stderr "$FORKCHATD" -t -c "$CONF"
	[[ $stderr == "forkchatd: $CONF:1: max-line: bad value '12' (whole number, 64 to 60000)" ]]
	conf "listen = gopher=127.0.0.1:70"
	run -2 --separate-stderr "$FORKCHATD" -t -c "$CONF"
	[[ $stderr == "forkchatd: $CONF:1: bad listen 'gopher=127.0.0.1:70'"* ]]
}

@test "config: irc settings: listen irc and irc+tls, server-name, motd; a bad server name is file:line, exit 2" {
	conf "listen = irc=127.0.0.1:6667" "listen = irc+tls=127.0.0.1:6697" \
		"tls-cert = /c.pem" "tls-key = /k.pem" \
		"server-name = My.Little.Server" "motd = /etc/motd"
	run -0 --separate-stderr "$FORKCHATD" -t -c "$CONF"
	assert_line "listen = irc=127.0.0.1:6667"
	assert_line "listen = irc+tls=127.0.0.1:6697"
	assert_line "server-name = My.Little.Server"
	assert_line "motd = /etc/motd"
	run -0 "$FORKCHATD" -t -c "$CONF" --server-name irc.example
	assert_line "server-name = irc.example"
	conf "server-name = two words"
	run -2 --separate-stderr "$FORKCHATD" -t -c "$CONF"
	[ "$stderr" = "forkchatd: $CONF:1: server-name: bad value 'two words'" ]
}

@test "config: without --listen: okfail 1337, numeric 2929, irc 6667; server-name defaults to the host name" {
	run -0 "$FORKCHATD" -t
	assert_line "listen = okfail=0.0.0.0:1337"
	assert_line "listen = numeric=0.0.0.0:2929"
	assert_line "listen = irc=0.0.0.0:6667"
	assert_line "server-name = $(hostname)"
}

@test "config: a line without '=' is file:line: expected 'key = value', exit 2" {
	conf "workers = 2" "" "   # indented comment" "max-line 4096"
	run -2 --separate-stderr "$FORKCHATD" -t -c "$CONF"
	[ "$stderr" = "forkchatd: $CONF:4: expected 'key = value'" ]
	# the daemon itself refuses to start with it, before binding anything
	run -2 --separate-stderr "$FORKCHATD" -f -c "$CONF" -l okfail=127.0.0.1:0
	[ "$stderr" = "forkchatd: $CONF:4: expected 'key = value'" ]
}

@test "config: a missing file is one line and exit 2" {
	run -2 --separate-stderr "$FORKCHATD" -t -c "$BATS_TEST_TMPDIR/nope.conf"
	[ "$stderr" = "forkchatd: $BATS_TEST_TMPDIR/nope.conf: No such file or directory" ]
}

@test "config: -t prints 'configuration OK' and exits 0; keys accept _ for -" {
	conf "max_line = 4096" "workers=3" "listen = okfail=127.0.0.1:1" \
		"ping-interval = 0.25   # fractions allowed" "log-level = debug"
	run -0 --separate-stderr "$FORKCHATD" --check-config -c "$CONF"
	[ "${lines[0]}" = "configuration OK" ]
	assert_line "listen = okfail=127.0.0.1:1"
	assert_line "workers = 3"
	assert_line "max-line = 4096"
	[ -z "$stderr" ]
}

@test "config: flags win over the file, wherever -c stands" {
	conf "max-line = 4096" "workers = 3" "max-clients = 50" \
		"listen = okfail=127.0.0.1:1"
	run -0 "$FORKCHATD" --max-line 2000 -t -c "$CONF" -w 2
	assert_line "max-line = 2000"
	assert_line "workers = 2"
	assert_line "max-clients = 50"
	# -l flags replace the file's listeners
	run -0 "$FORKCHATD" -t -c "$CONF" -l numeric=127.0.0.1:2
	assert_line "listen = numeric=127.0.0.1:2"
	refute_line "listen = okfail=127.0.0.1:1"
	# -c inside a group of short flags, and --config=FILE
	run -0 "$FORKCHATD" -tc "$CONF" --max-line=3000
	assert_line "max-line = 3000"
	assert_line "max-clients = 50"
	run -0 "$FORKCHATD" --config="$CONF" -t
	assert_line "max-clients = 50"
}

@test "config: a bad flag value is one line on stderr and exit 2" {
	run -2 --separate-stderr "$FORKCHATD" -t --max-line banana
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ $stderr == "forkchatd: --max-line: bad value 'banana'"* ]]
	run -2 --separate-stderr "$FORKCHATD" -t -l okfail=nohostport
	[ "${#stderr_lines[@]}" -eq 1 ]
	run -2 --separate-stderr "$FORKCHATD" -t -l okfail+tls=127.0.0.1:0
	[ "$stderr" = "forkchatd: a +tls listener needs tls-cert and tls-key" ]
}

@test "cli: an unknown flag is one line on stderr and exit 2; nothing on stdout" {
	run -2 --separate-stderr "$FORKCHATD" --frobnicate
	[ -z "$output" ]
	[ "$stderr" = "forkchatd: unknown option --frobnicate; see --help" ]
	run -2 --separate-stderr "$FORKCHATD" -w
	[ "$stderr" = "forkchatd: option -w needs a value; see --help" ]
	run -2 --separate-stderr "$FORKCHATD" -f stray
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ $stderr == *"stray"* ]]
}

@test "cli: -V and --version print the version, exit 0" {
	run -0 --separate-stderr "$FORKCHATD" -V
	[[ $output =~ ^forkchatd\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	[ -z "$stderr" ]
	run -0 "$FORKCHATD" --version
	[[ $output =~ ^forkchatd\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "cli: --help names every option of interface.md (and exits 0)" {
	run -0 --separate-stderr "$FORKCHATD" --help
	[ -z "$stderr" ]
	local opt
	for opt in "-f, --foreground" "-c, --config FILE" \
		"-l, --listen DIALECT=HOST:PORT" "-w, --workers N" \
		"--max-clients N" "--max-line BYTES" "--ping-interval SECONDS" \
		"--pong-timeout SECONDS" "--max-file-size BYTES" \
		"-u, --user NAME" "-p, --pidfile FILE" "-h, --help" "-V, --version" \
		"okfail" "numeric" "-t, --check-config" "--tls-cert" "--tls-key" \
		"--control-socket" "--log-file" "--log-level"; do
		[[ $output == *"$opt"* ]] || fail "--help lacks '$opt'"
	done
	run -0 "$FORKCHATD" -h
}

@test "cli: every setting of the sample config is accepted, and -t passes" {
	local sample=$BATS_TEST_DIRNAME/../contrib/forkchatd.conf
	[ -f "$sample" ] || fail "contrib/forkchatd.conf is missing"
	run -0 "$FORKCHATD" -t -c "$sample"
	# uncomment every "#key = value" line: still a valid file
	sed -n 's/^#\([a-z-]* = .*\)$/\1/p' "$sample" >"$BATS_TEST_TMPDIR/all.conf"
	run -0 --separate-stderr "$FORKCHATD" -t -c "$BATS_TEST_TMPDIR/all.conf"
	# ... naming every long option that is a setting
	local key help
	help=$("$FORKCHATD" --help)
	for key in listen workers max-clients max-per-ip max-line ping-interval \
		pong-timeout login-timeout line-timeout max-file-size max-rooms \
		sendq-hard sendq-soft sendq-soft-seconds worker-budget flood-rate \
		flood-burst flood-max-queued flood-bytes flood-bytes-burst \
		tls-handshake-timeout room-linger max-rooms-per-user max-key-size \
		tcp-keepalive log-level log-file user pidfile \
		control-socket tls-cert tls-key; do
		grep -q "^$key = " "$BATS_TEST_TMPDIR/all.conf" ||
			fail "sample config lacks $key"
		[[ $help == *"--$key"* ]] || [ "$key" = listen ] ||
			[ "$key" = workers ] || [ "$key" = user ] || [ "$key" = pidfile ] ||
			fail "--help lacks --$key"
	done
}

@test "cli: an unusable port is one line on stderr and exit 1, no daemon left" {
	local port=$(fc_free_port)
	# hold the port with a listening socket of our own
	"$FC_PY" -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
print("bound", flush=True); time.sleep(30)' "$port" >"$BATS_TEST_TMPDIR/holder" &
	HOLDER=$!
	fc_until "grep -q bound '$BATS_TEST_TMPDIR/holder'"
	run -1 --separate-stderr "$FORKCHATD" -f -w 2 -l "okfail=127.0.0.1:$port" \
		-l numeric=127.0.0.1:0 --control-socket "$BATS_TEST_TMPDIR/ctl" \
		--pidfile "$BATS_TEST_TMPDIR/pid"
	[ "${#stderr_lines[@]}" -eq 1 ] || fail "stderr: $stderr"
	[[ $stderr == "forkchatd: "*"$port"* ]]
	# the same without -f: the detaching parent reports the same failure
	run -1 --separate-stderr "$FORKCHATD" -w 2 -l "okfail=127.0.0.1:$port" \
		-l numeric=127.0.0.1:0 --control-socket "$BATS_TEST_TMPDIR/ctl" \
		--pidfile "$BATS_TEST_TMPDIR/pid"
	[ "${#stderr_lines[@]}" -eq 1 ] || fail "stderr: $stderr"
	[ ! -S "$BATS_TEST_TMPDIR/ctl" ]
	kill "$HOLDER"
	wait "$HOLDER" 2>/dev/null || true
}
