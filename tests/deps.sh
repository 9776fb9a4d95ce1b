#!/bin/sh
# Check (and, as root on Debian, install) everything the build and `make test`
# use. The rule: a package that a test needs goes here, so that `make test`
# passes on a fresh machine with nothing skipped; .ci/run adds only what its
# extra stages need (valgrind, lint tools); `make fuzz` checks its own (fuzz).

# build: compiler, make, the libraries (with "build", as `make run` calls
# it, only these); unit tests: cmocka
pkgs="build-essential libssl-dev libedit-dev libhiredis-dev"
cmds="cc make"
if [ "${1:-}" != build ]; then
pkgs="$pkgs libcmocka-dev"
# bats and its libraries (helpers.bash loads bats-support, bats-assert)
pkgs="$pkgs bats bats-assert bats-support"
# what the bats files run: openssl (certificates, s_client), ps (procps),
# python3 (test clients, tests/*.py), tmux (client_tty), mandoc and groff
# (man page lint and rendering), col (bsdextrautils), systemd-analyze
# (systemd: the unit check; nothing is started)
pkgs="$pkgs openssl procps python3 tmux mandoc groff-base bsdextrautils systemd"
# cluster mode: redis-server for its tests (libhiredis is a build need)
pkgs="$pkgs redis-server"
# ... and the commands they stand for, checked after the install
cmds="$cmds bats openssl ps python3 tmux mandoc groff col systemd-analyze"
# the Debian package and the metrics (bats/package.bats, daemon_metrics.bats)
pkgs="$pkgs dpkg-dev debhelper lintian prometheus adduser" cmds="$cmds dpkg-buildpackage lintian promtool adduser"
cmds="$cmds redis-server redis-cli"
# the irc dialect: real clients (bats/irc_clients.bats) and irctest's needs
pkgs="$pkgs irssi weechat-headless ii python3-pytest python3-filelock python3-ecdsa"
cmds="$cmds irssi weechat-headless ii"
fi

# fuzz (make fuzz, fuzz-smoke): clang and its libFuzzer and sanitizer
# runtimes, only these
if [ "${1:-}" = fuzz ]; then
	pkgs="clang libclang-rt-14-dev" cmds="clang"
fi

missing=""
if command -v dpkg-query >/dev/null; then
	for p in $pkgs; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing="$missing $p"
	done
fi
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "installing:$missing"
		apt-get update -qq &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null ||
			{ echo "apt-get install$missing failed" >&2; exit 1; }
	else
		echo "missing Debian packages:$missing" >&2
		echo "run: sudo apt-get install$missing" >&2
		exit 1
	fi
fi
absent=""
for c in $cmds; do
	command -v "$c" >/dev/null || absent="$absent $c"
done
if [ -n "$absent" ]; then
	echo "the tests need, and cannot find:$absent (see tests/deps.sh)" >&2
	exit 1
fi
exit 0
