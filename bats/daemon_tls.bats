#!/usr/bin/env bats
# TLS listeners (forkchatd(8) --listen okfail+tls / numeric+tls, --tls-cert,
# --tls-key): both dialects through openssl s_client, a binary file over
# TLS, a plain-text client on a TLS port, and a new certificate on SIGHUP.

bats_require_minimum_version 1.5.0
load helpers

TLSFILE=$BATS_TEST_DIRNAME/../tests/tlsfile.py

# Two certificates for the whole file: RSA key generation is slow.
setup_file() {
	fc_make_cert one localhost "$BATS_FILE_TMPDIR"
	fc_make_cert two forkchat-second "$BATS_FILE_TMPDIR"
}

# Start with TLS listeners for both dialects (besides fc_start's plain
# ones), the certificate named in a config file so that SIGHUP reloads it.
tls_start() {
	cp "$BATS_FILE_TMPDIR"/one.* "$BATS_FILE_TMPDIR"/two.* "$BATS_TEST_TMPDIR"/
	CONF=$BATS_TEST_TMPDIR/tls.conf
	printf 'tls-cert = one.pem\ntls-key = one.key\n' >"$CONF"
	fc_start -c "$CONF" -l okfail+tls=127.0.0.1:0 -l numeric+tls=127.0.0.1:0 "$@"
	OKTLS=$(fc_port_of okfail+tls)
	NUMTLS=$(fc_port_of numeric+tls)
	[ -n "$OKTLS" ] && [ -n "$NUMTLS" ] || fail "no TLS ports in $FC_LOG"
}

# s_client PORT INPUT: send INPUT (then wait a little), print what came.
s_client() {
	local port=$1 input=$2
	{ printf '%s' "$input"; sleep 0.5; } |
		timeout 10 openssl s_client -quiet -verify_return_error \
			-CAfile "$BATS_TEST_TMPDIR/one.pem" -verify_hostname localhost \
			-connect "127.0.0.1:$port" 2>/dev/null
}

@test "tls: okfail+tls and numeric+tls serve through openssl s_client" {
	tls_start
	run -0 s_client "$OKTLS" $'IDENT alice\nBCST over tls\nQUIT\n'
	[ "${lines[0]}" = "INIT Welcome to the server!" ]
	[ "${lines[1]}" = "OK IDENT alice" ]
	[ "${lines[2]}" = "OK BCST over tls" ]
	[ "${lines[3]}" = "OK GOODBYE" ]
	run -0 s_client "$NUMTLS" $'USER bob\nLIRO\nQUIT\n'
	[ "${lines[0]}" = "200 Welcome bob!" ]
	[ "${lines[1]}" = "200 ROOMS" ]
	# TLS users are users like any other: a plain client sees them
	fc_login carol
	{ printf 'IDENT dave\nBCST secret hello\n'; sleep 1; printf 'QUIT\n'; } |
		timeout 10 openssl s_client -quiet -connect "127.0.0.1:$OKTLS" \
			>/dev/null 2>&1 &
	local sc=$!
	fc_expect carol "JOINED dave"
	fc_expect carol "BCST dave secret hello"
	wait "$sc" || true
	# TLS 1.1 is refused
	run openssl s_client -tls1_1 -connect "127.0.0.1:$OKTLS" </dev/null
	[ "$status" -ne 0 ]
	run -0 openssl s_client -tls1_2 -connect "127.0.0.1:$OKTLS" </dev/null
}

@test "tls: bin/forkchat --tls --tls-ca talks to okfail+tls" {
	tls_start
	fc_login carol
	run -0 timeout 10 "$FORKCHAT" --tls --tls-ca "$BATS_TEST_TMPDIR/one.pem" \
		-n erin localhost "$OKTLS" <<<"BCST via the client"
	fc_wait_for carol "JOINED erin"
	fc_wait_for carol "BCST erin via the client"
}

@test "tls: a FILE over numeric+tls arrives byte for byte" {
	tls_start
	head -c 300000 /dev/urandom >"$BATS_TEST_TMPDIR/blob.bin"
	# make sure every awkward byte is in it: NUL, CR, LF, 0xff
	printf '\0\r\n\r\n\377\0' >>"$BATS_TEST_TMPDIR/blob.bin"
	run -0 "$FC_PY" "$TLSFILE" "$NUMTLS" "$BATS_TEST_TMPDIR/one.pem" \
		"$BATS_TEST_TMPDIR/blob.bin" "$BATS_TEST_TMPDIR/got.bin"
	cmp "$BATS_TEST_TMPDIR/blob.bin" "$BATS_TEST_TMPDIR/got.bin"
}

@test "tls: a plain-text client on a TLS port gets a clean close" {
	tls_start
	local t0=$(fc_now_ms) got
	for port in "$OKTLS" "$NUMTLS"; do
		got=$("$FC_PY" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=8)
s.sendall(b"USER mallory\r\nIDENT mallory\r\n")
data = b""
while True:
    try:
        chunk = s.recv(4096)
    except ConnectionResetError:
        print("reset"); break
    if not chunk:
        print("eof", len(data)); break
    data += chunk
' "$port")
		# closed, not left hanging; at most a TLS alert, never a greeting
		[[ $got == "eof "* || $got == reset ]] || fail "port $port: $got"
	done
	[ $(($(fc_now_ms) - t0)) -lt 6000 ]
	# the daemon is unharmed and still serves TLS
	run -0 s_client "$NUMTLS" $'USER bob\nQUIT\n'
	[ "${lines[0]}" = "200 Welcome bob!" ]
	kill -0 "$FC_PID"
}

@test "tls: SIGHUP loads a new certificate; new connections see its subject" {
	tls_start
	subject() {
		timeout 10 openssl s_client -connect "127.0.0.1:$1" </dev/null 2>/dev/null |
			sed -n 's/^subject=//p'
	}
	[[ $(subject "$OKTLS") == *"CN = localhost"* ]]
	# a client connected before the reload
	exec {old}< <({ printf 'IDENT olduser\n'; sleep 3; printf 'BCST still here\n'; sleep 1; } |
		timeout 10 openssl s_client -quiet -connect "127.0.0.1:$OKTLS" 2>/dev/null)
	printf 'tls-cert = two.pem\ntls-key = two.key\n' >"$CONF"
	kill -HUP "$FC_PID"
	fc_until "[ \$(grep -c 'TLS certificate reloaded' '$FC_LOG') -ge 3 ]"
	[[ $(subject "$OKTLS") == *"CN = forkchat-second"* ]]
	[[ $(subject "$NUMTLS") == *"CN = forkchat-second"* ]]
	# the old connection was not dropped
	local l1 l2 l3
	IFS= read -r -t 8 -u $old l1
	IFS= read -r -t 8 -u $old l2
	IFS= read -r -t 8 -u $old l3
	exec {old}<&-
	[ "$l3" = "OK BCST still here" ] || fail "old connection: '$l1' '$l2' '$l3'"
	# a broken certificate on the next SIGHUP keeps the current one
	printf 'tls-cert = %s\ntls-key = two.key\n' "$BATS_TEST_TMPDIR/one.pem" >"$CONF"
	kill -HUP "$FC_PID"
	fc_until "grep -q 'keeping the old certificate' '$FC_LOG'"
	[[ $(subject "$OKTLS") == *"CN = forkchat-second"* ]]
}
