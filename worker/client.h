/* The services layer of a worker (login.c, fanout.c, files.c, client.c):
 * its clients, each a transport connection plus who is logged in on it,
 * and the state the services share. Dialects call the services declared
 * here; the services reach a dialect only through its struct dialect_def. */
#ifndef FC_CLIENT_H
#define FC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/config.h"
#include "../common/loop.h"
#include "../ipc/frame.h"
#include "../ipc/registry.h"
#include "conn.h"
#include "dialect.h"
#include "peer.h"
#include "sendq.h"

enum client_state {
	CS_NEW,        /* connected, not logged in */
	CS_LOGIN_WAIT, /* IDENT/USER waits for a name probe on another worker,
			* or for the cluster's claim of the name */
	CS_LIVE,       /* logged in */
};

struct upload;
struct rx;
struct pending;
struct userinfo;

struct client {
	struct conn conn; /* first: the transport's hooks hand us &conn */
	/* what a fanout reads of every client, next to conn's such part */
	const struct dialect_def *d;
	struct client *prev_live, *next_live;
	int32_t slot; /* registry slot when logged in, else -1 */
	uint8_t state;
	uint8_t ip_held; /* per-address counts held in the registry: 0 or 1 */
	uint8_t ipkey[16];
	struct worker *w;
	uint64_t login_seq;
	char name[REG_NAME_SZ];
	char pending_name[REG_NAME_SZ];
	char *pubkey; /* own copies, to register again after a rebuild */
	size_t pubkey_len;
	uint32_t *rooms;
	size_t nrooms, rooms_cap;
	timer_id login_timer; /* the login deadline */
	timer_id probe_timer; /* a name probe's (or cluster claim's) answer */
	bool claiming;        /* the cluster link is claiming the name */
	uint32_t claim_slot;  /* the registry slot held meanwhile */
	timer_id beat_timer;  /* the next ping or the pong deadline */
	int64_t next_ping;
	int64_t pong_due;
	uint32_t pings_out;
	struct upload *up;            /* our FILE upload, if any */
	struct rx *rx_head, *rx_tail; /* files to us, the first one active */
	void *dstate; /* the dialect's own per-client state (its release) */
	/* where the dialect's long reply goes on (more_reply), UINT32_MAX:
	 * none under way */
	uint32_t reply_cursor;
	/* counted in worker.hear_all (login_hear_all) */
	bool hears_all;
};

/* The services' shared state: one per worker process. */
struct worker {
	uint16_t idx;
	uint16_t gen;
	int nworkers; /* mesh peers: the workers, and the cluster link */
	int link;     /* the cluster link's peer index, -1 without --cluster */
	struct fc_limits lim;
	struct registry *reg;
	struct userinfo *uinfo; /* irc users' details, by slot */
	struct loop *loop;
	struct conn_set net; /* the transport */
	struct mesh mesh;    /* the channels to the other workers */
	struct reg_worker *board;
	bool server_stopping; /* the master stops every worker */
	struct client **by_slot;
	struct client *live_head;
	uint32_t hear_all; /* live users shown everyone's logins/broadcasts */
	uint32_t next_xfer_id;
	struct pending *pendings; /* stored files waiting for their 714 */
	bool pass_watch;          /* transfers run: the loop passes are timed */
	int64_t pass_max_us, pass_max_cpu_us; /* the longest meanwhile */
	char *scratch;                        /* a socket read */
	/* fanout: the dialect that renders into each shared output slot */
	const struct dialect_def *shared_d[CONN_SHARED_SLOTS];
	struct reg_user_view *views;
	uint32_t *rooms_tmp;
	uint64_t msgs_out;
};

/* client.c: a client's life. */
/* The transport hooks of every client connection. */
extern const struct conn_hooks client_hooks;
/* Serve an accepted fd in dialect d; NULL when out of memory. */
struct client *client_new(struct worker *w, int fd, const struct dialect_def *d,
			  const char *ip, SSL_CTX *tls);
/* Refuse an accepted fd with d's final line for r, and close it. */
void client_refuse(int fd, const struct dialect_def *d, enum close_reason r);
/* Close at the end of the loop pass, with the dialect's final line. */
void client_close(struct client *c, enum close_reason r, const char *detail);
/* Longest line of c, terminator included (the dialect's, or --max-line). */
size_t client_line_max(const struct client *c);
/* The client logged in: its login deadline ends, its heartbeat starts. */
void client_logged_in(struct client *c);
/* A pong came: false when no ping was outstanding. */
bool client_pong(struct client *c);
/* The live client in registry slot with connection id, or NULL. */
struct client *client_by_slot(struct worker *w, uint32_t slot, uint32_t id);
/* The client on fd, open or closing, or NULL. */
struct client *client_by_fd(struct worker *w, int fd);
/* The client's connection is closing or closed. */
bool client_closing(const struct client *c);

/* login.c */
/* Claim name for c and answer through its dialect's login_result. */
void login_begin(struct client *c, const char *name, size_t len);
/* FR_CLAIM_REPLY: the cluster's answer to a login's claim. */
void login_on_claim_reply(struct worker *w, const struct frame *f);
/* A closing client gives up the claim of a login still waiting for it. */
void login_abandon(struct client *c);
/* FR_PROBE from another worker about one of our users, and its reply. */
void login_on_probe(struct worker *w, const struct frame *f);
void login_on_probe_reply(struct worker *w, const struct frame *f);
/* Release c's name and rooms now and announce it (idempotent). */
void login_logout(struct client *c);
/* Rename the logged-in c to name, its rooms kept: 0, or -EEXIST (c keeps
 * its name). */
int login_rename(struct client *c, const char *name);
/* FR_REBUILD: every logged-in user registers again. */
void login_rebuild(struct worker *w);
/* Remember c's key and rooms, to register them again after a rebuild. */
void login_note_key(struct client *c, const char *key, size_t len);
void login_note_room(struct client *c, uint32_t room, bool joined);
/* c is (on) or is no longer shown the events to everyone (EV_LOGIN,
 * EV_BCST): okfail/numeric users from login, IRC users in &all; fanout
 * skips the walk over the live users for those while none here is. */
void login_hear_all(struct client *c, bool on);

/* fanout.c */
/* An event from a local user to everyone (room < 0) or a room's members. */
void fanout_simple(struct worker *w, uint16_t kind, struct client *from,
		   int32_t room, const char *text, size_t len);
/* Can an event to `to` be delivered now? False only for a user of another
 * node while this node's bus to the cluster is down (refuse, do not drop). */
bool fanout_reachable(struct worker *w, const struct reg_user_view *to);
/* An event from a local user to one user, wherever it lives. */
void fanout_to(struct worker *w, uint16_t kind, struct client *from,
	       const struct reg_user_view *to, const char *text, size_t len);
/* An event with every detail (fanout_ex): the sender's name when not
 * from->name, its slot when from has logged out, a target or everyone. */
struct fanout_args {
	uint16_t kind;
	uint16_t flags; /* enum ev_flag */
	struct client *from;
	const char *name; /* NULL: from->name */
	uint32_t slot;    /* from's old slot, when from->slot < 0 */
	int32_t room;     /* < 0: none */
	const struct reg_user_view *to; /* NULL: everyone (or a room) */
	const char *text;
	size_t len;
};
void fanout_ex(struct worker *w, const struct fanout_args *a);
/* FR_EVENT from a peer: deliver to our users. */
void fanout_on_frame(struct worker *w, const struct frame *f);
/* FR_USER_GONE: announce a dead worker's user and its rooms. */
void fanout_user_gone(struct worker *w, const struct frame *f);

/* files.c: store-and-forward FILE through the spool */
/* FILE accepted by the dialect: reserve the spool, 100, take the upload. */
void files_start_upload(struct client *c, const struct reg_user_view *to,
			const char *fname, uint64_t size);
/* FR_FILE_OFFER (a stored file's descriptor) and FR_FILE_RESULT. */
void files_on_frame(struct worker *w, const struct frame *f);
/* c is going: its upload is dropped, its downloads fail, its results are
 * no longer anyone's. */
void files_conn_gone(struct client *c);
/* Worker idx is gone: files stored for its users failed. */
void files_peer_lost(struct worker *w, int idx);
/* A new worker: its slot's spool share starts at zero; the closer thread. */
void files_worker_start(struct worker *w);
/* At the worker's exit: spool files still queued for closing are closed. */
void files_worker_stop(void);
/* After each loop pass: the longest pass while transfers run. */
void files_after_pass(struct worker *w);

#endif
