#!/usr/bin/env bats
# numeric-dialect client features: USEK/SECU (key never on the wire),
# FILE both ways with checksums, name clashes and hostile file names.

load client_helpers

setup() {
	fc_start
	DL=$BATS_TEST_TMPDIR/dl
	mkdir -p "$DL"
}

@test "numeric: SECU with the right key, a wrong key and no key; ciphertext only on the wire" {
	# each USEK and each first SECU to a user is a 600,000-round PBKDF2
	# (0.2 s; several times that under SAN=1 on a loaded machine)
	local FC_TIMEOUT=$((FC_TIMEOUT * 4))
	cl_relay_start "$NUMPORT"
	cl_start bob -P numeric -n bob 127.0.0.1 "$RELAYPORT"
	cl_send bob "USEK open sesame"
	cl_wait bob "200 Welcome bob!"
	cl_start nokey -P numeric -n nokey 127.0.0.1 "$RELAYPORT"
	cl_wait nokey "200 Welcome nokey!"
	cl_start alice -P numeric -n alice 127.0.0.1 "$RELAYPORT"
	cl_wait alice "200 Welcome alice!"
	cl_send alice "SECU bob too early"
	cl_wait_match alice "^! no SECU key"
	cl_send alice "usek open sesame"
	cl_send alice "SECU bob meet me at the gate"
	cl_wait bob "700 alice meet me at the gate"
	cl_send alice "SECU nokey for nobody"
	cl_wait_match nokey "^! secure message from alice, but no SECU key"
	cl_send alice "USEK wrong key"
	cl_send alice "SECU bob second secret"
	cl_wait_match bob "^! secure message from alice could not be decrypted"
	cl_end alice
	[ "$CL_STATUS" -eq 0 ]
	cl_end bob
	cl_end nokey
	[ "$(grep -c 'second secret' "$(cl_out bob)")" -eq 0 ]
	run grep -l -e "sesame" -e "gate" -e "second secret" -e "nobody" \
		"$BATS_TEST_TMPDIR"/relay.*
	assert_output ""
}

@test "numeric: files of 0 B, 1 B and 20 MiB arrive intact; a clash becomes name.1" {
	local src=$BATS_TEST_TMPDIR/src
	mkdir -p "$src"
	: >"$src/empty.bin"
	printf 'x' >"$src/one.bin"
	head -c $((20 * 1024 * 1024)) /dev/urandom >"$src/big.bin"
	cl_start bob -P numeric -n bob --download-dir "$DL" 127.0.0.1 "$NUMPORT"
	cl_wait bob "200 Welcome bob!"
	cl_start alice -P numeric -n alice 127.0.0.1 "$NUMPORT"
	cl_wait alice "200 Welcome alice!"
	cl_send alice "FILE bob $src/empty.bin"
	cl_send alice "FILE bob $src/one.bin"
	cl_send alice "file bob $src/big.bin"
	cl_send alice "FILE bob $src/one.bin"
	cl_send alice "FILE bob $src/missing.bin"
	cl_wait_match alice "^! .*missing.bin: No such file"
	cl_end alice
	[ "$CL_STATUS" -eq 0 ]
	# the verdict "714 bob f delivered" comes after "200 File f stored for
	# bob"; a script waits for every 714 before it exits
	delivered() { grep -Ecx "714 bob $1 delivered" "$(cl_out alice)"; }
	[ "$(delivered empty.bin)" -eq 1 ]
	[ "$(delivered big.bin)" -eq 1 ]
	[ "$(delivered one.bin)" -eq 2 ]
	[ "$(grep -c ' stored for bob$' "$(cl_out alice)")" -eq "$(grep -c '^714 ' "$(cl_out alice)")" ]
	cl_wait bob "102 one.bin 1 alice saved $DL/one.bin.1"
	cl_wait bob "102 empty.bin 0 alice saved $DL/empty.bin"
	cl_wait bob "102 big.bin 20971520 alice saved $DL/big.bin"
	cmp "$src/empty.bin" "$DL/empty.bin"
	cmp "$src/one.bin" "$DL/one.bin"
	cmp "$src/one.bin" "$DL/one.bin.1"
	[ "$(sha256sum <"$src/big.bin")" = "$(sha256sum <"$DL/big.bin")" ]
	cl_send bob "LIRO"
	cl_wait bob "200 ROOMS"
	cl_end bob
	[ "$CL_STATUS" -eq 0 ]
}

@test "numeric: FILE to an okfail user is the server's error, shown as such" {
	printf 'data' >"$BATS_TEST_TMPDIR/f.txt"
	cl_start ok -P okfail -n olga 127.0.0.1 "$OKPORT"
	cl_wait ok "OK IDENT olga"
	cl_start alice -P numeric -n alice 127.0.0.1 "$NUMPORT"
	cl_send alice "FILE olga $BATS_TEST_TMPDIR/f.txt"
	cl_send alice "FILE nosuchuser $BATS_TEST_TMPDIR/f.txt"
	cl_end alice
	[ "$CL_STATUS" -eq 0 ]
	grep -q '^30[0-9] ' "$(cl_out alice)"
	[ "$(grep -c '^30[0-9] ' "$(cl_out alice)")" -eq 2 ]
}

@test "numeric: a hidden name becomes _name; hostile names are refused and the stream stays in sync" {
	printf 'payload' >"$BATS_TEST_TMPDIR/.profile"
	cl_start bob -P numeric -n bob --download-dir "$DL" 127.0.0.1 "$NUMPORT"
	cl_wait bob "200 Welcome bob!"
	cl_start alice -P numeric -n alice 127.0.0.1 "$NUMPORT"
	cl_send alice "FILE bob $BATS_TEST_TMPDIR/.profile"
	cl_end alice
	cl_wait bob "102 .profile 7 alice saved $DL/_profile"
	cl_end bob
	[ ! -e "$DL/.profile" ]
	cmp "$BATS_TEST_TMPDIR/.profile" "$DL/_profile"
	# a hostile server: traversal, slashes, controls, then a good file
	local evil=$BATS_TEST_TMPDIR/evil.txt
	{
		printf '200 Welcome eve!\n'
		printf '102 ../escape 3 mallory\nAAA'
		printf '102 a/b 2 mallory\nBB'
		printf '102 bad\033[2Jname 2 mallory\nCC'
		printf '102 \302\233x 1 mallory\nD'
		printf '102 ok.txt 5 mallory\nhello'
		printf '701 mallory still in sync\n'
	} >"$evil"
	cl_fake_start "$evil"
	mkdir -p "$DL/inner"
	cl_start eve -P numeric -n eve --download-dir "$DL/inner" 127.0.0.1 "$RELAYPORT"
	cl_wait eve "701 mallory still in sync"
	cl_wait eve "102 ok.txt 5 mallory saved $DL/inner/ok.txt"
	[ "$(grep -c '^! file .* refused' "$(cl_out eve)")" -eq 4 ]
	grep -qF '! file bad\x1B[2Jname (2 bytes) from mallory refused' "$(cl_out eve)"
	run ls -A "$DL/inner"
	assert_output "ok.txt"
	[ ! -e "$DL/escape" ] && [ ! -e "$BATS_TEST_TMPDIR/escape" ]
	[ "$(cat "$DL/inner/ok.txt")" = hello ]
	cl_end eve
	[ "$CL_STATUS" -eq 0 ]
}
