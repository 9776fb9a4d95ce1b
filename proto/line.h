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

void linebuf_init(struct linebuf *lb, size_t max_content);
void linebuf_free(struct linebuf *lb);
int linebuf_feed(struct linebuf *lb, const char *p, size_t n);
enum line_status linebuf_next(struct linebuf *lb, const char **line,
			      size_t *len);
int linebuf_keep(struct linebuf *lb);
size_t linebuf_pending(const struct linebuf *lb);

#endif
