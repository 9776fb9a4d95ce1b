/* fcload: load generator for the robustness bats tests (bats/robust_*.bats).
 * Bash is too slow for megabytes of traffic or thousands of sockets; this
 * program does the byte work and prints one summary line of key=value pairs
 * that the test asserts on. Every wait has a deadline.
 *
 *   fcload flood PORT [-r RECEIVERS] [-b BYTES] [-L LINELEN] [-p "PIDS"]
 *         [-t SECS]
 *       log in RECEIVERS reading clients, one never-reading client (small
 *       receive buffer) and a sender; the sender broadcasts BYTES of BCST
 *       lines carrying sequence numbers, at most a window ahead of the
 *       slowest *reading* receiver. Checks every receiver gets every
 *       message in order; samples the summed VmRSS of PIDS; at the end
 *       reads the never-reading client to see how it was dropped.
 *   fcload hold PORT [-i IDLE] [-h HALF] [-t SECS] [-s STOPFILE]
 *       open IDLE idle and HALF half-line connections (a line without its
 *       end), print "READY opened=N", hold them (draining input) until
 *       STOPFILE exists or SECS pass, then print how many are still open.
 *   fcload binary PORT [-n NUMPORT] [-c CONNS] [-b BYTES] [-t SECS] [-S SEED]
 *       CONNS connections (half of them on NUMPORT if given) each send BYTES
 *       of random bytes (NULs, control chars, newlines, runs of 100 KB
 *       without a newline); reports for each whether it got error lines or
 *       was closed.
 *   fcload churn PORT [-n NUMPORT] [-c CYCLES] [-C LANES] [-P PREFIX]
 *       CYCLES connect/login/quit cycles over LANES threads (every other
 *       cycle numeric when NUMPORT is given).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *fmt, const char *a)
{
	fprintf(stderr, "fcload: ");
	fprintf(stderr, fmt, a);
	fprintf(stderr, "\n");
	printf("ERROR %s\n", a);
	exit(1);
}

static void
raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* A connected TCP socket to 127.0.0.1:port; blocking connect. */
static int
tcp_connect(int port, int rcvbuf)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void
set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* ---- a line-reading connection ---- */

struct lconn {
	int fd;
	char name[32];
	char *buf;
	size_t len, cap;
	bool eof;
	/* flood receiver state */
	long next_seq, count;
	long order_errors;
	bool dscn;
	/* binary state */
	long lines, errors;
	char *out;
	size_t out_len, out_off;
};

static int
lc_fill(struct lconn *c)
{
	if (c->cap - c->len < 65536) {
		c->cap = c->cap ? c->cap * 2 : 131072;
		c->buf = realloc(c->buf, c->cap);
		if (c->buf == NULL)
			die("%s", "out of memory");
	}
	ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
	if (n > 0) {
		c->len += (size_t)n;
		return 1;
	}
	if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		c->eof = true;
		return -1;
	}
	return 0;
}

/* Next complete line (without \n, \r stripped) or NULL. The pointer stays
 * valid until the next lc_* call. */
static char *
lc_line(struct lconn *c, size_t *off)
{
	char *s = c->buf + *off;
	char *nl = memchr(s, '\n', c->len - *off);
	if (nl == NULL)
		return NULL;
	*nl = '\0';
	if (nl > s && nl[-1] == '\r')
		nl[-1] = '\0';
	*off = (size_t)(nl - c->buf) + 1;
	return s;
}

static void
lc_compact(struct lconn *c, size_t off)
{
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
}

static int
send_all(int fd, const char *p, size_t n, double deadline)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (now_s() > deadline)
			return -1;
		struct pollfd pfd = {fd, POLLOUT, 0};
		poll(&pfd, 1, 50);
	}
	return 0;
}

static int
send_line(struct lconn *c, const char *line)
{
	char b[512];
	int n = snprintf(b, sizeof(b), "%s\n", line);
	return send_all(c->fd, b, (size_t)n, now_s() + 5);
}

/* Read lines until one equals `want` (answering PING); 0 or -1. */
static int
lc_wait_for(struct lconn *c, const char *want, double deadline)
{
	for (;;) {
		size_t off = 0;
		char *l;
		while ((l = lc_line(c, &off)) != NULL) {
			if (strcmp(l, "PING") == 0)
				send_line(c, "PONG");
			if (strcmp(l, want) == 0) {
				lc_compact(c, off);
				return 0;
			}
		}
		lc_compact(c, off);
		if (c->eof || now_s() > deadline)
			return -1;
		struct pollfd pfd = {c->fd, POLLIN, 0};
		poll(&pfd, 1, 50);
		lc_fill(c);
	}
}

static void
login_okfail(struct lconn *c, int port, const char *name, int rcvbuf)
{
	char want[64];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->fd = tcp_connect(port, rcvbuf);
	if (c->fd < 0)
		die("cannot connect %s", name);
	set_nonblock(c->fd);
	if (lc_wait_for(c, "INIT Welcome to the server!", now_s() + 10) < 0)
		die("no greeting for %s", name);
	snprintf(want, sizeof(want), "IDENT %s", name);
	send_line(c, want);
	snprintf(want, sizeof(want), "OK IDENT %s", name);
	if (lc_wait_for(c, want, now_s() + 10) < 0)
		die("login failed for %s", name);
}

/* ---- RSS of the daemon ---- */

static long
rss_kb(const char *pids)
{
	long total = 0;
	char copy[4096];
	snprintf(copy, sizeof(copy), "%s", pids ? pids : "");
	for (char *t = strtok(copy, " ,\n"); t; t = strtok(NULL, " ,\n")) {
		char path[64], line[256];
		snprintf(path, sizeof(path), "/proc/%s/status", t);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		while (fgets(line, sizeof(line), f))
			if (strncmp(line, "VmRSS:", 6) == 0)
				total += atol(line + 6);
		fclose(f);
	}
	return total;
}

/* ---- flood ---- */

static int
cmd_flood(int port, int nrecv, long bytes, int linelen, const char *pids,
	  double secs)
{
	struct lconn *r = calloc((size_t)nrecv, sizeof(*r));
	struct lconn slow, snd;
	char name[32];
	long base = rss_kb(pids), maxrss = base;

	for (int i = 0; i < nrecv; i++) {
		snprintf(name, sizeof(name), "fl_r%d", i);
		login_okfail(&r[i], port, name, 0);
	}
	login_okfail(&slow, port, "fl_slow", 4096);
	login_okfail(&snd, port, "fl_send", 0);

	if (linelen < 32)
		linelen = 32;
	long total = bytes / linelen;
	/* window: the slowest reading receiver may lag by ~48 KiB */
	long window = (48 * 1024) / linelen;
	if (window < 8)
		window = 8;
	char *pad = malloc((size_t)linelen);
	memset(pad, 'x', (size_t)linelen);

	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN};
	for (int i = 0; i < nrecv; i++) {
		ev.data.ptr = &r[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, r[i].fd, &ev);
		r[i].next_seq = 0;
	}
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.ptr = &snd;
	epoll_ctl(ep, EPOLL_CTL_ADD, snd.fd, &ev);

	long seq = 0, oks = 0, fails = 0, other_r = 0;
	char *obuf = malloc(1 << 20);
	size_t olen = 0, ooff = 0;
	double t0 = now_s(), deadline = t0 + secs, next_rss = t0;
	int lost_recv = 0;
	bool send_eof = false;

	for (;;) {
		long minr = total;
		for (int i = 0; i < nrecv; i++)
			if (!r[i].eof && r[i].next_seq < minr)
				minr = r[i].next_seq;
		if (minr >= total && oks + fails >= total)
			break;
		if (now_s() > deadline || send_eof)
			break;
		/* fill the sender's output within the window */
		while (ooff == olen && seq < total && seq - minr < window) {
			olen = ooff = 0;
			while (seq < total && seq - minr < window &&
			       olen + (size_t)linelen + 64 < (1 << 20)) {
				int n = sprintf(obuf + olen, "BCST %ld ", seq);
				int fill = linelen - n - 1;
				if (fill < 1)
					fill = 1;
				memcpy(obuf + olen + n, pad, (size_t)fill);
				olen += (size_t)n + (size_t)fill;
				obuf[olen++] = '\n';
				seq++;
			}
		}
		if (ooff < olen) {
			ssize_t w = send(snd.fd, obuf + ooff, olen - ooff,
					 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w > 0)
				ooff += (size_t)w;
			else if (w < 0 && errno != EAGAIN)
				send_eof = true;
		}
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, 20);
		for (int k = 0; k < n; k++) {
			struct lconn *c = evs[k].data.ptr;
			if (!(evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				continue;
			while (lc_fill(c) > 0)
				;
			size_t off = 0;
			char *l;
			while ((l = lc_line(c, &off)) != NULL) {
				if (strcmp(l, "PING") == 0) {
					send_line(c, "PONG");
				} else if (c == &snd) {
					if (strncmp(l, "OK BCST ", 8) == 0)
						oks++;
					else if (strncmp(l, "FAIL", 4) == 0 ||
						 strncmp(l, "DSCN", 4) == 0)
						fails++;
				} else if (strncmp(l, "BCST fl_send ", 13) ==
					   0) {
					long s = atol(l + 13);
					c->count++;
					if (s != c->next_seq &&
					    c->order_errors++ < 3)
						fprintf(stderr,
							"%s: expected seq %ld, got '%.60s'\n",
							c->name, c->next_seq,
							l);
					c->next_seq = s + 1;
				} else if (strncmp(l, "DSCN", 4) == 0) {
					c->dscn = true;
				} else if (getenv("FCLOAD_DEBUG") &&
					   (!strncmp(l, "JOINED ", 7) ||
					    !strncmp(l, "LEFT ", 5))) {
					fprintf(stderr,
						"%s: presence '%.80s'\n",
						c->name, l);
				} else if (strncmp(l, "JOINED ", 7) &&
					   strncmp(l, "LEFT ", 5)) {
					if (other_r++ < 3)
						fprintf(stderr,
							"%s: unexpected '%.60s'\n",
							c->name, l);
				}
			}
			lc_compact(c, off);
			if (c->eof) {
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				if (c == &snd)
					send_eof = true;
				else
					lost_recv++;
			}
		}
		if (now_s() >= next_rss) {
			long kb = rss_kb(pids);
			if (kb > maxrss)
				maxrss = kb;
			next_rss = now_s() + 0.05;
		}
	}
	double elapsed = now_s() - t0;
	long rss_end = rss_kb(pids);

	/* the never-reading client: read it now; it must have been dropped */
	const char *slow_state = "open";
	double sd = now_s() + 5;
	while (now_s() < sd) {
		struct pollfd pfd = {slow.fd, POLLIN, 0};
		poll(&pfd, 1, 50);
		while (lc_fill(&slow) > 0)
			;
		size_t off = 0;
		char *l;
		while ((l = lc_line(&slow, &off)) != NULL)
			if (strcmp(l, "DSCN Output queue exceeded") == 0)
				slow.dscn = true;
		lc_compact(&slow, off);
		if (slow.eof)
			break;
	}
	if (slow.eof)
		slow_state = slow.dscn ? "dscn" : "closed";
	else if (slow.dscn)
		slow_state = "dscn-open";

	long rmin = total, rmax = 0, order = 0, cmin = total;
	for (int i = 0; i < nrecv; i++) {
		if (r[i].next_seq < rmin)
			rmin = r[i].next_seq;
		if (r[i].next_seq > rmax)
			rmax = r[i].next_seq;
		order += r[i].order_errors;
		if (r[i].count < cmin)
			cmin = r[i].count;
	}
	printf("total=%ld sent=%ld ok=%ld fail=%ld recv_min=%ld recv_max=%ld "
	       "count_min=%ld order_errors=%ld receivers_lost=%d other_lines=%ld slow=%s "
	       "rss_base=%ld rss_max=%ld rss_end=%ld elapsed=%.2f\n",
	       total, seq, oks, fails, rmin, rmax, cmin, order, lost_recv,
	       other_r, slow_state, base, maxrss, rss_end, elapsed);
	return 0;
}

/* ---- hold ---- */

static bool
file_exists(const char *p)
{
	return p && access(p, F_OK) == 0;
}

static int
cmd_hold(int port, int nidle, int nhalf, double secs, const char *stop)
{
	int n = nidle + nhalf, opened = 0;
	int *fds = calloc((size_t)n, sizeof(int));
	char junk[4096];

	raise_nofile();
	for (int i = 0; i < n; i++) {
		fds[i] = tcp_connect(port, 4096);
		if (fds[i] < 0) {
			fprintf(stderr, "fcload hold: connect %d: %s\n", i,
				strerror(errno));
			continue;
		}
		set_nonblock(fds[i]);
		opened++;
		if (i >= nidle)
			(void)!send(fds[i], "BCST half a line", 16,
				    MSG_NOSIGNAL);
	}
	printf("READY opened=%d\n", opened);
	fflush(stdout);
	double deadline = now_s() + secs;
	int closed = 0;
	bool *dead = calloc((size_t)n, sizeof(bool));
	while (now_s() < deadline && !file_exists(stop)) {
		for (int i = 0; i < n; i++) {
			if (fds[i] < 0 || dead[i])
				continue;
			ssize_t r =
				recv(fds[i], junk, sizeof(junk), MSG_DONTWAIT);
			if (r == 0 || (r < 0 && errno != EAGAIN)) {
				dead[i] = true;
				closed++;
			}
		}
		usleep(50000);
	}
	printf("DONE opened=%d closed_by_server=%d\n", opened, closed);
	return 0;
}

/* ---- binary ---- */

static uint64_t rng_state = 88172645463325252ull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void
fill_random(char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint64_t k = rng() % 10;
		size_t run = 1 + rng() % 300;
		if (k == 0)
			run = 100000 + rng() % 200000; /* a huge line */
		if (run > n - i)
			run = n - i;
		for (size_t j = 0; j < run; j++) {
			char ch = (char)(rng() & 0xff);
			if (k == 0 && (ch == '\n' || ch == '\r'))
				ch = 'A';
			p[i + j] = ch;
		}
		i += run;
		if (k < 8 && i < n)
			p[i++] = '\n';
	}
}

static bool
is_error_line(const char *l)
{
	if (strncmp(l, "FAIL", 4) == 0 || strncmp(l, "DSCN", 4) == 0)
		return true;
	return (l[0] >= '4' && l[0] <= '6') || l[0] == '9';
}

static int
cmd_binary(int port, int numport, int nconn, long bytes, double secs,
	   unsigned seed)
{
	struct lconn *c = calloc((size_t)nconn, sizeof(*c));
	int ep = epoll_create1(0);

	rng_state ^= (uint64_t)seed * 0x9E3779B97F4A7C15ull;
	for (int i = 0; i < nconn; i++) {
		int p = (numport > 0 && (i & 1)) ? numport : port;
		c[i].fd = tcp_connect(p, 0);
		if (c[i].fd < 0)
			die("%s", "binary: cannot connect");
		set_nonblock(c[i].fd);
		c[i].out = malloc((size_t)bytes);
		fill_random(c[i].out, (size_t)bytes);
		c[i].out_len = (size_t)bytes;
		struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT,
					 .data.ptr = &c[i]};
		epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
	}
	double deadline = now_s() + secs;
	int done_sending = 0;
	double all_sent_at = 0;
	while (now_s() < deadline) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, 50);
		for (int k = 0; k < n; k++) {
			struct lconn *x = evs[k].data.ptr;
			if ((evs[k].events & EPOLLOUT) &&
			    x->out_off < x->out_len && !x->eof) {
				ssize_t w = send(x->fd, x->out + x->out_off,
						 x->out_len - x->out_off,
						 MSG_NOSIGNAL | MSG_DONTWAIT);
				if (w > 0)
					x->out_off += (size_t)w;
				else if (w < 0 && errno != EAGAIN)
					x->eof = true;
				if (x->out_off == x->out_len || x->eof) {
					struct epoll_event ev = {
						.events = EPOLLIN,
						.data.ptr = x};
					epoll_ctl(ep, EPOLL_CTL_MOD, x->fd,
						  &ev);
					done_sending++;
				}
			}
			if (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				while (lc_fill(x) > 0)
					;
				size_t off = 0;
				char *l;
				while ((l = lc_line(x, &off)) != NULL) {
					x->lines++;
					if (is_error_line(l))
						x->errors++;
				}
				lc_compact(x, off);
				if (x->eof) {
					epoll_ctl(ep, EPOLL_CTL_DEL, x->fd,
						  NULL);
					if (x->out_off < x->out_len)
						done_sending++;
					x->out_off = x->out_len;
				}
			}
		}
		if (done_sending >= nconn && all_sent_at == 0)
			all_sent_at = now_s();
		/* after everything went out, give replies a moment */
		if (all_sent_at && now_s() > all_sent_at + 1.0)
			break;
	}
	int with_err = 0, closed = 0, neither = 0, unsent = 0;
	for (int i = 0; i < nconn; i++) {
		if (c[i].errors)
			with_err++;
		if (c[i].eof)
			closed++;
		if (!c[i].errors && !c[i].eof)
			neither++;
		if (c[i].out_off < c[i].out_len)
			unsent++;
	}
	printf("conns=%d with_errors=%d closed=%d neither=%d unsent=%d\n",
	       nconn, with_err, closed, neither, unsent);
	return 0;
}

/* ---- churn ---- */

struct lane {
	int id, port, numport, cycles;
	const char *prefix;
	long done, failures;
	char why[200];
};

static int
churn_numeric(struct lconn *c, const char *name)
{
	char want[64];
	snprintf(want, sizeof(want), "USER %s", name);
	send_line(c, want);
	snprintf(want, sizeof(want), "200 Welcome %s!", name);
	if (lc_wait_for(c, want, now_s() + 10) < 0)
		return -1;
	send_line(c, "QUIT");
	return 0;
}

static int
churn_okfail(struct lconn *c, const char *name)
{
	char want[64];
	if (lc_wait_for(c, "INIT Welcome to the server!", now_s() + 10) < 0)
		return -1;
	snprintf(want, sizeof(want), "IDENT %s", name);
	send_line(c, want);
	snprintf(want, sizeof(want), "OK IDENT %s", name);
	if (lc_wait_for(c, want, now_s() + 10) < 0)
		return -1;
	send_line(c, "QUIT");
	return lc_wait_for(c, "OK GOODBYE", now_s() + 10);
}

static void *
lane_run(void *arg)
{
	struct lane *ln = arg;
	struct lconn c;
	char name[32];

	for (int i = 0; i < ln->cycles; i++) {
		bool num = ln->numport > 0 && (i & 1);
		memset(&c, 0, sizeof(c));
		c.fd = tcp_connect(num ? ln->numport : ln->port, 0);
		if (c.fd < 0) {
			ln->failures++;
			snprintf(ln->why, sizeof(ln->why), "connect: %s",
				 strerror(errno));
			continue;
		}
		set_nonblock(c.fd);
		snprintf(name, sizeof(name), "%s%d_%d", ln->prefix, ln->id,
			 i % 50);
		int rc = num ? churn_numeric(&c, name) : churn_okfail(&c, name);
		if (rc == 0) {
			/* the server closes after QUIT: wait for EOF */
			double d = now_s() + 10;
			while (!c.eof && now_s() < d) {
				struct pollfd pfd = {c.fd, POLLIN, 0};
				poll(&pfd, 1, 50);
				while (lc_fill(&c) > 0)
					c.len = 0;
			}
			if (!c.eof)
				rc = -1;
		}
		if (rc < 0) {
			ln->failures++;
			snprintf(ln->why, sizeof(ln->why), "%s %s: %.*s", name,
				 num ? "numeric" : "okfail",
				 (int)(c.len > 100 ? 100 : c.len),
				 c.buf ? c.buf : "");
		}
		close(c.fd);
		free(c.buf);
		ln->done++;
	}
	return NULL;
}

static int
cmd_churn(int port, int numport, int cycles, int lanes, const char *prefix)
{
	pthread_t *t = calloc((size_t)lanes, sizeof(*t));
	struct lane *ln = calloc((size_t)lanes, sizeof(*ln));
	double t0 = now_s();

	for (int i = 0; i < lanes; i++) {
		ln[i] = (struct lane){.id = i,
				      .port = port,
				      .numport = numport,
				      .cycles = cycles / lanes +
						(i < cycles % lanes),
				      .prefix = prefix};
		pthread_create(&t[i], NULL, lane_run, &ln[i]);
	}
	long done = 0, fail = 0;
	const char *why = "";
	for (int i = 0; i < lanes; i++) {
		pthread_join(t[i], NULL);
		done += ln[i].done;
		fail += ln[i].failures;
		if (ln[i].failures)
			why = ln[i].why;
	}
	printf("cycles=%ld failures=%ld elapsed=%.2f last_failure=%s\n", done,
	       fail, now_s() - t0, why[0] ? why : "-");
	return 0;
}

/* ---- main ---- */

int
main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: see the comment at the top of "
				"tests/fcload.c\n");
		return 2;
	}
	const char *mode = argv[1];
	int port = atoi(argv[2]);
	int nrecv = 4, linelen = 200, nidle = 0, nhalf = 0, numport = 0;
	int conns = 60, cycles = 100, lanes = 4;
	long bytes = 1 << 20;
	double secs = 60;
	const char *pids = "", *stop = NULL, *prefix = "ch";
	unsigned seed = (unsigned)getpid();
	int opt;

	setvbuf(stdout, NULL, _IOLBF, 0);
	optind = 3;
	while ((opt = getopt(argc, argv, "r:b:L:p:t:i:h:s:n:c:C:P:S:")) != -1) {
		switch (opt) {
		case 'r':
			nrecv = atoi(optarg);
			break;
		case 'b':
			bytes = atol(optarg);
			break;
		case 'L':
			linelen = atoi(optarg);
			break;
		case 'p':
			pids = optarg;
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 'i':
			nidle = atoi(optarg);
			break;
		case 'h':
			nhalf = atoi(optarg);
			break;
		case 's':
			stop = optarg;
			break;
		case 'n':
			numport = atoi(optarg);
			break;
		case 'c':
			conns = cycles = atoi(optarg);
			break;
		case 'C':
			lanes = atoi(optarg);
			break;
		case 'P':
			prefix = optarg;
			break;
		case 'S':
			seed = (unsigned)atol(optarg);
			break;
		default:
			return 2;
		}
	}
	if (strcmp(mode, "flood") == 0)
		return cmd_flood(port, nrecv, bytes, linelen, pids, secs);
	if (strcmp(mode, "hold") == 0)
		return cmd_hold(port, nidle, nhalf, secs, stop);
	if (strcmp(mode, "binary") == 0)
		return cmd_binary(port, numport, conns, bytes, secs, seed);
	if (strcmp(mode, "churn") == 0)
		return cmd_churn(port, numport, cycles, lanes, prefix);
	fprintf(stderr, "fcload: unknown mode %s\n", mode);
	return 2;
}
