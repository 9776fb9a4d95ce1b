# Static analysis; included by the top Makefile (include lint.mk).
#   make lint    clang-format check, the worker's layers and function sizes, cppcheck,
#                then clang-tidy (checks in .clang-tidy); fails on any finding.
#                Suppress a reviewed false positive in place:
#                cppcheck: // cppcheck-suppress <id>   clang-tidy: // NOLINT(<check>)
#   make lint-layers  no worker/ file includes or calls into a layer above it
#                (tests/layers.py; the layers are in docs/ARCHITECTURE.md)
#   make lint-size    function sizes in worker/ and ipc/: median <= 12, none over 60

LINT_DIRS  = common proto ipc worker master cluster $(wildcard client)
LINT_SRC   = $(wildcard $(LINT_DIRS:%=%/*.c))
LINT_INC   = $(addprefix -I,$(LINT_DIRS))
CPPCHECK  ?= cppcheck
CLANG_TIDY ?= clang-tidy

CPPCHECK_FLAGS = --enable=warning,performance,portability --error-exitcode=1 \
	--inline-suppr --quiet --std=c11 -D_GNU_SOURCE -D__GNUC__ \
	--suppress=missingIncludeSystem $(LINT_INC)
TIDY_CFLAGS = -std=c17 -D_GNU_SOURCE -Wall -Wextra $(LINT_INC)

.PHONY: lint lint-cppcheck lint-tidy lint-layers lint-size

# both tools run even when the first one finds something; the clang-tidy
# report (without its "N warnings generated" chatter) is kept in build/
lint:
	@mkdir -p build; rc=0; \
	$(MAKE) -s format-check || rc=1; \
	$(MAKE) -s lint-layers || rc=1; \
	$(MAKE) -s lint-size || rc=1; \
	echo "$(CPPCHECK) ... $(LINT_DIRS)"; \
	$(CPPCHECK) $(CPPCHECK_FLAGS) $(LINT_SRC) || rc=1; \
	echo "$(CLANG_TIDY) ... $(LINT_DIRS)"; \
	{ $(CLANG_TIDY) --quiet $(LINT_SRC) -- $(TIDY_CFLAGS) 2>&1 || \
		echo "lint: clang-tidy found problems"; } | \
		grep -v '^[0-9]* warnings\{0,1\} generated\.$$' | \
		tee build/lint-tidy.log; \
	grep -q '^lint: clang-tidy found problems' build/lint-tidy.log && rc=1; \
	exit $$rc

lint-cppcheck:
	$(CPPCHECK) $(CPPCHECK_FLAGS) $(LINT_SRC)

lint-tidy:
	$(CLANG_TIDY) --quiet $(LINT_SRC) -- $(TIDY_CFLAGS)

# the call check reads the objects' symbols: build them first
lint-layers: $(D_OBJ)
	@python3 tests/layers.py $(BUILD)

lint-size:
	@python3 tests/fnsize.py worker ipc
