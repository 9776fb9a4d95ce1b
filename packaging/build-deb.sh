#!/bin/sh
# make deb: build the Debian packages from a clean copy of the tree.
#   packaging/build-deb.sh OUTDIR
# OUTDIR gets forkchat-VERSION/ (the copy) and the .deb, .changes and
# .buildinfo files; lintian then checks the .changes and both packages.
set -eu
# a package is always the plain build: nothing of the calling make (SAN=1
# in MAKEFLAGS from `make test SAN=1`, -j, BUILD) leaks into it
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES SAN BUILD BIN 2>/dev/null || true
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-build/deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# build dependencies, from debian/control (as root with apt), else a check
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	dpkg-query -W -f='${Status}' dpkg-dev 2>/dev/null | grep -q "ok installed" ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dpkg-dev >/dev/null
	if ! dpkg-checkbuilddeps "$top/debian/control" 2>/dev/null; then
		echo "installing the build dependencies of debian/control"
		DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq "$top" >/dev/null ||
			{ apt-get update -qq &&
				DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq "$top" >/dev/null; }
	fi
else
	dpkg-checkbuilddeps "$top/debian/control"
fi

version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
src=$out/forkchat-$version
rm -rf "$src"
mkdir -p "$src"
# what git tracks (or would), else the tree without build output
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf -) | tar -xf - -C "$src"
else
	(cd "$top" && tar --exclude=./build --exclude=./bin --exclude=./.git -cf - .) |
		tar -xf - -C "$src"
fi
(cd "$src" && dpkg-buildpackage -us -uc -b)
arch=$(dpkg-architecture -q DEB_HOST_ARCH)
changes=$out/forkchat_${version}_$arch.changes
if command -v lintian >/dev/null; then
	lintian --fail-on error,warning "$changes"
else
	echo "lintian is not installed: not checked (apt-get install lintian)"
fi
echo "packages in $out:"
ls "$out"/*.deb
