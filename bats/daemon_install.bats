#!/usr/bin/env bats
# `make install` (README.md, interface.md "Build and layout"), the systemd
# unit and the manual pages.

bats_require_minimum_version 1.5.0
load helpers

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)

teardown() {
	:
}

# Run `make install` into DEST. When the client is not there yet
# (bin/forkchat, client/forkchat.1 belong to another part of the project),
# install from a copy of the tree with stand-ins for those two files, so that
# the daemon's part of the target is still checked.
do_install() {
	DEST=$BATS_TEST_TMPDIR/x
	local src=$TOP
	if [ ! -x "$TOP/bin/forkchat" ] || [ ! -f "$TOP/client/forkchat.1" ]; then
		src=$BATS_TEST_TMPDIR/tree
		mkdir -p "$src"
		cp -a "$TOP/." "$src/"
		rm -rf "$src/.git"
		[ -x "$src/bin/forkchat" ] || printf '#!/bin/sh\nexit 0\n' >"$src/bin/forkchat"
		chmod 755 "$src/bin/forkchat"
		[ -f "$src/client/forkchat.1" ] ||
			printf '.TH FORKCHAT 1\n.SH NAME\nforkchat \\- stand-in\n' >"$src/client/forkchat.1"
		echo "# client not built: installing from a copy with stand-ins" >&3
	fi
	run -0 make -C "$src" -s install DESTDIR="$DEST" PREFIX=/usr
}

@test "install: make install DESTDIR=... PREFIX=/usr lays out the tree" {
	do_install
	local f
	for f in usr/sbin/forkchatd usr/bin/forkchat; do
		[ -x "$DEST/$f" ] || fail "$f missing or not executable"
	done
	for f in usr/share/man/man8/forkchatd.8 usr/share/man/man5/forkchatd.conf.5 \
		usr/share/man/man1/forkchat.1 etc/forkchat/forkchatd.conf.sample \
		usr/lib/systemd/system/forkchatd.service; do
		[ -s "$DEST/$f" ] || fail "$f missing or empty"
		[ "$(stat -c %a "$DEST/$f")" = 644 ] || fail "$f: mode $(stat -c %a "$DEST/$f")"
	done
	"$DEST/usr/sbin/forkchatd" -V
	cmp "$DEST/etc/forkchat/forkchatd.conf.sample" "$TOP/contrib/forkchatd.conf"
	# the unit's placeholders are filled in
	local unit=$DEST/usr/lib/systemd/system/forkchatd.service
	! grep -q '@[A-Z]*@' "$unit" || fail "placeholders left: $(grep '@[A-Z]*@' "$unit")"
	grep -q '^ExecStart=/usr/sbin/forkchatd -c /etc/forkchat/forkchatd.conf ' "$unit"
	grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$unit"
	# the sample config is a valid config
	run -0 "$DEST/usr/sbin/forkchatd" -t -c "$DEST/etc/forkchat/forkchatd.conf.sample"
}

@test "install: the systemd unit is hardened as promised and verifies" {
	local unit=$TOP/contrib/forkchatd.service.in k
	for k in 'Type=forking' 'PIDFile=/run/forkchatd/forkchatd.pid' \
		'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' \
		'PrivateTmp=yes' 'PrivateDevices=yes' 'ProtectKernelTunables=yes' \
		'ProtectKernelModules=yes' 'ProtectKernelLogs=yes' \
		'ProtectControlGroups=yes' \
		'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
		'RestrictNamespaces=yes' 'LockPersonality=yes' \
		'MemoryDenyWriteExecute=yes' 'RestrictRealtime=yes' \
		'SystemCallArchitectures=native' \
		'CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_SETUID CAP_SETGID' \
		'RuntimeDirectory=forkchatd' 'ExecReload=/bin/kill -HUP $MAINPID'; do
		grep -qxF "$k" "$unit" || fail "unit lacks '$k'"
	done
	# the pidfile and control socket it passes live in the RuntimeDirectory
	grep -q -- '--pidfile /run/forkchatd/forkchatd.pid' "$unit"
	grep -q -- '--control-socket /run/forkchatd/' "$unit"
	command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"
	# verify a copy whose ExecStart points at the binary built here
	mkdir -p "$BATS_TEST_TMPDIR/unit"
	sed "s|@SBINDIR@|$TOP/bin|g; s|@SYSCONFDIR@|/etc|g" "$unit" \
		>"$BATS_TEST_TMPDIR/unit/forkchatd.service"
	run -0 --separate-stderr systemd-analyze verify --man=no \
		"$BATS_TEST_TMPDIR/unit/forkchatd.service"
	[ -z "$stderr" ] || fail "systemd-analyze: $stderr"
}

@test "man: forkchatd.8 and forkchatd.conf.5 lint clean (mandoc, groff)" {
	command -v mandoc >/dev/null || skip "mandoc is not installed (apt-get install mandoc)"
	local page macros
	for page in "$TOP/master/forkchatd.8" "$TOP/master/forkchatd.conf.5"; do
		[ -s "$page" ] || fail "$page missing"
		run -0 --separate-stderr mandoc -T lint -W warning "$page"
		[ -z "$output$stderr" ] || fail "mandoc: $output$stderr"
		macros=-man
		grep -q '^\.Dd' "$page" && macros=-mdoc
		run -0 --separate-stderr groff -ww "$macros" -z "$page"
		[ -z "$output$stderr" ] || fail "groff: $output$stderr"
	done
}

@test "man: forkchatd.8 documents every option, the signals, the exit codes" {
	local text
	text=$(mandoc -T utf8 "$TOP/master/forkchatd.8" 2>/dev/null | col -b) ||
		text=$(groff -mdoc -Tutf8 "$TOP/master/forkchatd.8" | col -b)
	local w
	for w in -f --foreground -c --config -l --listen -w --workers -u --user \
		-p --pidfile -t --check-config -v --verbose -h --help -V --version \
		--max-clients --max-per-ip --max-line --ping-interval --pong-timeout \
		--login-timeout --line-timeout --max-file-size --max-rooms \
		--sendq-hard --sendq-soft --sendq-soft-seconds --worker-budget \
		--flood-rate --flood-burst --flood-max-queued --tls-cert --tls-key \
		--control-socket --log-file --log-level okfail+tls numeric+tls \
		SIGTERM SIGINT SIGHUP SIGUSR1 "EXIT STATUS" "SEE ALSO" FILES \
		EXAMPLES status --json --users "forkchatd.conf(5)" "numeric=0.0.0.0:29" \
		"--user nobody"; do
		[[ $text == *"$w"* ]] || fail "forkchatd.8 lacks '$w'"
	done
	# every key of the settings table is in forkchatd.conf.5
	text=$(mandoc -T utf8 "$TOP/master/forkchatd.conf.5" 2>/dev/null | col -b)
	for w in listen workers max-clients max-per-ip max-line ping-interval \
		pong-timeout login-timeout line-timeout max-file-size max-rooms \
		sendq-hard sendq-soft sendq-soft-seconds worker-budget flood-rate \
		flood-burst flood-max-queued log-level log-file user pidfile \
		control-socket tls-cert tls-key; do
		[[ $text == *"     $w = "* ]] || fail "forkchatd.conf.5 lacks key '$w'"
	done
}
