/* A worker process: its connections, its channels to the master and to the
 * other workers, and the functions the worker's files share. Only worker/
 * includes this header. */
#ifndef FC_WORKER_H
#define FC_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "../common/config.h"
#include "../common/tlsctx.h"
#include "../ipc/chan.h"
#include "../ipc/frame.h"
#include "../ipc/registry.h"
#include "../proto/line.h"
#include "../common/loop.h"
#include "sendq.h"

#define FILE_CHUNK (60 * 1024) /* fits a 64 KiB frame */
#define FILE_WINDOW 8          /* chunks in flight per transfer: 480 KiB */
_Static_assert(FILE_CHUNK <= FRAME_MAX_PAYLOAD, "a chunk must fit a frame");

enum conn_state {
	CS_NEW,        /* connected, not logged in */
	CS_LOGIN_WAIT, /* IDENT/USER waits for a name probe on another worker */
	CS_LIVE,       /* logged in */
	CS_CLOSING,    /* marked; closed at the end of the loop pass */
};

enum conn_mode {
	CM_LINES,     /* reading commands */
	CM_UPLOAD,    /* reading the raw bytes of a FILE */
	CM_WAIT_FILE, /* upload done, waiting for 200/101 */
};

struct upload;
struct rx;
struct lingerer;

struct conn {
	struct handler h;
	struct worker *w;
	int fd;
	uint32_t id;
	uint8_t dialect;
	uint8_t state;
	uint8_t mode;
	bool in_paused; /* EPOLLIN off: output above low water, or flow */
	bool want_out;  /* EPOLLOUT armed */
	bool pending;   /* on the pending-write list */
	bool eof;       /* peer closed its side */
	bool read_wants_write; /* TLS: SSL_read needs the socket writable */
	bool write_wants_read; /* TLS: SSL_write needs the socket readable */
	SSL *ssl;              /* NULL on plain connections */
	bool ip_counted;       /* holds a per-address count in the registry */
	bool counted;          /* its queues count in the worker's budget */
	bool xoffed;           /* input paused because a peer channel is full */
	bool throttled;        /* the rate limit holds its next line back */
	uint8_t ipkey[16];
	uint64_t login_seq;
	char *pubkey; /* own copies, to register again after a rebuild */
	size_t pubkey_len;
	uint32_t *rooms;
	size_t nrooms, rooms_cap;
	int32_t slot; /* registry slot when logged in, else -1 */
	char name[REG_NAME_SZ];
	char pending_name[REG_NAME_SZ];
	char ip[48];
	struct linebuf in;
	struct sendq out;
	struct sendq held; /* deliveries waiting behind a file */
	int64_t next_ping;
	int64_t pong_due;
	uint32_t pings_out;
	int64_t login_due;
	int64_t partial_since;
	int64_t soft_since;
	int64_t timer_due;
	double tokens; /* flood bucket */
	int64_t tokens_at;
	const char *close_why;
	struct upload *up;            /* our FILE upload, if any */
	struct rx *rx_head, *rx_tail; /* files to us, the first one active */
	struct conn *next_pending;
	struct conn *prev_live, *next_live;
	struct conn *next_closing;
};

struct peer {
	struct handler h;
	struct worker *w;
	uint16_t idx;
	uint16_t gen;
	bool up;
	bool want_out;
	struct chan ch;
};

struct listener {
	struct handler h;
	struct worker *w;
	int fd;
	int dialect;
	bool tls;
};

struct worker {
	uint16_t idx;
	uint16_t gen;
	int nworkers;
	struct fc_config *cfg;
	struct fc_limits lim;
	struct registry *reg;
	struct loop *loop;
	struct handler ctl_h;
	struct chan ctl;
	struct peer peers[REG_MAX_WORKERS];
	struct listener lst[FC_MAX_LISTEN];
	int nlst;
	bool accepting;
	bool stopping;
	bool server_stopping; /* the master stops every worker */
	bool started;
	int64_t accept_paused_until;
	struct conn **conns; /* by fd */
	size_t conns_cap;
	struct conn **by_slot;
	struct conn *live_head;
	struct conn *pending_head;
	struct conn *closing_head;
	uint32_t next_conn_id;
	uint32_t nclients;
	uint64_t sendq_total;
	uint32_t next_xfer_id;
	struct upload *uploads;
	struct rx *rxs;
	char *scratch; /* read buffer, one per worker */
	size_t scratch_cap;
	char *render; /* line rendering buffer */
	size_t render_cap;
	struct reg_user_view *views;
	uint32_t *rooms_tmp;
	struct reg_worker *board;
	SSL_CTX *tls_ctx;
	bool xoff;
	struct lingerer **lingering; /* by fd: closed clients still drained */
	struct {
		uint64_t msgs_in, msgs_out, bytes_out;
	} stats; /* published to the scoreboard once per loop pass */
};

#define LINGER_SLOTS 65536
#define PEER_HIGH_WATER (4u << 20)
#define PEER_LOW_WATER (1u << 20)

/* worker.c */
#include "worker_main.h"
int worker_send(struct worker *w, int to, uint16_t type, uint32_t id,
		const void *a, size_t alen, const void *b, size_t blen);
void worker_peer_lost(struct worker *w, int idx);

/* conn.c */
struct conn *conn_new(struct worker *w, int fd, int dialect, const char *ip,
		      bool tls);
ssize_t conn_io_recv(struct conn *c, void *buf, size_t n);
void conn_reply(struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void conn_reply_raw(struct conn *c, const char *p, size_t n);
void conn_push(struct conn *c, const char *p, size_t n);
void conn_push_data(struct conn *c, const char *p, size_t n);
void conn_release_held(struct conn *c);
void conn_close_soon(struct conn *c, const char *why);
void conn_flush_all(struct worker *w);
void conn_reap_closing(struct worker *w);
void conn_schedule(struct conn *c, int64_t due);
void conn_on_login(struct conn *c, const struct reg_user_view *v);
void conn_on_logout(struct conn *c);
void conn_set_input(struct conn *c, bool on);
void conn_probe(struct conn *c);
struct conn *conn_by_fd(struct worker *w, int fd);
struct conn *conn_by_slot(struct worker *w, uint32_t slot, uint32_t id);
void conn_pump_input(struct conn *c);
void conn_xoff_all(struct worker *w, bool on);

/* login.c */
void login_begin(struct conn *c, const char *name, size_t len);
void login_on_probe(struct worker *w, const struct frame *f);
void login_on_probe_reply(struct worker *w, const struct frame *f);
void login_logout(struct conn *c);
void login_rebuild(struct worker *w);
void login_note_key(struct conn *c, const char *key, size_t len);
void login_note_room(struct conn *c, uint32_t room, bool joined);

/* fanout.c */
void fanout_event(struct worker *w, struct ev_body *ev, const char *text,
		  int to_worker);
void fanout_local(struct worker *w, const struct ev_body *ev, const char *text);
void fanout_on_frame(struct worker *w, const struct frame *f);
void fanout_user_gone(struct worker *w, const struct frame *f);
void fanout_simple(struct worker *w, uint16_t kind, struct conn *from,
		   int32_t room, const char *text, size_t len);
void fanout_to(struct worker *w, uint16_t kind, struct conn *from,
	       const struct reg_user_view *to, const char *text, size_t len);

/* okfail.c and numeric.c */
void okfail_greet(struct conn *c);
void okfail_line(struct conn *c, const char *line, size_t len);
void okfail_login_result(struct conn *c, int rc);
void numeric_line(struct conn *c, const char *line, size_t len);
void numeric_login_result(struct conn *c, int rc);

/* files.c */
void files_start_upload(struct conn *c, const struct reg_user_view *to,
			const char *fname, uint64_t size);
void files_upload_input(struct conn *c);
void files_on_frame(struct worker *w, const struct frame *f);
void files_conn_gone(struct conn *c);
void files_peer_lost(struct worker *w, int idx);
void files_after_write(struct conn *c);
bool files_busy(const struct conn *c);

#endif
