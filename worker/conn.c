/* Client connections of a worker: reading and splitting lines, the output
 * queue with its limits, per-connection timers (heartbeat, login and line
 * deadlines, soft output limit) and the deferred close. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include "../common/log.h"
#include "../common/util.h"
#include "worker.h"

#define READ_CHUNK (16 * 1024)
_Static_assert(READ_CHUNK <= FILE_CHUNK, "a read must fit the scratch buffer");
#define READ_MAX_PER_EVENT (64 * 1024)
#define WRITE_MAX_PER_PASS (256 * 1024)
#define OUT_HIGH_WATER (64 * 1024)
#define OUT_LOW_WATER (16 * 1024)

static void conn_on_event(struct handler *h, uint32_t events);
static void conn_read(struct conn *c);
static void conn_rearm(struct conn *c);

static int
conn_table_fit(struct worker *w, int fd)
{
	if ((size_t)fd < w->conns_cap)
		return 0;
	size_t cap = w->conns_cap ? w->conns_cap : 1024;
	while (cap <= (size_t)fd)
		cap *= 2;
	struct conn **t = realloc(w->conns, cap * sizeof(struct conn *));
	if (t == NULL)
		return -1;
	memset(t + w->conns_cap, 0,
	       (cap - w->conns_cap) * sizeof(struct conn *));
	w->conns = t;
	w->conns_cap = cap;
	return 0;
}

static int
conn_tls_new(struct worker *w, struct conn *c)
{
	if (w->tls_ctx == NULL || (c->ssl = SSL_new(w->tls_ctx)) == NULL)
		return -1;
	if (SSL_set_fd(c->ssl, c->fd) != 1) {
		SSL_free(c->ssl);
		c->ssl = NULL;
		return -1;
	}
	SSL_set_accept_state(c->ssl);
	return 0;
}

struct conn *
conn_new(struct worker *w, int fd, int dialect, const char *ip, bool tls)
{
	struct conn *c;

	if (conn_table_fit(w, fd) < 0 || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->fd = fd;
	if (tls && conn_tls_new(w, c) < 0) {
		free(c);
		return NULL;
	}
	c->h.fn = conn_on_event;
	c->w = w;
	c->fd = fd;
	c->id = ++w->next_conn_id;
	c->counted = true;
	c->dialect = (uint8_t)dialect;
	c->slot = -1;
	snprintf(c->ip, sizeof(c->ip), "%s", ip);
	linebuf_init(&c->in, w->lim.max_line - 2);
	c->tokens = w->lim.flood_burst;
	c->tokens_at = loop_now(w->loop);
	if (loop_add(w->loop, fd, EPOLLIN | EPOLLRDHUP, &c->h) < 0) {
		SSL_free(c->ssl);
		free(c);
		return NULL;
	}
	w->conns[fd] = c;
	w->nclients++;
	if (w->lim.login_timeout_ms > 0) {
		c->login_due = loop_now(w->loop) + w->lim.login_timeout_ms;
		conn_rearm(c);
	}
	return c;
}

struct conn *
conn_by_fd(struct worker *w, int fd)
{
	if (fd < 0 || (size_t)fd >= w->conns_cap)
		return NULL;
	return w->conns[fd];
}

struct conn *
conn_by_slot(struct worker *w, uint32_t slot, uint32_t id)
{
	if (slot >= registry_limits(w->reg)->max_users)
		return NULL;
	struct conn *c = w->by_slot[slot];
	if (c == NULL || c->id != id || c->state == CS_CLOSING)
		return NULL;
	return c;
}

/* ---- socket I/O, plain or TLS ---- */

#define IO_AGAIN (-2)

/* Map an SSL result: remember which direction the TLS engine waits for, so
 * that the event handler can resume the other operation. */
static ssize_t
conn_tls_result(struct conn *c, int rc, bool reading)
{
	int err = SSL_get_error(c->ssl, rc);

	switch (err) {
	case SSL_ERROR_WANT_READ:
		if (!reading)
			c->write_wants_read = true;
		return IO_AGAIN;
	case SSL_ERROR_WANT_WRITE:
		if (reading)
			c->read_wants_write = true;
		return IO_AGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		ERR_clear_error();
		return -1;
	}
}

/* >0 bytes, 0 end of stream, -1 error, IO_AGAIN nothing now. */
ssize_t
conn_io_recv(struct conn *c, void *buf, size_t n)
{
	if (c->ssl == NULL) {
		ssize_t r = recv(c->fd, buf, n, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return IO_AGAIN;
		return r;
	}
	c->read_wants_write = false;
	ERR_clear_error();
	int r = SSL_read(c->ssl, buf, (int)(n > INT32_MAX ? INT32_MAX : n));
	if (r > 0)
		return r;
	return conn_tls_result(c, r, true);
}

static ssize_t
conn_io_send(void *arg, const void *p, size_t n)
{
	struct conn *c = arg;

	if (c->ssl == NULL) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		return w;
	}
	c->write_wants_read = false;
	ERR_clear_error();
	int w = SSL_write(c->ssl, p, (int)(n > 65536 ? 65536 : n));
	if (w > 0)
		return w;
	ssize_t r = conn_tls_result(c, w, false);
	return r == IO_AGAIN ? 0 : -1;
}

/* ---- output ---- */

static void
conn_mark_pending(struct conn *c)
{
	if (c->pending)
		return;
	c->pending = true;
	c->next_pending = c->w->pending_head;
	c->w->pending_head = c;
}

static void conn_budget(struct worker *w);

static void
conn_account(struct conn *c, size_t before)
{
	struct worker *w = c->w;
	size_t now = sendq_len(&c->out) + sendq_len(&c->held);

	if (!c->counted)
		return;
	w->sendq_total += now - before;
	if (now > before && w->sendq_total > w->lim.worker_budget)
		conn_budget(w);
}

/* Past the worker's budget, the client with the largest queue goes first
 * (Redis' maxmemory-clients). Its bytes stop counting at once, so one pass
 * closes only as many clients as needed. */
static void
conn_budget(struct worker *w)
{
	while (w->sendq_total > w->lim.worker_budget) {
		struct conn *big = NULL;
		size_t most = 0;
		for (size_t fd = 0; fd < w->conns_cap; fd++) {
			struct conn *c = w->conns[fd];
			if (c == NULL || c->state == CS_CLOSING || !c->counted)
				continue;
			size_t q = sendq_len(&c->out) + sendq_len(&c->held);
			if (q > most) {
				most = q;
				big = c;
			}
		}
		if (big == NULL)
			return;
		log_info("client over worker budget fd=%d user=%s queued=%zu",
			 big->fd, big->name[0] ? big->name : "-", most);
		conn_close_soon(big, "worker-budget");
	}
}

/* Replies to the client's own commands: never a reason to disconnect; a
 * client that does not read them simply stops being read (see conn_read). */
void
conn_reply_raw(struct conn *c, const char *p, size_t n)
{
	size_t before = sendq_len(&c->out) + sendq_len(&c->held);
	struct sendq *q = files_busy(c) ? &c->held : &c->out;

	if (c->state == CS_CLOSING)
		return;
	if (sendq_append(q, p, n) < 0) {
		conn_close_soon(c, "out of memory");
		return;
	}
	conn_account(c, before);
	conn_mark_pending(c);
}

void
conn_reply(struct conn *c, const char *fmt, ...)
{
	char small[1024];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small) - 1) {
		small[n++] = '\n';
		conn_reply_raw(c, small, (size_t)n);
		return;
	}
	/* a long reply (echoed text): format it again at its full size */
	char *big = malloc((size_t)n + 2);
	if (big == NULL) {
		conn_close_soon(c, "out of memory");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	big[n++] = '\n';
	conn_reply_raw(c, big, (size_t)n);
	free(big);
}

/* Traffic pushed by others: subject to the hard and soft output limits. */
void
conn_push(struct conn *c, const char *p, size_t n)
{
	const struct fc_limits *lim = &c->w->lim;
	size_t queued = sendq_len(&c->out) + sendq_len(&c->held);

	if (c->state == CS_CLOSING)
		return;
	if (queued + n > lim->sendq_hard) {
		log_info("client closed fd=%d user=%s reason=sendq-hard "
			 "queued=%zu",
			 c->fd, c->name[0] ? c->name : "-", queued);
		conn_close_soon(c, "sendq-hard");
		return;
	}
	conn_reply_raw(c, p, n);
	if (queued + n > lim->sendq_soft && c->soft_since == 0) {
		c->soft_since = loop_now(c->w->loop);
		conn_rearm(c);
	}
}

/* File bytes go straight to the socket queue, ahead of held deliveries. */
void
conn_push_data(struct conn *c, const char *p, size_t n)
{
	size_t before = sendq_len(&c->out) + sendq_len(&c->held);

	if (c->state == CS_CLOSING)
		return;
	/* over TLS a retried write must see the same bytes at the same
	 * place: those always go through the queue */
	ssize_t w = c->ssl ? sendq_append(&c->out, p, n)
			   : sendq_put(&c->out, p, n, conn_io_send, c);
	if (w < 0) {
		c->out.len = 0;
		conn_account(c, before);
		conn_close_soon(c, c->ssl ? "out of memory" : "write error");
		return;
	}
	if (c->ssl == NULL)
		c->w->stats.bytes_out += (uint64_t)w;
	conn_account(c, before);
	conn_mark_pending(c);
}

/* Deliveries that waited behind a file go out now, in order. */
void
conn_release_held(struct conn *c)
{
	size_t before = sendq_len(&c->out) + sendq_len(&c->held);

	if (sendq_len(&c->held) == 0)
		return;
	if (sendq_append(&c->out, c->held.buf + c->held.head,
			 sendq_len(&c->held)) < 0) {
		conn_close_soon(c, "out of memory");
		return;
	}
	sendq_free(&c->held);
	conn_account(c, before);
	conn_mark_pending(c);
}

static void
conn_update_events(struct conn *c)
{
	uint32_t ev = 0;

	/* a paused client must not wake us: no EPOLLIN, and no EPOLLRDHUP,
	 * which stays raised after a half-close (EPOLLHUP always comes) */
	if (!c->in_paused || c->write_wants_read)
		ev |= EPOLLIN | EPOLLRDHUP;
	if (c->want_out || c->read_wants_write)
		ev |= EPOLLOUT;
	loop_mod(c->w->loop, c->fd, ev, &c->h);
}

void
conn_set_input(struct conn *c, bool on)
{
	if (c->in_paused == !on)
		return;
	c->in_paused = !on;
	conn_update_events(c);
}

/* Write what is queued; arm EPOLLOUT only while bytes remain. */
static void
conn_write(struct conn *c)
{
	size_t before = sendq_len(&c->out) + sendq_len(&c->held);
	bool wanted_read = c->write_wants_read;
	ssize_t w = sendq_write(&c->out, conn_io_send, c, WRITE_MAX_PER_PASS);

	if (w < 0) {
		c->out.len = 0; /* nothing more can be delivered */
		conn_account(c, before);
		conn_close_soon(c, "write error");
		return;
	}
	conn_account(c, before);
	c->w->stats.bytes_out += (uint64_t)w;
	bool more = sendq_len(&c->out) > 0 && !c->write_wants_read;
	if (more != c->want_out || wanted_read != c->write_wants_read) {
		c->want_out = more;
		conn_update_events(c);
	}
	if (sendq_len(&c->out) + sendq_len(&c->held) <= c->w->lim.sendq_soft)
		c->soft_since = 0;
	files_after_write(c);
	if (c->state != CS_CLOSING && c->in_paused && c->mode == CM_LINES &&
	    !c->xoffed && sendq_len(&c->out) < OUT_LOW_WATER)
		conn_pump_input(c);
}

void
conn_flush_all(struct worker *w)
{
	struct conn *c;

	while ((c = w->pending_head) != NULL) {
		w->pending_head = c->next_pending;
		c->pending = false;
		c->next_pending = NULL;
		if (c->state != CS_CLOSING)
			conn_write(c);
	}
}

/* ---- closing ---- */

void
conn_close_soon(struct conn *c, const char *why)
{
	if (c->state == CS_CLOSING)
		return;
	if (c->counted) {
		c->w->sendq_total -= sendq_len(&c->out) + sendq_len(&c->held);
		c->counted = false;
	}
	if (strncmp(why, "sendq", 5) == 0 ||
	    strcmp(why, "worker-budget") == 0) {
		/* a final line if it fits in what the socket takes now */
		sendq_free(&c->out);
		sendq_free(&c->held);
		if (c->out.mid_line) /* end the cut line so ours stands alone */
			sendq_append(&c->out, "\n", 1);
		const char *l = c->dialect == DIALECT_OKFAIL
					? "DSCN Output queue exceeded\n"
					: "903 Output queue exceeded\n";
		sendq_append(&c->out, l, strlen(l));
	}
	/* the logout (and its LEFT broadcast) waits for conn_destroy: we may
	 * be inside a fanout loop right now, whose render buffer it would
	 * overwrite */
	c->state = CS_CLOSING;
	c->close_why = why;
	c->next_closing = c->w->closing_head;
	c->w->closing_head = c;
}

static void
conn_unlink_live(struct conn *c)
{
	struct worker *w = c->w;

	if (c->prev_live)
		c->prev_live->next_live = c->next_live;
	else if (w->live_head == c)
		w->live_head = c->next_live;
	if (c->next_live)
		c->next_live->prev_live = c->prev_live;
	c->prev_live = c->next_live = NULL;
}

/* Closing while the client still sends makes the kernel answer with a
 * reset, and a reset throws away what the client has not read yet (our
 * final line). So, as nginx's lingering close does: send FIN, then keep
 * reading and dropping for up to LINGER_MS or until the client closes. */
#define LINGER_MS 2000

struct lingerer {
	struct handler h;
	struct worker *w;
	int fd;
	uint32_t serial; /* tells this linger's timer from an older one's */
};

static void
linger_end(struct lingerer *l)
{
	if (l->w->lingering[l->fd] == l)
		l->w->lingering[l->fd] = NULL;
	loop_del(l->w->loop, l->fd);
	close(l->fd);
	free(l);
}

static void
linger_on_event(struct handler *h, uint32_t events)
{
	struct lingerer *l = (struct lingerer *)h;
	char sink[4096];

	(void)events;
	for (int i = 0; i < 16; i++) {
		ssize_t n = recv(l->fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			linger_end(l);
			return;
		}
	}
}

static void
linger_timeout(void *arg, uint64_t key, int64_t due)
{
	struct worker *w = arg;
	uint32_t fd = (uint32_t)key;
	struct lingerer *l = fd < LINGER_SLOTS ? w->lingering[fd] : NULL;

	(void)due;
	/* the fd may have lingered and closed before, and linger again now:
	 * only this linger's own timer may end it */
	if (l && l->serial == (uint32_t)(key >> 32))
		linger_end(l);
}

static void
conn_linger_close(struct worker *w, int fd)
{
	struct lingerer *l = calloc(1, sizeof(*l));

	shutdown(fd, SHUT_WR);
	if (l == NULL || (size_t)fd >= LINGER_SLOTS ||
	    w->lingering[fd] != NULL) {
		free(l);
		close(fd);
		return;
	}
	l->h.fn = linger_on_event;
	l->w = w;
	l->fd = fd;
	if (loop_add(w->loop, fd, EPOLLIN | EPOLLRDHUP, &l->h) < 0) {
		free(l);
		close(fd);
		return;
	}
	static uint32_t next_serial;
	l->serial = ++next_serial;
	w->lingering[fd] = l;
	loop_timer(w->loop, loop_now(w->loop) + LINGER_MS, linger_timeout, w,
		   (uint64_t)l->serial << 32 | (uint32_t)fd);
}

static void
conn_destroy(struct conn *c)
{
	struct worker *w = c->w;

	login_logout(c);
	files_conn_gone(c);
	/* one last try to deliver a final error line */
	if (sendq_len(&c->out) > 0)
		(void)sendq_write(&c->out, conn_io_send, c, 4096);
	if (c->ssl) {
		SSL_shutdown(c->ssl); /* best effort: never waits */
		SSL_free(c->ssl);
		ERR_clear_error();
	}
	log_debug("client closed fd=%d id=%u user=%s reason=%s", c->fd, c->id,
		  c->name[0] ? c->name : "-",
		  c->close_why ? c->close_why : "-");
	if (c->counted)
		w->sendq_total -= sendq_len(&c->out) + sendq_len(&c->held);
	if (c->ip_counted)
		registry_ip_release(w->reg, c->ipkey, w->idx);
	conn_unlink_live(c);
	loop_del(w->loop, c->fd);
	conn_linger_close(w, c->fd);
	w->conns[c->fd] = NULL;
	w->nclients--;
	linebuf_free(&c->in);
	free(c->pubkey);
	free(c->rooms);
	sendq_free(&c->out);
	sendq_free(&c->held);
	free(c);
}

void
conn_reap_closing(struct worker *w)
{
	struct conn *c;

	while ((c = w->closing_head) != NULL) {
		w->closing_head = c->next_closing;
		/* a mass logout is long work, not a hang: tell the watchdog */
		__atomic_store_n(&w->board->heartbeat_ms, now_ms(),
				 __ATOMIC_RELAXED);
		if (c->pending) {
			/* unlink from the pending list before freeing */
			struct conn **pp = &w->pending_head;
			while (*pp && *pp != c)
				pp = &(*pp)->next_pending;
			if (*pp)
				*pp = c->next_pending;
		}
		conn_destroy(c);
	}
}

/* XOFF: a peer channel is over its high-water mark; stop reading every
 * client (the chattiest senders feel it through TCP) until it drains. Peer
 * channels themselves are always read. */
void
conn_xoff_all(struct worker *w, bool on)
{
	if (w->xoff == on)
		return;
	w->xoff = on;
	log_info("%s: peer channel %s", on ? "XOFF" : "XON",
		 on ? "above high water, pausing client input" : "drained");
	for (size_t fd = 0; fd < w->conns_cap; fd++) {
		struct conn *c = w->conns[fd];
		if (c == NULL || c->state == CS_CLOSING)
			continue;
		if (on) {
			c->xoffed = true;
			conn_set_input(c, false);
		} else if (c->xoffed) {
			c->xoffed = false;
			conn_pump_input(c);
		}
	}
}

/* ---- input ---- */

static void
conn_line_too_long(struct conn *c)
{
	if (c->dialect == DIALECT_OKFAIL)
		conn_reply(c, "FAIL09 Line too long");
	else
		conn_reply(c, "401 Line too long");
}

static bool
conn_flood_ok(struct conn *c)
{
	const struct fc_limits *lim = &c->w->lim;
	int64_t now = loop_now(c->w->loop);

	if (lim->flood_rate == 0)
		return true;
	c->tokens += (now - c->tokens_at) * lim->flood_rate / 1000.0;
	c->tokens_at = now;
	if (c->tokens > lim->flood_burst)
		c->tokens = lim->flood_burst;
	if (c->tokens >= 1.0) {
		c->tokens -= 1.0;
		return true;
	}
	return false;
}

/* May this connection's next line be handled now? */
static bool
conn_can_process(struct conn *c)
{
	if (c->state == CS_CLOSING || c->state == CS_LOGIN_WAIT ||
	    c->mode != CM_LINES || c->xoffed)
		return false;
	if (sendq_len(&c->out) + sendq_len(&c->held) > OUT_HIGH_WATER)
		return false;
	return true;
}

static void
conn_dispatch(struct conn *c, const char *line, size_t len)
{
	c->w->stats.msgs_in++;
	if (c->dialect == DIALECT_OKFAIL)
		okfail_line(c, line, len);
	else
		numeric_line(c, line, len);
}

/* Handle complete lines already read. Returns false when it stopped early
 * (paused), so the caller must not read more now. */
static bool
conn_process_lines(struct conn *c)
{
	const char *line;
	size_t len;

	while (conn_can_process(c)) {
		if (!conn_flood_ok(c)) {
			int64_t wait = 1000 / c->w->lim.flood_rate + 1;
			c->throttled = true;
			conn_schedule(c, loop_now(c->w->loop) + wait);
			return false;
		}
		c->throttled = false;
		enum line_status st = linebuf_next(&c->in, &line, &len);
		if (st == LINE_NONE) {
			c->tokens += c->w->lim.flood_rate ? 1.0 : 0.0;
			return true;
		}
		if (st == LINE_TOOLONG)
			conn_line_too_long(c);
		else
			conn_dispatch(c, line, len);
	}
	return false;
}

static void
conn_track_partial(struct conn *c)
{
	const struct fc_limits *lim = &c->w->lim;

	if (linebuf_pending(&c->in) == 0 || c->mode != CM_LINES) {
		c->partial_since = 0;
		return;
	}
	if (c->partial_since == 0 && lim->line_timeout_ms > 0) {
		c->partial_since = loop_now(c->w->loop);
		conn_rearm(c);
	}
}

/* Too much unprocessed input piled up behind a paused client: a flood. */
static bool
conn_input_overflow(struct conn *c)
{
	size_t limit =
		(size_t)c->w->lim.flood_max_queued * 64 + c->w->lim.max_line;

	return c->w->lim.flood_rate && linebuf_pending(&c->in) > limit;
}

static void
conn_finish_input(struct conn *c)
{
	if (c->state == CS_CLOSING)
		return;
	if (conn_input_overflow(c)) {
		if (c->dialect == DIALECT_OKFAIL)
			conn_push(c, "DSCN Flooding\n", 14);
		else
			conn_push(c, "904 Flooding\n", 13);
		conn_close_soon(c, "flood");
		return;
	}
	if (linebuf_keep(&c->in) < 0)
		conn_close_soon(c, "out of memory");
	conn_track_partial(c);
}

/* Process what is buffered, then let the socket be read again. */
void
conn_pump_input(struct conn *c)
{
	if (c->mode == CM_UPLOAD) {
		files_upload_input(c);
		return;
	}
	bool all = conn_process_lines(c);
	if (c->mode == CM_UPLOAD) {
		files_upload_input(c);
		return;
	}
	conn_finish_input(c);
	if (c->state != CS_CLOSING)
		conn_set_input(c, (all || c->throttled) &&
					  c->state != CS_LOGIN_WAIT &&
					  c->mode == CM_LINES);
	/* decrypted bytes already inside OpenSSL raise no event */
	if (c->ssl && !c->in_paused && SSL_pending(c->ssl) > 0)
		conn_read(c);
	if (c->eof && all && c->state != CS_CLOSING)
		conn_close_soon(c, "closed by client");
}

static void
conn_on_eof(struct conn *c)
{
	const char *line;
	size_t len;

	c->eof = true;
	if (c->mode == CM_LINES && conn_process_lines(c) &&
	    linebuf_pending(&c->in) > 0 && c->state != CS_CLOSING) {
		/* a last line without its terminator still counts */
		linebuf_feed(&c->in, "\n", 1);
		if (linebuf_next(&c->in, &line, &len) == LINE_OK)
			conn_dispatch(c, line, len);
	}
	if (c->state == CS_LOGIN_WAIT || c->mode != CM_LINES) {
		/* finish what is under way; nothing more will come */
		if (c->mode == CM_UPLOAD)
			files_upload_input(c);
		conn_finish_input(c);
		conn_set_input(c, false);
		return;
	}
	conn_close_soon(c, "closed by client");
}

static void
conn_read(struct conn *c)
{
	struct worker *w = c->w;
	size_t total = 0;

	/* TLS may hold decrypted bytes the socket no longer signals: no cap */
	while ((total < READ_MAX_PER_EVENT || c->ssl) &&
	       c->state != CS_CLOSING) {
		if (c->mode == CM_UPLOAD) {
			files_upload_input(c);
			return;
		}
		if (!conn_can_process(c)) {
			conn_set_input(c, false);
			break;
		}
		ssize_t n = conn_io_recv(c, w->scratch, READ_CHUNK);
		if (n == IO_AGAIN) {
			if (c->read_wants_write)
				conn_update_events(c);
			break;
		}
		if (n <= 0) {
			conn_on_eof(c);
			return;
		}
		total += (size_t)n;
		if (linebuf_feed(&c->in, w->scratch, (size_t)n) < 0) {
			conn_close_soon(c, "out of memory");
			return;
		}
		bool all = conn_process_lines(c);
		if (c->mode == CM_UPLOAD) {
			conn_finish_input(c);
			files_upload_input(c);
			return;
		}
		conn_finish_input(c);
		/* a client held back by the rate limit is still read, up to
		 * the flood limit, so that a flood is seen as one */
		if (!all && !c->throttled) {
			conn_set_input(c, false);
			break;
		}
	}
}

static void
conn_on_event(struct handler *h, uint32_t events)
{
	struct conn *c = (struct conn *)h;

	if (c->state == CS_CLOSING)
		return;
	if ((events & EPOLLOUT) || ((events & EPOLLIN) && c->write_wants_read))
		conn_write(c);
	if (c->state == CS_CLOSING)
		return;
	if (events & EPOLLERR) {
		conn_close_soon(c, "socket error");
		return;
	}
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) ||
	    ((events & EPOLLOUT) && c->read_wants_write))
		conn_read(c);
	if (c->state != CS_CLOSING && c->in_paused && (events & EPOLLHUP))
		conn_close_soon(c, "hang-up");
}

/* A peer worker asks whether this user is still connected (a name probe):
 * read what the socket holds now, so that a close the kernel already saw is
 * processed before the answer. */
void
conn_probe(struct conn *c)
{
	char b;
	ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		if (c->mode == CM_LINES && !c->in_paused)
			conn_read(c);
		if (c->state != CS_CLOSING)
			conn_close_soon(c, "closed by client");
	} else if (n > 0 && !c->in_paused) {
		conn_read(c);
	}
	/* free the name now, as the asker needs, but do not reap: the caller
	 * may be on the stack of another connection's handler */
	if (c->state == CS_CLOSING)
		login_logout(c);
}

/* ---- login and timers ---- */

void
conn_on_login(struct conn *c, const struct reg_user_view *v)
{
	struct worker *w = c->w;

	c->state = CS_LIVE;
	c->slot = (int32_t)v->slot;
	c->login_seq = v->seq;
	memcpy(c->name, v->name, sizeof(c->name));
	w->by_slot[v->slot] = c;
	c->next_live = w->live_head;
	if (w->live_head)
		w->live_head->prev_live = c;
	w->live_head = c;
	c->login_due = 0;
	if (c->dialect == DIALECT_OKFAIL && w->lim.ping_ms > 0) {
		c->next_ping = loop_now(w->loop) + w->lim.ping_ms;
		/* more exact than the loop's cached clock */
		c->next_ping = now_ms() + w->lim.ping_ms;
	}
	conn_rearm(c);
}

void
conn_on_logout(struct conn *c)
{
	conn_unlink_live(c);
	c->slot = -1;
	if (c->state != CS_CLOSING)
		c->state = CS_NEW;
	c->next_ping = 0;
	c->pong_due = 0;
}

static int64_t
min_due(int64_t a, int64_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

static void conn_timer(void *arg, uint64_t key, int64_t due);

void
conn_schedule(struct conn *c, int64_t due)
{
	if (due == 0 || (c->timer_due != 0 && c->timer_due <= due))
		return;
	c->timer_due = due;
	loop_timer(c->w->loop, due, conn_timer, c->w,
		   ((uint64_t)(uint32_t)c->fd << 32) | c->id);
}

static void
conn_rearm(struct conn *c)
{
	const struct fc_limits *lim = &c->w->lim;
	int64_t due = 0;

	due = min_due(due, c->next_ping);
	due = min_due(due, c->pong_due);
	due = min_due(due, c->login_due);
	if (c->partial_since && lim->line_timeout_ms)
		due = min_due(due, c->partial_since + lim->line_timeout_ms);
	if (c->soft_since)
		due = min_due(due, c->soft_since + lim->sendq_soft_ms);
	conn_schedule(c, due);
}

static void
conn_disconnect(struct conn *c, const char *okfail_line,
		const char *numeric_line, const char *why)
{
	const char *l =
		c->dialect == DIALECT_OKFAIL ? okfail_line : numeric_line;

	if (l)
		conn_reply_raw(c, l, strlen(l));
	conn_close_soon(c, why);
}

static void
conn_heartbeat(struct conn *c, int64_t now)
{
	if (c->pong_due && now >= c->pong_due) {
		conn_disconnect(c, "DSCN Pong timeout\n", NULL, "pong-timeout");
		return;
	}
	if (c->next_ping && now >= c->next_ping) {
		conn_reply_raw(c, "PING\n", 5);
		if (c->pings_out++ == 0)
			c->pong_due = c->next_ping + c->w->lim.pong_ms;
		while (c->next_ping <= now)
			c->next_ping += c->w->lim.ping_ms;
	}
}

static void
conn_check_timers(struct conn *c, int64_t now)
{
	const struct fc_limits *lim = &c->w->lim;

	if (c->login_due && now >= c->login_due && c->state == CS_NEW) {
		conn_disconnect(c, "DSCN Login timeout\n",
				"902 Login timeout\n", "login-timeout");
		return;
	}
	if (c->partial_since && lim->line_timeout_ms &&
	    now >= c->partial_since + lim->line_timeout_ms) {
		conn_disconnect(c, "DSCN Line timeout\n", "906 Line timeout\n",
				"line-timeout");
		return;
	}
	if (c->soft_since && now >= c->soft_since + lim->sendq_soft_ms) {
		conn_disconnect(c, "DSCN Output queue exceeded\n",
				"903 Output queue exceeded\n", "sendq-soft");
		return;
	}
	if (c->state == CS_LIVE)
		conn_heartbeat(c, now);
}

static void
conn_timer(void *arg, uint64_t key, int64_t due)
{
	struct worker *w = arg;
	struct conn *c = conn_by_fd(w, (int)(key >> 32));

	if (c == NULL || c->id != (uint32_t)key || c->timer_due != due)
		return;
	c->timer_due = 0;
	if (c->state == CS_CLOSING)
		return;
	conn_check_timers(c, now_ms());
	if (c->state == CS_CLOSING)
		return;
	if ((c->in_paused || c->throttled) && c->mode == CM_LINES &&
	    c->state != CS_LOGIN_WAIT)
		conn_pump_input(c);
	if (c->state != CS_CLOSING)
		conn_rearm(c);
}
