/* Line assembler. Bytes read from a socket are borrowed while whole lines are
 * taken out of them; only an unfinished tail is copied into memory the
 * connection owns, so an idle connection holds no input buffer at all. */
#include "line.h"

#include <stdlib.h>
#include <string.h>

void
linebuf_init(struct linebuf *lb, size_t max_content)
{
	memset(lb, 0, sizeof(*lb));
	lb->max_content = max_content;
}

void
linebuf_free(struct linebuf *lb)
{
	free(lb->own);
	lb->own = NULL;
	lb->own_cap = 0;
	lb->data = NULL;
	lb->len = 0;
}

static int
linebuf_reserve(struct linebuf *lb, size_t need)
{
	if (need <= lb->own_cap)
		return 0;
	size_t cap = lb->own_cap ? lb->own_cap : 256;
	while (cap < need)
		cap *= 2;
	char *p = realloc(lb->own, cap);
	if (p == NULL)
		return -1;
	lb->own = p;
	lb->own_cap = cap;
	return 0;
}

/* Add bytes. When nothing is pending they are only borrowed: the caller must
 * call linebuf_keep() before the memory behind p goes away, which also makes
 * pending bytes owned, so that here they are always in own. */
int
linebuf_feed(struct linebuf *lb, const char *p, size_t n)
{
	if (lb->len == 0) {
		lb->data = p;
		lb->len = n;
		return 0;
	}
	if (linebuf_keep(lb) < 0 || linebuf_reserve(lb, lb->len + n) < 0)
		return -1;
	memcpy(lb->own + lb->len, p, n);
	lb->data = lb->own;
	lb->len += n;
	return 0;
}

static void
linebuf_advance(struct linebuf *lb, size_t n)
{
	/* data is NULL after keep() released everything: NULL + 0 is UB */
	if (n == 0)
		return;
	lb->data += n;
	lb->len -= n;
}

/* Find the end of the first line: index of its terminator, or -1. */
static long
linebuf_find_end(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] == '\n' || p[i] == '\r')
			return (long)i;
	return -1;
}

/* Consume the terminator at data[0] and remember a lone \r. */
static void
linebuf_eat_terminator(struct linebuf *lb)
{
	char c = lb->data[0];

	linebuf_advance(lb, 1);
	lb->skip_lf = false;
	if (c != '\r')
		return;
	if (lb->len > 0 && lb->data[0] == '\n')
		linebuf_advance(lb, 1);
	else if (lb->len == 0)
		lb->skip_lf = true;
}

enum line_status
linebuf_next(struct linebuf *lb, const char **line, size_t *len)
{
	if (lb->skip_lf && lb->len > 0) {
		lb->skip_lf = false;
		if (lb->data[0] == '\n')
			linebuf_advance(lb, 1);
	}
	for (;;) {
		long end = linebuf_find_end(lb->data, lb->len);
		if (lb->discarding) {
			if (end < 0) {
				linebuf_advance(lb, lb->len);
				return LINE_NONE;
			}
			linebuf_advance(lb, (size_t)end);
			linebuf_eat_terminator(lb);
			lb->discarding = false;
			continue;
		}
		if (end < 0) {
			if (lb->len <= lb->max_content)
				return LINE_NONE;
			lb->discarding = true;
			linebuf_advance(lb, lb->len);
			return LINE_TOOLONG;
		}
		if ((size_t)end > lb->max_content) {
			linebuf_advance(lb, (size_t)end);
			linebuf_eat_terminator(lb);
			return LINE_TOOLONG;
		}
		*line = lb->data;
		*len = (size_t)end;
		linebuf_advance(lb, (size_t)end);
		linebuf_eat_terminator(lb);
		return LINE_OK;
	}
}

/* Copy borrowed pending bytes into owned memory; release owned memory when
 * nothing is pending. */
int
linebuf_keep(struct linebuf *lb)
{
	if (lb->len == 0) {
		free(lb->own);
		lb->own = NULL;
		lb->own_cap = 0;
		lb->data = NULL;
		return 0;
	}
	if (lb->own && lb->data >= lb->own &&
	    lb->data < lb->own + lb->own_cap) {
		memmove(lb->own, lb->data, lb->len);
		lb->data = lb->own;
		return 0;
	}
	char *p = malloc(lb->len < 256 ? 256 : lb->len);
	if (p == NULL)
		return -1;
	memcpy(p, lb->data, lb->len);
	free(lb->own);
	lb->own = p;
	lb->own_cap = lb->len < 256 ? 256 : lb->len;
	lb->data = p;
	return 0;
}

size_t
linebuf_pending(const struct linebuf *lb)
{
	return lb->len;
}

size_t
linebuf_take(struct linebuf *lb, char *buf, size_t max)
{
	if (lb->skip_lf && lb->len > 0) {
		lb->skip_lf = false;
		if (lb->data[0] == '\n')
			linebuf_advance(lb, 1);
	}
	size_t n = lb->len < max ? lb->len : max;
	if (n == 0)
		return 0;
	memcpy(buf, lb->data, n);
	linebuf_advance(lb, n);
	if (lb->len == 0)
		(void)linebuf_keep(lb); /* releases: never fails when empty */
	return n;
}
