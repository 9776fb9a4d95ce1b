/* Fuzz-only stand-ins for the parts of a worker that okfail.c and numeric.c
 * call (replies, login, fanout, file upload), so the real dispatch runs
 * without a loop, sockets or peers; the registry is the real one. Every stub
 * checks what it is handed, and fuzz_dialect_run() checks every reply line.
 * Nothing here is linked into forkchatd. */
#include "stubs.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../ipc/userinfo.h"
#include "../proto/irc.h"
#include "../proto/wire.h"

#define NCONN 3
#define MAX_USERS 8
#define MAX_ROOMS 6
#define KEY_MAX 64

static struct worker W;
static struct client conns[NCONN];
static struct reg_user_view views[MAX_USERS];
static char out[NCONN][1 << 16];
static size_t outlen[NCONN];

static void
check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz check failed: %s\n", what);
		abort();
	}
}

/* As conn_reply() in worker/conn.c: the whole reply, however long (it cut
 * replies at 1022 bytes until fef4c24; this harness found the cut could
 * split a UTF-8 character). */
void
conn_reply(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	char *buf = NULL;

	va_start(ap, fmt);
	int n = vasprintf(&buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	conn_reply_raw(c, buf, (size_t)n);
	conn_reply_raw(c, "\n", 1);
	free(buf);
}

void
conn_say(struct conn *c, const char *line)
{
	conn_reply(c, "%s", line);
}

void
conn_reply_raw(struct conn *c, const char *p, size_t n)
{
	size_t i = (size_t)((struct client *)c - conns);

	check(i < NCONN, "reply to an unknown connection");
	if (c->why != CR_NONE)
		return;
	if (outlen[i] + n > sizeof(out[i]))
		n = sizeof(out[i]) - outlen[i];
	memcpy(out[i] + outlen[i], p, n);
	outlen[i] += n;
}

void
client_close(struct client *c, enum close_reason r, const char *detail)
{
	check(r > CR_NONE && r < CR_MAX, "close reason");
	/* irc's ERROR line carries a reason (QUIT's text, a bad PASS) */
	check(detail == NULL || (c->d->id == DIALECT_IRC &&
				 strlen(detail) < IRC_LINE_MAX),
	      "a close detail from a dialect that gives none");
	if (c->state == CS_LIVE) {
		registry_release(W.reg, (uint32_t)c->slot, c->conn.id, NULL,
				 NULL);
		c->slot = -1;
	}
	c->state = CS_NEW;
	c->conn.why = r;
}

bool
client_pong(struct client *c)
{
	if (c->pings_out == 0)
		return false;
	c->pings_out = 0;
	return true;
}

void
login_begin(struct client *c, const char *name, size_t len)
{
	struct reg_user_view v;

	check(c->state == CS_NEW, "login_begin on a connection not new");
	check(wire_valid_name(name, len), "login_begin with a bad name");
	memcpy(c->pending_name, name, len);
	c->pending_name[len] = '\0';
	int rc = registry_claim(W.reg, c->pending_name, c->d->id, W.idx, W.gen,
				c->conn.id, &v);
	if (rc == 0) {
		c->state = CS_LIVE;
		c->slot = (int32_t)v.slot;
		memcpy(c->name, v.name, sizeof(c->name));
	}
	c->d->login_result(c, rc);
}

static void
check_event(struct client *from, uint16_t kind, const char *text, size_t len)
{
	check(from->state == CS_LIVE, "event from a user not logged in");
	check(kind > 0 && kind < EV_KIND_MAX, "event kind");
	check(len == 0 || text != NULL, "event text");
	check(len < FRAME_MAX_PAYLOAD, "event text too long for a frame");
	if (from->d->raw_text) /* IRC text: any bytes a line can carry */
		check(len == 0 || (memchr(text, '\0', len) == NULL &&
				   memchr(text, '\r', len) == NULL &&
				   memchr(text, '\n', len) == NULL),
		      "IRC event text with NUL, CR or LF");
	else
		check(wire_check_text(text ? text : "", len) == TEXT_OK,
		      "event text has bytes the line check refuses");
}

void
fanout_simple(struct worker *w, uint16_t kind, struct client *from,
	      int32_t room, const char *text, size_t len)
{
	check(w == &W, "worker");
	check_event(from, kind, text, len);
	if (kind == EV_ROOM_MSG || kind == EV_ROOM_JOIN || kind == EV_ROOM_LEFT)
		check(room >= 0 && (uint32_t)room < registry_room_count(w->reg),
		      "room event for a room that does not exist");
	else
		check(room == -1, "room on a non-room event");
}

void
fanout_to(struct worker *w, uint16_t kind, struct client *from,
	  const struct reg_user_view *to, const char *text, size_t len)
{
	check(w == &W, "worker");
	check_event(from, kind, text, len);
	check(len > 0, "private event without text");
	check(to->slot != (uint32_t)from->slot, "private event to oneself");
	check(to->slot < MAX_USERS, "target slot");
}

/* One node, no cluster: every user is reachable. */
bool
fanout_reachable(struct worker *w, const struct reg_user_view *to)
{
	check(w == &W, "worker");
	check(to != NULL, "target");
	return true;
}

/* The irc dialect's services (linked, not fuzzed by these harnesses). */
void
fanout_ex(struct worker *w, const struct fanout_args *a)
{
	check(w == &W, "worker");
	check(a->kind > 0 && a->kind < EV_KIND_MAX, "event kind");
	check(a->len == 0 || a->text != NULL, "event text");
}

int
login_rename(struct client *c, const char *name)
{
	check(c->state == CS_LIVE, "rename of a user not logged in");
	check(wire_valid_name(name, strlen(name)), "rename to a bad name");
	return -EEXIST;
}

bool
client_closing(const struct client *c)
{
	return c->conn.why != CR_NONE;
}

void
files_start_upload(struct client *c, const struct reg_user_view *to,
		   const char *fname, uint64_t size)
{
	size_t fl = strlen(fname);

	check(c->state == CS_LIVE, "upload from a user not logged in");
	check(to->slot != (uint32_t)c->slot, "upload to oneself");
	check(to->dialect == DIALECT_NUMERIC, "upload to okfail");
	check(fl > 0 && fl < 256, "file name length");
	check(strchr(fname, '/') == NULL && strstr(fname, "..") == NULL,
	      "file name with a path");
	check(wire_check_text(fname, fl) == TEXT_OK, "file name bytes");
	check(size <= W.lim.max_file_size, "file size");
}

/* Every okfail/numeric reply is whole lines of relayable text (TAB
 * allowed); every irc reply whole lines as fuzz_irc_check_lines() says. */
static void
check_output(size_t i, const struct dialect_def *d)
{
	const char *p = out[i];
	size_t n = outlen[i];

	if (n == sizeof(out[i]))
		return; /* clipped by this stub */
	outlen[i] = 0;
	if (d == &irc_dialect) {
		fuzz_irc_check_lines(p, n);
		return;
	}
	check(n == 0 || p[n - 1] == '\n', "reply does not end a line");
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t len = (size_t)(nl - p);
		check(wire_check_text(p, len) == TEXT_OK,
		      "reply line is not clean text");
		p += len + 1;
		n -= len + 1;
	}
}

void
fuzz_irc_check_lines(const char *p, size_t n)
{
	check(n == 0 || (n >= 2 && p[n - 2] == '\r' && p[n - 1] == '\n'),
	      "irc reply does not end with CR LF");
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t len = (size_t)(nl - p) + 1;
		check(len >= 3 && p[len - 2] == '\r', "irc line without CR LF");
		check(len <= IRC_LINE_MAX, "irc line over 512 bytes");
		check(memchr(p, '\r', len - 2) == NULL &&
			      memchr(p, '\0', len - 2) == NULL,
		      "CR or NUL inside an irc line");
		check(p[0] == ':' || (len >= 6 && !memcmp(p, "ERROR ", 6)) ||
			      (len >= 5 && !memcmp(p, "PING ", 5)),
		      "irc line with neither a prefix nor ERROR/PING");
		p += len;
		n -= len;
	}
}

static void
world_init(const struct dialect_def *d)
{
	static struct reg_limits lim = {MAX_USERS, MAX_ROOMS, KEY_MAX};
	static bool logs;

	if (!logs) {
		log_init(0, "/dev/null", LOG_LVL_ERR);
		logs = true;
	}
	memset(&W, 0, sizeof(W));
	W.idx = 0;
	W.gen = 1;
	W.lim.max_file_size = 1 << 20;
	W.lim.max_line = 8192;
	W.reg = registry_create(&lim);
	check(W.reg != NULL, "registry_create");
	W.views = views;
	W.uinfo = userinfo_create(MAX_USERS);
	check(W.uinfo != NULL, "userinfo_create");
	snprintf(W.lim.server_name, sizeof(W.lim.server_name), "fc.test");
	W.lim.irc_join_all = 1;
	for (size_t i = 0; i < NCONN; i++) {
		memset(&conns[i], 0, sizeof(conns[i]));
		conns[i].w = &W;
		conns[i].conn.fd = (int)i + 10;
		conns[i].conn.id = (uint32_t)i + 1;
		conns[i].d = d;
		conns[i].state = CS_NEW;
		conns[i].slot = -1;
		snprintf(conns[i].conn.ip, sizeof(conns[i].conn.ip),
			 "10.0.0.%zu", i + 1);
		outlen[i] = 0;
	}
	/* one user of each dialect on another worker, and a room */
	struct reg_user_view v;
	check(registry_claim(W.reg, "okuser", DIALECT_OKFAIL, 1, 1, 100, &v) ==
		      0,
	      "claim okuser");
	check(registry_set_key(W.reg, v.slot, 100, "KEYOK", 5) == 0, "key");
	check(registry_claim(W.reg, "numuser", DIALECT_NUMERIC, 1, 1, 101,
			     &v) == 0,
	      "claim numuser");
	check(registry_room_create(W.reg, "lobby", 5) == 0, "room");
	check(registry_room_join(W.reg, 0, v.slot) == 0, "join");
}

/* Lines of the input go to connection 0; a line "@1" or "@2" switches to
 * another connection (so that two users can talk to each other). Each line
 * is handed over in an exactly sized heap copy. */
void
fuzz_dialect_run(const struct dialect_def *d, const uint8_t *data, size_t size,
		 void (*parse_fn)(const char *, size_t))
{
	struct linebuf lb;
	const char *line;
	size_t len;
	size_t cur = 0;

	world_init(d);
	linebuf_init(&lb, 8192 - 2); /* max-line default */
	if (linebuf_feed(&lb, (const char *)data, size) < 0)
		abort();
	/* the caller hands a final unterminated line over too */
	for (int last = 0; last < 2; last++) {
		enum line_status st;
		while ((st = linebuf_next(&lb, &line, &len)) != LINE_NONE) {
			if (st != LINE_OK)
				continue;
			if (len == 2 && line[0] == '@' && line[1] >= '0' &&
			    line[1] < '0' + NCONN) {
				cur = (size_t)(line[1] - '0');
				continue;
			}
			char *copy = malloc(len ? len : 1);
			if (copy == NULL)
				abort();
			memcpy(copy, line, len);
			if (parse_fn)
				parse_fn(copy, len);
			if (conns[cur].conn.why == CR_NONE)
				d->on_line(&conns[cur], copy, len);
			free(copy);
			check_output(cur, d);
		}
		/* as conn_on_eof() does: a last line without terminator */
		if (last == 0 && linebuf_pending(&lb) > 0 &&
		    (linebuf_keep(&lb) < 0 || linebuf_feed(&lb, "\n", 1) < 0))
			abort();
	}
	linebuf_free(&lb);
	for (size_t i = 0; i < NCONN; i++)
		if (d->release)
			d->release(&conns[i]);
	check(registry_check(W.reg) == 0, "registry_check after the run");
	registry_destroy(W.reg);
	W.reg = NULL;
	userinfo_destroy(W.uinfo);
	W.uinfo = NULL;
}

/* login.c keeps a copy of the user's key and rooms for rebuilding the
 * registry; here only the arguments are checked. */
void
login_note_key(struct client *c, const char *key, size_t len)
{
	check(c->state == CS_LIVE, "key noted for a user not logged in");
	check(len > 0 && len <= KEY_MAX && key != NULL, "noted key length");
}

void
login_note_room(struct client *c, uint32_t room, bool joined)
{
	(void)joined;
	check(c->state == CS_LIVE, "room noted for a user not logged in");
	check(room < registry_room_count(W.reg), "noted room");
}

void
login_hear_all(struct client *c, bool on)
{
	check(c->state == CS_LIVE || !on, "a user not logged in hears all");
	c->hears_all = on;
}
