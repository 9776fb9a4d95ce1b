/* Session state of the client, below every other client file: the FIFO of
 * commands awaiting a reply, the queue of typed lines not yet sent, and the
 * end of the session (status and the reason that main reports). No I/O. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "client.h"

bool
fifo_push(struct client *c, enum pkind k, const char *peer, const char *text)
{
	if (c->fcount == FC_ARRAY_LEN(c->fifo)) {
		/* internal commands only pile up by the hundred if the server
		 * stopped answering; treat it as a broken session */
		session_end(c, 1, "too many commands without a reply");
		return false;
	}
	struct pending *p =
		&c->fifo[(c->fhead + c->fcount) % FC_ARRAY_LEN(c->fifo)];
	p->kind = k;
	snprintf(p->peer, sizeof(p->peer), "%s", peer ? peer : "");
	p->text = text ? strdup(text) : NULL;
	c->fcount++;
	return true;
}

struct pending *
fifo_head(struct client *c)
{
	return c->fcount ? &c->fifo[c->fhead] : NULL;
}

void
fifo_pop(struct client *c)
{
	if (c->fcount == 0)
		return;
	free(c->fifo[c->fhead].text);
	c->fifo[c->fhead].text = NULL;
	c->fhead = (c->fhead + 1) % FC_ARRAY_LEN(c->fifo);
	c->fcount--;
}

bool
fifo_has_user_command(const struct client *c)
{
	for (size_t i = 0; i < c->fcount; i++) {
		enum pkind k =
			c->fifo[(c->fhead + i) % FC_ARRAY_LEN(c->fifo)].kind;
		if (k != P_INTERNAL && k != P_PROBE)
			return true;
	}
	return false;
}

bool
inq_push(struct client *c, const char *line, size_t n)
{
	if (c->inq_head > 0 && c->inq_head == c->inq_len) {
		c->inq_head = 0;
		c->inq_len = 0;
	}
	if (c->inq_len == c->inq_cap) {
		size_t cap = c->inq_cap ? c->inq_cap * 2 : 16;
		char **q = realloc(c->inq, cap * sizeof(*q));
		if (q == NULL)
			return false;
		c->inq = q;
		c->inq_cap = cap;
	}
	char *s = strndup(line, n);
	if (s == NULL)
		return false;
	c->inq[c->inq_len++] = s;
	return true;
}

char *
inq_pop(struct client *c)
{
	if (c->inq_head == c->inq_len)
		return NULL;
	return c->inq[c->inq_head++];
}

bool
inq_empty(const struct client *c)
{
	return c->inq_head == c->inq_len;
}

void
inq_free(struct client *c)
{
	for (size_t i = c->inq_head; i < c->inq_len; i++)
		free(c->inq[i]);
	free(c->inq);
	c->inq = NULL;
	c->inq_head = c->inq_len = c->inq_cap = 0;
}

void
session_end(struct client *c, int status, const char *why)
{
	if (c->done)
		return;
	c->done = true;
	c->status = status;
	c->end_why = why;
	while (c->fcount)
		fifo_pop(c);
}
