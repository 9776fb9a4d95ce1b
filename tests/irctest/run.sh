#!/bin/sh
# Run irctest (../shared/irctest, or $IRCTEST_DIR) against one server with
# the selection irctest uses for ngircd. Usage: run.sh CONTROLLER [pytest args]
# CONTROLLER is forkchatd (tests/irctest/forkchatd.py, with the deselections
# of deselected.txt) or a stock one (ngircd, inspircd). Prints the summary
# line "irctest CONTROLLER: N passed ..." last; exits non-zero on a failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
dir=${IRCTEST_DIR:-$top/../shared/irctest}
ctl=$1
shift
py=""
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import pytest, filelock, ecdsa' 2>/dev/null; then py=$p; break; fi
done
if [ ! -d "$dir/irctest" ]; then
	echo "irctest $ctl: skipped ($dir not found)"
	exit 0
fi
if [ -z "$py" ]; then
	echo "irctest $ctl: needs python3-pytest python3-filelock python3-ecdsa" >&2
	exit 1
fi
set --  "$@"
if [ "$ctl" = forkchatd ]; then
	module=forkchatd
	export FORKCHATD="${FORKCHATD:-$top/bin/forkchatd}"
	if [ "${IRCTEST_ALL:-0}" != 1 ]; then
		# one "<test id> <reason>" per line; # starts a comment
		for t in $(sed -n 's/^\([^#[:space:]][^[:space:]]*\).*/\1/p' "$here/deselected.txt"); do
			set -- "$@" --deselect "$t"
		done
	fi
else
	module=irctest.controllers.$ctl
fi
out=$(mktemp)
sidf=$(mktemp)
cd "$dir" || exit 1
# pytest runs in a session of its own: a test whose setUp fails after the
# server started never kills it (unittest skips tearDown), so whatever is
# left in that session when pytest ends is ours to stop
PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}" PYTHONDONTWRITEBYTECODE=1 \
	setsid -w sh -c 'echo $$ >"$0"; exec "$@"' "$sidf" \
	"$py" -m pytest -p no:cacheprovider -q -rfE --controller "$module" \
	-m 'not services' -k 'not Ergo and not deprecated and not strict' \
	"$@" irctest/server_tests/ >"$out" 2>&1
rc=$?
sid=$(cat "$sidf")
rm -f "$sidf"
if [ -n "$sid" ] && pgrep -s "$sid" >/dev/null; then
	echo "irctest $ctl: stopping $(pgrep -c -s "$sid") process(es) its tests left behind"
	pkill -TERM -s "$sid"
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		pgrep -s "$sid" >/dev/null || break
		sleep 0.5
	done
	pkill -KILL -s "$sid" 2>/dev/null
fi
grep -E '^(FAILED|ERROR) ' "$out"
summary=$(tail -n 1 "$out" | sed 's/^=* *//; s/ *=*$//')
[ "$rc" -le 1 ] || tail -n 30 "$out"
rm -f "$out"
echo "irctest $ctl: $summary"
exit "$rc"
