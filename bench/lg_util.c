/* lg_util.c: histogram, clock, rlimit and /proc helpers for loadgen.
 * The histogram keeps 64 sub-buckets per power of two (about 1.5 % error),
 * exact below 128 ns, up to 2^40 ns. */
#include "lg_util.h"
#include <dirent.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static unsigned
bucket_of(uint64_t v)
{
	if (v < 128)
		return (unsigned)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v);
	if (e > 40)
		return HIST_BUCKETS - 1;
	unsigned sub = (unsigned)(v >> (e - 6)) - 64u;
	return 128u + (e - 7u) * 64u + sub;
}

static uint64_t
bucket_top(unsigned i)
{
	if (i < 128)
		return i;
	unsigned e = (i - 128u) / 64u + 7u, sub = (i - 128u) % 64u + 64u;
	return (((uint64_t)sub + 1) << (e - 6)) - 1;
}

void
hist_add(struct hist *h, uint64_t v)
{
	h->n[bucket_of(v)]++;
	h->count++;
	if (v > h->max)
		h->max = v;
}

uint64_t
hist_pct(const struct hist *h, double pct)
{
	if (!h->count)
		return 0;
	uint64_t want = (uint64_t)((double)h->count * pct / 100.0), acc = 0;
	if (want >= h->count)
		want = h->count - 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		acc += h->n[i];
		if (acc > want)
			return bucket_top(i) < h->max ? bucket_top(i) : h->max;
	}
	return h->max;
}

void
hist_write_cdf(const struct hist *h, FILE *f)
{
	uint64_t acc = 0;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		if (!h->n[i])
			continue;
		acc += h->n[i];
		fprintf(f, "%.3f %.6f\n", (double)bucket_top(i) / 1000.0,
			(double)acc / (double)h->count);
	}
}

void
raise_nofile(long want)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	if ((long)rl.rlim_cur >= want)
		return;
	struct rlimit up = {(rlim_t)want, (rlim_t)want};
	if ((long)rl.rlim_max < want && setrlimit(RLIMIT_NOFILE, &up) == 0)
		return;
	rl.rlim_cur = (long)rl.rlim_max < want ? rl.rlim_max : (rlim_t)want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || (long)rl.rlim_cur < want)
		fprintf(stderr, "loadgen: RLIMIT_NOFILE is %ld, wanted %ld\n",
			(long)rl.rlim_cur, want);
}

/* Value in KiB of "key:" in /proc/PID/<file> (status, smaps_rollup); -1 if
 * absent. */
long
proc_field_kib(int pid, const char *file, const char *key)
{
	char path[64], line[256];
	size_t kl = strlen(key);
	long v = -1;
	snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = strtol(line + kl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* The "mem" field of the TCP line of /proc/net/sockstat, in pages. */
long
sock_tcp_mem_pages(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/net/sockstat", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		char *m = strstr(line, " mem ");
		if (!strncmp(line, "TCP:", 4) && m)
			v = strtol(m + 5, NULL, 10);
	}
	fclose(f);
	return v;
}

int
parse_pids(const char *s, int *pids, int max)
{
	int n = 0;
	while (s && *s && n < max) {
		char *end;
		long v = strtol(s, &end, 10);
		if (end == s)
			break;
		pids[n++] = (int)v;
		s = *end ? end + 1 : end;
	}
	return n;
}

/* Inode of the server-side socket whose peer is our (local port) and whose
 * local port is the server port, from /proc/net/tcp. */
static unsigned long
peer_inode(unsigned lport, unsigned rport)
{
	char line[512];
	unsigned long ino = 0;
	FILE *f = fopen("/proc/net/tcp", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f)) {
		unsigned la, lp, ra, rp, st;
		unsigned long inode;
		if (sscanf(line, " %*d: %x:%x %x:%x %x %*s %*s %*s %*d %*d %lu",
			   &la, &lp, &ra, &rp, &st, &inode) != 6)
			continue;
		if (lp == rport && rp == lport) {
			ino = inode;
			break;
		}
	}
	fclose(f);
	return ino;
}

static int
pid_holds(int pid, unsigned long ino)
{
	char dir[64], path[320], target[64], want[64];
	snprintf(dir, sizeof dir, "/proc/%d/fd", pid);
	snprintf(want, sizeof want, "socket:[%lu]", ino);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *e;
	int found = 0;
	while (!found && (e = readdir(d))) {
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		ssize_t n = readlink(path, target, sizeof target - 1);
		if (n > 0) {
			target[n] = 0;
			found = !strcmp(target, want);
		}
	}
	closedir(d);
	return found;
}

/* Index in pids of the process (preferring later entries: workers after the
 * master) holding the server side of our connection fd; -1 if unknown. */
int
worker_of_fd(int fd, const int *pids, int npids)
{
	struct sockaddr_in me, peer;
	socklen_t l1 = sizeof me, l2 = sizeof peer;
	if (getsockname(fd, (struct sockaddr *)&me, &l1) ||
	    getpeername(fd, (struct sockaddr *)&peer, &l2))
		return -1;
	unsigned long ino =
		peer_inode(ntohs(me.sin_port), ntohs(peer.sin_port));
	if (!ino)
		return -1;
	for (int i = npids - 1; i >= 0; i--)
		if (pid_holds(pids[i], ino))
			return i;
	return -1;
}
