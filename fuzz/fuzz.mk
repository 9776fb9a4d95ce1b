# libFuzzer harnesses; included by the top Makefile (include fuzz/fuzz.mk).
#   make fuzz                 build every harness into build/fuzz/ and run
#                             each for FUZZ_SECONDS (default 60)
#   make fuzz-smoke           the same, 10 s each (CI)
#   make fuzz-build           only build
#   make fuzz-run-HARNESS     one harness, e.g. make fuzz-run-fuzz_line
# New inputs go to build/fuzz/corpus/<harness>/ (the committed seeds in
# fuzz/corpus/<harness>/ are read, never written); crashes to
# build/fuzz/artifacts/. Reproduce one: build/fuzz/<harness> <crash-file>.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   ?=
FUZZ_DIR      = build/fuzz
FUZZ_CFLAGS   = -g -O1 -std=c17 -D_GNU_SOURCE -Wall -Wextra \
		-Wno-string-concatenation \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-fno-omit-frame-pointer
# extra defines for the dialect harnesses (none needed now)
FUZZ_KNOWN   ?=

FUZZ_HARNESSES = fuzz_line fuzz_okfail fuzz_numeric fuzz_irc fuzz_frame
FUZZ_BINS      = $(FUZZ_HARNESSES:%=$(FUZZ_DIR)/%)

FUZZ_DIALECT_SRC = fuzz/stubs.c worker/okfail.c worker/numeric.c worker/irc.c \
		   worker/irc_modes.c worker/irc_monitor.c worker/irc_oper.c \
		   worker/irc_help.c worker/irc_tags.c \
		   worker/dispatch.c worker/sendq.c proto/line.c proto/wire.c \
		   proto/irc.c ipc/userinfo.c \
		   ipc/registry.c ipc/registry_chan.c ipc/shmlock.c ipc/metrics.c \
		   common/log.c \
		   common/safefile.c common/util.c
FUZZ_DIALECT_HDR = fuzz/stubs.h fuzz/parse_check.h $(wildcard worker/*.h) \
		   proto/line.h proto/wire.h proto/irc.h ipc/registry.h \
		   ipc/shmlock.h ipc/userinfo.h

# longest input per harness: dialect lines up to the default max-line
FUZZ_MAXLEN_fuzz_line    = 4096
FUZZ_MAXLEN_fuzz_okfail  = 8192
FUZZ_MAXLEN_fuzz_numeric = 8192
FUZZ_MAXLEN_fuzz_irc     = 8192
FUZZ_MAXLEN_fuzz_frame   = 4096

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-deps $(FUZZ_HARNESSES:%=fuzz-run-%)

# clang and libclang-rt (tests/deps.sh fuzz checks them, and installs them
# as root on Debian), before any harness is built
fuzz-deps:
	@sh tests/deps.sh fuzz

fuzz-build: $(FUZZ_BINS)

$(FUZZ_DIR)/fuzz_line: fuzz/fuzz_line.c proto/line.c proto/line.h | fuzz-deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ fuzz/fuzz_line.c proto/line.c

$(FUZZ_DIR)/fuzz_frame: fuzz/fuzz_frame.c ipc/frame.c ipc/chan.c \
		common/log.c common/safefile.c ipc/frame.h ipc/chan.h | fuzz-deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ fuzz/fuzz_frame.c ipc/frame.c \
		ipc/chan.c common/log.c common/safefile.c

$(FUZZ_DIR)/fuzz_okfail $(FUZZ_DIR)/fuzz_numeric $(FUZZ_DIR)/fuzz_irc: \
		$(FUZZ_DIR)/%: fuzz/%.c \
		$(FUZZ_DIALECT_SRC) $(FUZZ_DIALECT_HDR) | fuzz-deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_KNOWN) -o $@ $< $(FUZZ_DIALECT_SRC) -lm -lcrypto

# $(call fuzz_run,harness,seconds): one harness over its corpus
fuzz_run = mkdir -p $(FUZZ_DIR)/corpus/$(1) $(FUZZ_DIR)/artifacts && \
	$(FUZZ_DIR)/$(1) -max_total_time=$(2) -timeout=10 \
		-max_len=$(FUZZ_MAXLEN_$(1)) -print_final_stats=1 \
		-artifact_prefix=$(FUZZ_DIR)/artifacts/$(1)- $(FUZZ_FLAGS) \
		$(FUZZ_DIR)/corpus/$(1) fuzz/corpus/$(1)

$(FUZZ_HARNESSES:%=fuzz-run-%): fuzz-run-%: $(FUZZ_DIR)/%
	$(call fuzz_run,$*,$(FUZZ_SECONDS))

fuzz: $(FUZZ_BINS)
	$(foreach h,$(FUZZ_HARNESSES),$(call fuzz_run,$(h),$(FUZZ_SECONDS)) && ) true

fuzz-smoke: $(FUZZ_BINS)
	$(foreach h,$(FUZZ_HARNESSES),$(call fuzz_run,$(h),10) && ) true
