# Unit tests (cmocka) and bats tests; included by the top Makefile.

UNIT_SRC  = $(wildcard tests/test_*.c)
UNIT_BIN  = $(UNIT_SRC:tests/%.c=$(BUILD)/tests/%)
UNIT_LIBS = $(COMMON_SRC:%.c=$(BUILD)/%.o) $(PROTO_SRC:%.c=$(BUILD)/%.o) \
	    $(IPC_SRC:%.c=$(BUILD)/%.o) $(CRYPTO_SRC:%.c=$(BUILD)/%.o) \
	    $(BUILD)/worker/sendq.o $(BUILD)/worker/spool.o

# deps (tests/deps.sh) first: it installs or checks what the tests use
$(BUILD)/tests/%: tests/%.c $(UNIT_LIBS) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-unused-parameter $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS_D)

# the cluster link's tests also need hiredis (and redis-server at run time)
$(BUILD)/tests/test_cluster: tests/test_cluster.c $(UNIT_LIBS) \
		$(CLUSTER_SRC:%.c=$(BUILD)/%.o)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-unused-parameter $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS_D)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

# what the build alone needs (`make run` on a fresh machine)
.PHONY: deps-build
deps-build:
	@sh tests/deps.sh build

BATS_JOBS ?= 1
bats: deps all
	FORKCHATD=$(abspath $(BIN)/forkchatd) FORKCHAT=$(abspath $(BIN)/forkchat) \
		bats --timing --print-output-on-failure bats/

# the docs against the code: options, settings, make targets, and a bats
# test naming every behaviour id of docs/PROTOCOL.md (tests/docs_check.py)
.PHONY: docs-check
docs-check: all
	python3 tests/docs_check.py $(BIN)/forkchatd $(BIN)/forkchat
test: docs-check
