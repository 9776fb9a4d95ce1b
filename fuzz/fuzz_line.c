/* libFuzzer harness for proto/line.c: the input stream is cut into chunks of
 * pseudo-random size, each fed from its own heap copy that is freed right
 * after linebuf_keep() (ASan catches any read of borrowed bytes after that),
 * and the lines that come out are compared with a byte-at-a-time reference
 * model of the same rules (\r\n, \n, lone \r; one LINE_TOOLONG per long line).
 *
 * Input: byte 0 = max_content (0..79), bytes 1-4 = seed for chunk sizes and
 * for how many lines are taken out between feeds, the rest = the stream. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../proto/line.h"

struct ev {
	int st;          /* LINE_OK or LINE_TOOLONG */
	size_t off, len; /* LINE_OK: content, as an offset into out[] */
};

struct evlist {
	struct ev *v;
	size_t n, cap;
	char *bytes;
	size_t blen, bcap;
};

static void
ev_add(struct evlist *l, int st, const char *p, size_t len)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (l->v == NULL)
			abort();
	}
	if (l->bytes == NULL || l->blen + len > l->bcap) {
		do
			l->bcap = l->bcap ? l->bcap * 2 : 256;
		while (l->blen + len > l->bcap);
		l->bytes = realloc(l->bytes, l->bcap);
		if (l->bytes == NULL)
			abort();
	}
	if (len)
		memcpy(l->bytes + l->blen, p, len);
	l->v[l->n++] = (struct ev){st, l->blen, len};
	l->blen += len;
}

static void
ev_free(struct evlist *l)
{
	free(l->v);
	free(l->bytes);
}

/* The reference: the rules of line.h applied to the whole stream at once. */
static size_t
reference(const char *s, size_t n, size_t max, struct evlist *out)
{
	size_t start = 0;
	size_t i = 0;

	while (i < n) {
		if (s[i] != '\r' && s[i] != '\n') {
			i++;
			continue;
		}
		size_t len = i - start;
		if (len > max)
			ev_add(out, LINE_TOOLONG, NULL, 0);
		else
			ev_add(out, LINE_OK, s + start, len);
		if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
			i++;
		i++;
		start = i;
	}
	/* an unterminated tail: refused once it is too long, else pending */
	if (n - start > max) {
		ev_add(out, LINE_TOOLONG, NULL, 0);
		return 0;
	}
	return n - start;
}

static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
take(struct linebuf *lb, struct evlist *got, unsigned limit, size_t max)
{
	const char *line;
	size_t len;

	for (unsigned k = 0; k < limit; k++) {
		enum line_status st = linebuf_next(lb, &line, &len);
		if (st == LINE_NONE)
			return;
		if (st == LINE_OK) {
			if (len > max)
				abort();
			if (memchr(line, '\n', len) || memchr(line, '\r', len))
				abort();
			ev_add(got, LINE_OK, line, len);
		} else {
			ev_add(got, LINE_TOOLONG, NULL, 0);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 5)
		return 0;
	size_t max = data[0] % 80;
	uint32_t seed;
	memcpy(&seed, data + 1, 4);
	seed |= 1;
	const char *s = (const char *)data + 5;
	size_t n = size - 5;

	struct evlist want = {0}, got = {0};
	size_t tail = reference(s, n, max, &want);

	struct linebuf lb;
	linebuf_init(&lb, max);
	size_t off = 0;
	while (off < n) {
		size_t chunk = rnd(&seed) % 17;
		if (chunk > n - off)
			chunk = n - off;
		/* a private copy that dies after keep(), like a read buffer */
		char *buf = malloc(chunk ? chunk : 1);
		if (buf == NULL)
			abort();
		memcpy(buf, s + off, chunk);
		if (linebuf_feed(&lb, buf, chunk) < 0)
			abort();
		/* sometimes take every line, sometimes only a few */
		uint32_t r = rnd(&seed);
		take(&lb, &got, (r & 3) ? ~0u : (r >> 2) % 3, max);
		if (linebuf_keep(&lb) < 0)
			abort();
		memset(buf, 0xAA, chunk);
		free(buf);
		off += chunk;
	}
	take(&lb, &got, ~0u, max);

	if (got.n != want.n) {
		fprintf(stderr, "max=%zu: %zu events, reference %zu\n", max,
			got.n, want.n);
		abort();
	}
	for (size_t i = 0; i < got.n; i++) {
		if (got.v[i].st != want.v[i].st ||
		    got.v[i].len != want.v[i].len ||
		    memcmp(got.bytes + got.v[i].off, want.bytes + want.v[i].off,
			   got.v[i].len) != 0) {
			fprintf(stderr, "max=%zu: event %zu differs\n", max, i);
			abort();
		}
	}
	if (linebuf_pending(&lb) != tail) {
		fprintf(stderr, "max=%zu: pending %zu, reference %zu\n", max,
			linebuf_pending(&lb), tail);
		abort();
	}
	linebuf_free(&lb);
	ev_free(&want);
	ev_free(&got);
	return 0;
}
