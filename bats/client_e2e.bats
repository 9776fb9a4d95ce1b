#!/usr/bin/env bats
# okfail end-to-end encryption between real clients, through a recording
# relay that proves the plaintext never crossed the wire (docs/CRYPTO.md).

load client_helpers

setup() {
	fc_start
	cl_relay_start "$OKPORT"
}

wire_has() {
	cat "$BATS_TEST_TMPDIR"/relay.*.c2s "$BATS_TEST_TMPDIR"/relay.*.s2c |
		grep -c -F -- "$1" || true
}

@test "e2e: PRIVATE_MESSAGE both ways is decrypted by the peer, ciphertext only on the wire" {
	cl_start alice -P okfail -n alice 127.0.0.1 "$RELAYPORT"
	cl_wait alice "OK IDENT alice"
	cl_start bob -P okfail -n bob 127.0.0.1 "$RELAYPORT"
	cl_wait bob "OK IDENT bob"
	cl_send alice "PRIVATE_MESSAGE bob attack at dawn"
	cl_wait alice "OK PRIVATE_MESSAGE bob attack at dawn"
	cl_wait bob "RECEIVE_PRIVATE_MSG alice attack at dawn"
	cl_send bob "private_message alice retreat at noon"
	cl_wait bob "OK PRIVATE_MESSAGE alice retreat at noon"
	cl_wait alice "RECEIVE_PRIVATE_MSG bob retreat at noon"
	cl_send alice "PM bob plain as day"
	cl_wait bob "NPM alice plain as day"
	# KEYS: each side's own fingerprint is what the other pinned
	cl_send alice "KEYS"
	cl_send bob "keys"
	cl_wait_match alice "^KEY bob [0-9a-f:]{39}$"
	cl_wait_match bob "^KEY alice [0-9a-f:]{39}$"
	[ "$(grep '^KEY alice ' "$(cl_out alice)")" = "$(grep '^KEY alice ' "$(cl_out bob)")" ]
	[ "$(grep '^KEY bob ' "$(cl_out alice)")" = "$(grep '^KEY bob ' "$(cl_out bob)")" ]
	cl_end alice
	[ "$CL_STATUS" -eq 0 ]
	cl_end bob
	[ "$CL_STATUS" -eq 0 ]
	[ "$(wire_has 'attack at dawn')" -eq 0 ]
	[ "$(wire_has 'retreat at noon')" -eq 0 ]
	[ "$(wire_has 'plain as day')" -gt 0 ] # the relay does see plain PMs
	[ "$(wire_has 'PRIVATE_MESSAGE bob ')" -eq 2 ]  # sent + echoed
	[ "$(wire_has 'RECEIVE_PRIVATE_MSG alice ')" -eq 1 ]
	[ "$(wire_has 'PM_SESSIONKEY bob ')" -eq 2 ]   # sent once, delivered once
	[ "$(wire_has 'PM_SESSIONKEY alice ')" -eq 2 ]
	[ "$(wire_has 'PM_PUBKEY ')" -ge 2 ]
	[ "$(wire_has 'OK PM_PUBKEY')" -ge 2 ]   # acks, as seed 000 shows
}

@test "e2e: a message to a peer whose key has not come yet waits for it; none in 5 s is an error" {
	cl_start alice -P okfail -n alice 127.0.0.1 "$RELAYPORT"
	cl_wait alice "OK IDENT alice"
	cl_send alice "PRIVATE_MESSAGE bob early bird"
	cl_start bob -P okfail -n bob 127.0.0.1 "$RELAYPORT"
	cl_wait bob "RECEIVE_PRIVATE_MSG alice early bird"
	cl_send alice "PRIVATE_MESSAGE nobody lost words"
	cl_wait_match alice "^! no public key for nobody" 8
	cl_send alice "BCST after"
	cl_wait alice "OK BCST after"
	cl_end alice
	[ "$CL_STATUS" -eq 0 ]
	[ "$(wire_has 'lost words')" -eq 0 ]
	[ "$(wire_has 'early bird')" -eq 0 ]
}

@test "e2e: a peer leaving erases its session key; a new one is exchanged when it returns" {
	cl_start alice -P okfail -n alice 127.0.0.1 "$RELAYPORT"
	cl_wait alice "OK IDENT alice"
	cl_start bob -P okfail -n bob 127.0.0.1 "$RELAYPORT"
	cl_wait bob "OK IDENT bob"
	cl_send alice "PRIVATE_MESSAGE bob one"
	cl_send alice "PRIVATE_MESSAGE bob two"
	cl_wait bob "RECEIVE_PRIVATE_MSG alice two"
	[ "$(grep -c '^PM_SESSIONKEY bob ' "$BATS_TEST_TMPDIR/relay.0.c2s")" -eq 1 ]
	cl_send bob "QUIT"
	cl_wait_exit bob
	[ "$CL_STATUS" -eq 0 ]
	cl_wait alice "LEFT bob"
	cl_start bob2 -P okfail -n bob 127.0.0.1 "$RELAYPORT"
	cl_wait bob2 "OK IDENT bob"
	cl_send alice "PRIVATE_MESSAGE bob three"
	cl_wait bob2 "RECEIVE_PRIVATE_MSG alice three"
	[ "$(grep -c '^PM_SESSIONKEY bob ' "$BATS_TEST_TMPDIR/relay.0.c2s")" -eq 2 ]
	# the new bob never saw the old messages, and could not have read them
	! grep -q "alice one\|alice two" "$(cl_out bob2)"
	cl_end alice
	[ "$CL_STATUS" -eq 0 ]
}

@test "e2e: PRIVATE_MESSAGE to a numeric user is refused by the server, nothing readable sent" {
	cl_start alice -P okfail -n alice 127.0.0.1 "$RELAYPORT"
	cl_wait alice "OK IDENT alice"
	cl_start nora -P numeric -n nora 127.0.0.1 "$NUMPORT"
	cl_wait nora "200 Welcome nora!"
	cl_send alice "PRIVATE_MESSAGE nora numeric secret"
	cl_wait_match alice "^! no public key for nora" 8
	cl_send alice "PRIVATE_MESSAGE alice self"
	cl_wait_match alice "^! cannot send a private message to yourself"
	cl_end alice
	[ "$(wire_has 'numeric secret')" -eq 0 ]
}
