#!/usr/bin/env bats
# Real IRC clients against the irc dialect (docs/IRC.md, "Clients tried"):
# ii (reads its out files), WeeChat headless (-r commands, a FIFO for more,
# reads its logger files) and irssi (driven in tmux, reads the pane). Each
# registers, joins #lobby, talks with an okfail user and a numeric user both
# ways (room and private), sees their presence and quits cleanly.

load irc_helpers

CLIENT_PIDS=()
TMUX_SOCK=

setup() {
	# the test users here answer no PING: a heartbeat beyond a test
	fc_start_irc --ping-interval 120 --pong-timeout 60
	fc_login alice
	fc_numeric_room nora lobby
}

teardown() {
	local p
	for p in "${CLIENT_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	[ -n "$TMUX_SOCK" ] && tmux -S "$TMUX_SOCK" kill-server 2>/dev/null
	fc_stop
}

# The okfail and numeric users see the IRC user log in ($1: its nick).
others_see_login() {
	fc_wait_for alice "JOINED $1"
	fc_wait_for nora "710 $1 login"
}

# Both see it log out again, and nobody is left under its name.
others_see_logout() {
	fc_wait_for alice "LEFT $1"
	fc_wait_for nora "711 $1 logout"
	fc_send alice "USERS"
	fc_expect alice "OK USERS nora:alice"
}

# The okfail and numeric users talk to the IRC user $1 (room and private).
others_talk_to() {
	fc_send nora "SEND lobby room hello from nora"
	fc_expect nora "200 Sent to lobby"
	fc_send nora "PRIV $1 private hello from nora"
	fc_expect nora "200 Sent to $1"
	fc_send alice "BCST broadcast from alice"
	fc_expect alice "OK BCST broadcast from alice"
	fc_send alice "PM $1 private hello from alice"
	fc_expect alice "OK PM $1 private hello from alice"
}

# What the IRC user $1 said (after others_talk_to's checks on its side).
others_heard_from() {
	fc_wait_all nora "702 lobby $1 room hello from $1" \
		"701 $1 private hello from $1" "703 $1 broadcast hello from $1"
	fc_wait_all alice "NPM $1 private hello from $1" \
		"BCST $1 broadcast hello from $1"
}

@test "clients: ii registers, joins #lobby, talks both ways with okfail and numeric users, sees presence, quits" {
	command -v ii >/dev/null || fail "ii is not installed (tests/deps.sh installs it)"
	local d=$BATS_TEST_TMPDIR/ii s
	ii -s 127.0.0.1 -p "$IRCPORT" -n iiuser -f "ii user" -i "$d" >"$d.log" 2>&1 &
	CLIENT_PIDS+=($!)
	s=$d/127.0.0.1
	fc_file_wait "$s/out" "Welcome to the forkchat IRC Network, iiuser"
	others_see_login iiuser
	echo "/j #lobby" >"$s/in"
	fc_file_wait "$s/#lobby/out" "iiuser.* has joined #lobby"
	fc_wait_for nora "712 lobby iiuser joined"
	others_talk_to iiuser
	fc_file_wait "$s/#lobby/out" "<nora> room hello from nora"
	fc_file_wait "$s/nora/out" "<nora> private hello from nora"
	fc_file_wait "$s/&all/out" "<alice> broadcast from alice"
	fc_file_wait "$s/alice/out" "<alice> private hello from alice"
	echo "room hello from iiuser" >"$s/#lobby/in"
	echo "/j nora private hello from iiuser" >"$s/in"
	echo "/j alice private hello from iiuser" >"$s/in"
	echo "broadcast hello from iiuser" >"$s/&all/in"
	others_heard_from iiuser
	# presence: a numeric user leaves the room, an okfail user logs out
	fc_send nora "LEVE lobby"
	fc_expect nora "200 Left lobby"
	fc_file_wait "$s/#lobby/out" "nora.* has left #lobby"
	fc_send alice "QUIT"
	fc_expect alice "OK GOODBYE"
	fc_file_wait "$s/out" "alice\\(alice@okfail\\) has quit"
	fc_login alice
	fc_file_wait "$s/&all/out" "alice.* has joined &all"
	echo "/q see you" >"$s/in"
	others_see_logout iiuser
}

# Send a command to the running WeeChat through its FIFO.
wee() {
	local fifo
	fifo=$(ls "$WEEDIR"/weechat_fifo_* 2>/dev/null | head -1)
	[ -p "$fifo" ] || fail "no WeeChat FIFO in $WEEDIR"
	printf '%s\n' "$1" >"$fifo"
}

@test "clients: WeeChat registers, joins #lobby, talks both ways with okfail and numeric users, sees presence, quits" {
	command -v weechat-headless >/dev/null || fail "weechat-headless is not installed"
	WEEDIR=$BATS_TEST_TMPDIR/wee
	local logs=$WEEDIR/logs
	mkdir -p "$WEEDIR"
	weechat-headless --dir "$WEEDIR" -r "/set logger.file.flush_delay 0;/set logger.file.mask \$plugin.\$name.weechatlog;/set fifo.file.enabled on;/server add fc 127.0.0.1/$IRCPORT -notls;/set irc.server.fc.nicks weeuser;/set irc.server.fc.username weeuser;/set irc.server.fc.autojoin #lobby;/set irc.server.fc.anti_flood_prio_high 0;/set irc.server.fc.anti_flood_prio_low 0;/connect fc" \
		>"$WEEDIR.out" 2>&1 </dev/null &
	CLIENT_PIDS+=($!)
	others_see_login weeuser
	fc_wait_for nora "712 lobby weeuser joined"
	fc_file_wait "$logs/irc.fc.#lobby.weechatlog" "weeuser.*has joined #lobby"
	others_talk_to weeuser
	fc_file_wait "$logs/irc.fc.#lobby.weechatlog" "	@?nora	room hello from nora"
	fc_file_wait "$logs/irc.fc.nora.weechatlog" "	nora	private hello from nora"
	fc_file_wait "$logs/irc.fc.&all.weechatlog" "	alice	broadcast from alice"
	fc_file_wait "$logs/irc.fc.alice.weechatlog" "	alice	private hello from alice"
	wee "irc.fc.#lobby *room hello from weeuser"
	wee "irc.server.fc */msg nora private hello from weeuser"
	wee "irc.server.fc */msg alice private hello from weeuser"
	wee "irc.server.fc */msg &all broadcast hello from weeuser"
	others_heard_from weeuser
	fc_send nora "LEVE lobby"
	fc_expect nora "200 Left lobby"
	fc_file_wait "$logs/irc.fc.#lobby.weechatlog" "nora.*has left #lobby"
	fc_send alice "QUIT"
	fc_expect alice "OK GOODBYE"
	fc_file_wait "$logs/irc.fc.&all.weechatlog" "alice.*has quit"
	fc_login alice
	fc_file_wait "$logs/irc.fc.&all.weechatlog" "alice.*has joined &all"
	wee "irc.server.fc */quit see you"
	others_see_logout weeuser
}

# Type a line into irssi.
irs() {
	tmux -S "$TMUX_SOCK" send-keys -t 0 -l "$1"
	tmux -S "$TMUX_SOCK" send-keys -t 0 Enter
}

@test "clients: irssi registers, joins #lobby, talks both ways with okfail and numeric users, sees presence, quits" {
	command -v irssi >/dev/null || fail "irssi is not installed"
	local home=$BATS_TEST_TMPDIR/irssi
	mkdir -p "$home"
	# queries open no window: private messages show in the status window;
	# no client-side flood delay (irssi's default sends 1 line per 2.2 s)
	cat >"$home/config" <<-'EOF'
		settings = {
		  core = { real_name = "irssi user"; user_name = "irsuser"; nick = "irsuser"; };
		  "irc/core" = { cmd_queue_speed = "0msec"; cmds_max_at_once = "100"; };
		  "fe-common/core" = { autocreate_query_level = "none"; autocreate_own_query = "no"; };
		};
	EOF
	TMUX_SOCK=$BATS_TEST_TMPDIR/tmux.sock
	tmux -S "$TMUX_SOCK" new-session -d -x 200 -y 50 \
		"TERM=screen irssi --home=$home -c 127.0.0.1 -p $IRCPORT -n irsuser"
	others_see_login irsuser
	fc_pane_wait "$TMUX_SOCK" "End of MOTD|MOTD File is missing"
	irs "/join #lobby"
	fc_wait_for nora "712 lobby irsuser joined"
	fc_pane_wait "$TMUX_SOCK" "irsuser .* has joined #lobby"
	fc_pane_wait "$TMUX_SOCK" "Total of 2 nicks"
	others_talk_to irsuser
	fc_pane_wait "$TMUX_SOCK" "<.?nora> room hello from nora"
	irs "/msg nora private hello from irsuser"
	irs "/msg alice private hello from irsuser"
	irs "/msg #lobby room hello from irsuser"
	irs "/msg &all broadcast hello from irsuser"
	others_heard_from irsuser
	fc_send nora "LEVE lobby"
	fc_expect nora "200 Left lobby"
	fc_pane_wait "$TMUX_SOCK" "nora .* has left #lobby"
	irs "/window 1"
	fc_pane_wait "$TMUX_SOCK" "\\[nora\\(nora@numeric\\)\\] private hello from nora"
	fc_pane_wait "$TMUX_SOCK" "\\[alice\\(alice@okfail\\)\\] private hello from alice"
	irs "/window goto &all"
	fc_pane_wait "$TMUX_SOCK" "<.?alice> broadcast from alice"
	fc_send alice "QUIT"
	fc_expect alice "OK GOODBYE"
	fc_pane_wait "$TMUX_SOCK" "alice .* has quit"
	fc_login alice
	fc_pane_wait "$TMUX_SOCK" "alice .* has joined &all"
	irs "/quit see you"
	others_see_logout irsuser
}
