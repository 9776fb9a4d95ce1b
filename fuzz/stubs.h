/* The fuzz-only worker stand-ins of fuzz/stubs.c. */
#ifndef FC_FUZZ_STUBS_H
#define FC_FUZZ_STUBS_H

#include <stddef.h>
#include <stdint.h>

#include "../worker/client.h"
#include "../worker/dispatch.h"

/* Run the lines of data through dialect d's on_line (see stubs.c). */
void fuzz_dialect_run(const struct dialect_def *d, const uint8_t *data,
		      size_t size, void (*parse_fn)(const char *, size_t));
/* Abort unless p holds whole IRC lines: CR LF each, at most 512 bytes with
 * it, no CR or NUL inside, a ":prefix" (or ERROR/PING) first. */
void fuzz_irc_check_lines(const char *p, size_t n);

#endif
