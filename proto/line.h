/* Line assembly for both dialects and the client: \r\n, \n or a lone \r end
 * a line (also when \r and \n arrive in different reads); over-long lines are
 * reported once and skipped up to their end so the stream stays in sync. */
#ifndef FC_LINE_H
#define FC_LINE_H

#include <stdbool.h>
#include <stddef.h>

enum line_status { LINE_NONE, LINE_OK, LINE_TOOLONG };

struct linebuf {
	char *own; /* owned copy of unparsed bytes, or NULL */
	size_t own_cap;
	const char *data; /* unparsed bytes: in own, or borrowed */
	size_t len;
	size_t max_content; /* longest accepted line, terminator excluded */
	bool skip_lf;    /* last line ended in \r: a leading \n belongs to it */
	bool discarding; /* inside an over-long line, skipping to its end */
};

/* An empty assembler for lines of at most max_content bytes. */
void linebuf_init(struct linebuf *lb, size_t max_content);
/* Release owned memory; the assembler is empty afterwards. */
void linebuf_free(struct linebuf *lb);
/* Add bytes (borrowed while nothing was pending: see linebuf_keep); -1 out
 * of memory. */
int linebuf_feed(struct linebuf *lb, const char *p, size_t n);
/* The next whole line (terminator excluded) into *line, *len: LINE_OK,
 * LINE_TOOLONG (skipped, reported once) or LINE_NONE. */
enum line_status linebuf_next(struct linebuf *lb, const char **line,
			      size_t *len);
/* Own pending bytes before borrowed memory goes away; -1 out of memory. */
int linebuf_keep(struct linebuf *lb);
/* Bytes fed and not yet taken. */
size_t linebuf_pending(const struct linebuf *lb);
/* Raw bytes instead of lines (the bytes of an upload that followed its
 * command line): up to max pending bytes into buf, after dropping the \n of
 * a \r\n whose \r ended the last line. Returns the bytes copied. */
size_t linebuf_take(struct linebuf *lb, char *buf, size_t max);

#endif
