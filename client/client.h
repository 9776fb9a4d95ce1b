/* Shared state of the forkchat client: one connection, one dialect, the
 * queue of typed commands and the FIFO of commands awaiting a reply (the
 * server answers in order, so a reply always belongs to the oldest). */
#ifndef FC_CLIENT_H
#define FC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "../common/io.h"
#include "../proto/crypto.h"
#include "../proto/line.h"
#include "../proto/wire.h"

#define CL_MAX_LINE 8192 /* the server's default line limit */
#define CL_KEY_WAIT_MS 5000
#define CL_PROBE_MS 300    /* silence before the HELP probe is sent */
#define CL_DETECT_MS 10000 /* for the first bytes, after the HELP probe */

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
	P_PROBE,    /* dialect detection's HELP: its reply is swallowed */
};

struct pending {
	enum pkind kind;
	char peer[FC_NAME_MAX + 1];
	char *text; /* plaintext of a PRIVATE_MESSAGE */
};

/* okfail peer: its public key, pinned for the connection, and the two
 * session keys (ours to it, and its own to us). When it leaves, the keys
 * are erased but the fingerprint is kept, so a new key is noticed. */
struct peer {
	char name[FC_NAME_MAX + 1];
	char *pub;          /* NULL: none (yet, or since it left) */
	char fp[FC_FP_LEN]; /* fingerprint of the last pinned key */
	bool out_ok, in_ok;
	unsigned char out[FC_KEY_LEN], in[FC_KEY_LEN];
};

#define CL_MAX_PEERS 4096 /* names remembered by one connection */

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
	char base[256]; /* the safe base name it will be saved under */
	char tmp[64];   /* the hidden temporary name while incomplete, or "" */
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
	char tls_err[640];
	enum dialect dialect;
	bool interactive, color;
	const char *host, *port, *opt_name, *dldir;
	int dirfd;
	bool no_files; /* --no-files */
	uint64_t dl_quota,
		dl_used; /* --download-quota (0: none), bytes taken */

	struct linebuf lb;   /* from the server */
	struct outbuf out;   /* to the server */
	struct linebuf inlb; /* stdin in script mode */

	struct pending fifo[128];
	size_t fhead, fcount;

	char **inq; /* typed lines not yet dispatched */
	size_t inq_head, inq_len, inq_cap;
	bool stdin_eof;

	bool detecting, probe_sent, greeted, logged_in, quit_sent, dscn, closed;
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
	unsigned files_owed; /* files stored by the server, 714 not yet in */

	bool done;
	int status;
	const char *end_why; /* why the session ended, for main to report */
	int io_err;          /* errno of the last failed socket operation */
};

/* Split "a rest" in place: *a is the first word, *rest what follows. */
static inline void
split_arg(char *s, char **a, char **rest)
{
	char *sp = strchr(s, ' ');
	*a = s;
	*rest = sp ? sp + 1 : s + strlen(s);
	if (sp)
		*sp = '\0';
}

/* The client's files, lowest layer first; a file calls only into the files
 * listed before it: session.c (state, no I/O), tls.c (every byte to and
 * from the server), net.c (connect, output buffer), ui.c (the terminal),
 * xfer.c (files), okfail.c and numeric.c (the dialects), main.c (options,
 * the poll loop, dispatch). */

/* session.c */
/* Record a command awaiting its reply; false (and the session ended) when
 * 128 are already outstanding. */
bool fifo_push(struct client *c, enum pkind k, const char *peer,
	       const char *text);
/* The oldest command awaiting a reply, or NULL. */
struct pending *fifo_head(struct client *c);
/* Drop the oldest command awaiting a reply (its reply has been handled). */
void fifo_pop(struct client *c);
/* Whether a command other than the client's own internal ones awaits a
 * reply (typed commands are sent one at a time). */
bool fifo_has_user_command(const struct client *c);
/* Queue a typed line (n bytes) for dispatch; false when out of memory. */
bool inq_push(struct client *c, const char *line, size_t n);
/* The next typed line (the caller frees it), or NULL. */
char *inq_pop(struct client *c);
/* Whether no typed line is waiting. */
bool inq_empty(const struct client *c);
/* Free every line still queued. */
void inq_free(struct client *c);
/* End the session with exit status; why (a static string or NULL) is
 * reported by main once the loop is over. Only the first call counts. */
void session_end(struct client *c, int status, const char *why);

/* tls.c: every socket read and write, plain or TLS */
/* TLS handshake on c->fd (blocking, 10 s deadline); -1 with c->tls_err. */
int tls_start(struct client *c);
/* close_notify (without waiting) and free the TLS state. */
void tls_end(struct client *c);
/* Read up to n bytes; *got counts them. IO_ERROR: see tls_strerror. */
enum io_result tls_read(struct client *c, void *buf, size_t n, size_t *got);
/* Write up to n bytes; *put counts them (a partial write is IO_DONE). */
enum io_result tls_write(struct client *c, const void *buf, size_t n,
			 size_t *put);
/* Decrypted bytes already inside OpenSSL: poll() will not report them. */
bool tls_pending(const struct client *c);
/* A description of the last IO_ERROR or IO_CLOSED of tls_read/tls_write. */
const char *tls_strerror(const struct client *c);

/* net.c */
/* Connected non-blocking TCP socket, or -1 with a message in err. */
int net_connect(const char *host, const char *port, char *err, size_t cap);
/* Queue one line ("\n" added) and try to send it at once; IO_ERROR (and
 * the session ended) when out of memory, else net_flush's result. */
enum io_result net_sendf(struct client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Send what the output buffer holds: IO_DONE when empty, IO_AGAIN when
 * bytes are left, IO_CLOSED/IO_ERROR when the socket broke (the buffer is
 * dropped; the read side reports the close). */
enum io_result net_flush(struct client *c);
/* Room for need more bytes in o; -1 when out of memory. */
int out_reserve(struct outbuf *o, size_t need);
/* sendfile(2) up to n bytes of fd at *off to the (plain) socket; *put
 * counts them. IO_CLOSED with c->io_err 0: the file ended early. */
enum io_result net_sendfile(struct client *c, int fd, off_t *off, size_t n,
			    size_t *put);

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
/* Set up the terminal: interactive (libedit) when stdin is a tty. */
void ui_init(struct client *c);
/* Give the terminal back (remove libedit's handler, flush stdout). */
void ui_close(struct client *c);
/* Show one line: script (the wire form) in script mode, human (or script
 * when NULL) on a terminal; sanitized, never raw. */
void ui_show(struct client *c, enum style st, const char *script,
	     const char *human);
/* Show a decrypted message as "<code> <user> <text>", then wipe every copy
 * of the plaintext and free pt (n bytes). */
void ui_show_decrypted(struct client *c, const char *code, const char *tag,
		       const char *user, char *pt, size_t n);
/* A client-side error: a line of its own starting with "! ". */
void ui_error(struct client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Redraw the prompt (name, running transfers' progress bars). */
void ui_set_prompt(struct client *c);
/* Update a progress bar (at most every 100 ms unless force). */
void ui_progress(struct client *c, struct progress *pg, bool force);
/* Remove a finished transfer's progress bar. */
void ui_progress_end(struct client *c, struct progress *pg);
/* Read what standard input has; complete lines go to the input queue, and
 * its end sets c->stdin_eof (a ^D on a terminal ends the session). */
void ui_read_stdin(struct client *c);
/* The local list of commands of the current dialect. */
void ui_help(struct client *c);
/* Copy n bytes of wire text to out (cap bytes, NUL-terminated) with every
 * control (C0 as \xNN, C1 and bidi/invisible format characters as \uNNNN)
 * and every byte that is not UTF-8 (\xNN) escaped; returns the length. */
size_t ui_sanitize(const char *in, size_t n, char *out, size_t cap);

/* xfer.c */
/* FILE <peer> <path>: announce the file; false (error shown) when it
 * cannot be sent. The bytes follow the server's 100. */
bool xfer_start_upload(struct client *c, const char *peer, const char *path);
/* The server's 100: start streaming the announced file. */
void xfer_on_ready(struct client *c);
/* Send more of the file while the socket takes it; -1 (session ended) when
 * the stream broke. */
int xfer_pump_upload(struct client *c);
/* The upload's final reply came; close it once all bytes are out. */
void xfer_finish_upload(struct client *c);
/* "102 name size sender": size raw bytes follow; decide where they go. */
void xfer_start_download(struct client *c, const char *name, uint64_t size,
			 const char *sender);
/* Consume up to the rest of the current download from p; bytes used. */
size_t xfer_take(struct client *c, const char *p, size_t n);
/* The connection ended mid-download: remove the partial file, say so. */
void xfer_abort(struct client *c);
/* A received file name as a safe base name in out; false with *why. */
bool xfer_safe_name(const char *in, char *out, size_t cap, const char **why);
/* Periodic progress redraw. */
void xfer_tick(struct client *c);

/* okfail.c */
/* One line from an okfail server. */
void ok_on_line(struct client *c, const char *line, size_t n);
/* A typed command the client handles itself (true), or false to send it
 * as typed. */
bool ok_command(struct client *c, const char *line, size_t n);
/* IDENT <name>. */
void ok_send_login(struct client *c, const char *name);
/* Expire a message held for a public key that did not come. */
void ok_timers(struct client *c, int64_t now);
/* Erase and free every peer's keys and a held message. */
void ok_free(struct client *c);

/* numeric.c */
/* One line from a numeric server. */
void num_on_line(struct client *c, const char *line, size_t n);
/* A typed command the client handles itself (true), or false to send it
 * as typed. */
bool num_command(struct client *c, const char *line, size_t n);
/* USER <name>. */
void num_send_login(struct client *c, const char *name);

#endif
