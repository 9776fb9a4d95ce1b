#!/bin/sh
# Run irctest's selection for ngircd against forkchatd, ngircd and InspIRCd
# (Debian's packages, installed here when run as root) and print the three
# pass counts side by side. forkchatd runs without its deselections, so all
# three face the same tests. Takes several minutes.
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	for p in ngircd inspircd python3-pytest python3-filelock python3-ecdsa; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null
	done
fi
PATH="$PATH:/usr/sbin"
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
