# Load tools for the robustness tests (bats/robust_*.bats, tests/soak).
# Include from the top Makefile with:   include tests/tools.mk
# The bats tests also build them on demand (make -f tests/tools.mk tools).

TOOLS_DIR ?= build/tools
TOOLS      = $(TOOLS_DIR)/fcload

.PHONY: tools
tools: $(TOOLS)

$(TOOLS_DIR)/fcload: tests/fcload.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -o $@ $< -lpthread
