/* The fuzz-only worker stand-ins of fuzz/stubs.c. */
#ifndef FC_FUZZ_STUBS_H
#define FC_FUZZ_STUBS_H

#include <stddef.h>
#include <stdint.h>

#include "../worker/worker.h"

void fuzz_dialect_run(uint8_t dialect, const uint8_t *data, size_t size,
		      void (*line_fn)(struct conn *, const char *, size_t),
		      void (*parse_fn)(const char *, size_t));

#endif
