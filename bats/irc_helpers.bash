# IRC additions to bats/helpers.bash, for the bats/irc_*.bats files.
#
#   fc_start_irc [flags...]      fc_start with an irc listener too (IRCPORT),
#                                server name irc.test (IRCSRV)
#   fc_connect_irc NAME          open a raw IRC connection called NAME
#   fc_isend NAME LINE           send LINE + "\r\n"
#   fc_register NAME [NICK]      connect, NICK + USER, read the welcome burst
#                                and the JOIN of &all up to its 366
#   fc_register_only NAME [NICK] the same without the JOIN of &all
#   fc_pfx NICK                  NICK's prefix as fc_register made it
#   fc_iexpect NAME LINE         the next line (\r stripped) must be LINE
#   fc_iwait NAME REGEX          skip lines until one matches REGEX
#   fc_wait_all NAME LINE...     every LINE comes, in any order (deadline)
#   fc_file_wait FILE REGEX      a client's log/out file gets a matching line
#   fc_pane_wait SOCK REGEX      a tmux pane shows a matching line
#   fc_numeric_room NAME ROOM    numeric NAME logs in, creates and joins ROOM
#   fc_ijoin NAME CHANNEL        JOIN CHANNEL, read up to its 366

load helpers

IRCSRV=irc.test

fc_start_irc() {
	fc_start -l irc=127.0.0.1:0 --server-name "$IRCSRV" "$@"
	local deadline=$((SECONDS + 10))
	until grep -q 'listening dialect=irc ' "$FC_LOG"; do
		[ $SECONDS -lt $deadline ] || fail "no irc listener"
		sleep 0.02
	done
	IRCPORT=$(sed -n 's/.*listening dialect=irc addr=[^ ]*:\([0-9]*\) .*/\1/p' "$FC_LOG" | head -1)
	export IRCPORT
}

fc_connect_irc() {
	local fd
	exec {fd}<>"/dev/tcp/127.0.0.1/$IRCPORT" || fail "cannot connect $1"
	FC_FD[$1]=$fd
}

fc_isend() {
	printf '%s\r\n' "$2" >&"${FC_FD[$1]}"
}

fc_iexpect() {
	fc_expect "$1" "$2"
}

fc_iwait() {
	local name=$1 re=$2 deadline=$((SECONDS + FC_TIMEOUT)) seen=""
	while [ $SECONDS -le $deadline ]; do
		fc_read "$name" 1 || continue
		[[ $FC_LAST =~ $re ]] && return 0
		seen+="$FC_LAST | "
	done
	fail "$name: /$re/ never came (saw: $seen)"
}

# Register NAME (nick NICK, default NAME) and read the welcome burst up to
# the MOTD's end (with --irc-join-all 0 that is all of it).
fc_register_only() {
	local name=$1 nick=${2:-$1}
	fc_connect_irc "$name"
	fc_isend "$name" "NICK $nick"
	fc_isend "$name" "USER $nick 0 * :$nick test"
	fc_iexpect "$name" ":$IRCSRV 001 $nick :Welcome to the forkchat IRC Network, $nick"
	fc_iwait "$name" "^:$IRCSRV (376|422) $nick "
}

# Register NAME (nick NICK, default NAME) and read the whole welcome burst.
fc_register() {
	local name=$1 nick=${2:-$1}
	fc_register_only "$name" "$nick"
	fc_iexpect "$name" ":$(fc_pfx "$nick") JOIN &all"
	fc_iwait "$name" "^:$IRCSRV 366 $nick &all "
}

fc_pfx() {
	echo "$1!~$1@127.0.0.1"
}

fc_wait_all() {
	local name=$1 deadline=$((SECONDS + FC_TIMEOUT)) seen="" l i
	shift
	local -a want=("$@")
	while [ ${#want[@]} -gt 0 ] && [ $SECONDS -le $deadline ]; do
		fc_read "$name" 1 || continue
		for i in "${!want[@]}"; do
			if [ "$FC_LAST" = "${want[i]}" ]; then
				unset "want[i]"
				break
			fi
		done
		seen+="$FC_LAST | "
	done
	[ ${#want[@]} -eq 0 ] || fail "$name: '${want[*]}' never came (saw: $seen)"
}

fc_file_wait() {
	local file=$1 re=$2 deadline=$((SECONDS + ${3:-$FC_TIMEOUT}))
	until [ -f "$file" ] && grep -Eq -- "$re" "$file"; do
		if [ $SECONDS -ge $deadline ]; then
			echo "--- $file:" >&2
			cat "$file" >&2 2>/dev/null
			fail "$file: /$re/ never came"
		fi
		sleep 0.05
	done
}

fc_pane_wait() {
	local sock=$1 re=$2 deadline=$((SECONDS + FC_TIMEOUT))
	until tmux -S "$sock" capture-pane -p -t 0 2>/dev/null | grep -Eq -- "$re"; do
		if [ $SECONDS -ge $deadline ]; then
			tmux -S "$sock" capture-pane -p -t 0 >&2
			fail "tmux pane: /$re/ never came"
		fi
		sleep 0.05
	done
}

fc_iexpect_match() {
	fc_expect_match "$1" "$2"
}

# fc_numeric_room NAME ROOM    log NAME in over numeric, create ROOM, join it
fc_numeric_room() {
	fc_login_numeric "$1" || return 1
	fc_send "$1" "ROOM $2" || return 1
	fc_expect "$1" "200 Room $2 created" || return 1
	fc_send "$1" "JOIN $2" || return 1
	fc_expect "$1" "200 Joined $2"
}

# fc_ijoin NAME CHANNEL        IRC client NAME joins CHANNEL, read up to its 366
fc_ijoin() {
	fc_isend "$1" "JOIN $2" || return 1
	fc_iwait "$1" "^:$IRCSRV 366 [^ ]+ $2 "
}
