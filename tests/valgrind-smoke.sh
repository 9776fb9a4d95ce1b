#!/usr/bin/env bash
# One smoke run of forkchatd under valgrind memcheck, master and workers:
# clients of both dialects chat, send a file and quit, then SIGTERM. Fails on
# any memcheck error or definite/indirect leak in any process.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind missing"; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
valgrind --quiet --trace-children=yes --leak-check=full \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
	--log-file="$dir/vg.%p" \
	bin/forkchatd -f -w 2 -l okfail=127.0.0.1:0 -l numeric=127.0.0.1:0 \
	--spool-dir "$dir/spool" --control-socket "$dir/ctl" 2>"$dir/log" &
pid=$!
for _ in $(seq 300); do
	grep -q 'listening dialect=numeric' "$dir/log" 2>/dev/null && break
	sleep 0.1
done
okp=$(sed -n 's/.*dialect=okfail addr=[^ ]*:\([0-9]*\) .*/\1/p' "$dir/log")
nump=$(sed -n 's/.*dialect=numeric addr=[^ ]*:\([0-9]*\) .*/\1/p' "$dir/log")
python3 - "$okp" "$nump" <<'PY'
import socket, sys, time
okp, nump = int(sys.argv[1]), int(sys.argv[2])
def c(port, first):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    f = s.makefile("rb")
    s.sendall(first); return s, f
a, af = c(okp, b"IDENT alice\n"); af.readline(); af.readline()
b, bf = c(nump, b"USER bobby\nROOM r\nJOIN r\n")
for _ in range(3): bf.readline()
a.sendall(b"BCST hello\nPM bobby hi\nPM_PUBKEY abc\nUSERS\n")
b.sendall(b"PRIV alice yo\nSEND r hi\nFILE alice f 3\n")
time.sleep(0.5)
b.sendall(b"QUIT\n"); a.sendall(b"\x01bad\nQUIT\n")
time.sleep(0.5)
PY
kill -TERM $pid
wait $pid || { echo "valgrind: errors in the master (exit $?)"; cat "$dir"/vg.*; exit 1; }
bad=0
for f in "$dir"/vg.*; do
	if [ -s "$f" ]; then echo "== $f"; cat "$f"; bad=1; fi
done
[ $bad = 0 ] && echo "valgrind smoke: no errors, no leaks"
exit $bad
