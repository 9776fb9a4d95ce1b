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

# after the bats tests in make test (irctest runs only the plain build)
test: irctest-in-test
irctest-in-test: bats
ifeq ($(SAN),1)
	@echo "irctest: skipped under SAN=1 (make irctest runs it)"
else
	@FORKCHATD=$(abspath $(BIN)/forkchatd) sh tests/irctest/run.sh forkchatd
endif
