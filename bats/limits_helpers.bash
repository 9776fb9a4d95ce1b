# Shared by the output-limit tests (close.sendq in bats/okfail_limits.bats,
# irc.limits.sendq in bats/irc_limits.bats), on top of helpers:
#
#   fc_slow_readers NAME:PORT:LOGIN...  clients that log in and read nothing
#                                (tests/slowread.py, 4 KiB receive buffer)
#                                until fc_slow_drain; waits until each is
#                                logged in
#   fc_push_until_gone SENDER FORMAT NAME...
#                                SENDER sends printf FORMAT NAME TEXT lines
#                                to every NAME until all of them are closed;
#                                fails when they are not, past the most the
#                                kernel can hold for them plus a deadline
#   fc_slow_drain                the readers read to the end, into
#                                $BATS_TEST_TMPDIR/slow/NAME
#   fc_slow_ends_with NAME LINE  best effort: if NAME got LINE at all, its
#                                output ends with it, on a line of its own
#
# Why pushing is counted in bytes, not lines: what the daemon writes to a
# reader that does not read first fills the kernel's send buffer, which
# Linux grows up to net.ipv4.tcp_wmem's maximum (4 MiB by default, and with
# BBR it gets there) before --sendq-hard sees a byte.

load helpers

FC_SLOW_PID=

teardown() {
	fc_slow_stop
	fc_stop
}

fc_slow_stop() {
	[ -n "$FC_SLOW_PID" ] || return 0
	kill "$FC_SLOW_PID" 2>/dev/null || true
	wait "$FC_SLOW_PID" 2>/dev/null || true
	FC_SLOW_PID=
}

fc_slow_readers() {
	local dir=$BATS_TEST_TMPDIR/slow spec
	mkdir -p "$dir"
	"$FC_PYTHON" "$BATS_TEST_DIRNAME/../tests/slowread.py" "$dir" "$@" 3>&- &
	FC_SLOW_PID=$!
	fc_until "[ -e '$dir/ready' ]" || return 1
	for spec in "$@"; do
		fc_until '[ "$(fc_worker_of_quick "'"${spec%%:*}"'")" != -1 ]' || return 1
	done
}

# fc_gone NAME...: none of the NAMEs is logged in (one status call)
fc_gone() {
	local users name
	users=$("$FORKCHATD" status --users -S "$FC_CTL") || return 1
	for name in "$@"; do
		[[ $users == *'"name":"'"$name"'"'* ]] && return 1
	done
	return 0
}

fc_push_until_gone() {
	local sender=$1 fmt=$2 text blob="" line name i wmem cap sent=0 round=0
	shift 2
	text=$(printf 'm%.0s' $(seq 1 400))
	for name in "$@"; do
		for i in $(seq 1 64); do
			# shellcheck disable=SC2059 # the format is the caller's
			printf -v line "$fmt" "$name" "$text"
			blob+=$line
		done
	done
	wmem=$(awk '{ print $3 }' /proc/sys/net/ipv4/tcp_wmem)
	cap=$((2 * wmem + 1048576)) # per reader: kernel buffer + queue, twice
	while [ $((sent / $#)) -lt $cap ]; do
		printf '%s' "$blob" >&"${FC_FD[$sender]}"
		sent=$((sent + ${#blob}))
		# the sender's own replies are read, so that it is never held
		while fc_read "$sender" 0.001; do :; done
		round=$((round + 1))
		[ $((round % 8)) = 0 ] && fc_gone "$@" && return 0
	done
	fc_until "fc_gone $*" ||
		fail "$* still logged in after $sent bytes pushed (kernel send buffer up to $wmem)"
}

fc_slow_drain() {
	touch "$BATS_TEST_TMPDIR/slow/drain"
	wait "$FC_SLOW_PID"
	FC_SLOW_PID=
}

fc_slow_ends_with() {
	local out=$BATS_TEST_TMPDIR/slow/$1 want=$'\n'$2 end
	grep -qF -- "$2" "$out" || return 0
	end=$(tail -c $((${#want} + 2)) "$out") # + \r\n or one byte + \n
	[[ ${end%$'\r'} == *"$want" ]] ||
		fail "$1 ended with: $(tail -c 80 "$out" | od -c | tail -3)"
}
