#!/usr/bin/env bats
# A first end-to-end check of the okfail dialect (docs/PROTOCOL.md, okfail).

load helpers

setup() {
	fc_start
}

@test "okfail: greeting, IDENT, JOINED to the others, BCST (PROTOCOL.md: IDENT, BCST rows)" {
	fc_login alice
	fc_login bob
	fc_expect alice "JOINED bob"
	fc_send bob "BCST hi all"
	fc_expect bob "OK BCST hi all"
	fc_expect alice "BCST bob hi all"
}
