/* Client connections (transport): socket I/O plain or TLS, line assembly,
 * output queues with their limits and the worker's budget, the one input
 * rule, line and output deadlines, and the deferred close. */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
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
#include "../ipc/metrics.h"

#define READ_MAX_PER_EVENT (64 * 1024)
#define WRITE_MAX_PER_PASS (256 * 1024)
#define SOURCE_MAX_PER_PASS (1024 * 1024)
#define OUT_HIGH_WATER (64 * 1024)
#define OUT_LOW_WATER (16 * 1024)
#define FINAL_WRITE 4096
#define COALESCE_BYTES 256    /* fewer fresh bytes may wait (--coalesce-ms) */
#define SHARED_MAX (1u << 20) /* shared output kept while parts are held */
/* An emptied queue keeps its buffer up to OUT_KEEP_ACTIVE while its client
 * writes every tick (no malloc per pass), up to OUT_KEEP_QUIET after a burst
 * to a quiet client (its welcome, a list): freed at once, the next burst
 * reuses it, where the give-back tick half a second later would leave holes
 * in the heap that are never returned (2 KB per idle IRC client). */
#define OUT_KEEP_ACTIVE 4096
#define OUT_KEEP_QUIET 512

/* the pending list ends here (an empty list is just this), so
 * next_pending != NULL means "on the list" */
static struct conn pending_end;

static const char *const reason_names[CR_MAX] = {
	[CR_NONE] = "-",
	[CR_QUIT] = "quit",
	[CR_CLIENT_EOF] = "closed by client",
	[CR_HANGUP] = "hang-up",
	[CR_SOCKET_ERROR] = "socket error",
	[CR_WRITE_ERROR] = "write error",
	[CR_NO_MEMORY] = "out of memory",
	[CR_SENDQ_HARD] = "sendq-hard",
	[CR_SENDQ_SOFT] = "sendq-soft",
	[CR_WORKER_BUDGET] = "worker-budget",
	[CR_FLOOD] = "flood",
	[CR_LINE_TIMEOUT] = "line-timeout",
	[CR_LOGIN_TIMEOUT] = "login-timeout",
	[CR_PONG_TIMEOUT] = "pong-timeout",
	[CR_SHUTDOWN] = "shutdown",
	[CR_SERVER_FULL] = "server full",
	[CR_IP_LIMIT] = "too many from one address",
	[CR_UPLOAD_EOF] = "closed during upload",
	[CR_UPLOAD_TIMEOUT] = "upload timeout",
	[CR_DUPLICATE] = "duplicate after registry rebuild",
	[CR_CLUSTER_DEAD] = "declared dead by the cluster",
	[CR_TLS_HANDSHAKE] = "tls-handshake-timeout",
};

static void conn_on_event(struct handler *h, uint32_t events);
static void conn_read(struct conn *c);
static void conn_read_later(struct conn *c, bool budget_spent);
static bool conn_send_queued(struct conn *c);
static void conn_arm(struct conn *c);

const char *
close_reason_name(enum close_reason r)
{
	return r < CR_MAX && reason_names[r] ? reason_names[r] : "?";
}

int
conn_set_init(struct conn_set *s, struct loop *l, const struct fc_limits *lim,
	      const struct conn_hooks *h, char *scratch, uint32_t first_id)
{
	memset(s, 0, sizeof(*s));
	s->loop = l;
	s->lim = lim;
	s->hooks = h;
	s->scratch = scratch;
	s->next_id = first_id;
	s->pending_head = &pending_end;
	return lingers_init(&s->lingers, l);
}

static int
conn_table_fit(struct conn_set *s, int fd)
{
	if ((size_t)fd < s->cap)
		return 0;
	size_t cap = s->cap ? s->cap : 1024;
	while (cap <= (size_t)fd)
		cap *= 2;
	struct conn **t = realloc(s->by_fd, cap * sizeof(struct conn *));
	if (t == NULL)
		return -1;
	memset(t + s->cap, 0, (cap - s->cap) * sizeof(struct conn *));
	s->by_fd = t;
	s->cap = cap;
	return 0;
}

static int
conn_tls_new(struct conn *c, SSL_CTX *ctx)
{
	if ((c->ssl = SSL_new(ctx)) == NULL)
		return -1;
	if (SSL_set_fd(c->ssl, c->fd) != 1) {
		SSL_free(c->ssl);
		c->ssl = NULL;
		return -1;
	}
	SSL_set_accept_state(c->ssl);
	SSL_set_info_callback(c->ssl, metrics_tls_info);
	return 0;
}

/* close.tls-handshake: no line, there is no channel for one yet */
static void
conn_tls_expired(void *arg)
{
	struct conn *c = arg;

	c->tls_timer = 0;
	if (c->ssl && !SSL_is_init_finished(c->ssl))
		conn_close(c, CR_TLS_HANDSHAKE, NULL);
}

int
conn_init(struct conn_set *s, struct conn *c, int fd, const char *ip,
	  SSL_CTX *tls, size_t max_line)
{
	if (conn_table_fit(s, fd) < 0)
		return -1;
	c->fd = fd;
	if (tls && conn_tls_new(c, tls) < 0)
		return -1;
	c->h.fn = conn_on_event;
	c->set = s;
	c->id = ++s->next_id;
	c->rd_wait = EPOLLIN;
	c->wr_wait = EPOLLOUT;
	c->replies = &c->out;
	snprintf(c->ip, sizeof(c->ip), "%s", ip);
	linebuf_init(&c->in, max_line - 2);
	c->tokens = s->lim->flood_burst;
	c->byte_tokens = s->lim->flood_bytes_burst;
	c->tokens_at = loop_now(s->loop);
	c->events = EPOLLIN | EPOLLRDHUP;
	if (loop_add(s->loop, fd, c->events, &c->h) < 0) {
		SSL_free(c->ssl);
		c->ssl = NULL;
		return -1;
	}
	s->by_fd[fd] = c;
	s->n++;
	if (c->ssl && s->lim->tls_handshake_ms > 0)
		c->tls_timer = loop_timer_add(
			s->loop, now_ms() + s->lim->tls_handshake_ms,
			conn_tls_expired, c);
	return 0;
}

struct conn *
conn_by_fd(struct conn_set *s, int fd)
{
	if (fd < 0 || (size_t)fd >= s->cap)
		return NULL;
	return s->by_fd[fd];
}

void
conn_set_line_max(struct conn *c, size_t max_line)
{
	c->in.max_content = max_line - 2;
}

/* ---- socket I/O, plain or TLS ---- */

/* Map an SSL result; remember which direction the TLS engine waits for, so
 * that the event handler resumes the operation on the other event. */
static enum io_result
conn_tls_result(struct conn *c, int rc, bool reading)
{
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		if (!reading)
			c->wr_wait = EPOLLIN;
		return IO_AGAIN;
	case SSL_ERROR_WANT_WRITE:
		if (reading)
			c->rd_wait = EPOLLOUT;
		return IO_AGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return IO_CLOSED;
	default:
		ERR_clear_error();
		return IO_ERROR;
	}
}

static enum io_result
conn_recv(struct conn *c, char *buf, size_t n, size_t *got)
{
	*got = 0;
	if (c->ssl == NULL) {
		ssize_t r = recv(c->fd, buf, n, MSG_DONTWAIT);
		if (r == 0)
			return IO_CLOSED;
		if (r < 0)
			return errno == EAGAIN || errno == EINTR ? IO_AGAIN
								 : IO_ERROR;
		*got = (size_t)r;
		metrics_add(M_BYTES_IN, r);
		return IO_DONE;
	}
	c->rd_wait = EPOLLIN;
	ERR_clear_error();
	int r = SSL_read(c->ssl, buf, (int)(n > INT32_MAX ? INT32_MAX : n));
	if (r <= 0)
		return conn_tls_result(c, r, true);
	*got = (size_t)r;
	metrics_add(M_BYTES_IN, r);
	return IO_DONE;
}

static enum io_result
conn_send(void *arg, const void *p, size_t n, size_t *done)
{
	struct conn *c = arg;

	*done = 0;
	if (c->ssl == NULL) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0)
			return errno == EAGAIN || errno == EINTR ? IO_AGAIN
								 : IO_CLOSED;
		*done = (size_t)w;
		return *done == n ? IO_DONE : IO_AGAIN;
	}
	c->wr_wait = EPOLLOUT;
	ERR_clear_error();
	int w = SSL_write(c->ssl, p, (int)(n > 65536 ? 65536 : n));
	if (w <= 0)
		return conn_tls_result(c, w, false);
	*done = (size_t)w;
	return *done == n ? IO_DONE : IO_AGAIN;
}

/* ---- the input rule ---- */

static size_t
conn_out_len(const struct conn *c)
{
	return sendq_len(&c->out) + c->ref_bytes;
}

static size_t
conn_queued(const struct conn *c)
{
	return conn_out_len(c) + sendq_len(&c->held);
}

/* Replies the client does not read hold its input back: a connection
 * that is read goes on up to the high-water mark, one that is not starts
 * again only below the low-water mark. */
static bool
conn_output_room(const struct conn *c)
{
	if (c->events & EPOLLIN)
		return conn_queued(c) <= OUT_HIGH_WATER;
	return conn_out_len(c) < OUT_LOW_WATER &&
	       conn_queued(c) <= OUT_HIGH_WATER;
}

/* The one rule for input: a connection's input is read and handled only
 * while it is open, the mesh has not paused the worker (XOFF), its output
 * leaves room (conn_output_room) and its owner takes input. */
static bool
conn_may_take(struct conn *c)
{
	return c->why == CR_NONE && !c->set->paused && conn_output_room(c) &&
	       c->set->hooks->accepts_input(c);
}

/* The epoll mask that follows from the rule and the queue. A connection
 * that is not read must not wake us: no EPOLLIN, and no EPOLLRDHUP, which
 * stays raised after a half-close (EPOLLHUP always comes). Output waits
 * for the socket only once a write left some: until then it is pending
 * (written before the loop sleeps), and arming EPOLLOUT for it would cost
 * two epoll_ctl calls per reply. */
static uint32_t
conn_mask(struct conn *c)
{
	uint32_t ev = 0;

	if (c->rd_wait && conn_may_take(c))
		ev |= EPOLLIN | EPOLLRDHUP | c->rd_wait;
	if ((sendq_len(&c->out) > 0 && c->next_pending == NULL) ||
	    c->source_waits)
		ev |= c->wr_wait == EPOLLIN ? EPOLLIN | EPOLLRDHUP : EPOLLOUT;
	return ev;
}

static void
conn_arm(struct conn *c)
{
	uint32_t ev = conn_mask(c);

	if (c->why != CR_NONE || ev == c->events)
		return;
	c->events = ev;
	loop_mod(c->set->loop, c->fd, ev, &c->h);
}

/* ---- output ---- */

static void
conn_mark_pending(struct conn *c)
{
	/* what a source queues goes out on the next EPOLLOUT, not again in
	 * this flush: one turn per pass */
	if (c->next_pending || c->in_source)
		return;
	c->next_pending = c->set->pending_head;
	c->set->pending_head = c;
}

static void conn_budget(struct conn_set *s);
static void conn_account(struct conn *c, size_t before);

/* w bytes went to c's socket: counted once for the worker and metrics. */
static void
conn_count_out(struct conn *c, size_t w)
{
	c->set->bytes_out += w;
	metrics_add(M_BYTES_OUT, (int64_t)w);
	c->wrote = c->wrote || w > 0;
}

/* ---- output by reference ---- */

struct sendq *
conn_shared(struct conn_set *s, unsigned slot)
{
	return &s->shared[slot];
}

static void
conn_drop_refs(struct conn *c)
{
	if (c->nrefs == 0)
		return;
	c->nrefs = 0;
	c->ref_bytes = 0;
	c->set->ref_holders--;
}

/* Once no connection holds a part, the shared buffers start again (and a
 * large one goes back to the heap). */
static void
conn_shared_reset(struct conn_set *s)
{
	for (unsigned i = 0; i < CONN_SHARED_SLOTS; i++) {
		s->shared[i].len = 0;
		if (s->shared[i].cap > OUT_LOW_WATER)
			sendq_free(&s->shared[i]);
	}
}

/* The references become bytes of c's own queue, behind what it holds:
 * before anything is queued after them, or when the socket did not take
 * them. false when out of memory (the references are dropped). */
static bool
conn_refs_to_out(struct conn *c)
{
	const struct sendq *sh = c->set->shared;
	bool ok = true;

	for (unsigned i = 0; i < c->nrefs && ok; i++) {
		const struct conn_ref *r = &c->refs[i];
		ok = sendq_append(&c->out, sh[r->slot].buf + r->off, r->len) ==
		     0;
	}
	conn_drop_refs(c);
	return ok;
}

/* conn_refs_to_out, closing c when it fails: false then. */
static bool
conn_settle(struct conn *c)
{
	size_t before = conn_queued(c);

	if (c->nrefs == 0 || conn_refs_to_out(c))
		return true;
	conn_account(c, before);
	conn_close(c, CR_NO_MEMORY, NULL);
	return false;
}

/* The first w bytes of the references were written. */
static void
conn_refs_consume(struct conn *c, size_t w)
{
	unsigned i = 0;

	c->ref_bytes -= (uint32_t)w;
	while (i < c->nrefs && w >= c->refs[i].len)
		w -= c->refs[i++].len;
	if (i < c->nrefs) {
		c->refs[i].off += (uint32_t)w;
		c->refs[i].len -= (uint32_t)w;
	}
	memmove(c->refs, c->refs + i, (c->nrefs - i) * sizeof(c->refs[0]));
	c->nrefs = (uint8_t)(c->nrefs - i);
	if (c->nrefs == 0) {
		c->ref_bytes = 0;
		c->set->ref_holders--;
	}
}

/* A plain connection with nothing else queued writes its references
 * straight from the shared buffers (one sendmsg); what the socket does not
 * take is settled into its queue. false when that closed c. */
static bool
conn_send_refs(struct conn *c)
{
	const struct sendq *sh = c->set->shared;
	struct iovec iov[CONN_REFS];
	size_t before = conn_queued(c);

	for (unsigned i = 0; i < c->nrefs; i++)
		iov[i] =
			(struct iovec){sh[c->refs[i].slot].buf + c->refs[i].off,
				       c->refs[i].len};
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = c->nrefs};
	ssize_t w = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w < 0 && errno != EAGAIN && errno != EINTR) {
		conn_drop_refs(c);
		conn_account(c, before);
		conn_close(c, CR_WRITE_ERROR, NULL);
		return false;
	}
	if (w > 0) {
		const struct conn_ref *r = &c->refs[0];
		size_t at = (size_t)w;
		for (; at > r->len; r++)
			at -= r->len;
		c->out.mid_line = sh[r->slot].buf[r->off + at - 1] != '\n';
		c->out.written += (size_t)w;
		c->out.appended += (size_t)w;
		conn_count_out(c, (size_t)w);
		conn_refs_consume(c, (size_t)w);
	}
	conn_account(c, before);
	return conn_settle(c);
}

/* A reference after the last one, or that one grown: false when c holds
 * as many as it may (the bytes are copied instead). */
static bool
conn_add_ref(struct conn *c, unsigned slot, size_t off, size_t n)
{
	struct conn_ref *last = c->nrefs ? &c->refs[c->nrefs - 1] : NULL;

	if (last && last->slot == slot && last->off + last->len == off)
		last->len += (uint32_t)n;
	else if (c->nrefs < CONN_REFS)
		c->refs[c->nrefs++] = (struct conn_ref){.off = (uint32_t)off,
							.len = (uint32_t)n,
							.slot = (uint8_t)slot};
	else
		return false;
	if (c->nrefs == 1 && c->ref_bytes == 0)
		c->set->ref_holders++;
	c->ref_bytes += (uint32_t)n;
	return true;
}

/* Bytes in c's queues that others pushed. Written bytes are taken from the
 * replies first, so a client is never blamed for its own replies. */
static size_t
conn_pushed(const struct conn *c)
{
	size_t q = conn_queued(c);

	return q > c->reply_pending ? q - c->reply_pending : 0;
}

/* n bytes left the queue: the replies among them, by the rule above. */
static void
conn_replies_gone(struct conn *c, size_t n)
{
	size_t q = conn_queued(c);

	if (n > c->reply_pending)
		n = c->reply_pending;
	if (c->reply_pending - n > q) /* dropped unsent */
		n = c->reply_pending - q;
	c->reply_pending -= n;
	if (c->why == CR_NONE)
		c->set->replies -= n;
}

/* The budget counts pushed bytes only: replies are bounded per client by
 * the input rule and by their producers (conn_reply_room). */
static void
conn_account(struct conn *c, size_t before)
{
	struct conn_set *s = c->set;
	size_t now = conn_queued(c);

	if (c->why != CR_NONE)
		return;
	s->queued += now - before;
	if (now > before && s->queued - s->replies > s->lim->worker_budget)
		conn_budget(s);
}

static struct conn *
conn_biggest(struct conn_set *s, size_t *most)
{
	struct conn *big = NULL;

	*most = 0;
	for (size_t fd = 0; fd < s->cap; fd++) {
		struct conn *c = s->by_fd[fd];
		if (c == NULL || c->why != CR_NONE || conn_pushed(c) <= *most)
			continue;
		*most = conn_pushed(c);
		big = c;
	}
	return big;
}

/* Past the worker's budget, the client with the most pushed bytes queued
 * goes first (Redis' maxmemory-clients); one that merely holds its own
 * replies never does. Its bytes stop counting at once, so one pass closes
 * only as many clients as needed. */
static void
conn_budget(struct conn_set *s)
{
	while (s->queued - s->replies > s->lim->worker_budget) {
		size_t most;
		struct conn *big = conn_biggest(s, &most);
		if (big == NULL)
			return;
		log_info("client over worker budget fd=%d queued=%zu", big->fd,
			 most);
		conn_close(big, CR_WORKER_BUDGET, NULL);
	}
}

static bool
conn_queue(struct conn *c, const char *p, size_t n, bool reply)
{
	if (c->why != CR_NONE || !conn_settle(c))
		return false;
	size_t before = conn_queued(c);
	if (sendq_append(c->replies, p, n) < 0) {
		conn_close(c, CR_NO_MEMORY, NULL);
		return false;
	}
	if (reply) {
		c->reply_pending += n;
		c->set->replies += n;
	}
	conn_account(c, before);
	conn_mark_pending(c);
	return true;
}

void
conn_reply_raw(struct conn *c, const char *p, size_t n)
{
	conn_queue(c, p, n, true);
}

bool
conn_reply_room(const struct conn *c)
{
	return c->why == CR_NONE && conn_out_len(c) < OUT_LOW_WATER &&
	       sendq_len(&c->held) < OUT_LOW_WATER;
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
		conn_close(c, CR_NO_MEMORY, NULL);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	big[n++] = '\n';
	conn_reply_raw(c, big, (size_t)n);
	free(big);
}

void
conn_say(struct conn *c, const char *line)
{
	conn_reply(c, "%s", line);
}

static void
conn_soft_expired(void *arg)
{
	struct conn *c = arg;

	c->soft_timer = 0;
	conn_close(c, CR_SENDQ_SOFT, NULL);
}

/* Room for n more pushed bytes under the hard limit: false when c is
 * closed. The queue may hold only what this pass pushed to a socket that
 * had room at its last write: the limit is for what the kernel refused, so
 * write first (plain sockets; TLS waits for the flush). */
static bool
conn_push_room(struct conn *c, size_t n)
{
	const struct fc_limits *lim = c->set->lim;
	size_t queued = conn_pushed(c);

	if (c->why != CR_NONE)
		return false;
	if (queued + n > lim->sendq_hard && c->ssl == NULL &&
	    !(c->events & EPOLLOUT)) {
		if (!conn_send_queued(c))
			return false;
		queued = conn_pushed(c);
	}
	if (queued + n > lim->sendq_hard) {
		log_info("client closed fd=%d reason=sendq-hard queued=%zu",
			 c->fd, queued);
		conn_close(c, CR_SENDQ_HARD, NULL);
		return false;
	}
	return true;
}

/* Over the soft limit for too long, c is closed (conn_soft_expired). */
static void
conn_soft_check(struct conn *c)
{
	const struct fc_limits *lim = c->set->lim;

	if (c->why == CR_NONE && conn_pushed(c) > lim->sendq_soft &&
	    c->soft_timer == 0)
		c->soft_timer = loop_timer_add(c->set->loop,
					       loop_now(c->set->loop) +
						       lim->sendq_soft_ms,
					       conn_soft_expired, c);
}

void
conn_push_shared(struct conn *c, unsigned slot, size_t off, size_t n)
{
	if (n == 0 || !conn_push_room(c, n))
		return;
	size_t before = conn_queued(c);
	/* copied: over TLS a retried write must see the same bytes, pushes
	 * wait behind a file in held, and c holds only so many references */
	if (c->ssl || c->replies != &c->out || c->source ||
	    !conn_add_ref(c, slot, off, n)) {
		if (conn_queue(c, c->set->shared[slot].buf + off, n, false))
			conn_soft_check(c);
		return;
	}
	conn_account(c, before);
	conn_mark_pending(c);
	conn_soft_check(c);
}

void
conn_push_data(struct conn *c, const char *p, size_t n)
{
	size_t w = 0;

	if (c->why != CR_NONE || !conn_settle(c))
		return;
	size_t before = conn_queued(c);
	/* over TLS a retried write must see the same bytes at the same
	 * place: those always go through the queue */
	enum io_result rc =
		c->ssl ? (sendq_append(&c->out, p, n) < 0 ? IO_ERROR : IO_DONE)
		       : sendq_put(&c->out, p, n, conn_send, c, &w);
	if (rc != IO_DONE) {
		sendq_free(&c->out);
		conn_account(c, before);
		conn_close(c, c->ssl ? CR_NO_MEMORY : CR_WRITE_ERROR, NULL);
		return;
	}
	conn_count_out(c, w);
	conn_account(c, before);
	conn_mark_pending(c);
}

void
conn_hold_replies(struct conn *c, bool on)
{
	if (!conn_settle(c))
		return;
	size_t before = conn_queued(c);

	c->replies = on ? &c->held : &c->out;
	if (on || sendq_len(&c->held) == 0)
		return;
	if (sendq_append(&c->out, c->held.buf + c->held.head,
			 sendq_len(&c->held)) < 0) {
		conn_close(c, CR_NO_MEMORY, NULL);
		return;
	}
	sendq_free(&c->held);
	conn_account(c, before);
	conn_mark_pending(c);
}

void
conn_release_held(struct conn *c, size_t n)
{
	if (!conn_settle(c))
		return;
	size_t before = conn_queued(c);

	if (n > sendq_len(&c->held))
		n = sendq_len(&c->held);
	if (n == 0)
		return;
	if (sendq_append(&c->out, c->held.buf + c->held.head, n) < 0) {
		conn_close(c, CR_NO_MEMORY, NULL);
		return;
	}
	c->held.head += n;
	c->held.len -= n;
	if (c->held.len == 0)
		sendq_free(&c->held);
	conn_account(c, before);
	conn_mark_pending(c);
}

void
conn_set_source(struct conn *c, conn_source_fn fn)
{
	if (!conn_settle(c))
		return;
	c->source = fn;
	c->source_waits = fn != NULL;
	if (fn)
		conn_mark_pending(c);
	conn_arm(c);
}

/* The queue is empty: the source's turn. */
static void
conn_pull_source(struct conn *c)
{
	c->source_waits = false;
	c->in_source = true;
	enum io_result rc = c->source(c, SOURCE_MAX_PER_PASS);
	c->in_source = false;
	if (rc == IO_CLOSED || rc == IO_ERROR) {
		conn_close(c, CR_WRITE_ERROR, NULL);
		return;
	}
	if (rc == IO_AGAIN && c->source)
		c->source_waits = true;
	conn_arm(c);
}

/* Write what is queued, then what the source has; EPOLLOUT stays armed
 * only while bytes remain. */
/* Write what is queued now: false when that closed c. */
static bool
conn_send_queued(struct conn *c)
{
	if (c->nrefs > 0) { /* straight to a plain socket if they are first */
		bool direct = sendq_len(&c->out) == 0 && c->ssl == NULL;
		if (!(direct ? conn_send_refs(c) : conn_settle(c)))
			return false;
	}
	size_t before = conn_queued(c);
	size_t w;
	enum io_result rc =
		sendq_write(&c->out, conn_send, c, WRITE_MAX_PER_PASS,
			    c->wrote ? OUT_KEEP_ACTIVE : OUT_KEEP_QUIET, &w);

	conn_count_out(c, w);
	if (rc == IO_CLOSED || rc == IO_ERROR) {
		sendq_free(&c->out); /* nothing more can be delivered */
		conn_account(c, before);
		conn_replies_gone(c, before);
		conn_close(c, CR_WRITE_ERROR, NULL);
		return false;
	}
	conn_account(c, before);
	conn_replies_gone(c, w);
	return true;
}

static void
conn_write(struct conn *c)
{
	if (!conn_send_queued(c))
		return;
	if (conn_pushed(c) <= c->set->lim->sendq_soft && c->soft_timer) {
		loop_timer_cancel(c->set->loop, c->soft_timer);
		c->soft_timer = 0;
	}
	if (c->source && sendq_len(&c->out) == 0 && c->why == CR_NONE)
		conn_pull_source(c);
	if (c->set->hooks->wrote && c->why == CR_NONE)
		c->set->hooks->wrote(c);
	/* less output only gives room: a plain connection that is read and
	 * has nothing left to write keeps its mask (the owner reports its own
	 * changes), so the rule need not run once per delivery */
	if (c->ssl == NULL && c->source == NULL && (c->events & EPOLLIN) &&
	    !(c->events & EPOLLOUT) && sendq_len(&c->out) == 0)
		return;
	conn_input_changed(c);
}

/* The shared buffers start again once no connection holds a part. Under
 * steady traffic some client is always held (--coalesce-ms), so past
 * SHARED_MAX the holders' parts become bytes of their own queues first.
 * Every holder is pending (a flush writes or settles all others), so the
 * pending list has them all. */
static void
conn_shared_bound(struct conn_set *s)
{
	size_t used = 0;

	for (unsigned i = 0; i < CONN_SHARED_SLOTS; i++)
		used += sendq_len(&s->shared[i]);
	if (s->ref_holders > 0 && used > SHARED_MAX)
		for (struct conn *c = s->pending_head; c != &pending_end;
		     c = c->next_pending)
			if (c->nrefs > 0 && c->why == CR_NONE)
				(void)conn_settle(c);
	if (s->ref_holders == 0)
		conn_shared_reset(s);
}

/* The hold's timer: the loop wakes up and flushes what is due. */
static void
conn_hold_wake(void *arg)
{
	((struct conn_set *)arg)->hold_timer = 0;
}

/* Until when c's output waits, or 0: it goes now. Only a few fresh lines
 * pushed by others to a connection sent such lines less than
 * --coalesce-ms ago wait, so that they go out together: a stream of small
 * lines costs the client one read, not one each. A reply, a backlog or a
 * burst never waits. */
static int64_t
conn_hold_until(const struct conn *c, int64_t now)
{
	uint32_t ms = c->set->lim->coalesce_ms;

	if (ms == 0 || sendq_len(&c->out) > 0 || c->nrefs == 0 ||
	    c->ref_bytes >= COALESCE_BYTES || now - c->last_push >= ms)
		return 0;
	return c->last_push + ms;
}

void
conn_flush_all(struct conn_set *s)
{
	struct conn *c, *kept = &pending_end;
	int64_t now = loop_now(s->loop), due = INT64_MAX;

	while ((c = s->pending_head) != &pending_end) {
		s->pending_head = c->next_pending;
		c->next_pending = NULL;
		if (c->why != CR_NONE)
			continue;
		int64_t until = conn_hold_until(c, now);
		if (until > 0) { /* stays pending */
			c->next_pending = kept;
			kept = c;
			due = until < due ? until : due;
			continue;
		}
		if (conn_pushed(c) > 0)
			c->last_push = now;
		conn_write(c);
	}
	s->pending_head = kept;
	if (due != INT64_MAX && s->hold_timer == 0)
		s->hold_timer = loop_timer_add(s->loop, due, conn_hold_wake, s);
	conn_shared_bound(s);
}

/* ---- closing ---- */

static bool
conn_overflow_reason(enum close_reason why)
{
	return why == CR_SENDQ_HARD || why == CR_SENDQ_SOFT ||
	       why == CR_WORKER_BUDGET;
}

void
conn_close(struct conn *c, enum close_reason why, const char *detail)
{
	struct conn_set *s = c->set;
	struct sendq *q = c->replies;

	if (c->why != CR_NONE)
		return;
	metrics_add(M_TLS_FAILED, c->ssl && !SSL_is_init_finished(c->ssl));
	s->queued -= conn_queued(c);
	s->replies -= c->reply_pending;
	/* what was pushed by reference goes before the final line (or is
	 * dropped with the queue) */
	if (conn_overflow_reason(why) || !conn_refs_to_out(c))
		conn_drop_refs(c);
	if (c->source) {
		/* a body streams: nothing may be written into it */
		sendq_free(&c->held);
		q = NULL;
	} else if (conn_overflow_reason(why)) {
		/* a final line if it fits in what the socket takes now */
		sendq_free(&c->out);
		sendq_free(&c->held);
		if (c->out.mid_line) /* end the cut line so ours stands alone */
			(void)sendq_append(&c->out, "\n", 1);
		q = &c->out;
	}
	if (q)
		s->hooks->final_line(c, why, detail, q);
	/* the owner's part (a logout and its broadcast) waits for the reap:
	 * we may be inside a fanout loop right now */
	c->why = why;
	c->next_closing = s->closing_head;
	s->closing_head = c;
}

static void
conn_unlink_pending(struct conn *c)
{
	struct conn **pp = &c->set->pending_head;

	if (c->next_pending == NULL)
		return;
	while (*pp != c && *pp != &pending_end)
		pp = &(*pp)->next_pending;
	if (*pp == c)
		*pp = c->next_pending;
	c->next_pending = NULL;
}

static void
conn_cancel_timers(struct conn *c)
{
	loop_timer_cancel(c->set->loop, c->line_timer);
	loop_timer_cancel(c->set->loop, c->soft_timer);
	loop_timer_cancel(c->set->loop, c->throttle_timer);
	loop_timer_cancel(c->set->loop, c->tls_timer);
	loop_timer_cancel(c->set->loop, c->more_timer);
	c->line_timer = c->soft_timer = c->throttle_timer = 0;
	c->tls_timer = c->more_timer = 0;
}

void
conn_destroy(struct conn *c)
{
	struct conn_set *s = c->set;
	size_t w;

	/* one last try to deliver a final line */
	if (sendq_len(&c->out) > 0)
		(void)sendq_write(&c->out, conn_send, c, FINAL_WRITE, 0, &w);
	if (c->ssl) {
		SSL_shutdown(c->ssl); /* best effort: never waits */
		SSL_free(c->ssl);
		c->ssl = NULL;
		ERR_clear_error();
	}
	conn_cancel_timers(c);
	loop_del(s->loop, c->fd);
	linger_close(&s->lingers, c->fd);
	s->by_fd[c->fd] = NULL;
	s->n--;
	linebuf_free(&c->in);
	sendq_free(&c->out);
	sendq_free(&c->held);
}

void
conn_reap_closing(struct conn_set *s)
{
	struct conn *c;

	while ((c = s->closing_head) != NULL) {
		s->closing_head = c->next_closing;
		conn_unlink_pending(c);
		s->hooks->closed(c);
	}
}

void
conn_set_pause(struct conn_set *s, bool on)
{
	s->paused = on;
	for (size_t fd = 0; fd < s->cap; fd++) {
		struct conn *c = s->by_fd[fd];
		if (c == NULL || c->why != CR_NONE)
			continue;
		if (on)
			conn_arm(c);
		else
			conn_input_changed(c);
	}
}

size_t
conn_set_release_idle(struct conn_set *s)
{
	size_t freed = 0;

	for (size_t fd = 0; fd < s->cap; fd++) {
		struct conn *c = s->by_fd[fd];
		if (c == NULL || c->out.cap + c->held.cap == 0 ||
		    c->why != CR_NONE || conn_queued(c) > 0)
			continue;
		if (c->wrote) { /* active: it keeps its buffer a while */
			c->wrote = false;
			continue;
		}
		freed += c->out.cap + c->held.cap;
		sendq_free(&c->out);
		sendq_free(&c->held);
	}
	return freed;
}

/* ---- input ---- */

/* The flood bucket (ngircd's penalty model, in tokens): a line costs one
 * command and its length in bytes; both refill at their rate up to their
 * burst. The byte side may go into debt by one line, so a line longer than
 * what is left still passes and the next one waits until it is paid.
 * Returns 0 when the next line may go, else the ms to wait. */
static int64_t
conn_flood_wait(struct conn *c)
{
	const struct fc_limits *lim = c->set->lim;
	int64_t now = loop_now(c->set->loop);
	double dt = (double)(now - c->tokens_at);

	if (lim->flood_rate == 0)
		return 0;
	c->tokens_at = now;
	c->tokens += dt * lim->flood_rate / 1000.0;
	if (c->tokens > lim->flood_burst)
		c->tokens = lim->flood_burst;
	c->byte_tokens += dt * lim->flood_bytes / 1000.0;
	if (c->byte_tokens > lim->flood_bytes_burst)
		c->byte_tokens = lim->flood_bytes_burst;
	if (c->tokens < 1.0)
		return (int64_t)((1.0 - c->tokens) * 1000.0 / lim->flood_rate) +
		       1;
	if (lim->flood_bytes && c->byte_tokens <= 0)
		return (int64_t)(-c->byte_tokens * 1000.0 / lim->flood_bytes) +
		       1;
	return 0;
}

/* Charge the line just taken: one command, len bytes and a terminator. */
static void
conn_flood_charge(struct conn *c, size_t len)
{
	const struct fc_limits *lim = c->set->lim;

	if (lim->flood_rate == 0)
		return;
	c->tokens -= 1.0;
	if (lim->flood_bytes)
		c->byte_tokens -= (double)len + 1;
}

static void
conn_throttle_done(void *arg)
{
	struct conn *c = arg;

	c->throttle_timer = 0;
	conn_input_changed(c);
}

/* The rate limit holds the next line back until its tokens are due; the
 * connection is still read meanwhile, so that a flood is seen as one. */
static void
conn_throttle(struct conn *c, int64_t wait)
{
	metrics_add(M_FLOOD_DELAYS, c->throttle_timer == 0);
	if (c->throttle_timer == 0)
		c->throttle_timer = loop_timer_add(
			c->set->loop, loop_now(c->set->loop) + wait,
			conn_throttle_done, c);
}

/* Hand whole buffered lines to the owner while the rule lets us. Returns
 * false when it stopped early (paused, throttled, raw input, closed). */
static bool
conn_take_lines(struct conn *c)
{
	const char *line;
	size_t len;

	while (c->raw == NULL && conn_may_take(c)) {
		int64_t wait = conn_flood_wait(c);
		if (wait > 0) {
			conn_throttle(c, wait);
			return false;
		}
		enum line_status st = linebuf_next(&c->in, &line, &len);
		if (st == LINE_NONE)
			return true;
		conn_flood_charge(c, st == LINE_TOOLONG ? 0 : len);
		if (st == LINE_TOOLONG) {
			c->set->hooks->line_too_long(c);
			continue;
		}
		c->set->msgs_in++;
		c->set->hooks->line(c, line, len);
	}
	return false;
}

static void
conn_line_expired(void *arg)
{
	struct conn *c = arg;

	c->line_timer = 0;
	conn_close(c, CR_LINE_TIMEOUT, NULL);
}

/* A partial line (or lines not handled yet) must be finished in time. */
static void
conn_track_partial(struct conn *c)
{
	const struct fc_limits *lim = c->set->lim;

	if (linebuf_pending(&c->in) == 0 || c->raw) {
		loop_timer_cancel(c->set->loop, c->line_timer);
		c->line_timer = 0;
		return;
	}
	if (c->line_timer == 0 && lim->line_timeout_ms > 0)
		c->line_timer = loop_timer_add(c->set->loop,
					       loop_now(c->set->loop) +
						       lim->line_timeout_ms,
					       conn_line_expired, c);
}

/* Too much unhandled input piled up behind a held-back client: a flood. */
static bool
conn_input_overflow(const struct conn *c)
{
	const struct fc_limits *lim = c->set->lim;
	size_t limit = (size_t)lim->flood_max_queued * 64 + lim->max_line;

	return lim->flood_rate && linebuf_pending(&c->in) > limit;
}

/* After lines were taken: own what is left of the borrowed read buffer. */
static void
conn_finish_input(struct conn *c)
{
	if (c->why != CR_NONE)
		return;
	if (conn_input_overflow(c)) {
		conn_close(c, CR_FLOOD, NULL);
		return;
	}
	if (linebuf_keep(&c->in) < 0) {
		conn_close(c, CR_NO_MEMORY, NULL);
		return;
	}
	conn_track_partial(c);
}

static bool
conn_tls_pending(const struct conn *c)
{
	return c->ssl && SSL_pending(c->ssl) > 0;
}

/* Handle what is buffered (input may be taken: the caller checked). */
static void
conn_pump(struct conn *c)
{
	if (c->raw == NULL && linebuf_pending(&c->in) == 0 && c->rd_wait &&
	    !conn_tls_pending(c))
		return;
	bool all = c->raw == NULL && conn_take_lines(c);
	conn_finish_input(c);
	if (c->raw && c->why == CR_NONE && conn_may_take(c))
		c->raw(c);
	if (c->why != CR_NONE)
		return;
	/* decrypted bytes already inside OpenSSL raise no event */
	if (c->rd_wait && conn_tls_pending(c) && conn_may_take(c))
		conn_read_later(c, false);
	if (c->rd_wait == 0 && all && c->raw == NULL && c->why == CR_NONE)
		conn_close(c, CR_CLIENT_EOF, NULL);
}

void
conn_input_changed(struct conn *c)
{
	if (c->why == CR_NONE && conn_may_take(c))
		conn_pump(c);
	conn_arm(c);
}

void
conn_set_raw(struct conn *c, conn_raw_fn fn)
{
	c->raw = fn;
}

enum io_result
conn_take_raw(struct conn *c, char *buf, size_t max, size_t *n)
{
	*n = linebuf_take(&c->in, buf, max);
	if (*n > 0)
		return IO_DONE;
	if (c->rd_wait == 0)
		return IO_CLOSED;
	enum io_result rc = conn_recv(c, buf, max, n);
	if (rc == IO_CLOSED || rc == IO_ERROR)
		c->rd_wait = 0;
	c->raw_taken += *n;
	return rc;
}

bool
conn_can_splice(const struct conn *c)
{
	return c->ssl == NULL && c->rd_wait != 0 &&
	       linebuf_pending(&c->in) == 0;
}

enum io_result
conn_splice_raw(struct conn *c, int pipe_wr, size_t max, size_t *n)
{
	ssize_t r;

	*n = 0;
	do
		r = splice(c->fd, NULL, pipe_wr, NULL, max,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == EAGAIN)
		return IO_AGAIN;
	if (r <= 0) {
		c->rd_wait = 0;
		return r == 0 ? IO_CLOSED : IO_ERROR;
	}
	*n = (size_t)r;
	c->raw_taken += *n;
	metrics_add(M_BYTES_IN, r);
	return IO_DONE;
}

/* The peer closed its side: a last line without its terminator still
 * counts; what is under way (a login, a file) may finish. */
static void
conn_on_eof(struct conn *c)
{
	const char *line;
	size_t len;

	c->rd_wait = 0;
	if (c->raw == NULL && conn_take_lines(c) &&
	    linebuf_pending(&c->in) > 0 && c->why == CR_NONE &&
	    linebuf_feed(&c->in, "\n", 1) == 0 &&
	    linebuf_next(&c->in, &line, &len) == LINE_OK) {
		c->set->msgs_in++;
		c->set->hooks->line(c, line, len);
	}
	if (c->why != CR_NONE)
		return;
	if (c->raw && conn_may_take(c))
		c->raw(c);
	if (c->raw == NULL && c->set->hooks->accepts_input(c)) {
		conn_close(c, CR_CLIENT_EOF, NULL);
		return;
	}
	conn_finish_input(c);
}

static void
conn_more_input(void *arg)
{
	struct conn *c = arg;

	c->more_timer = 0;
	if (c->why == CR_NONE && c->rd_wait && conn_may_take(c))
		conn_read(c);
}

/* TLS input that OpenSSL already took from the socket (SSL_pending:
 * decrypted; SSL_has_pending: records not decrypted yet) raises no epoll
 * event: past the read budget, come back to it 1 ms on, after the others. */
static void
conn_read_later(struct conn *c, bool budget_spent)
{
	if (c->ssl == NULL || c->why != CR_NONE || c->more_timer)
		return;
	if (SSL_pending(c->ssl) <= 0 &&
	    !(budget_spent && SSL_has_pending(c->ssl)))
		return;
	c->more_timer = loop_timer_add(c->set->loop, loop_now(c->set->loop) + 1,
				       conn_more_input, c);
}

/* One event's worth of input: at most READ_MAX_PER_EVENT bytes, TLS too,
 * so that no connection keeps the worker from the others. */
static void
conn_read(struct conn *c)
{
	size_t total = 0, n;

	while (total < READ_MAX_PER_EVENT && c->rd_wait && conn_may_take(c)) {
		if (c->raw) {
			c->raw_taken = 0;
			c->raw(c);
			total = c->raw_taken;
			break;
		}
		enum io_result rc =
			conn_recv(c, c->set->scratch, READ_CHUNK, &n);
		if (rc == IO_AGAIN)
			break;
		if (rc != IO_DONE) {
			conn_on_eof(c);
			break;
		}
		total += n;
		if (linebuf_feed(&c->in, c->set->scratch, n) < 0) {
			conn_close(c, CR_NO_MEMORY, NULL);
			return;
		}
		conn_take_lines(c);
		conn_finish_input(c);
	}
	conn_read_later(c, total >= READ_MAX_PER_EVENT);
	conn_arm(c);
}

static void
conn_on_event(struct handler *h, uint32_t events)
{
	struct conn *c = (struct conn *)h;

	if (c->why != CR_NONE)
		return;
	if (events & c->wr_wait)
		conn_write(c);
	if (c->why != CR_NONE)
		return;
	if (events & EPOLLERR) {
		conn_close(c, CR_SOCKET_ERROR, NULL);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP | c->rd_wait))
		conn_read(c);
	if (c->why == CR_NONE && (events & EPOLLHUP) && !(c->events & EPOLLIN))
		conn_close(c, CR_HANGUP, NULL);
}

bool
conn_probe(struct conn *c)
{
	char b;
	ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		if (c->raw == NULL)
			conn_read(c);
		conn_close(c, CR_CLIENT_EOF, NULL);
	} else if (n > 0) {
		conn_read(c);
	}
	return c->why == CR_NONE;
}
