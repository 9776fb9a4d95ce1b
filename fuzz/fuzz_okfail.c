/* libFuzzer harness for the okfail dialect: every line is checked through
 * the parsing layer (parse_check.h: wire_check_text against a reference
 * UTF-8 decoder, wire_split, names, wire_next_arg as PM takes its arguments)
 * and then dispatched by the real on_line of worker/okfail.c's okfail_dialect,
 * linked with fuzz/stubs.c and a real registry. Input: lines; "@1"/"@2" switch
 * to another of three connections. */
#include "parse_check.h"
#include "stubs.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_dialect_run(&okfail_dialect, data, size, check_line_parsing);
	return 0;
}
