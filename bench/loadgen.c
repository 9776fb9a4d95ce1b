/* loadgen.c: one-process epoll load generator for forkchatd (okfail, numeric,
 * irc), IRC servers (ngircd, InspIRCd) and bench/limit. Scenarios: fanout,
 * pm, login, idle, file, copy; prints one machine-readable RESULT line each. */
#include "lg_util.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define INBUF 8192
#define OUTBUF 65536
#define PATSZ 262144
#define MAXPIDS 64

enum dia { D_OKFAIL, D_NUMERIC, D_IRC };
enum scen { SC_FANOUT, SC_PM, SC_LOGIN, SC_IDLE, SC_FILE, SC_COPY };
enum cst {
	ST_FREE,
	ST_CONNECTING,
	ST_LOGIN,
	ST_JOIN,
	ST_READY,
	ST_RAW,
	ST_DEAD
};

struct conn {
	int fd, idx;
	uint8_t st, replies, skip,
		file_role; /* file_role: 1 sender, 2 receiver */
	uint32_t inlen, outlen;
	uint64_t t_start, raw_left, raw_off;
	char *out;
	char in[INBUF];
};

struct sender {
	int conn, target;
	uint32_t sent, done;
	uint32_t *ring;    /* receipts per in-flight seq, K slots */
	uint32_t *next_at; /* next expected seq per receiver (pm: one slot) */
	uint8_t dirty;
};

struct opts {
	int scen, dia, port, clients, senders, window, size, nsrc, conc, npids;
	double rate, duration, setup_timeout, drain_timeout, pause;
	uint64_t file_size;
	const char *server, *cdf;
	int pids[MAXPIDS];
	int ports[MAXPIDS], nports; /* --ports: client i on ports[i % n] */
};

static struct {
	struct opts o;
	int ep, n, ns, ready, failed, pending, next_connect, ndirty;
	struct conn *c;
	struct sender *s;
	int *dirty;
	uint32_t expect;
	uint64_t deliveries, lost, reordered, errors, misdelivered, t0, t_end;
	uint64_t t_last_rx, t_last_deliv, t_first_conn, t_last_ready;
	uint64_t file_t100, file_tdone, file_tack, file_bad, peak_rss, peak_pss;
	uint64_t file_t102,
		file_t714; /* offered to the receiver; the verdict */
	int file_fail;
	char tag[4];
	struct hist lat, login;
	uint8_t pat[2 * PATSZ];
	uint8_t scratch[PATSZ];
} g;

static void
warn(const char *fmt, ...)
{
	static int shown;
	if (shown++ > 20)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("loadgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void
name_of(int i, char *buf, size_t n)
{
	snprintf(buf, n, "b%s%05d", g.tag, i);
}

/* ---- output ---- */

static void flush_out(struct conn *c);

static void
queue_out(struct conn *c, const char *s, size_t n)
{
	if (!c->out)
		c->out = malloc(OUTBUF);
	if (n > OUTBUF - c->outlen) {
		warn("output overflow on client %d", c->idx);
		return;
	}
	memcpy(c->out + c->outlen, s, n);
	c->outlen += (uint32_t)n;
}

static void
sendf(struct conn *c, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	queue_out(c, buf, (size_t)n);
	flush_out(c);
}

static void
conn_dead(struct conn *c, const char *why)
{
	if (c->st == ST_DEAD || c->st == ST_FREE)
		return;
	if (c->st == ST_CONNECTING || c->st == ST_LOGIN || c->st == ST_JOIN) {
		g.failed++;
		g.pending--;
	}
	g.errors++;
	warn("client %d: %s (state %d)", c->idx, why, c->st);
	close(c->fd);
	c->fd = -1;
	c->st = ST_DEAD;
}

static void
flush_out(struct conn *c)
{
	uint32_t off = 0;
	while (off < c->outlen) {
		ssize_t w = send(c->fd, c->out + off, c->outlen - off,
				 MSG_NOSIGNAL);
		if (w > 0) {
			off += (uint32_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN)
			conn_dead(c, strerror(errno));
		break;
	}
	if (off && c->st != ST_DEAD) {
		memmove(c->out, c->out + off, c->outlen - off);
		c->outlen -= off;
	}
}

/* ---- connection setup and login ---- */

static int
need_join(void)
{
	return g.o.scen == SC_FANOUT && g.o.dia != D_OKFAIL;
}

static void
start_connect(int i)
{
	struct conn *c = &g.c[i];
	struct sockaddr_in src = {.sin_family = AF_INET}, dst = src;
	int one = 1,
	    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	c->idx = i;
	c->t_start = now_ns();
	c->fd = fd;
	c->st = ST_CONNECTING;
	g.pending++;
	if (!g.t_first_conn)
		g.t_first_conn = c->t_start;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
	src.sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)(i % g.o.nsrc));
	if (bind(fd, (struct sockaddr *)&src, sizeof src))
		warn("bind: %s", strerror(errno));
	dst.sin_addr.s_addr = htonl(0x7f000001u);
	dst.sin_port = htons(
		(uint16_t)(g.o.nports ? g.o.ports[i % g.o.nports] : g.o.port));
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET |
					   EPOLLRDHUP,
				 .data.u64 = (uint64_t)i};
	epoll_ctl(g.ep, EPOLL_CTL_ADD, fd, &ev);
	if (connect(fd, (struct sockaddr *)&dst, sizeof dst) &&
	    errno != EINPROGRESS)
		conn_dead(c, strerror(errno));
}

static void
connect_more(void)
{
	while (g.next_connect < g.n && g.pending < g.o.conc)
		start_connect(g.next_connect++);
}

static void
send_login(struct conn *c)
{
	char nm[16];
	name_of(c->idx, nm, sizeof nm);
	c->st = ST_LOGIN;
	if (g.o.dia == D_OKFAIL)
		sendf(c, "IDENT %s\n", nm);
	else if (g.o.dia == D_NUMERIC)
		sendf(c, "USER %s\n", nm);
	else
		sendf(c, "NICK %s\r\nUSER %s 0 * :bench\r\n", nm, nm);
}

static void
on_connected(struct conn *c)
{
	int err = 0;
	socklen_t l = sizeof err;
	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
	if (err)
		conn_dead(c, strerror(err));
	else
		send_login(c);
}

static void
mark_ready(struct conn *c, uint64_t now)
{
	c->st = ST_READY;
	g.ready++;
	g.pending--;
	g.t_last_ready = now;
	hist_add(&g.login, now - c->t_start);
	connect_more();
}

static void
logged_in(struct conn *c, uint64_t now)
{
	if (!need_join()) {
		mark_ready(c, now);
		return;
	}
	c->st = ST_JOIN;
	c->replies = 0;
	if (g.o.dia == D_NUMERIC)
		sendf(c, "ROOM bench\nJOIN bench\n");
	else
		sendf(c, "JOIN #bench\r\n");
}

static int
code_of(const char *l, size_t len)
{
	if (len < 3 || l[0] < '0' || l[0] > '9' || l[1] < '0' || l[1] > '9' ||
	    l[2] < '0' || l[2] > '9')
		return -1;
	if (len > 3 && l[3] != ' ' && l[3] != '-')
		return -1;
	return (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
}

/* IRC: numeric of ":server 001 nick ..." or -1. */
static int
irc_code(const char *l, size_t len)
{
	if (!len || l[0] != ':')
		return -1;
	const char *sp = memchr(l, ' ', len);
	if (!sp)
		return -1;
	return code_of(sp + 1, len - (size_t)(sp + 1 - l));
}

static void
login_line(struct conn *c, const char *l, size_t len, uint64_t now)
{
	int code;
	if (g.o.dia == D_OKFAIL) {
		if (len >= 8 && !memcmp(l, "OK IDENT", 8))
			logged_in(c, now);
		else if (len >= 4 && !memcmp(l, "FAIL", 4))
			conn_dead(c, "login refused");
	} else if (g.o.dia == D_NUMERIC) {
		code = code_of(l, len);
		if (code == 200)
			logged_in(c, now);
		else if (code >= 300 && code < 700)
			conn_dead(c, "login refused");
	} else {
		code = irc_code(l, len);
		if (code == 1)
			logged_in(c, now);
		else if (code == 433 || code == 432 ||
			 (len >= 5 && !memcmp(l, "ERROR", 5)))
			conn_dead(c, "irc login refused");
	}
}

static void
join_line(struct conn *c, const char *l, size_t len, uint64_t now)
{
	if (g.o.dia == D_NUMERIC) {
		int code = code_of(l, len);
		if (code >= 200 && code < 700 && ++c->replies == 2)
			mark_ready(c, now);
		return;
	}
	char pre[24];
	name_of(c->idx, pre + 1, sizeof pre - 1);
	pre[0] = ':';
	size_t pl = strlen(pre);
	int code = irc_code(l, len);
	/* our own JOIN of #bench: a server may have joined us to other
	 * channels at registration (forkchatd: &all) */
	if (len > pl && !memcmp(l, pre, pl) && (l[pl] == '!' || l[pl] == ' ') &&
	    (memmem(l, len, " JOIN #bench", 11) ||
	     memmem(l, len, " JOIN :#bench", 12)))
		mark_ready(c, now);
	else if (code == 403 || code == 405 || (code >= 471 && code <= 479))
		conn_dead(c, "irc join refused");
}

/* ---- message tracking ---- */

static uint64_t
parse_u64(const char **pp)
{
	const char *p = *pp;
	uint64_t v = 0;
	while (*p >= '0' && *p <= '9')
		v = v * 10 + (uint64_t)(*p++ - '0');
	*pp = p;
	return v;
}

static void
advance(struct sender *s)
{
	uint32_t k = (uint32_t)g.o.window, moved = 0;
	while (s->done < s->sent && s->ring[s->done % k] >= g.expect) {
		s->ring[s->done % k] = 0;
		s->done++;
		moved = 1;
	}
	if (moved && !s->dirty) {
		s->dirty = 1;
		g.dirty[g.ndirty++] = (int)(s - g.s);
	}
}

static void
deliver(struct conn *c, const char *p, uint64_t now)
{
	uint32_t sid = (uint32_t)parse_u64(&p), seq = 0;
	uint64_t ts = 0;
	if (*p == ':') {
		p++;
		seq = (uint32_t)parse_u64(&p);
	}
	if (*p == ':') {
		p++;
		ts = parse_u64(&p);
	}
	if (sid >= (uint32_t)g.ns) {
		g.errors++;
		return;
	}
	struct sender *s = &g.s[sid];
	if (g.o.scen == SC_PM && s->target != c->idx) {
		g.misdelivered++;
		return;
	}
	uint32_t slot = g.o.scen == SC_PM ? 0 : (uint32_t)c->idx;
	uint32_t exp = s->next_at[slot];
	if (seq < exp) {
		g.reordered++;
		return;
	}
	g.lost += seq - exp;
	s->next_at[slot] = seq + 1;
	hist_add(&g.lat, now > ts ? now - ts : 0);
	g.deliveries++;
	g.t_last_deliv = now;
	s->ring[seq % (uint32_t)g.o.window]++;
	advance(s);
}

/* ---- file transfer (numeric FILE) ---- */

static void
raw_consume(struct conn *c, const char *p, size_t n, uint64_t now)
{
	if (n > c->raw_left)
		n = c->raw_left;
	size_t off = c->raw_off % PATSZ;
	if (memcmp(p, g.pat + off, n))
		g.file_bad++;
	c->raw_off += n;
	c->raw_left -= n;
	if (!c->raw_left) {
		c->st = ST_READY;
		g.file_tdone = now;
	}
}

static void
raw_read(struct conn *c)
{
	for (;;) {
		ssize_t r = read(c->fd, g.scratch,
				 c->raw_left < PATSZ ? c->raw_left : PATSZ);
		if (r > 0) {
			raw_consume(c, (char *)g.scratch, (size_t)r, now_ns());
			if (c->st != ST_RAW)
				return;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 || errno != EAGAIN)
			conn_dead(c, "closed during file");
		return;
	}
}

/* Write pattern bytes from *off until *left is 0 or the socket is full. */
static int
pump_bytes(int fd, uint64_t *off, uint64_t *left)
{
	while (*left) {
		size_t n = *left < PATSZ ? (size_t)*left : PATSZ;
		ssize_t w = send(fd, g.pat + *off % PATSZ, n, MSG_NOSIGNAL);
		if (w > 0) {
			*off += (uint64_t)w;
			*left -= (uint64_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else {
			return w < 0 && errno == EAGAIN ? 0 : -1;
		}
	}
	return 0;
}

static void
file_pump(struct conn *c)
{
	if (c->file_role != 1 || !g.file_t100 || !c->raw_left)
		return;
	if (pump_bytes(c->fd, &c->raw_off, &c->raw_left))
		conn_dead(c, "file send failed");
}

static void
file_line(struct conn *c, const char *l, size_t len, uint64_t now)
{
	int code = code_of(l, len);
	if (c->file_role == 1 && code == 100 && !g.file_t100) {
		g.file_t100 = now;
		c->raw_left = g.o.file_size;
		c->raw_off = 0;
		file_pump(c);
	} else if (c->file_role == 1 && code == 200 && g.file_t100) {
		g.file_tack = now; /* the server holds the whole file */
	} else if (c->file_role == 1 && code == 714) {
		g.file_t714 = now;
		if (!memmem(l, len, " delivered", 10))
			g.file_fail = 1;
	} else if (c->file_role == 1 && code >= 101 && code < 700) {
		g.file_fail = 1;
		warn("file refused: %.*s", (int)len, l);
	} else if (c->file_role == 2 && code == 102) {
		g.file_t102 = now;
		c->st = ST_RAW;
		c->raw_left = g.o.file_size;
		c->raw_off = 0;
	}
}

/* ---- line dispatch ---- */

static void
on_line(struct conn *c, char *l, size_t len, uint64_t now)
{
	if (len && l[len - 1] == '\r')
		l[--len] = 0;
	l[len] = 0;
	if (c->st == ST_READY) {
		char *m = memmem(l, len, "~T", 2);
		if (m && !(len >= 3 && !memcmp(l, "OK ", 3))) {
			deliver(c, m + 2, now);
			return;
		}
	}
	if (len >= 5 && !memcmp(l, "PING", 4)) {
		if (g.o.dia == D_IRC)
			sendf(c, "PONG %s\r\n", l + 5);
		else if (g.o.dia == D_OKFAIL)
			sendf(c, "PONG\n");
		return;
	}
	if (c->st == ST_LOGIN)
		login_line(c, l, len, now);
	else if (c->st == ST_JOIN)
		join_line(c, l, len, now);
	else if (c->st == ST_READY && c->file_role)
		file_line(c, l, len, now);
}

static void
process_lines(struct conn *c, uint64_t now)
{
	char *p = c->in, *end = c->in + c->inlen, *nl;
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		if (c->skip)
			c->skip = 0;
		else
			on_line(c, p, (size_t)(nl - p), now);
		p = nl + 1;
		if (c->st == ST_RAW) {
			raw_consume(c, p, (size_t)(end - p), now);
			c->inlen = 0;
			return;
		}
		if (c->st == ST_DEAD)
			return;
	}
	c->inlen = (uint32_t)(end - p);
	memmove(c->in, p, c->inlen);
	if (c->inlen >= INBUF - 1) {
		c->inlen = 0;
		c->skip = 1;
	}
}

static void
on_readable(struct conn *c)
{
	while (c->st != ST_DEAD) {
		if (c->st == ST_RAW) {
			raw_read(c);
			return;
		}
		ssize_t r = read(c->fd, c->in + c->inlen, INBUF - 1 - c->inlen);
		if (r > 0) {
			uint64_t now = now_ns();
			g.t_last_rx = now;
			c->inlen += (uint32_t)r;
			process_lines(c, now);
		} else if (r == 0) {
			conn_dead(c, "closed by server");
		} else if (errno == EAGAIN) {
			return;
		} else if (errno != EINTR) {
			conn_dead(c, strerror(errno));
		}
	}
}

static void mark_sender_dirty(int conn_idx);

static void
dispatch(struct epoll_event *ev)
{
	struct conn *c = &g.c[ev->data.u64];
	if (c->st == ST_CONNECTING) {
		if (ev->events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			on_connected(c);
		if (c->st == ST_CONNECTING)
			return;
	}
	if (ev->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		on_readable(c);
	if (c->st != ST_DEAD && (ev->events & EPOLLOUT)) {
		if (c->outlen)
			flush_out(c);
		file_pump(c);
		mark_sender_dirty(c->idx);
	}
}

static void
loop_once(int timeout_ms)
{
	struct epoll_event evs[512];
	int n = epoll_wait(g.ep, evs, 512, timeout_ms);
	for (int i = 0; i < n; i++)
		dispatch(&evs[i]);
}

/* ---- phases ---- */

static int
setup_clients(void)
{
	uint64_t deadline = now_ns() + (uint64_t)(g.o.setup_timeout * 1e9);
	connect_more();
	while (g.ready + g.failed < g.n && now_ns() < deadline)
		loop_once(10);
	if (g.ready < g.n)
		warn("setup: %d of %d clients ready, %d failed", g.ready, g.n,
		     g.failed);
	return g.ready == g.n;
}

/* Read until no byte arrived for quiet_ms (presence notices etc.). */
static void
drain(int quiet_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)(g.o.drain_timeout * 1e9);
	g.t_last_rx = now_ns();
	while (now_ns() - g.t_last_rx < (uint64_t)quiet_ms * 1000000ull &&
	       now_ns() < deadline)
		loop_once(quiet_ms / 4 + 1);
}

static int
fmt_msg(char *buf, struct sender *s, uint64_t now)
{
	char tn[16], text[600];
	int n = snprintf(text, sizeof text, "~T%d:%u:%llu", (int)(s - g.s),
			 s->sent, (unsigned long long)now);
	while (n < g.o.size && n < (int)sizeof text - 1)
		text[n++] = 'x';
	text[n] = 0;
	name_of(s->target, tn, sizeof tn);
	int pm = g.o.scen == SC_PM;
	if (g.o.dia == D_OKFAIL)
		return pm ? sprintf(buf, "PM %s %s\n", tn, text)
			  : sprintf(buf, "BCST %s\n", text);
	if (g.o.dia == D_NUMERIC)
		return pm ? sprintf(buf, "PRIV %s %s\n", tn, text)
			  : sprintf(buf, "SEND bench %s\n", text);
	return pm ? sprintf(buf, "PRIVMSG %s :%s\r\n", tn, text)
		  : sprintf(buf, "PRIVMSG #bench :%s\r\n", text);
}

static int
send_msg(struct sender *s, uint64_t now)
{
	struct conn *c = &g.c[s->conn];
	if (c->st != ST_READY || OUTBUF - c->outlen < 800)
		return 0;
	c->outlen += (uint32_t)fmt_msg(c->out + c->outlen, s, now);
	s->sent++;
	return 1;
}

static void
mark_sender_dirty(int conn_idx)
{
	if (!g.s || (g.o.scen != SC_FANOUT && g.o.scen != SC_PM))
		return;
	if (g.o.scen == SC_FANOUT && conn_idx >= g.ns)
		return;
	struct sender *s = &g.s[conn_idx];
	if (!s->dirty) {
		s->dirty = 1;
		g.dirty[g.ndirty++] = conn_idx;
	}
}

/* Full speed: every sender whose window moved sends until K are in flight. */
static void
top_up_dirty(uint64_t now)
{
	while (g.ndirty) {
		struct sender *s = &g.s[g.dirty[--g.ndirty]];
		s->dirty = 0;
		if (now >= g.t_end)
			continue;
		while (s->sent - s->done < (uint32_t)g.o.window &&
		       send_msg(s, now))
			;
		flush_out(&g.c[s->conn]);
	}
}

/* Fixed rate: each sender sends what its schedule says is due (window caps). */
static void
send_due(uint64_t now)
{
	double per = g.o.rate / g.ns, el = (double)(now - g.t0) / 1e9;
	g.ndirty = 0;
	for (int i = 0; i < g.ns && now < g.t_end; i++) {
		struct sender *s = &g.s[i];
		s->dirty = 0;
		uint32_t due = (uint32_t)(el * per + (double)i / g.ns);
		int any = 0;
		while (s->sent < due &&
		       s->sent - s->done < (uint32_t)g.o.window &&
		       send_msg(s, now))
			any = 1;
		if (any)
			flush_out(&g.c[s->conn]);
	}
}

static int
all_done(void)
{
	for (int i = 0; i < g.ns; i++)
		if (g.s[i].done < g.s[i].sent &&
		    g.c[g.s[i].conn].st == ST_READY)
			return 0;
	return 1;
}

static void
make_senders(void)
{
	g.ns = g.o.scen == SC_PM ? g.n
				 : (g.o.senders < g.n ? g.o.senders : g.n);
	g.s = calloc((size_t)g.ns, sizeof *g.s);
	g.dirty = calloc((size_t)g.ns, sizeof *g.dirty);
	int *perm = malloc(sizeof(int) * (size_t)g.n);
	for (int i = 0; i < g.n; i++)
		perm[i] = i;
	for (int i = g.n - 1; i > 0;
	     i--) { /* random cyclic order: a derangement */
		int j = rand() % (i + 1), t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	for (int k = 0; k < g.ns; k++) /* pm: ns == n */
		g.s[g.o.scen == SC_PM ? perm[k] : k].target =
			g.o.scen == SC_PM ? perm[(k + 1) % g.n] : -1;
	for (int i = 0; i < g.ns; i++) {
		struct sender *s = &g.s[i];
		s->conn = i; /* sender i is client i */
		s->ring = calloc((size_t)g.o.window, sizeof *s->ring);
		s->next_at = calloc(g.o.scen == SC_PM ? 1 : (size_t)g.n,
				    sizeof *s->next_at);
		if (!g.c[s->conn].out)
			g.c[s->conn].out = malloc(OUTBUF);
	}
	free(perm);
	g.expect = g.o.scen == SC_PM ? 1 : (uint32_t)(g.n - 1);
}

static void
count_tail_losses(void)
{
	for (int i = 0; i < g.ns; i++) {
		struct sender *s = &g.s[i];
		if (g.o.scen == SC_PM) {
			g.lost += s->sent - s->next_at[0];
			continue;
		}
		for (int r = 0; r < g.n; r++)
			if (r != s->conn)
				g.lost += s->sent - s->next_at[r];
	}
}

static void
run_traffic(void)
{
	make_senders();
	g.t0 = now_ns();
	g.t_end = g.t0 + (uint64_t)(g.o.duration * 1e9);
	for (int i = 0; i < g.ns; i++)
		mark_sender_dirty(i);
	uint64_t now = g.t0, stop = g.t_end + 30000000000ull;
	while (now < stop && (now < g.t_end || !all_done())) {
		if (g.o.rate > 0)
			send_due(now);
		else
			top_up_dirty(now);
		loop_once(g.o.rate > 0 ? 1 : 5);
		now = now_ns();
	}
	count_tail_losses();
}

/* ---- memory ---- */

static void
mem_sample(long *rss, long *pss)
{
	*rss = *pss = 0;
	for (int i = 0; i < g.o.npids; i++) {
		long r = proc_field_kib(g.o.pids[i], "status", "VmRSS");
		long p = proc_field_kib(g.o.pids[i], "smaps_rollup", "Pss");
		*rss += r > 0 ? r : 0;
		*pss += p > 0 ? p : 0;
	}
}

/* ---- scenarios ---- */

static void
print_common(const char *extra)
{
	double el =
		(double)((g.t_last_deliv > g.t0 ? g.t_last_deliv : g.t_end) -
			 g.t0) /
		1e9;
	uint64_t sent = 0;
	for (int i = 0; i < g.ns; i++)
		sent += g.s[i].sent;
	char rate[32];
	if (g.o.rate > 0)
		snprintf(rate, sizeof rate, "%g", g.o.rate);
	else
		snprintf(rate, sizeof rate, "full");
	printf("RESULT scenario=%s server=%s clients=%d senders=%d rate=%s window=%d"
	       " msgs=%llu msgs_per_s=%.0f deliveries=%llu deliveries_per_s=%.0f"
	       " p50_us=%.1f p99_us=%.1f max_us=%.1f lost=%llu reordered=%llu"
	       " misdelivered=%llu errors=%llu%s\n",
	       g.o.scen == SC_PM ? "pm" : "fanout", g.o.server, g.n, g.ns, rate,
	       g.o.window, (unsigned long long)sent,
	       (double)sent / g.o.duration, (unsigned long long)g.deliveries,
	       el > 0 ? (double)g.deliveries / el : 0,
	       (double)hist_pct(&g.lat, 50) / 1e3,
	       (double)hist_pct(&g.lat, 99) / 1e3, (double)g.lat.max / 1e3,
	       (unsigned long long)g.lost, (unsigned long long)g.reordered,
	       (unsigned long long)g.misdelivered, (unsigned long long)g.errors,
	       extra);
}

/* --pause: a marker line on stderr and, for okfail and irc, a marker
 * command to the server (READY: "OK PAUSE" / "PONG :pause" from every
 * client, answered by nothing; DONE: "USERS" / "LUSERS" from the first 16),
 * then the clients stay connected and quiet for a while. bench/icount.sh
 * zeroes callgrind's counters at the first and dumps them at the second
 * (--zero-before / --dump-before). */
static void
pause_mark(const char *what)
{
	static const char *const mark[][2] = {
		[D_OKFAIL] = {"OK PAUSE\n", "USERS\n"},
		[D_IRC] = {"PONG :pause\r\n", "LUSERS\r\n"},
	};
	if (g.o.pause <= 0)
		return;
	fprintf(stderr, "LOADGEN %s\n", what);
	fflush(stderr);
	int n = !strcmp(what, "READY") ? g.n : !strcmp(what, "DONE") ? 16 : 0;
	for (int i = 0; i < g.n && i < n && mark[g.o.dia][0]; i++) {
		if (g.c[i].st != ST_READY)
			continue;
		sendf(&g.c[i], "%s", mark[g.o.dia][n == 16]);
		flush_out(&g.c[i]);
	}
	drain((int)(g.o.pause * 1000));
}

static int
scen_traffic(void)
{
	if (!setup_clients())
		return 1;
	drain(300);
	g.errors = 0;
	pause_mark("READY");
	run_traffic();
	pause_mark("DONE");
	print_common("");
	if (g.o.cdf) {
		FILE *f = fopen(g.o.cdf, "w");
		if (f) {
			hist_write_cdf(&g.lat, f);
			fclose(f);
		}
	}
	return g.lost || g.reordered || g.errors || g.misdelivered ||
	       !g.deliveries;
}

static int
scen_login(void)
{
	int ok = setup_clients();
	double el = (double)(g.t_last_ready - g.t_first_conn) / 1e9;
	pause_mark("DONE"); /* icount.sh: the logins' cost, up to here */
	printf("RESULT scenario=login server=%s clients=%d logins=%d failed=%d elapsed_s=%.3f"
	       " logins_per_s=%.0f p50_us=%.1f p99_us=%.1f max_us=%.1f lost=0 errors=%llu\n",
	       g.o.server, g.n, g.ready, g.failed, el,
	       el > 0 ? g.ready / el : 0, (double)hist_pct(&g.login, 50) / 1e3,
	       (double)hist_pct(&g.login, 99) / 1e3, (double)g.login.max / 1e3,
	       (unsigned long long)g.errors);
	return !ok;
}

static int
scen_idle(void)
{
	long rss0, pss0, rss, pss, sock0 = sock_tcp_mem_pages(), sock;
	mem_sample(&rss0, &pss0);
	int ok = setup_clients();
	drain(1000);
	mem_sample(&rss, &pss);
	sock = sock_tcp_mem_pages();
	long pg = sysconf(_SC_PAGESIZE) / 1024;
	double total = (double)(pss + sock * pg) * 1024.0;
	double delta = (double)(pss - pss0 + (sock - sock0) * pg) * 1024.0;
	printf("RESULT scenario=idle server=%s clients=%d ready=%d rss_kib=%ld pss_kib=%ld"
	       " sock_kib=%ld base_pss_kib=%ld base_sock_kib=%ld bytes_per_client=%.0f"
	       " delta_bytes_per_client=%.0f lost=0 errors=%llu\n",
	       g.o.server, g.n, g.ready, rss, pss, sock * pg, pss0, sock0 * pg,
	       g.ready ? total / g.ready : 0, g.ready ? delta / g.ready : 0,
	       (unsigned long long)g.errors);
	fflush(stdout);
	pause_mark("MEASURED"); /* time to look at the daemon (ss, smaps) */
	return !ok || !g.o.npids;
}

/* Two clients served by different workers (if --pids tells us the workers). */
static void
pick_file_pair(int *a, int *b)
{
	int w[64];
	*a = 0;
	*b = 1;
	for (int i = 0; i < g.n && i < 64; i++)
		w[i] = g.o.npids ? worker_of_fd(g.c[i].fd, g.o.pids, g.o.npids)
				 : -1;
	for (int i = 0; i < g.n && i < 64; i++)
		for (int j = 0; j < g.n && j < 64; j++)
			if (w[i] >= 0 && w[j] >= 0 && w[i] != w[j]) {
				*a = i;
				*b = j;
				return;
			}
	warn("file: could not place the two clients on different workers");
}

static void
file_wait(uint64_t deadline)
{
	uint64_t next_sample = 0;
	while (!g.file_fail && now_ns() < deadline &&
	       !(g.file_tdone && g.file_tack && g.file_t714)) {
		loop_once(20);
		uint64_t now = now_ns();
		if (now >= next_sample) {
			long rss, pss;
			mem_sample(&rss, &pss);
			g.peak_rss = (uint64_t)rss > g.peak_rss ? (uint64_t)rss
								: g.peak_rss;
			g.peak_pss = (uint64_t)pss > g.peak_pss ? (uint64_t)pss
								: g.peak_pss;
			next_sample = now + 50000000ull;
		}
	}
}

static double
span_s(uint64_t from, uint64_t to)
{
	return from && to > from ? (double)(to - from) / 1e9 : 0;
}

static int
scen_file(void)
{
	if (!setup_clients())
		return 1;
	drain(200);
	int a, b;
	char nm[16];
	pick_file_pair(&a, &b);
	g.c[a].file_role = 1;
	g.c[b].file_role = 2;
	name_of(b, nm, sizeof nm);
	long rss0, pss0;
	mem_sample(&rss0, &pss0);
	sendf(&g.c[a], "FILE %s bench.bin %llu\n", nm,
	      (unsigned long long)g.o.file_size);
	file_wait(now_ns() + 600000000000ull);
	double mib = (double)g.o.file_size / 1048576.0;
	double el = span_s(g.file_t100, g.file_tdone);
	double up = span_s(g.file_t100, g.file_tack);
	double dl = span_s(g.file_t102, g.file_tdone);
	int lost = !(g.file_tdone && g.file_tack && g.file_t714);
	/* store-and-forward: upload (100 -> 200, into the spool), delivery
	 * (102 -> last byte, from the spool), and the whole */
	printf("RESULT scenario=file server=%s size=%llu elapsed_s=%.3f mb_per_s=%.1f"
	       " upload_s=%.3f upload_mb_per_s=%.1f deliver_s=%.3f"
	       " deliver_mb_per_s=%.1f base_rss_kib=%ld peak_rss_kib=%llu"
	       " peak_pss_kib=%llu corrupt=%llu lost=%d errors=%llu\n",
	       g.o.server, (unsigned long long)g.o.file_size, el,
	       el > 0 ? mib / el : 0, up, up > 0 ? mib / up : 0, dl,
	       dl > 0 ? mib / dl : 0, rss0, (unsigned long long)g.peak_rss,
	       (unsigned long long)g.peak_pss, (unsigned long long)g.file_bad,
	       lost, (unsigned long long)g.errors);
	return g.file_fail || g.file_bad || lost;
}

/* Plain TCP copy over loopback inside this process, as the file baseline. */
static int
scen_copy(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(0x7f000001u)};
	socklen_t sl = sizeof sa;
	int ls = socket(AF_INET, SOCK_STREAM, 0),
	    w = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(ls, (struct sockaddr *)&sa, sizeof sa) || listen(ls, 1) ||
	    getsockname(ls, (struct sockaddr *)&sa, &sl) ||
	    connect(w, (struct sockaddr *)&sa, sizeof sa))
		return perror("copy setup"), 1;
	struct conn *r = &g.c[0];
	r->fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
	r->st = ST_RAW;
	r->raw_left = g.o.file_size;
	fcntl(w, F_SETFL, O_NONBLOCK);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = 0};
	epoll_ctl(g.ep, EPOLL_CTL_ADD, r->fd, &ev);
	uint64_t off = 0, left = g.o.file_size, t0 = now_ns();
	struct epoll_event evs[4];
	while (r->raw_left) {
		if (left && pump_bytes(w, &off, &left))
			return perror("copy send"), 1;
		raw_read(r);
		if (r->raw_left)
			epoll_wait(g.ep, evs, 4, left ? 0 : 10);
	}
	double el = (double)(g.file_tdone - t0) / 1e9;
	printf("RESULT scenario=copy server=tcp size=%llu elapsed_s=%.3f mb_per_s=%.1f corrupt=%llu lost=0\n",
	       (unsigned long long)g.o.file_size, el,
	       (double)g.o.file_size / el / 1048576.0,
	       (unsigned long long)g.file_bad);
	return g.file_bad != 0;
}

/* ---- options ---- */

static void
usage(void)
{
	fputs("usage: loadgen --scenario fanout|pm|login|idle|file|copy\n"
	      "  --dialect okfail|numeric|irc  --port P  --server LABEL\n"
	      "  --ports P1,P2,.. (a cluster's nodes: client i on the i-th mod n)\n"
	      "  --clients N --senders S --rate MSGS_PER_S(0=full) --window K\n"
	      "  --duration S --size TEXTBYTES --src-addrs N --conc C\n"
	      "  --pids P1,P2,.. (daemon processes, for idle/file memory)\n"
	      "  --file-size BYTES --cdf FILE --setup-timeout S --drain-timeout S\n"
	      "  --pause S (quiet S seconds after READY/DONE, idle: MEASURED, on stderr)\n",
	      stderr);
	exit(2);
}

static int
pick(const char *v, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(v, names[i]))
			return i;
	usage();
	return -1;
}

static void
parse_opts(int argc, char **argv)
{
	static const char *const scen[] = {"fanout", "pm",   "login",
					   "idle",   "file", "copy"};
	static const char *const dia[] = {"okfail", "numeric", "irc"};
	static const struct option lo[] = {
		{"scenario", 1, 0, 'S'},      {"dialect", 1, 0, 'd'},
		{"port", 1, 0, 'p'},          {"server", 1, 0, 'n'},
		{"clients", 1, 0, 'c'},       {"senders", 1, 0, 's'},
		{"rate", 1, 0, 'r'},          {"window", 1, 0, 'k'},
		{"duration", 1, 0, 't'},      {"size", 1, 0, 'z'},
		{"src-addrs", 1, 0, 'a'},     {"conc", 1, 0, 'C'},
		{"pids", 1, 0, 'P'},          {"file-size", 1, 0, 'F'},
		{"cdf", 1, 0, 'o'},           {"setup-timeout", 1, 0, 'T'},
		{"drain-timeout", 1, 0, 'D'}, {"ports", 1, 0, 'R'},
		{"pause", 1, 0, 'W'},         {0, 0, 0, 0}};
	struct opts *o = &g.o;
	*o = (struct opts){.clients = 100,
			   .senders = 10,
			   .window = 16,
			   .duration = 5,
			   .nsrc = 4,
			   .conc = 256,
			   .setup_timeout = 120,
			   .drain_timeout = 120,
			   .file_size = 1ull << 30,
			   .server = "?"};
	int ch;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'S':
			o->scen = pick(optarg, scen, 6);
			break;
		case 'd':
			o->dia = pick(optarg, dia, 3);
			break;
		case 'p':
			o->port = atoi(optarg);
			break;
		case 'n':
			o->server = optarg;
			break;
		case 'c':
			o->clients = atoi(optarg);
			break;
		case 's':
			o->senders = atoi(optarg);
			break;
		case 'r':
			o->rate = atof(optarg);
			break;
		case 'k':
			o->window = atoi(optarg);
			break;
		case 't':
			o->duration = atof(optarg);
			break;
		case 'z':
			o->size = atoi(optarg);
			break;
		case 'a':
			o->nsrc = atoi(optarg);
			break;
		case 'C':
			o->conc = atoi(optarg);
			break;
		case 'P':
			o->npids = parse_pids(optarg, o->pids, MAXPIDS);
			break;
		case 'F':
			o->file_size = strtoull(optarg, NULL, 10);
			break;
		case 'o':
			o->cdf = optarg;
			break;
		case 'T':
			o->setup_timeout = atof(optarg);
			break;
		case 'D':
			o->drain_timeout = atof(optarg);
			break;
		case 'R': /* several nodes of one cluster, round robin */
			o->nports = parse_pids(optarg, o->ports, MAXPIDS);
			o->port = o->nports ? o->ports[0] : 0;
			break;
		case 'W':
			o->pause = atof(optarg);
			break;
		default:
			usage();
		}
	}
	if ((!o->port && o->scen != SC_COPY) || o->clients < 1 ||
	    o->window < 1 || o->nsrc < 1)
		usage();
	if (o->scen == SC_FILE && o->clients < 2)
		o->clients = 8;
}

int
main(int argc, char **argv)
{
	parse_opts(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	srand((unsigned)getpid());
	const char *b36 = "0123456789abcdefghijklmnopqrstuvwxyz";
	unsigned t = (unsigned)(now_ns() / 1000u + (unsigned)getpid());
	g.tag[0] = b36[t % 36];
	g.tag[1] = b36[(t / 36) % 36];
	for (size_t i = 0; i < PATSZ; i++)
		g.pat[i] = g.pat[i + PATSZ] = (uint8_t)(i * 7 + (i >> 8));
	raise_nofile(g.o.clients + 1024);
	g.n = g.o.clients;
	g.c = calloc((size_t)g.n, sizeof *g.c);
	g.ep = epoll_create1(EPOLL_CLOEXEC);
	switch (g.o.scen) {
	case SC_FANOUT:
	case SC_PM:
		return scen_traffic();
	case SC_LOGIN:
		return scen_login();
	case SC_IDLE:
		return scen_idle();
	case SC_FILE:
		return scen_file();
	default:
		return scen_copy();
	}
}
