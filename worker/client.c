/* A client's life (services): accepted with its dialect's greeting, held
 * to its login deadline, kept alive by the heartbeat, closed with its
 * dialect's final line, and freed after the logout. Also the hooks through
 * which the transport reports to the services. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/util.h"
#include "client.h"
#include "../ipc/metrics.h"

#define LOGIN_RECHECK_MS 10

static struct client *
client_of(struct conn *c)
{
	return (struct client *)c;
}

size_t
client_line_max(const struct client *c)
{
	return c->d->max_line ? c->d->max_line : c->w->lim.max_line;
}

static void
client_login_expired(void *arg)
{
	struct client *c = arg;
	struct worker *w = c->w;

	c->login_timer = 0;
	if (c->state == CS_NEW) {
		client_close(c, CR_LOGIN_TIMEOUT, NULL);
		return;
	}
	/* a name probe is under way: its answer decides soon */
	if (c->state == CS_LOGIN_WAIT)
		c->login_timer = loop_timer_add(
			w->loop, loop_now(w->loop) + LOGIN_RECHECK_MS,
			client_login_expired, c);
}

struct client *
client_new(struct worker *w, int fd, const struct dialect_def *d,
	   const char *ip, SSL_CTX *tls)
{
	struct client *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->w = w;
	c->d = d;
	c->slot = -1;
	c->reply_cursor = UINT32_MAX;
	if (conn_init(&w->net, &c->conn, fd, ip, tls, client_line_max(c)) < 0) {
		free(c);
		return NULL;
	}
	metrics_add(M_ACCEPTED + d->id, 1);
	metrics_add(M_CONNECTIONS + d->id, 1);
	if (w->lim.login_timeout_ms > 0)
		c->login_timer = loop_timer_add(
			w->loop, loop_now(w->loop) + w->lim.login_timeout_ms,
			client_login_expired, c);
	if (d->greeting)
		conn_say(&c->conn, d->greeting);
	return c;
}

/* d's final line for r (with detail) into q; nothing if d has none. */
static void
client_final_into(const struct client *c, const struct dialect_def *d,
		  enum close_reason r, const char *detail, struct sendq *q)
{
	const char *line = d->close_lines[r];

	if (line == NULL)
		return;
	if (d->close_fmt) {
		d->close_fmt(c, line, detail, q);
		return;
	}
	(void)sendq_append(q, line, strlen(line));
	if (detail) {
		(void)sendq_append(q, " ", 1);
		(void)sendq_append(q, detail, strlen(detail));
	}
	(void)sendq_append(q, "\n", 1);
}

void
client_refuse(int fd, const struct dialect_def *d, enum close_reason r)
{
	struct sendq q = {0};

	metrics_add(M_DISCONNECTS + r, 1);
	client_final_into(NULL, d, r, NULL, &q);
	if (sendq_len(&q) > 0)
		(void)!send(fd, q.buf + q.head, sendq_len(&q),
			    MSG_NOSIGNAL | MSG_DONTWAIT);
	sendq_free(&q);
	close(fd);
}

void
client_close(struct client *c, enum close_reason r, const char *detail)
{
	conn_close(&c->conn, r, detail);
}

bool
client_closing(const struct client *c)
{
	return c->conn.why != CR_NONE;
}

struct client *
client_by_fd(struct worker *w, int fd)
{
	struct conn *c = conn_by_fd(&w->net, fd);

	return c ? client_of(c) : NULL;
}

struct client *
client_by_slot(struct worker *w, uint32_t slot, uint32_t id)
{
	if (slot >= registry_limits(w->reg)->max_users)
		return NULL;
	struct client *c = w->by_slot[slot];
	if (c == NULL || c->conn.id != id || client_closing(c))
		return NULL;
	return c;
}

/* ---- heartbeat ---- */

static void client_beat(void *arg);

static void
client_beat_arm(struct client *c)
{
	int64_t due = c->next_ping;

	if (c->pong_due && c->pong_due < due)
		due = c->pong_due;
	loop_timer_cancel(c->w->loop, c->beat_timer);
	c->beat_timer = loop_timer_add(c->w->loop, due, client_beat, c);
}

/* A ping one interval after login, then on a fixed schedule; the first
 * unanswered ping starts the pong deadline. */
static void
client_beat(void *arg)
{
	struct client *c = arg;
	const struct fc_limits *lim = &c->w->lim;
	int64_t now = now_ms();

	c->beat_timer = 0;
	if (c->pong_due && now >= c->pong_due) {
		client_close(c, CR_PONG_TIMEOUT, NULL);
		return;
	}
	if (now >= c->next_ping) {
		c->d->ping(c);
		if (c->pings_out++ == 0)
			c->pong_due = c->next_ping + lim->pong_ms;
		while (c->next_ping <= now)
			c->next_ping += lim->ping_ms > 0 ? lim->ping_ms : 1000;
	}
	client_beat_arm(c);
}

void
client_logged_in(struct client *c)
{
	loop_timer_cancel(c->w->loop, c->login_timer);
	c->login_timer = 0;
	metrics_add(M_LOGINS + c->d->id, 1);
	if (c->d->ping == NULL || c->w->lim.ping_ms <= 0)
		return;
	/* more exact than the loop's cached clock */
	c->next_ping = now_ms() + c->w->lim.ping_ms;
	client_beat_arm(c);
}

bool
client_pong(struct client *c)
{
	if (c->pings_out == 0)
		return false;
	c->pings_out = 0;
	c->pong_due = 0;
	return true;
}

/* ---- the transport's hooks ---- */

static void
client_on_line(struct conn *conn, const char *line, size_t len)
{
	struct client *c = client_of(conn);

	c->d->on_line(c, line, len);
}

static void
client_on_too_long(struct conn *conn)
{
	struct client *c = client_of(conn);

	if (c->d->on_too_long)
		c->d->on_too_long(c);
	else
		conn_say(conn, c->d->too_long);
}

static bool
client_accepts_input(struct conn *conn)
{
	struct client *c = client_of(conn);

	return c->state != CS_LOGIN_WAIT;
}

static void
client_final_line(struct conn *conn, enum close_reason r, const char *detail,
		  struct sendq *q)
{
	struct client *c = client_of(conn);

	client_final_into(c, c->d, r, detail, q);
}

static void
client_wrote(struct conn *conn)
{
	struct client *c = client_of(conn);

	if (c->reply_cursor != UINT32_MAX && c->d->more_reply &&
	    conn_reply_room(conn))
		c->d->more_reply(c);
}

static void
client_cancel_timers(struct client *c)
{
	loop_timer_cancel(c->w->loop, c->login_timer);
	loop_timer_cancel(c->w->loop, c->probe_timer);
	loop_timer_cancel(c->w->loop, c->beat_timer);
	c->login_timer = c->probe_timer = c->beat_timer = 0;
}

static void
client_closed(struct conn *conn)
{
	struct client *c = client_of(conn);
	struct worker *w = c->w;

	/* a mass logout is long work, not a hang: tell the watchdog */
	__atomic_store_n(&w->board->heartbeat_ms, now_ms(), __ATOMIC_RELAXED);
	metrics_add(M_CONNECTIONS + c->d->id, -1);
	metrics_add(M_DISCONNECTS + conn->why, 1);
	login_abandon(c);
	login_logout(c);
	files_conn_gone(c);
	client_cancel_timers(c);
	if (c->ip_held)
		registry_ip_release(w->reg, c->ipkey, w->idx);
	log_debug("client closed fd=%d id=%u user=%s reason=%s", conn->fd,
		  conn->id, c->name[0] ? c->name : "-",
		  close_reason_name(conn->why));
	conn_destroy(conn);
	if (c->d->release)
		c->d->release(c);
	free(c->pubkey);
	free(c->rooms);
	free(c);
}

const struct conn_hooks client_hooks = {
	.line = client_on_line,
	.line_too_long = client_on_too_long,
	.accepts_input = client_accepts_input,
	.final_line = client_final_line,
	.wrote = client_wrote,
	.closed = client_closed,
};
