/* Shared state of the forkchat client: one connection, one dialect, the
 * queue of typed commands and the FIFO of commands awaiting a reply (the
 * server answers in order, so a reply always belongs to the oldest). */
#ifndef FC_CLIENT_H
#define FC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../proto/crypto.h"
#include "../proto/line.h"
#include "../proto/wire.h"

#define CL_MAX_LINE 8192 /* the server's default line limit */
#define CL_KEY_WAIT_MS 5000
#define CL_DETECT_MS 1000

enum dialect { D_AUTO, D_OKFAIL, D_NUMERIC };

/* What a sent command was, so its reply can be shown or swallowed. */
enum pkind {
	P_USER,     /* typed by the user: reply printed as is */
	P_LOGIN,    /* IDENT / USER */
	P_INTERNAL, /* PM_PUBKEY / PM_SESSIONKEY sent by the client itself */
	P_PRIVMSG,  /* encrypted PRIVATE_MESSAGE: show the plaintext */
	P_HELP,     /* numeric HELP: ends at the "200 " line */
	P_FILE,     /* numeric FILE: 100, then 200 or 101 */
	P_QUIT,     /* okfail QUIT: OK GOODBYE, then close */
};

struct pending {
	enum pkind kind;
	char peer[FC_NAME_MAX + 1];
	char *text; /* plaintext of a PRIVATE_MESSAGE */
};

/* okfail peer: its public key and the two session keys (ours to it, and
 * its own to us), each erased when the peer leaves. */
struct peer {
	char name[FC_NAME_MAX + 1];
	char *pub;
	bool out_ok, in_ok;
	unsigned char out[FC_KEY_LEN], in[FC_KEY_LEN];
};

struct progress {
	char label[64];
	uint64_t total, done;
	int64_t start_ms, drawn_ms;
	bool shown;
};

struct upload {
	bool open, streaming, replied;
	int fd;
	off_t off;
	uint64_t size;
	char name[256];
	struct progress pg;
};

struct download {
	bool active;
	int fd; /* -1: the name was refused, bytes are discarded */
	uint64_t size, left;
	char name[256], sender[FC_NAME_MAX + 1], saved[300], why[80];
	struct progress pg;
};

struct outbuf {
	char *buf;
	size_t len, cap;
};

struct client {
	int fd;
	/* TLS (tls.c): ssl is NULL on a plain connection */
	bool tls, tls_insecure;
	const char *tls_ca;
	struct ssl_ctx_st *ssl_ctx;
	struct ssl_st *ssl;
	bool tls_rd_wants_out, tls_wr_wants_in;
	char tls_err[160];
	enum dialect dialect;
	bool interactive, color;
	const char *host, *port, *opt_name, *dldir;
	int dirfd;

	struct linebuf lb;   /* from the server */
	struct outbuf out;   /* to the server */
	struct linebuf inlb; /* stdin in script mode */

	struct pending fifo[128];
	size_t fhead, fcount;

	char **inq; /* typed lines not yet dispatched */
	size_t inq_head, inq_len, inq_cap;
	bool stdin_eof;

	bool detecting, greeted, logged_in, quit_sent, dscn, closed;
	int64_t detect_deadline;
	char name[FC_NAME_MAX + 1];
	bool name_from_opt;

	/* okfail */
	struct fc_identity id;
	struct peer *peers;
	size_t npeers;
	char held_peer[FC_NAME_MAX + 1]; /* PRIVATE_MESSAGE waiting for a key */
	char *held_text;
	int64_t held_deadline;

	/* numeric */
	struct fc_secu secu;
	struct upload up;
	struct download down;

	bool done;
	int status;
};

/* net.c */
int net_connect(const char *host, const char *port);
void net_sendf(struct client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int net_flush(struct client *c);
int out_reserve(struct outbuf *o, size_t need);
void fifo_push(struct client *c, enum pkind k, const char *peer,
	       const char *text);
struct pending *fifo_head(struct client *c);
void fifo_pop(struct client *c);
void session_end(struct client *c, int status);

/* tls.c: every socket read and write, plain or TLS */
int tls_start(struct client *c);
void tls_end(struct client *c);
ssize_t conn_read(struct client *c, void *buf, size_t n);
ssize_t conn_write(struct client *c, const void *buf, size_t n);
bool conn_pending(struct client *c);
const char *conn_strerror(struct client *c, int err);

/* ui.c */
enum style {
	S_PLAIN,
	S_REPLY,
	S_ERROR,
	S_INFO,
	S_CHAT,
	S_PRIV,
	S_E2E,
	S_PRESENCE
};
void ui_init(struct client *c);
void ui_close(struct client *c);
void ui_show(struct client *c, enum style st, const char *script,
	     const char *human);
void ui_show_decrypted(struct client *c, const char *code, const char *tag,
		       const char *user, char *pt, size_t n);
void ui_showf(struct client *c, enum style st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ui_error(struct client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ui_set_prompt(struct client *c);
void ui_progress(struct client *c, struct progress *pg, bool force);
void ui_progress_end(struct client *c, struct progress *pg);
void ui_read_stdin(struct client *c);
void ui_help(struct client *c);
size_t ui_sanitize(const char *in, size_t n, char *out, size_t cap);
void inq_push(struct client *c, const char *line, size_t n);

/* okfail.c */
void ok_on_line(struct client *c, const char *line, size_t n);
bool ok_command(struct client *c, const char *line, size_t n);
void ok_send_login(struct client *c, const char *name);
void ok_timers(struct client *c, int64_t now);
void ok_free(struct client *c);

/* numeric.c */
void num_on_line(struct client *c, const char *line, size_t n);
bool num_command(struct client *c, const char *line, size_t n);
void num_send_login(struct client *c, const char *name);

/* xfer.c */
bool xfer_start_upload(struct client *c, const char *peer, const char *path);
void xfer_on_ready(struct client *c);
int xfer_pump_upload(struct client *c);
void xfer_finish_upload(struct client *c);
void xfer_start_download(struct client *c, const char *name, uint64_t size,
			 const char *sender);
size_t xfer_take(struct client *c, const char *p, size_t n);
bool xfer_safe_name(const char *in, char *out, size_t cap, const char **why);
void xfer_tick(struct client *c);

#endif
