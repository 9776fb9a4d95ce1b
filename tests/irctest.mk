# irctest, the IRC conformance suite (../shared/irctest beside the project):
#   make irctest          forkchatd's irc listener, irctest's selection for
#                         ngircd, minus tests/irctest/deselected.txt
#   make irctest-compare  forkchatd, ngircd and InspIRCd on that selection
# make test runs irctest too, or says that it skipped it. Included by the
# top Makefile.

.PHONY: irctest irctest-compare irctest-in-test

irctest: all
	@FORKCHATD=$(abspath $(BIN)/forkchatd) sh tests/irctest/run.sh forkchatd

irctest-compare: all
	@FORKCHATD=$(abspath $(BIN)/forkchatd) sh tests/irctest/compare.sh

# last in make test, after the unit and bats tests, so that its line (or the
# line saying it was skipped) ends the output; the plain build only
test: irctest-in-test
irctest-in-test: unit bats
ifeq ($(SAN),1)
	@echo "irctest: skipped under SAN=1 (make irctest runs it)"
else
	@FORKCHATD=$(abspath $(BIN)/forkchatd) sh tests/irctest/run.sh forkchatd
endif
