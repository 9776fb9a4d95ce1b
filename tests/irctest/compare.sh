#!/bin/sh
# Run irctest's selection for ngircd against forkchatd, ngircd and InspIRCd
# (Debian's packages, installed here when run as root) and print the three
# pass counts side by side. forkchatd runs without its deselections, so all
# three face the same tests. The runs go one after the other (irctest's
# port file is not safe for parallel runs). ngircd takes ~15 minutes.
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	for p in ngircd inspircd python3-pytest python3-filelock python3-ecdsa; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null
	done
fi
# Debian's InspIRCd refuses to run as root without --runasroot, and its
# irctest config includes examples/ from /etc/inspircd, where Debian ships
# none: a wrapper adds the flag, a link gives the examples (root only).
wrap=$(mktemp -d)
trap 'rm -rf "$wrap"' EXIT
if [ "$(id -u)" = 0 ]; then
	printf '#!/bin/sh\nexec /usr/sbin/inspircd --runasroot "$@"\n' >"$wrap/inspircd"
	chmod +x "$wrap/inspircd"
	[ -e /etc/inspircd/examples ] || [ ! -d /usr/share/doc/inspircd/examples ] ||
		ln -s /usr/share/doc/inspircd/examples /etc/inspircd/examples
fi
PATH="$wrap:$PATH:/usr/sbin"
export PATH
results=""
for s in forkchatd ngircd inspircd; do
	line=$(IRCTEST_ALL=1 "$here/run.sh" "$s" | tail -n 1)
	echo "$line"
	results="$results$line
"
done
echo "== side by side (passed):"
printf '%s' "$results" | sed -n 's/^irctest \([a-z]*\): \([0-9]*\) passed.*/\1 \2/p'
