#!/usr/bin/env bats
# The Debian packages (issue 16, docs/OPERATIONS.md): built once for this
# file (make deb, in a temporary folder), checked by lintian, installed on
# this machine with dpkg -i, the installed daemon started by hand with the
# unit's command line (no running systemd here) and talked to, then removed
# and purged with nothing left behind. The tests run in order and build on
# each other. Root only: dpkg -i changes the machine.

bats_require_minimum_version 1.5.0
load helpers

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
PROMDIR=/var/lib/prometheus/node-exporter

# files named like ours in the places a package touches
pkg_leftovers() {
	find /etc /lib/systemd /usr /var/lib/systemd /var/lib/prometheus /var/spool /run -xdev \
		-name '*forkchat*' 2>/dev/null | sort
}

setup_file() {
	export PKG_SKIP="" DEB=$BATS_FILE_TMPDIR/deb
	if [ "$(id -u)" != 0 ]; then
		PKG_SKIP="needs root: the packages are installed with dpkg -i"
	elif ! command -v dpkg-buildpackage >/dev/null || ! command -v lintian >/dev/null; then
		PKG_SKIP="dpkg-dev or lintian missing (tests/deps.sh installs them)"
	elif dpkg-query -W -f='${Status}' forkchatd 2>/dev/null | grep -q installed ||
		dpkg-query -W -f='${Status}' forkchat 2>/dev/null | grep -q installed; then
		PKG_SKIP="forkchatd or forkchat is already installed here: not touching it"
	elif getent passwd forkchat >/dev/null; then
		PKG_SKIP="a user forkchat exists already: not touching it"
	fi
	[ -z "$PKG_SKIP" ] || return 0
	pkg_leftovers >"$BATS_FILE_TMPDIR/before"
	make -C "$TOP" -s deb DEB_DIR="$DEB" >"$BATS_FILE_TMPDIR/build.log" 2>&1 || {
		tail -30 "$BATS_FILE_TMPDIR/build.log" >&3
		PKG_SKIP=""
		export PKG_BUILD_FAILED=1
	}
}

teardown_file() {
	# whatever happened, leave the machine as it was
	[ -z "$PKG_SKIP" ] || return 0
	[ -n "${PKG_DPID:-}" ] && kill "$PKG_DPID" 2>/dev/null
	dpkg -P forkchatd forkchat >/dev/null 2>&1 || true
	rm -rf /run/forkchatd
	[ -z "${PKG_MADE_PROMDIR:-}" ] || rm -rf "$PROMDIR"
}

setup() {
	[ -z "$PKG_SKIP" ] || skip "$PKG_SKIP"
	[ -z "${PKG_BUILD_FAILED:-}" ] || fail "make deb failed: $(tail -20 "$BATS_FILE_TMPDIR/build.log")"
	ARCH=$(dpkg-architecture -q DEB_HOST_ARCH)
	VER=$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)
}

teardown() {
	:
}

@test "package: make deb builds forkchatd and forkchat; lintian finds no error and no warning" {
	local f
	for f in "forkchatd_${VER}_$ARCH.deb" "forkchat_${VER}_$ARCH.deb" \
		"forkchat_${VER}_$ARCH.changes"; do
		[ -s "$DEB/$f" ] || fail "$f not built: $(ls "$DEB")"
	done
	run -0 --separate-stderr lintian --fail-on error,warning \
		"$DEB/forkchat_${VER}_$ARCH.changes" "$DEB/forkchatd_${VER}_$ARCH.deb" \
		"$DEB/forkchat_${VER}_$ARCH.deb"
	[[ $output != *"E: "* && $output != *"W: "* ]] || fail "lintian: $output"
	# every override that remains says why, in a comment just above it
	for f in "$TOP"/debian/*lintian-overrides "$TOP"/debian/source/lintian-overrides; do
		[ -e "$f" ] || continue
		awk 'NF && !/^#/ && prev !~ /^#/ { print FILENAME ": " $0; bad=1 } { prev=$0 } END { exit bad }' "$f" ||
			fail "override without a comment"
	done
	# what goes where
	run -0 dpkg-deb -c "$DEB/forkchatd_${VER}_$ARCH.deb"
	for f in ./usr/sbin/forkchatd ./etc/forkchat/forkchatd.conf \
		./lib/systemd/system/forkchatd.service ./lib/systemd/system/forkchatd-metrics.service \
		./lib/systemd/system/forkchatd-metrics.timer ./usr/share/man/man8/forkchatd.8.gz \
		./usr/share/man/man5/forkchatd.conf.5.gz; do
		[[ $output == *" $f"* ]] || fail "forkchatd lacks $f"
	done
	run -0 dpkg-deb -c "$DEB/forkchat_${VER}_$ARCH.deb"
	[[ $output == *" ./usr/bin/forkchat"* && $output == *" ./usr/share/man/man1/forkchat.1.gz"* ]]
}

@test "package: dpkg -i installs the files, the system user, the conffile and enabled units" {
	run -0 dpkg -i "$DEB/forkchatd_${VER}_$ARCH.deb" "$DEB/forkchat_${VER}_$ARCH.deb"
	[ -x /usr/sbin/forkchatd ] && [ -x /usr/bin/forkchat ]
	[ -s /usr/share/man/man8/forkchatd.8.gz ] && [ -s /usr/share/man/man5/forkchatd.conf.5.gz ]
	[ -s /usr/share/man/man1/forkchat.1.gz ]
	# the conffile
	run -0 dpkg-query -W -f='${Conffiles}' forkchatd
	[[ $output == *"/etc/forkchat/forkchatd.conf "* ]] || fail "conffiles: $output"
	grep -qx 'user = forkchat' /etc/forkchat/forkchatd.conf
	# a system user with no login and no home, and its group
	local pw
	pw=$(getent passwd forkchat) || fail "no user forkchat"
	IFS=: read -r _ _ uid gid _ home shell <<<"$pw"
	[ "$uid" -lt 1000 ] || fail "not a system user: $pw"
	[ "$home" = /nonexistent ] && [ ! -e /nonexistent ]
	[[ $shell == */nologin || $shell == /bin/false ]] || fail "shell $shell"
	[ "$(getent group forkchat | cut -d: -f3)" = "$gid" ]
	[ "$(stat -c '%a %U %G' /var/spool/forkchat)" = "700 forkchat forkchat" ]
	echo "$uid" >"$BATS_FILE_TMPDIR/uid"
	# enabled through deb-systemd-helper (dh_installsystemd)
	[ -L /etc/systemd/system/multi-user.target.wants/forkchatd.service ]
	[ -L /etc/systemd/system/timers.target.wants/forkchatd-metrics.timer ]
	# the installed configuration checks, and the units verify
	run -0 /usr/sbin/forkchatd -t -c /etc/forkchat/forkchatd.conf
	[[ ${lines[0]} == "configuration OK" ]]
	command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"
	run -0 --separate-stderr systemd-analyze verify --man=no \
		/lib/systemd/system/forkchatd.service /lib/systemd/system/forkchatd-metrics.service \
		/lib/systemd/system/forkchatd-metrics.timer
	[ -z "$stderr" ] || fail "systemd-analyze: $stderr"
}

@test "package: the installed daemon, started by hand as its unit would, serves as user forkchat" {
	[ -x /usr/sbin/forkchatd ] || fail "not installed (an earlier test failed)"
	# the unit's command line and RuntimeDirectory, on free ports
	local exec ok num
	exec=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/forkchatd.service)
	ok=$(fc_free_port)
	num=$(fc_free_port)
	install -d -m 0755 /run/forkchatd
	run -0 --separate-stderr $exec -w 2 -l "okfail=127.0.0.1:$ok" -l "numeric=127.0.0.1:$num"
	PKG_DPID=$(cat /run/forkchatd/forkchatd.pid)
	export PKG_DPID
	local fuid
	fuid=$(id -u forkchat)
	grep -qE "^Uid:[[:space:]]+$fuid[[:space:]]+$fuid[[:space:]]" "/proc/$PKG_DPID/status" ||
		fail "master: $(grep Uid "/proc/$PKG_DPID/status")"
	[ "$(stat -c '%a %U' /run/forkchatd/forkchatd.sock)" = "600 forkchat" ]
	# talk to it in both dialects
	exec {a}<>"/dev/tcp/127.0.0.1/$ok"
	IFS= read -r -t 5 -u $a line
	[ "$line" = "INIT Welcome to the server!" ]
	printf 'IDENT alice\n' >&$a
	IFS= read -r -t 5 -u $a line
	[ "$line" = "OK IDENT alice" ]
	exec {b}<>"/dev/tcp/127.0.0.1/$num"
	printf 'USER bob\n' >&$b
	IFS= read -r -t 5 -u $b line
	[ "$line" = "200 Welcome bob!" ]
	# the installed client too
	run -0 /usr/bin/forkchat --help
	# root's `forkchatd status` finds the socket without -S
	run -0 /usr/sbin/forkchatd status
	[[ $output == *"users 2,"* ]] || fail "status: $output"
	# the metrics timer's service writes a file promtool accepts
	if [ ! -d "$PROMDIR" ]; then
		mkdir -p "$PROMDIR"
		export PKG_MADE_PROMDIR=1
	fi
	local mexec
	mexec=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/forkchatd-metrics.service)
	run -0 $mexec
	[ -s "$PROMDIR/forkchatd.prom" ]
	grep -q '^forkchat_users{dialect="okfail"} 1$' "$PROMDIR/forkchatd.prom"
	if command -v promtool >/dev/null; then
		run -0 promtool check metrics <"$PROMDIR/forkchatd.prom"
	fi
	exec {a}>&- {b}>&-
	kill -TERM "$PKG_DPID"
	fc_until "! kill -0 $PKG_DPID 2>/dev/null"
	PKG_DPID=
	rm -rf /run/forkchatd # systemd removes the RuntimeDirectory at stop
}

@test "package: remove keeps the conffile; purge removes the user, the config and everything else" {
	dpkg-query -W forkchatd >/dev/null 2>&1 || fail "not installed (an earlier test failed)"
	run -0 dpkg -r forkchatd forkchat
	[ ! -e /usr/sbin/forkchatd ] && [ ! -e /usr/bin/forkchat ]
	[ ! -e /lib/systemd/system/forkchatd.service ]
	[ ! -e "$PROMDIR/forkchatd.prom" ] || fail "stale metrics left for the node exporter"
	[ -e /etc/forkchat/forkchatd.conf ] || fail "remove must keep the conffile"
	getent passwd forkchat >/dev/null || fail "remove must keep the user"
	run -0 dpkg -P forkchatd forkchat
	[ ! -e /etc/forkchat ] || fail "/etc/forkchat left: $(ls -la /etc/forkchat)"
	# (a forkchatd run as root elsewhere on this machine, e.g. another
	# test, may make its default spool again at any time: only one that
	# still belongs to the package's user counts as left behind)
	local spool_uid
	spool_uid=$(stat -c %u /var/spool/forkchat 2>/dev/null) || spool_uid=none
	[ "$spool_uid" != "$(cat "$BATS_FILE_TMPDIR/uid")" ] || fail "spool left"
	! getent passwd forkchat >/dev/null || fail "user forkchat left"
	! getent group forkchat >/dev/null || fail "group forkchat left"
	[ ! -e /etc/systemd/system/multi-user.target.wants/forkchatd.service ]
	[ ! -e /etc/systemd/system/timers.target.wants/forkchatd-metrics.timer ]
	! dpkg-query -W -f='${Status}\n' forkchatd forkchat 2>/dev/null | grep -v '^unknown ok not-installed$' | grep -q . ||
		fail "dpkg still knows: $(dpkg-query -W -f='${Package} ${Status}\n' forkchatd forkchat)"
	# nothing new since before the installation
	local left
	left=$(pkg_leftovers | comm -13 "$BATS_FILE_TMPDIR/before" -)
	[ "$spool_uid" = none ] || left=$(grep -vx /var/spool/forkchat <<<"$left" || true)
	[ -z "$left" ] || fail "left behind: $left"
}
