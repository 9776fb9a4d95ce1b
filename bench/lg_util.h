/* lg_util.h: helpers shared by the benchmark tools: a log-linear latency
 * histogram, monotonic time, fd-limit raising and /proc readers (memory of
 * daemon processes, kernel TCP memory, which worker owns a connection). */
#ifndef LG_UTIL_H
#define LG_UTIL_H
#include <stdint.h>
#include <stdio.h>

#define HIST_BUCKETS 2400

struct hist {
	uint64_t n[HIST_BUCKETS];
	uint64_t count, max;
};

uint64_t now_ns(void);
void hist_add(struct hist *h, uint64_t v);
uint64_t hist_pct(const struct hist *h, double pct);
void hist_write_cdf(const struct hist *h, FILE *f);
void raise_nofile(long want);

long proc_field_kib(int pid, const char *file, const char *key);
long sock_tcp_mem_pages(void);
int parse_pids(const char *s, int *pids, int max);
int worker_of_fd(int fd, const int *pids, int npids);
#endif
