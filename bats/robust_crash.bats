#!/usr/bin/env bats
# Robustness against process deaths (issue 6): a kill -9 storm of workers,
# a SIGSTOPped worker, a killed master, and a graceful SIGTERM.

load helpers

setup() {
	fc_tools
	fc_san_lean
}

# Workers' pids from the status (no master).
worker_pids() {
	fc_status_json | python3 -c 'import json,sys; print(" ".join(str(w["pid"]) for w in json.load(sys.stdin)["workers"] if w["pid"]))'
}

@test "robust: kill -9 storm: 30 kills of random workers during churn, then clean USERS, no ghosts, nothing lost on surviving workers" {
	# five workers: the persistent observers live on 0 and 1, the killer
	# hits 2, 3 and 4 while churn clients land everywhere
	FC_WORKERS=5 fc_start --flood-rate 0 --max-per-ip 0
	local out
	out=$(python3 "$FCCHAOS" storm --ok "$OKPORT" --num "$NUMPORT" --ctl "$FC_CTL" \
		--safe 0,1 --targets 2,3,4 --kills 30 --lanes "$(fc_scale 12 6)" --seconds 120 \
		--rss-limit-kb "$(fc_scale 65536 262144)")
	echo "storm: $out" >&3
	[ "$(fc_kv ok "$out")" = 1 ] || fail "$out"
	[ "$(fc_kv kills "$out")" -ge 30 ] || fail "$out"
	# after the storm: registry consistent, every worker up
	fc_until '[ "$(fc_worker_clients | wc -w)" = 5 ]'
	run "$FORKCHATD" status --json -S "$FC_CTL"
	assert_success
	kill -0 "$FC_PID"
}

@test "robust: SIGSTOP of a worker: the watchdog kills and replaces it within ~6 s, its users are announced gone, others chat on" {
	fc_start --ping-interval 120
	fc_login alice
	local w=$(fc_worker_of alice)
	fc_login_avoid bob okfail "$w"
	fc_expect alice "JOINED bob"
	fc_login_avoid carol numeric "$w"
	fc_expect alice "JOINED carol"
	# alice has read all it was sent: the next thing it sees is the close
	local pid=$(fc_worker_field "$w" pid) restarts=$(fc_worker_field "$w" restarts)
	local t0=$(fc_now_ms)
	kill -STOP "$pid"
	FC_TIMEOUT=10 fc_until '[ "$(fc_worker_field '"$w"' restarts)" -gt '"$restarts"' ]'
	local took=$(($(fc_now_ms) - t0))
	echo "stopped worker replaced after ${took} ms" >&3
	[ $took -lt 7500 ] || fail "watchdog took ${took} ms"
	FC_TIMEOUT=10 fc_wait_for bob "LEFT alice"
	FC_TIMEOUT=10 fc_wait_for carol "711 alice logout"
	# the stopped process is dead and reaped, a new one serves the slot
	fc_until '! kill -0 '"$pid"' 2>/dev/null'
	FC_TIMEOUT=10 fc_until '[ "$(fc_worker_field '"$w"' up)" = true ] && [ "$(fc_worker_field '"$w"' pid)" != '"$pid"' ]'
	fc_expect_closed alice
	# the others chat on
	fc_send bob "PM carol still here"
	fc_expect bob "OK PM carol still here"
	fc_expect carol "701 bob still here"
	fc_send carol "PRIV bob yes"
	fc_expect carol "200 Sent to bob"
	fc_expect bob "NPM carol yes"
	# alice can come back at once
	fc_login alice
	fc_wait_for bob "JOINED alice"
}

@test "robust: kill -9 of the master: every worker exits within a few seconds, okfail clients are closed" {
	fc_start
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_login_numeric carol
	fc_expect alice "JOINED carol"
	fc_expect bob "JOINED carol"
	local workers=$(worker_pids) master=$FC_PID
	[ -n "$workers" ]
	kill -KILL "$master"
	wait "$master" 2>/dev/null || true
	FC_PID=
	local t0=$(fc_now_ms)
	FC_TIMEOUT=8 fc_until '! fc_alive_any '"$workers"
	echo "workers gone $(($(fc_now_ms) - t0)) ms after the master's death" >&3
	# close.shutdown: the users who leave are not announced, nothing comes
	# before the DSCN (okfail) or the close (numeric)
	FC_TIMEOUT=8 fc_expect alice "DSCN Server shutting down"
	fc_expect_closed alice
	FC_TIMEOUT=8 fc_expect bob "DSCN Server shutting down"
	fc_expect_closed bob
	fc_expect_closed carol
	# nothing left in /dev/shm for this daemon
	! ls /dev/shm/forkchatd."$master".* 2>/dev/null
}

@test "robust: graceful shutdown: SIGTERM with clients -> DSCN Server shutting down, exit 0, no shm, no workers left" {
	fc_start
	fc_login alice
	fc_login_numeric bob
	fc_connect carol okfail
	fc_expect carol "INIT Welcome to the server!"
	fc_connect dave numeric
	local workers=$(worker_pids) master=$FC_PID
	kill -TERM "$master"
	fc_wait_for alice "DSCN Server shutting down"
	fc_expect_closed alice
	fc_wait_for carol "DSCN Server shutting down"
	fc_expect_closed carol
	fc_expect_closed bob
	fc_expect_closed dave
	local rc=0
	wait "$master" || rc=$?
	FC_PID=
	[ $rc = 0 ] || fail "daemon exited with status $rc: $(tail -5 "$FC_LOG")"
	FC_TIMEOUT=5 fc_until '! fc_alive_any '"$workers"
	! ls /dev/shm/forkchatd."$master".* 2>/dev/null
	[ ! -e "$FC_CTL" ] || fail "control socket left behind"
	[ ! -e "$FC_PIDFILE" ] || fail "pidfile left behind"
}
