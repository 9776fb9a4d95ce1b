#!/usr/bin/env bats
# forkchat(1) over TLS (--tls, --tls-ca, --insecure) against forkchatd's
# okfail+tls / numeric+tls listeners: chat, end-to-end PMs, a FILE of a
# few MiB, protocol detection, and refusals on verification failures.

bats_require_minimum_version 1.5.0
load helpers
load client_helpers

setup() {
	CERT=$BATS_TEST_TMPDIR/c.pem
	KEY=$BATS_TEST_TMPDIR/k.pem
	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
		-keyout "$KEY" -out "$CERT" -days 1 2>/dev/null ||
		fail "openssl req failed"
	fc_start -l okfail+tls=127.0.0.1:0 -l numeric+tls=127.0.0.1:0 \
		--tls-cert "$CERT" --tls-key "$KEY"
	OKTLS=$(fc_port_of okfail+tls)
	NUMTLS=$(fc_port_of numeric+tls)
	[ -n "$OKTLS" ] && [ -n "$NUMTLS" ] || fail "no TLS ports in $FC_LOG"
	DL=$BATS_TEST_TMPDIR/dl
	mkdir -p "$DL"
}

@test "client tls: two okfail clients chat with --tls-ca; INIT detected over TLS" {
	# no -P: the dialect comes from the INIT greeting, read through TLS
	cl_start alice --tls-ca "$CERT" -n alice localhost "$OKTLS"
	cl_wait alice "OK IDENT alice"
	cl_start bob --tls-ca "$CERT" -n bob 127.0.0.1 "$OKTLS"
	cl_wait bob "OK IDENT bob"
	cl_wait alice "JOINED bob"
	cl_send alice "BCST hello over tls"
	cl_wait bob "BCST alice hello over tls"
	cl_send bob "PM alice hi back"
	cl_wait alice "NPM bob hi back"
	cl_send bob "QUIT"
	cl_wait bob "OK GOODBYE"
	cl_wait_exit bob
	[ "$CL_STATUS" -eq 0 ]
	cl_wait alice "LEFT bob"
	cl_end alice
	[ "$CL_STATUS" -eq 0 ]
	run grep -c . "$BATS_TEST_TMPDIR/alice.err"
	assert_output 0
}

@test "client tls: an encrypted PRIVATE_MESSAGE works over TLS" {
	cl_start alice --tls-ca "$CERT" -P okfail -n alice localhost "$OKTLS"
	cl_wait alice "OK IDENT alice"
	cl_start bob --tls-ca "$CERT" -P okfail -n bob localhost "$OKTLS"
	cl_wait bob "OK IDENT bob"
	cl_send alice "PRIVATE_MESSAGE bob attack at dawn"
	cl_wait alice "OK PRIVATE_MESSAGE bob attack at dawn"
	cl_wait bob "RECEIVE_PRIVATE_MSG alice attack at dawn"
	cl_send bob "PRIVATE_MESSAGE alice retreat at noon"
	cl_wait alice "RECEIVE_PRIVATE_MSG bob retreat at noon"
	cl_end alice
	[ "$CL_STATUS" -eq 0 ]
	cl_end bob
	[ "$CL_STATUS" -eq 0 ]
}

@test "client tls: a numeric FILE of a few MiB arrives intact over TLS" {
	local src=$BATS_TEST_TMPDIR/src
	mkdir -p "$src"
	head -c $((6 * 1024 * 1024 + 12345)) /dev/urandom >"$src/big.bin"
	printf 'x' >"$src/one.bin"
	# numeric detected by the answer to the HELP probe, over TLS
	cl_start bob --tls-ca "$CERT" -n bob --download-dir "$DL" \
		localhost "$NUMTLS"
	cl_wait bob "200 Welcome bob!"
	cl_start alice --tls-ca "$CERT" -P numeric -n alice localhost "$NUMTLS"
	cl_wait alice "200 Welcome alice!"
	cl_send alice "FILE bob $src/big.bin"
	cl_send alice "FILE bob $src/one.bin"
	# stored first ("200 File f stored for bob"), then the verdict
	cl_wait_match alice "^714 bob big.bin delivered$" 30
	cl_wait_match alice "^714 bob one.bin delivered$"
	cl_end alice
	[ "$CL_STATUS" -eq 0 ]
	cl_wait bob "102 big.bin $((6 * 1024 * 1024 + 12345)) alice saved $DL/big.bin"
	cl_wait bob "102 one.bin 1 alice saved $DL/one.bin"
	[ "$(sha256sum <"$src/big.bin")" = "$(sha256sum <"$DL/big.bin")" ]
	cmp "$src/one.bin" "$DL/one.bin"
	# the stream is still in step after the raw bytes
	cl_send bob "LIRO"
	cl_wait bob "200 ROOMS"
	cl_end bob
	[ "$CL_STATUS" -eq 0 ]
}

@test "client tls: an unverifiable certificate is refused with a clear message" {
	# the system store does not know our self-signed certificate
	run -1 timeout 10 "$FORKCHAT" --tls -n mallory localhost "$OKTLS" </dev/null
	assert_output "forkchat: TLS: certificate verify failed: self-signed certificate"
	# TLS to a plain port fails in the handshake, not later
	run -1 timeout 10 "$FORKCHAT" --tls-ca "$CERT" -n mallory localhost "$OKPORT" </dev/null
	assert_output --regexp "^forkchat: TLS: handshake with localhost:$OKPORT failed"
	run -2 "$FORKCHAT" --tls-ca "$CERT" --insecure localhost "$OKTLS"
	# nobody got in
	run -0 "$FORKCHATD" status --users -S "$FC_CTL"
	refute_output --partial mallory
}

@test "client tls: a trusted certificate for another host is refused" {
	# a daemon whose certificate names localhost only, not 127.0.0.1
	fc_stop
	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost \
		-keyout "$KEY" -out "$CERT" -days 1 2>/dev/null ||
		fail "openssl req failed"
	fc_start -l okfail+tls=127.0.0.1:0 --tls-cert "$CERT" --tls-key "$KEY"
	OKTLS=$(fc_port_of okfail+tls)
	run -1 timeout 10 "$FORKCHAT" --tls-ca "$CERT" -n mallory 127.0.0.1 "$OKTLS" </dev/null
	assert_output "forkchat: TLS: certificate verify failed: IP address mismatch"
	# by the name it does carry, the same certificate is accepted
	# (empty input: the -n login is still made once the greeting came)
	run -0 timeout 10 "$FORKCHAT" --tls-ca "$CERT" -n alice localhost "$OKTLS" </dev/null
	assert_line "OK IDENT alice"
}

@test "client tls: --insecure connects without verification and warns once" {
	cl_start eve --insecure -n eve localhost "$OKTLS"
	cl_wait eve "OK IDENT eve"
	cl_send eve "BCST unverified"
	cl_wait eve "OK BCST unverified"
	cl_end eve
	[ "$CL_STATUS" -eq 0 ]
	run -0 grep -c "warning: --insecure" "$BATS_TEST_TMPDIR/eve.err"
	assert_output 1
}

@test "client tls: --help lists the TLS options" {
	run -0 "$FORKCHAT" --help
	assert_output --partial "--tls "
	assert_output --partial "--tls-ca FILE"
	assert_output --partial "--insecure"
}
