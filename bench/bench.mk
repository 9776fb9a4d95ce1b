# bench/bench.mk: benchmark targets, included from the top Makefile.
#   make bench          build loadgen and limit into build/bench/
#   make bench-smoke    every scenario at small sizes (< 1 min), fails on loss
#   make bench-compare  full comparison (bench/run.sh full), ~25 min
#   make bench-cluster  only its cluster rows (bench/run.sh cluster), ~5 min

# keep the including Makefile's default goal whatever line includes us
BENCH_SAVED_GOAL := $(.DEFAULT_GOAL)
BENCH_DIR    = build/bench
BENCH_CFLAGS = -O2 -g -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror

$(BENCH_DIR)/loadgen: bench/loadgen.c bench/lg_util.c bench/lg_util.h
	@mkdir -p $(BENCH_DIR)
	$(CC) $(BENCH_CFLAGS) -o $@ bench/loadgen.c bench/lg_util.c

$(BENCH_DIR)/limit: bench/limit.c
	@mkdir -p $(BENCH_DIR)
	$(CC) $(BENCH_CFLAGS) -o $@ bench/limit.c

# the spool's I/O cost per call (docs/ARCHITECTURE.md, "File spool")
SPOOLIO_SRC = bench/spoolio.c worker/spool.c common/log.c common/safefile.c common/util.c common/config.c
$(BENCH_DIR)/spoolio: $(SPOOLIO_SRC) worker/spool.h
	@mkdir -p $(BENCH_DIR)
	$(CC) $(BENCH_CFLAGS) -o $@ $(SPOOLIO_SRC) -lm -lpthread

# one process wake-up, same CPU or the other (docs/BENCHMARKS.md)
$(BENCH_DIR)/pingpong: bench/pingpong.c
	@mkdir -p $(BENCH_DIR)
	$(CC) $(BENCH_CFLAGS) -o $@ bench/pingpong.c -lpthread

bench: $(BENCH_DIR)/loadgen $(BENCH_DIR)/limit $(BENCH_DIR)/spoolio $(BENCH_DIR)/pingpong

bench-smoke: all bench
	bash bench/run.sh smoke

bench-compare: all bench
	bash bench/run.sh full

bench-cluster: all bench
	bash bench/run.sh cluster

.PHONY: bench bench-smoke bench-compare bench-cluster

.DEFAULT_GOAL := $(BENCH_SAVED_GOAL)
