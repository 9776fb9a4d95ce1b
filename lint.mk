# Static analysis; included by the top Makefile (include lint.mk).
#   make lint    cppcheck, then clang-tidy (checks in .clang-tidy); fails on
#                any finding. Suppress a reviewed false positive in place:
#                cppcheck: // cppcheck-suppress <id>   clang-tidy: // NOLINT(<check>)

LINT_DIRS  = common proto ipc worker master $(wildcard client)
LINT_SRC   = $(wildcard $(LINT_DIRS:%=%/*.c))
LINT_INC   = $(addprefix -I,$(LINT_DIRS))
CPPCHECK  ?= cppcheck
CLANG_TIDY ?= clang-tidy

CPPCHECK_FLAGS = --enable=warning,performance,portability --error-exitcode=1 \
	--inline-suppr --quiet --std=c11 -D_GNU_SOURCE -D__GNUC__ \
	--suppress=missingIncludeSystem $(LINT_INC)
TIDY_CFLAGS = -std=c17 -D_GNU_SOURCE -Wall -Wextra $(LINT_INC)

.PHONY: lint lint-cppcheck lint-tidy

lint: lint-cppcheck lint-tidy

lint-cppcheck:
	$(CPPCHECK) $(CPPCHECK_FLAGS) $(LINT_SRC)

lint-tidy:
	$(CLANG_TIDY) --quiet $(LINT_SRC) -- $(TIDY_CFLAGS)
