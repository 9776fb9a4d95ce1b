#!/usr/bin/env bats
# Interactive mode driven through tmux: a delivery arriving while a line is
# half typed leaves the typed text intact; a slow transfer shows a progress
# bar in place; HELP is answered locally.

load client_helpers

setup() {
	command -v tmux >/dev/null || fail "tmux is not installed (tests/deps.sh installs it)"
	fc_start
	TMUX_SOCK=$BATS_TEST_TMPDIR/tmux.sock
}

teardown() {
	tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
	cl_stop_all
	fc_stop
}

tm() { tmux -S "$TMUX_SOCK" "$@"; }

# tm_wait REGEX [PANE]: wait until the pane shows a matching line.
tm_wait() {
	local re=$1 pane=${2:-fc} deadline=$((SECONDS + FC_TIMEOUT))
	until tm capture-pane -p -t "$pane" | grep -Eq -- "$re"; do
		if [ $SECONDS -ge $deadline ]; then
			tm capture-pane -p -t "$pane" >&2
			fail "pane never showed /$re/"
			return 1
		fi
		sleep 0.05
	done
}

tm_start() {
	tm new-session -d -s fc -x 150 -y 30 "$@"
}

@test "tty: a delivery while typing is printed above; the typed line survives" {
	tm_start "NO_COLOR=1 $FORKCHAT -P okfail -n ivy 127.0.0.1 $OKPORT"
	tm_wait "^OK IDENT ivy"
	tm send-keys -t fc -l "BCST half typ"
	tm_wait "^ivy> BCST half typ$"
	cl_start jon -P okfail -n jon 127.0.0.1 "$OKPORT"
	cl_send jon "BCST hello ivy"
	tm_wait "^<jon> hello ivy$"
	tm_wait "^ivy> BCST half typ$"
	tm send-keys -t fc -l "ed"
	tm send-keys -t fc Enter
	# the typed line is the command itself: BCST with the text "half typed"
	cl_wait jon "BCST ivy half typed"
	tm send-keys -t fc -l "help"
	tm send-keys -t fc Enter
	tm_wait "PRIVATE_MESSAGE <user> <text> +end-to-end encrypted"
	cl_end jon
}

@test "tty: a slow file transfer shows a progress bar on both sides" {
	local f=$BATS_TEST_TMPDIR/slow.bin
	head -c 600000 /dev/urandom >"$f"
	mkdir -p "$BATS_TEST_TMPDIR/dl"
	cl_relay_start "$NUMPORT" --rate 200000
	tm_start "NO_COLOR=1 $FORKCHAT -P numeric -n rita --download-dir $BATS_TEST_TMPDIR/dl 127.0.0.1 $RELAYPORT"
	tm_wait "^200 Welcome rita!"
	tm split-window -t fc "NO_COLOR=1 $FORKCHAT -P numeric -n sam 127.0.0.1 $RELAYPORT"
	tm_wait "sam logged in" fc.0
	tm send-keys -t fc.1 -l "FILE rita $f"
	tm send-keys -t fc.1 Enter
	local deadline=$((SECONDS + 10))
	until tm capture-pane -p -t fc.1 | grep -Eq '\[send slow.bin [#.]+ +[0-9]+% .*MiB/s ETA'; do
		[ $SECONDS -lt $deadline ] || fail "no sender progress bar"
		sleep 0.05
	done
	until tm capture-pane -p -t fc.0 | grep -Eq '\[recv slow.bin #*\.+ +[0-9]+% .*ETA'; do
		[ $SECONDS -lt $deadline ] || fail "no receiver progress bar"
		sleep 0.05
	done
	# the 714 verdict, as the client shows it
	until tm capture-pane -p -t fc.1 | grep -Eq "file slow.bin delivered to rita"; do
		[ $SECONDS -lt $deadline ] || fail "transfer did not finish"
		sleep 0.05
	done
	until cmp -s "$f" "$BATS_TEST_TMPDIR/dl/slow.bin"; do
		[ $SECONDS -lt $deadline ] || fail "file not saved"
		sleep 0.05
	done
	# the bar is gone once done, the prompt is back
	tm capture-pane -p -t fc.1 | grep -Eq '^sam> ?$'
}
