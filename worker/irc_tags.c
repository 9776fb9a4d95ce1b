/* IRCv3 for the irc dialect: the one table of capabilities that CAP LS,
 * REQ and LIST read, and message tags. An IRC sender's message carries a
 * tag block (time, msgid, bot, its client tags) in its event's text
 * (EVF_TAGS); each client is served by one of three variants of the
 * dialect (no tags, server-time only, message-tags), so that the fanout
 * renders an event once per variant. Texts from other dialects get the
 * time of their delivery. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "../common/util.h"
#include "dispatch.h"
#include "irc_priv.h"

struct irc_cap {
	const char *name;
	size_t field; /* offsetof the bool in struct irc_conn */
};

static const struct irc_cap caps[] = {
	{"away-notify", offsetof(struct irc_conn, away_notify)},
	{"batch", offsetof(struct irc_conn, batch)},
	{"cap-notify", offsetof(struct irc_conn, cap_notify)},
	{"echo-message", offsetof(struct irc_conn, echo)},
	{"extended-monitor", offsetof(struct irc_conn, ext_monitor)},
	{"labeled-response", offsetof(struct irc_conn, labels)},
	{"message-tags", offsetof(struct irc_conn, mtags)},
	{"multi-prefix", offsetof(struct irc_conn, mprefix)},
	{"server-time", offsetof(struct irc_conn, stime)},
	{"setname", offsetof(struct irc_conn, setname)},
	{"userhost-in-names", offsetof(struct irc_conn, uhnames)},
};

static bool *
cap_flag(struct irc_conn *s, const struct irc_cap *k)
{
	return (bool *)((char *)s + k->field);
}

static const struct irc_cap *
cap_find(const char *w, size_t l)
{
	for (size_t i = 0; i < FC_ARRAY_LEN(caps); i++)
		if (irc_eq(w, l, caps[i].name, strlen(caps[i].name)))
			return &caps[i];
	return NULL;
}

void
irc_cap_ls(struct client *c, bool v302)
{
	char list[IRC_LINE_MAX];
	size_t n = 0;

	for (size_t i = 0; i < FC_ARRAY_LEN(caps); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
				      n ? " " : "", caps[i].name);
	if (v302)
		IRC(c)->cap_notify = true; /* implied by CAP LS 302 */
	send_line(c, ":%s CAP %s LS :%s", irc_srv(c), irc_me(c), list);
}

void
irc_cap_list(struct client *c)
{
	char list[IRC_LINE_MAX];
	size_t n = 0;

	list[0] = '\0';
	for (size_t i = 0; i < FC_ARRAY_LEN(caps); i++)
		if (*cap_flag(IRC(c), &caps[i]))
			n += (size_t)snprintf(list + n, sizeof(list) - n,
					      "%s%s", n ? " " : "",
					      caps[i].name);
	send_line(c, ":%s CAP %s LIST :%s", irc_srv(c), irc_me(c), list);
}

bool
irc_cap_req(struct client *c, const struct irc_param *p)
{
	struct irc_conn next = *IRC(c);

	for (size_t i = 0; i < p->len;) {
		const char *sp = memchr(p->p + i, ' ', p->len - i);
		size_t e = sp ? (size_t)(sp - p->p) : p->len;
		const char *w = p->p + i;
		size_t l = e - i;
		bool off = l > 0 && w[0] == '-';
		i = e + 1;
		if (l == 0 || (off && l == 1))
			continue;
		const struct irc_cap *k = cap_find(w + off, l - off);
		if (k == NULL)
			return false;
		*cap_flag(&next, k) = !off;
	}
	for (size_t i = 0; i < FC_ARRAY_LEN(caps); i++)
		*cap_flag(IRC(c), &caps[i]) = *cap_flag(&next, &caps[i]);
	irc_tags_select(c);
	return true;
}

/* ---- tag blocks ---- */

/* "time=2026-12-01T13:27:15.123Z" */
static size_t
time_tag(char *out, size_t cap)
{
	struct timeval tv;
	struct tm tm;
	char day[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	int n = snprintf(out, cap, "time=%s.%03ldZ", day,
			 (long)(tv.tv_usec / 1000));
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* Append the client-only tags (+name[=value]) of m's tags to out. */
static size_t
client_tags(const struct irc_msg *m, char *out, size_t n, size_t cap)
{
	for (size_t i = 0; m->tags && i < m->tags_len;) {
		const char *semi = memchr(m->tags + i, ';', m->tags_len - i);
		size_t e = semi ? (size_t)(semi - m->tags) : m->tags_len;
		if (m->tags[i] == '+' && e - i > 1 && n + e - i + 1 < cap) {
			out[n++] = ';';
			memcpy(out + n, m->tags + i, e - i);
			n += e - i;
		}
		i = e + 1;
	}
	out[n] = '\0';
	return n;
}

size_t
irc_tag_block(struct client *c, const struct irc_msg *m, char *out, size_t cap)
{
	struct irc_conn *s = IRC(c);
	size_t n = time_tag(out, cap);
	int k = snprintf(out + n, cap - n, ";msgid=%x%x-%x-%lx-%x", c->w->idx,
			 c->w->gen, c->conn.id, (long)time(NULL), ++s->msg_seq);

	if (k < 0 || (size_t)k >= cap - n)
		return n;
	n += (size_t)k;
	if (s->bot && n + 5 < cap) {
		memcpy(out + n, ";bot", 5);
		n += 4;
	}
	return s->mtags ? client_tags(m, out, n, cap) : n;
}

/* ---- the three variants ---- */

enum tag_mode { TAGS_NONE, TAGS_TIME, TAGS_ALL };

/* What of an event's tag block (or, without one, the delivery time) a
 * client of mode sees, into out; its length. */
static size_t
shown_tags(enum tag_mode mode, const struct ev_view *ev, size_t blen, char *out,
	   size_t cap)
{
	if (mode == TAGS_NONE)
		return 0;
	if (!(ev->flags & EVF_TAGS))
		return time_tag(out, cap);
	const char *semi = memchr(ev->text, ';', blen);
	size_t n = mode == TAGS_ALL || semi == NULL ? blen
						    : (size_t)(semi - ev->text);
	if (n >= cap)
		n = 0;
	memcpy(out, ev->text, n);
	return n;
}

/* Copy the lines of in to q, each after "@tags ". */
static int
prefix_lines(struct sendq *q, const struct sendq *in, const char *tags,
	     size_t tl)
{
	const char *p = in->buf + in->head, *end = p + in->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		if (tl && (sendq_append(q, "@", 1) < 0 ||
			   sendq_append(q, tags, tl) < 0 ||
			   sendq_append(q, " ", 1) < 0))
			return -1;
		if (sendq_append(q, p, l) < 0)
			return -1;
		p += l;
	}
	return 0;
}

/* Render ev with base, without its tag block in the text, then tag each
 * line as mode shows them. A TAGMSG shows only with message-tags. */
static int
tagged(enum tag_mode mode, render_fn base, struct sendq *q,
       const struct ev_view *ev)
{
	struct ev_view v = *ev;
	char tags[IRC_BLOCK_MAX];
	size_t blen = 0;

	if ((ev->flags & EVF_TAGMSG) && mode != TAGS_ALL)
		return 0;
	if (ev->flags & EVF_TAGS) {
		const char *sp = memchr(ev->text, ' ', ev->text_len);
		blen = sp ? (size_t)(sp - ev->text) : ev->text_len;
		v.text = ev->text + blen + (sp != NULL);
		v.text_len = ev->text_len - blen - (sp != NULL);
	}
	size_t tl = shown_tags(mode, ev, blen, tags, sizeof(tags));
	if (tl == 0)
		return base(q, &v);
	struct sendq tmp = {0};
	int rc = base(&tmp, &v);
	if (rc == 0)
		rc = prefix_lines(q, &tmp, tags, tl);
	sendq_free(&tmp);
	return rc;
}

/* One render function per mode and event kind, each calling tagged()
 * with the base dialect's render of that kind. */
#define VARIANT(k)                                                             \
	static int none_##k(struct sendq *q, const struct ev_view *ev)         \
	{                                                                      \
		return tagged(TAGS_NONE, irc_dialect.render[k], q, ev);        \
	}                                                                      \
	static int time_##k(struct sendq *q, const struct ev_view *ev)         \
	{                                                                      \
		return tagged(TAGS_TIME, irc_dialect.render[k], q, ev);        \
	}                                                                      \
	static int all_##k(struct sendq *q, const struct ev_view *ev)          \
	{                                                                      \
		return tagged(TAGS_ALL, irc_dialect.render[k], q, ev);         \
	}

VARIANT(1)
VARIANT(2)
VARIANT(3)
VARIANT(4)
VARIANT(5)
VARIANT(6)
VARIANT(7)
VARIANT(8)
VARIANT(9)
VARIANT(10)
VARIANT(11)
VARIANT(12)
_Static_assert(EV_KIND_MAX == 13, "one VARIANT() per event kind");

#define ROW(m)                                                                 \
	{                                                                      \
		NULL, m##_1, m##_2, m##_3, m##_4, m##_5, m##_6, m##_7, m##_8,  \
			m##_9, m##_10, m##_11, m##_12                          \
	}

static const render_fn rows[3][EV_KIND_MAX] = {ROW(none), ROW(time), ROW(all)};

static struct dialect_def variants[3];

/* The variant for mode: the irc dialect with tagging renders. */
static const struct dialect_def *
variant(enum tag_mode mode)
{
	struct dialect_def *d = &variants[mode];

	if (d->name == NULL) {
		*d = irc_dialect;
		for (int k = 1; k < EV_KIND_MAX; k++)
			d->render[k] =
				irc_dialect.render[k] ? rows[mode][k] : NULL;
	}
	return d;
}

void
irc_tags_select(struct client *c)
{
	struct irc_conn *s = IRC(c);

	c->d = variant(s->mtags ? TAGS_ALL : s->stime ? TAGS_TIME : TAGS_NONE);
}

void
irc_echo(struct client *c, uint16_t kind, const struct ev_view *ev)
{
	struct sendq q = {0};

	if (kind < EV_KIND_MAX && c->d->render[kind] &&
	    c->d->render[kind](&q, ev) == 0 && sendq_len(&q))
		irc_out(c, q.buf + q.head, sendq_len(&q));
	sendq_free(&q);
}

/* ---- labeled-response ---- */

void
irc_out(struct client *c, const char *p, size_t n)
{
	struct irc_conn *s = IRC(c);

	if (s && s->labeled) {
		(void)sendq_append(s->labeled, p, n);
		return;
	}
	conn_reply_raw(&c->conn, p, n);
}

/* The label=value of m's tags into s->label: true if there is one. */
static bool
find_label(struct irc_conn *s, const struct irc_msg *m)
{
	for (size_t i = 0; m->tags && i < m->tags_len;) {
		const char *semi = memchr(m->tags + i, ';', m->tags_len - i);
		size_t e = semi ? (size_t)(semi - m->tags) : m->tags_len;
		if (e - i > 6 && e - i - 6 < sizeof(s->label) &&
		    memcmp(m->tags + i, "label=", 6) == 0) {
			memcpy(s->label, m->tags + i + 6, e - i - 6);
			s->label[e - i - 6] = '\0';
			return true;
		}
		i = e + 1;
	}
	return false;
}

void
irc_label_begin(struct client *c, const struct irc_msg *m)
{
	struct irc_conn *s = IRC(c);

	if (s->labeled) { /* a close in the middle of a command */
		sendq_free(s->labeled);
		free(s->labeled);
		s->labeled = NULL;
	}
	if (m && s->labels && find_label(s, m))
		s->labeled = calloc(1, sizeof(*s->labeled));
}

/* Send one held line with the tag "extra" before its own tags. */
static void
put_tagged(struct client *c, const char *extra, const char *line, size_t n)
{
	char head[128];
	bool own = n > 0 && line[0] == '@';
	int k = snprintf(head, sizeof(head), "@%s%s", extra, own ? ";" : " ");

	if (k <= 0 || (size_t)k >= sizeof(head))
		return;
	conn_reply_raw(&c->conn, head, (size_t)k);
	conn_reply_raw(&c->conn, line + own, n - own);
}

/* The held lines, each with tag (NULL: as they are). */
static void
put_held(struct client *c, const struct sendq *q, const char *tag)
{
	const char *p = q->buf + q->head, *end = p + q->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		if (tag)
			put_tagged(c, tag, p, l);
		else
			conn_reply_raw(&c->conn, p, l);
		p += l;
	}
}

static size_t
count_lines(const struct sendq *q)
{
	size_t n = 0;

	for (size_t i = 0; i < q->len; i++)
		n += q->buf[q->head + i] == '\n';
	return n;
}

void
irc_label_end(struct client *c)
{
	struct irc_conn *s = IRC(c);
	struct sendq *q = s ? s->labeled : NULL;
	char tag[96], id[32], line[IRC_LINE_MAX];

	if (q == NULL)
		return;
	s->labeled = NULL;
	size_t lines = count_lines(q);
	snprintf(tag, sizeof(tag), "label=%s", s->label);
	if (lines == 0) {
		int k = snprintf(line, sizeof(line), ":%s ACK\r\n", irc_srv(c));
		put_tagged(c, tag, line, (size_t)k);
	} else if (lines == 1 || !s->batch) {
		put_held(c, q, lines == 1 ? tag : NULL);
	} else {
		snprintf(id, sizeof(id), "%x%x", c->conn.id, ++s->msg_seq);
		int k = snprintf(line, sizeof(line),
				 ":%s BATCH +%s labeled-response\r\n",
				 irc_srv(c), id);
		put_tagged(c, tag, line, (size_t)k);
		snprintf(tag, sizeof(tag), "batch=%s", id);
		put_held(c, q, tag);
		k = snprintf(line, sizeof(line), ":%s BATCH -%s\r\n",
			     irc_srv(c), id);
		conn_reply_raw(&c->conn, line, (size_t)k);
	}
	sendq_free(q);
	free(q);
}
