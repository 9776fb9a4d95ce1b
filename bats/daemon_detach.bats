#!/usr/bin/env bats
# Daemon life (forkchatd(8)): detaching, the locked pidfile, a second
# instance refused, the privilege drop, the control socket and
# `forkchatd status` in text and JSON.

bats_require_minimum_version 1.5.0
load helpers

teardown() {
	fc_detach_stop
	fc_stop
	[ -z "${PRIVDIR:-}" ] || rm -rf "$PRIVDIR"
}

@test "detach: the parent returns 0 once serving; pidfile names a session leader's child" {
	fc_detach_vars
	run -0 --separate-stderr fc_detach_start
	[ -z "$output" ] && [ -z "$stderr" ]
	[ -s "$FC_DPIDFILE" ] || fail "no pidfile"
	# serving as soon as the command returned: both ports are logged
	local port=$(fc_port_of okfail "$FC_DLOG")
	[ -n "$port" ] || fail "no okfail port in $FC_DLOG"
	FC_DPID=$(cat "$FC_DPIDFILE")
	kill -0 "$FC_DPID"
	# double fork: not a session leader, its own session, no terminal,
	# reparented away from us, umask 027, cwd /
	local pid sid pgid ppid tty
	read -r pid ppid pgid sid tty < <(ps -o pid=,ppid=,pgid=,sid=,tty= -p "$FC_DPID")
	[ "$sid" != "$FC_DPID" ] || fail "the daemon is a session leader"
	[ "$sid" != "$(ps -o sid= -p $$ | tr -d ' ')" ] || fail "still in our session"
	[ "$tty" = "?" ] || fail "has a terminal: $tty"
	[ "$ppid" != $$ ] || fail "still our child"
	grep -q '^Umask:[[:space:]]*0027$' "/proc/$FC_DPID/status"
	[ "$(readlink "/proc/$FC_DPID/cwd")" = / ]
	[ "$(readlink "/proc/$FC_DPID/fd/0")" = /dev/null ]
	[ "$(readlink "/proc/$FC_DPID/fd/1")" = /dev/null ]
	[ "$(readlink "/proc/$FC_DPID/fd/2")" = /dev/null ]
	# and it serves
	exec {fd}<>"/dev/tcp/127.0.0.1/$port"
	IFS= read -r -t 5 -u $fd greet
	exec {fd}>&-
	[ "$greet" = "INIT Welcome to the server!" ]
}

@test "detach: a second instance with the same pidfile exits 1 'another forkchatd holds it'" {
	fc_detach_start
	[ -n "$FC_DPID" ]
	local first=$FC_DPID
	# foreground or not, the second one refuses before binding anything
	run -1 --separate-stderr "$FORKCHATD" -w 1 -l okfail=127.0.0.1:0 \
		-l numeric=127.0.0.1:0 --control-socket "$BATS_TEST_TMPDIR/second.sock" \
		--pidfile "$FC_DPIDFILE"
	[ "$stderr" = "forkchatd: $FC_DPIDFILE: another forkchatd holds it" ]
	run -1 --separate-stderr "$FORKCHATD" -f -w 1 -l okfail=127.0.0.1:0 \
		-l numeric=127.0.0.1:0 --control-socket "$BATS_TEST_TMPDIR/second.sock" \
		--pidfile "$FC_DPIDFILE"
	[ "$stderr" = "forkchatd: $FC_DPIDFILE: another forkchatd holds it" ]
	[ ! -e "$BATS_TEST_TMPDIR/second.sock" ]
	# the pidfile still names the first one, which still runs
	[ "$(cat "$FC_DPIDFILE")" = "$first" ]
	kill -0 "$first"
	# a clean stop removes the pidfile and the control socket
	fc_detach_stop
	[ ! -e "$FC_DPIDFILE" ] || fail "pidfile left behind"
	[ ! -e "$FC_DCTL" ] || fail "control socket left behind"
}

@test "status: the text form, the JSON form, the users; socket mode 0600" {
	fc_start
	[ "$(stat -c %a "$FC_CTL")" = 600 ]
	[ -S "$FC_CTL" ]
	fc_login alice
	fc_login_numeric bob
	# the workers publish their counters once per loop pass
	fc_until '[[ $("$FORKCHATD" status -S "$FC_CTL") == *"clients 2,"* ]]'
	run -0 "$FORKCHATD" status -S "$FC_CTL"
	[[ ${lines[0]} =~ ^forkchatd\ pid\ $FC_PID,\ up\ [0-9]+s$ ]] || fail "line 0: ${lines[0]}"
	assert_line --regexp '^users 2, rooms 0, clients 2, active files 0$'
	assert_line --regexp '^worker 0 pid [0-9]+ up clients [0-9]+ sendq [0-9]+ restarts 0$'
	assert_line --regexp '^worker 2 pid [0-9]+ up '
	run -0 "$FORKCHATD" status --json -S "$FC_CTL"
	echo "$output" | "$FC_PY" -c '
import json, sys
s = json.load(sys.stdin)
assert s["pid"] == int(sys.argv[1]), s
assert s["users"] == 2 and s["clients"] == 2, s
assert len(s["workers"]) == 3, s
for w in s["workers"]:
    assert w["up"] is True and w["pid"] > 0 and w["restarts"] == 0, w
assert sum(w["clients"] for w in s["workers"]) == 2, s
' "$FC_PID" || fail "bad JSON: $output"
	run -0 "$FORKCHATD" status --users -S "$FC_CTL"
	echo "$output" | "$FC_PY" -c '
import json, sys
u = {x["name"]: x for x in json.load(sys.stdin)}
assert set(u) == {"alice", "bob"}, u
assert u["alice"]["dialect"] == "okfail" and u["bob"]["dialect"] == "numeric", u
' || fail "bad users JSON: $output"
	# a socket nobody answers: exit 1, one line
	run -1 --separate-stderr "$FORKCHATD" status -S "$BATS_TEST_TMPDIR/none.sock"
	[[ $stderr == "forkchatd: cannot reach $BATS_TEST_TMPDIR/none.sock: "* ]]
	run -2 --separate-stderr "$FORKCHATD" status --bogus
}

@test "status: -c FILE finds the control socket through the config file" {
	printf 'control-socket = %s\n' "$BATS_TEST_TMPDIR/ctl.sock" >"$BATS_TEST_TMPDIR/c.conf"
	fc_start
	run -0 "$FORKCHATD" status --json -c "$BATS_TEST_TMPDIR/c.conf"
	[[ $output == "{\"pid\":$FC_PID,"* ]]
}

@test "privdrop: started as root with --user nobody, master and workers run as nobody" {
	[ "$(id -u)" = 0 ] || skip "needs root"
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	local nuid ngid
	nuid=$(id -u nobody)
	ngid=$(id -g nobody)
	# the control socket is made after the drop: give nobody a directory
	PRIVDIR=$(mktemp -d /tmp/forkchatd-priv.XXXXXX)
	chmod 1777 "$PRIVDIR"
	# a privileged port proves the bind happened before the drop
	local low
	low=$("$FC_PY" -c '
import random, socket
for p in random.sample(range(600, 1024), 424):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        s.close()')
	[ -n "$low" ] || skip "no free port below 1024"
	FC_DCTL=$PRIVDIR/ctl.sock
	fc_detach_vars
	run -0 --separate-stderr fc_detach_start --user nobody -l "numeric=127.0.0.1:$low"
	FC_DPID=$(cat "$FC_DPIDFILE")
	grep -q "listening dialect=numeric addr=127.0.0.1:$low " "$FC_DLOG"
	# the master
	grep -qE "^Uid:[[:space:]]+$nuid[[:space:]]+$nuid[[:space:]]+$nuid[[:space:]]+$nuid$" "/proc/$FC_DPID/status" ||
		fail "master: $(grep -E '^(Uid|Gid)' /proc/$FC_DPID/status)"
	grep -qE "^Gid:[[:space:]]+$ngid[[:space:]]+$ngid[[:space:]]+$ngid[[:space:]]+$ngid$" "/proc/$FC_DPID/status"
	grep -qE "^Groups:[[:space:]]*$ngid[[:space:]]*$" "/proc/$FC_DPID/status" ||
		fail "master groups: $(grep Groups /proc/$FC_DPID/status)"
	# every worker, found through the status socket
	run -0 "$FORKCHATD" status --json -S "$FC_DCTL"
	local pids
	pids=$(echo "$output" | "$FC_PY" -c 'import json,sys; print(" ".join(str(w["pid"]) for w in json.load(sys.stdin)["workers"]))')
	[ "$(echo $pids | wc -w)" = 3 ] || fail "workers: $pids"
	local p
	for p in $pids; do
		grep -qE "^Uid:[[:space:]]+$nuid[[:space:]]+$nuid[[:space:]]+$nuid[[:space:]]+$nuid$" "/proc/$p/status" ||
			fail "worker $p: $(grep Uid /proc/$p/status)"
		grep -qE "^Gid:[[:space:]]+$ngid[[:space:]]+$ngid[[:space:]]+$ngid[[:space:]]+$ngid$" "/proc/$p/status"
		grep -qE "^Groups:[[:space:]]*$ngid[[:space:]]*$" "/proc/$p/status"
		grep -qE '^CapEff:[[:space:]]+0+$' "/proc/$p/status"
	done
	[ "$(stat -c '%a %U' "$FC_DCTL")" = "600 nobody" ]
	# and it serves on the low port
	exec {fd}<>"/dev/tcp/127.0.0.1/$low"
	printf 'USER carol\n' >&$fd
	IFS= read -r -t 5 -u $fd reply
	exec {fd}>&-
	[ "$reply" = "200 Welcome carol!" ]
}

@test "privdrop: an unknown --user is one line on stderr at start, exit 2" {
	fc_detach_vars
	run -2 --separate-stderr fc_detach_start --user no_such_user_xyz
	[ "$stderr" = "forkchatd: no such user 'no_such_user_xyz'" ]
	[ ! -s "$FC_DPIDFILE" ]
	run -2 --separate-stderr "$FORKCHATD" -t --user no_such_user_xyz
}
