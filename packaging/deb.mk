# Debian packages; included by the top Makefile.
#   make deb              forkchatd_*.deb and forkchat_*.deb (and .changes)
#                         in build/deb/, built from a clean copy of the tree
#                         with dpkg-buildpackage -us -uc -b, then lintian;
#                         as root it first installs the build dependencies
#   make deb DEB_DIR=DIR  somewhere else

DEB_DIR ?= build/deb

.PHONY: deb
deb:
	@sh packaging/build-deb.sh $(DEB_DIR)
