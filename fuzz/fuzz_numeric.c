/* libFuzzer harness for the numeric dialect: every line is checked through
 * the parsing layer (parse_check.h: text check, split, rooms and names,
 * wire_next_arg chains as SEND/PRIV/FILE take their arguments) and then
 * dispatched by the real on_line of worker/numeric.c's numeric_dialect, linked
 * with fuzz/stubs.c and a real registry. Input: lines; "@1"/"@2" switch to
 * another of three connections. */
#include "parse_check.h"
#include "stubs.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_dialect_run(&numeric_dialect, data, size, check_line_parsing);
	return 0;
}
