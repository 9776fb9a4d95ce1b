/* spoolio: how long can one spool call hold a worker's loop? Takes SIZE
 * bytes from a loopback TCP sender into a spool file the way a worker does
 * (256 KiB reads, spool_append, writeback started every SPOOL_FLUSH_STEP
 * unless --no-flush), then sends the file to a loopback TCP reader with
 * spool_sendfile on a non-blocking socket; prints the throughput of each
 * phase and the longest single call (the loop-pass cost a worker would pay
 * for it), and whether any call slept (waited for the disk) rather than
 * being preempted by a busy machine. NOFALLOC=1 in the environment: no
 * space set aside first; INLINE_WRITEBACK=1: writeback started by the
 * writer itself, not by the closer thread a worker has.
 * usage: spoolio DIR [SIZE_MIB] [--no-flush|--splice]
 * (--splice: the upload through splice(2) instead of read + write) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/config.h"
#include "../worker/spool.h"

#define BUF (256 * 1024)

static char buf[BUF];

/* One call's cost: its wall time, and whether it slept (a voluntary
 * context switch: it waited for the disk or a lock) or was preempted (an
 * involuntary one: the machine is busy, which says nothing about I/O). */
struct cost {
	int64_t worst_us, worst_unpreempted_us;
	long slept, preempted, calls;
	struct rusage ru;
};

static void
cost_start(struct cost *c)
{
	getrusage(RUSAGE_THREAD, &c->ru);
}

static void
cost_end(struct cost *c, int64_t us)
{
	struct rusage now;

	getrusage(RUSAGE_THREAD, &now);
	bool slept = now.ru_nvcsw > c->ru.ru_nvcsw;
	bool preempted = now.ru_nivcsw > c->ru.ru_nivcsw;
	c->calls++;
	c->slept += slept;
	c->preempted += preempted;
	c->worst_us = us > c->worst_us ? us : c->worst_us;
	if (!preempted && us > c->worst_unpreempted_us)
		c->worst_unpreempted_us = us;
}

static void
cost_print(const char *what, const struct cost *c)
{
	printf("  %s: %ld calls, longest %lld us, longest not preempted %lld "
	       "us, %ld slept, %ld preempted\n",
	       what, c->calls, (long long)c->worst_us,
	       (long long)c->worst_unpreempted_us, c->slept, c->preempted);
}

static int64_t
us_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* A listening loopback socket; *port gets its port. */
static int
listener(int *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int ls = socket(AF_INET, SOCK_STREAM, 0);

	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(ls, 1) || getsockname(ls, (struct sockaddr *)&sa, &sl))
		return -1;
	*port = ntohs(sa.sin_port);
	return ls;
}

/* A child that connects to port and sends (size > 0) or drains. */
static pid_t
peer(int port, uint64_t size)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		_exit(1);
	memset(buf, 'x', sizeof(buf));
	for (uint64_t left = size; left > 0;) {
		ssize_t w = write(s, buf, left < BUF ? left : BUF);
		if (w <= 0)
			_exit(1);
		left -= (uint64_t)w;
	}
	while (size == 0 && read(s, buf, sizeof(buf)) > 0)
		;
	_exit(0);
}

static void
upload(int fd, uint64_t size, bool flush)
{
	int port, ls = listener(&port);
	pid_t pid = peer(port, size);
	int s = accept(ls, NULL, NULL);
	uint64_t off = 0, got = 0;
	int64_t t0 = us_now();
	struct cost rd = {0}, wr = {0};

	while (got < size) {
		int64_t a = us_now();
		cost_start(&rd);
		ssize_t n = read(s, buf, sizeof(buf));
		cost_end(&rd, us_now() - a);
		if (n <= 0)
			exit(1);
		a = us_now();
		cost_start(&wr);
		ssize_t w = flush ? spool_append(fd, &off, buf, (size_t)n)
				  : pwrite(fd, buf, (size_t)n, (off_t)off);
		cost_end(&wr, us_now() - a);
		if (w != n)
			exit(1);
		if (!flush)
			off += (uint64_t)n;
		got += (uint64_t)n;
	}
	double secs = (double)(us_now() - t0) / 1e6;
	printf("upload (%s): %.0f MiB/s\n",
	       flush ? "writeback started every 8 MiB" : "page cache only",
	       (double)size / 1048576.0 / secs);
	cost_print("socket read ", &rd);
	cost_print("spool write ", &wr);
	close(s);
	close(ls);
	waitpid(pid, NULL, 0);
}

/* The same upload with splice: socket -> pipe -> file, no user copy. */
static void
upload_splice(int fd, uint64_t size)
{
	int port, ls = listener(&port), p[2];
	pid_t pid = peer(port, size);
	int s = accept(ls, NULL, NULL);
	uint64_t got = 0;
	int64_t t0 = us_now();
	struct cost cs = {0};

	if (pipe(p) < 0 || fcntl(p[1], F_SETPIPE_SZ, BUF) < 0)
		exit(1);
	while (got < size) {
		int64_t a = us_now();
		cost_start(&cs);
		ssize_t n = splice(s, NULL, p[1], NULL, BUF, SPLICE_F_MOVE);
		if (n <= 0)
			exit(1);
		loff_t off = (loff_t)got;
		for (ssize_t left = n; left > 0;) {
			ssize_t w = splice(p[0], NULL, fd, &off, (size_t)left,
					   SPLICE_F_MOVE);
			if (w <= 0)
				exit(1);
			left -= w;
		}
		cost_end(&cs, us_now() - a);
		got += (uint64_t)n;
	}
	double secs = (double)(us_now() - t0) / 1e6;
	printf("upload (splice socket -> pipe -> file): %.0f MiB/s\n",
	       (double)size / 1048576.0 / secs);
	cost_print("splice pair ", &cs);
	close(p[0]);
	close(p[1]);
	close(s);
	close(ls);
	waitpid(pid, NULL, 0);
}

static void
deliver(int fd, uint64_t size)
{
	int port, ls = listener(&port);
	pid_t pid = peer(port, 0);
	int s = accept(ls, NULL, NULL);
	uint64_t off = 0;
	int64_t t0 = us_now();
	struct cost sf = {0};

	fcntl(s, F_SETFL, O_NONBLOCK);
	while (off < size) {
		int64_t a = us_now();
		cost_start(&sf);
		ssize_t k = spool_sendfile(s, fd, &off, 1u << 20);
		cost_end(&sf, us_now() - a);
		if (k < 0)
			exit(1);
		if (k == 0) {
			struct pollfd p = {.fd = s, .events = POLLOUT};
			poll(&p, 1, 1000);
		}
	}
	double secs = (double)(us_now() - t0) / 1e6;
	printf("delivery (sendfile, 1 MiB a call): %.0f MiB/s\n",
	       (double)size / 1048576.0 / secs);
	cost_print("sendfile    ", &sf);
	close(s);
	close(ls);
	waitpid(pid, NULL, 0);
}

int
main(int argc, char **argv)
{
	char err[256];

	if (argc < 2) {
		fprintf(stderr,
			"usage: spoolio DIR [SIZE_MIB] [--no-flush|--splice]\n");
		return 2;
	}
	uint64_t size = (argc > 2 ? strtoull(argv[2], NULL, 10) : 1024) << 20;
	bool flush = !(argc > 3 && strcmp(argv[3], "--no-flush") == 0);
	bool use_splice = argc > 3 && strcmp(argv[3], "--splice") == 0;
	struct spool *sp = spool_create(argv[1], size, 1, err, sizeof(err));
	if (sp == NULL) {
		fprintf(stderr, "spoolio: %s\n", err);
		return 1;
	}
	int fd = spool_open(sp, getenv("NOFALLOC") ? 0 : size);
	if (fd < 0) {
		perror("spool_open");
		return 1;
	}
	if (!getenv("INLINE_WRITEBACK") && spool_closer_start() < 0)
		perror("spool_closer_start");
	if (use_splice)
		upload_splice(fd, size);
	else
		upload(fd, size, flush);
	deliver(fd, size);
	spool_closer_stop();
	/* the last close frees the blocks and the page cache of the file */
	struct cost cl = {0};
	int64_t a = us_now();
	cost_start(&cl);
	close(fd);
	cost_end(&cl, us_now() - a);
	cost_print("last close  ", &cl);
	spool_destroy(sp);
	return 0;
}
