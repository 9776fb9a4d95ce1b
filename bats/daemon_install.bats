#!/usr/bin/env bats
# `make install` (README.md, interface.md "Build and layout"), the systemd
# unit and the manual pages.

bats_require_minimum_version 1.5.0
load helpers

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)

teardown() {
	:
}

# Run `make install` into DEST (it builds bin/ first if needed, as it would
# for a user).
do_install() {
	DEST=$BATS_TEST_TMPDIR/x
	run -0 make -C "$TOP" -s install DESTDIR="$DEST" PREFIX=/usr
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
	command -v systemd-analyze >/dev/null ||
		fail "systemd-analyze is not installed (tests/deps.sh installs it)"
	# verify a copy whose ExecStart points at the binary built here
	mkdir -p "$BATS_TEST_TMPDIR/unit"
	sed "s|@SBINDIR@|$TOP/bin|g; s|@SYSCONFDIR@|/etc|g" "$unit" \
		>"$BATS_TEST_TMPDIR/unit/forkchatd.service"
	run -0 --separate-stderr systemd-analyze verify --man=no \
		"$BATS_TEST_TMPDIR/unit/forkchatd.service"
	[ -z "$stderr" ] || fail "systemd-analyze: $stderr"
}

@test "man: forkchatd.8 and forkchatd.conf.5 lint clean (mandoc, groff)" {
	command -v mandoc >/dev/null || fail "mandoc is not installed (tests/deps.sh installs it)"
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

# render ENGINE PAGE: PAGE as text in TEXT, the way `man` shows it (groff,
# which man-db runs on Debian) or the way mandoc does; a renderer that is
# missing or fails fails the test (no fallback that could render nothing)
render() {
	local out
	case $1 in
	groff) out=$(groff -mdoc -T utf8 "$2") ;;
	mandoc) out=$(mandoc -T utf8 "$2") ;;
	esac || { fail "$1 cannot render $2"; return 1; }
	TEXT=$(col -b <<<"$out")
	[ -n "$TEXT" ] || { fail "$1 rendered $2 as nothing"; return 1; }
}

@test "man: forkchatd.8 documents every option, the signals, the exit codes (groff and mandoc)" {
	local engine
	for engine in groff mandoc; do
		check_pages "$engine"
	done
}

# check_pages ENGINE: the words each page must show, as ENGINE renders them
check_pages() {
	local w
	render "$1" "$TOP/master/forkchatd.8" || return 1
	for w in -f --foreground -c --config -l --listen -w --workers -u --user \
		-p --pidfile -t --check-config -v --verbose -h --help -V --version \
		--max-clients --max-per-ip --max-line --ping-interval --pong-timeout \
		--login-timeout --line-timeout --max-file-size --max-rooms \
		--sendq-hard --sendq-soft --sendq-soft-seconds --worker-budget \
		--flood-rate --flood-burst --flood-max-queued --flood-bytes \
		--flood-bytes-burst --tls-handshake-timeout --room-linger \
		--max-rooms-per-user --max-key-size --tcp-keepalive --tls-cert --tls-key \
		--control-socket --log-file --log-level okfail+tls numeric+tls \
		SIGTERM SIGINT SIGHUP SIGUSR1 "EXIT STATUS" "SEE ALSO" FILES \
		EXAMPLES status --json --users "forkchatd.conf(5)" "numeric=0.0.0.0:29" \
		"--user nobody"; do
		[[ $TEXT == *"$w"* ]] || { fail "forkchatd.8 ($1) lacks '$w'"; return 1; }
	done
	# every key of the settings table is in forkchatd.conf.5
	render "$1" "$TOP/master/forkchatd.conf.5" || return 1
	for w in listen workers max-clients max-per-ip max-line ping-interval \
		pong-timeout login-timeout line-timeout max-file-size max-rooms \
		sendq-hard sendq-soft sendq-soft-seconds worker-budget flood-rate \
		flood-burst flood-max-queued flood-bytes flood-bytes-burst \
		tls-handshake-timeout room-linger max-rooms-per-user max-key-size \
		tcp-keepalive log-level log-file user pidfile \
		control-socket tls-cert tls-key; do
		[[ $TEXT == *"     $w = "* ]] || { fail "forkchatd.conf.5 ($1) lacks key '$w'"; return 1; }
	done
}
