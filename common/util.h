/* Small helpers shared by every process: clocks and file descriptor flags. */
#ifndef FC_UTIL_H
#define FC_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define FC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

int64_t now_ms(void);
int fd_set_nonblock(int fd);
int parse_seconds_ms(const char *s, int64_t *ms);
int parse_u64(const char *s, uint64_t *out);

#endif
