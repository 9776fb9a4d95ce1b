/* bench/pingpong.c: what one wake-up of another process costs on this
 * machine, the price of a private message that crosses workers. Two
 * processes (or two threads) bounce one byte over a socketpair, each
 * waiting in epoll_wait like a worker; the round trip is timed 2000 times,
 * with a pause between bounces so that the other side is asleep each time.
 *   pingpong [--threads] [--cpus A,B] [--gap-us N]
 * --cpus pins the two sides (-1: free); prints p50 and p99 in µs. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 2000

static int sv[2];
static int cpu_b = -1;

static double
now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void
pin(int cpu)
{
	cpu_set_t s;

	if (cpu < 0)
		return;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (sched_setaffinity(0, sizeof(s), &s) < 0)
		perror("sched_setaffinity");
}

/* Wait for a byte like a worker waits for a frame, send it back. */
static void *
echo(void *arg)
{
	struct epoll_event e = {.events = EPOLLIN};
	int ep = epoll_create1(0);
	char b;

	(void)arg;
	pin(cpu_b);
	epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &e);
	for (;;) {
		if (epoll_wait(ep, &e, 1, -1) < 0 || read(sv[1], &b, 1) != 1)
			break;
		if (write(sv[1], &b, 1) != 1)
			break;
	}
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	int cpu_a = -1, gap = 200, threads = 0;
	static double rtt[ROUNDS];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--threads"))
			threads = 1;
		else if (!strcmp(argv[i], "--cpus") && i + 1 < argc)
			sscanf(argv[++i], "%d,%d", &cpu_a, &cpu_b);
		else if (!strcmp(argv[i], "--gap-us") && i + 1 < argc)
			gap = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: pingpong [--threads] "
					"[--cpus A,B] [--gap-us N]\n");
			return 2;
		}
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		perror("socketpair");
		return 1;
	}
	pthread_t t;
	pid_t child = -1;
	if (threads)
		pthread_create(&t, NULL, echo, NULL);
	else if ((child = fork()) == 0) {
		close(sv[0]); /* our end's close is its end of input */
		echo(NULL);
		_exit(0);
	} else
		close(sv[1]);
	pin(cpu_a);
	struct epoll_event e = {.events = EPOLLIN};
	int ep = epoll_create1(0);
	epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &e);
	char b = 'x';
	for (int i = 0; i < ROUNDS; i++) {
		usleep((useconds_t)gap);
		double t0 = now_us();
		if (write(sv[0], &b, 1) != 1 || epoll_wait(ep, &e, 1, -1) < 0 ||
		    read(sv[0], &b, 1) != 1)
			return 1;
		rtt[i] = now_us() - t0;
	}
	qsort(rtt, ROUNDS, sizeof(rtt[0]), cmp);
	printf("RESULT pingpong %s cpus=%d,%d gap_us=%d p50_us=%.1f "
	       "p99_us=%.1f\n",
	       threads ? "threads" : "processes", cpu_a, cpu_b, gap,
	       rtt[ROUNDS / 2], rtt[ROUNDS * 99 / 100]);
	close(sv[0]);
	if (child > 0)
		waitpid(child, NULL, 0);
	return 0;
}
