/* The link process: one per node in cluster mode, forked and supervised by
 * the master like a worker, a peer on the workers' mesh with the index
 * after the last worker, and the only process that talks to Redis. This
 * header is shared by its files (proc.c, relay.c, resync.c). */
#ifndef FC_CLUSTER_PROC_H
#define FC_CLUSTER_PROC_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/config.h"
#include "../common/loop.h"
#include "../ipc/chan.h"
#include "../ipc/registry.h"
#include "board.h"
#include "link.h"
#include "mirror.h"

struct lproc;

struct lpeer {
	struct handler h; /* first: the loop hands back &h */
	struct lproc *p;
	struct chan ch;
	uint16_t idx, gen;
	bool up, want_out;
};

struct lproc {
	struct loop *loop;
	const struct fc_config *cfg;
	struct registry *reg;
	struct reg_worker *board;
	uint16_t idx, gen;
	int nworkers;
	struct chan ctl;
	struct handler ctl_h;
	struct lpeer peers[REG_MAX_WORKERS];
	struct clink *cl;
	struct mirror mir;
	struct cluster_board *board_cl; /* the status board, or NULL */
	bool stop;
	bool loaded; /* the cluster's users are in the mirror */
	/* per room slot: the room last announced from it ("" none) and its
	 * cluster-wide creation sequence (0 not known yet) */
	char (*room_ann)[REG_ROOM_SZ];
	uint64_t *room_seq;
	bool rooms_reassert; /* Redis may have lost them: add them again */
	bool kicked;         /* declared dead: the local users are closing */
};

/* The master's entry point into a forked link process; its exit status. */
struct link_args {
	const struct fc_config *cfg;
	struct registry *reg;
	struct cluster_board *board;
	int idx;
	uint16_t gen;
	int nworkers;
	int ctl_fd;
	const char *node_id;
	const char *incarnation;
};
int cluster_link_main(const struct link_args *a);

/* proc.c: a frame to worker k (dropped if that peer is down). */
void lproc_send(struct lproc *p, int k, uint16_t type, uint32_t id,
		const void *a, size_t alen, const void *b, size_t blen);

/* The same with a descriptor (SCM_RIGHTS); the caller keeps its fd. */
void lproc_send_fd(struct lproc *p, int k, uint16_t type, uint32_t id,
		   const void *a, size_t alen, int fd);

/* relay.c: frames from local workers out to Redis, messages from other
 * nodes in to the workers. */
void relay_from_worker(struct lproc *p, const struct frame *f);
void relay_from_bus(struct lproc *p, const char *data, size_t len);
void relay_node_down(struct lproc *p, const char *users);
/* A remote user is gone: its rooms and its logout, to every worker. */
void relay_user_gone(struct lproc *p, const struct reg_user_view *u);
/* A local worker died: its users (the master's USER_GONE) leave. */
void relay_local_gone(struct lproc *p, const struct frame *f);
/* The announcement of a login (for a claim or an assertion), into out
 * (RELAY_LOGIN_MAX bytes); its length. */
#define RELAY_LOGIN_MAX 128
size_t relay_login_msg(const char *name, int dialect, void *out);
/* Announce rooms created here since the last scan, drop deleted ones. */
void relay_rooms_scan(struct lproc *p);
/* A room heard of from the cluster: created here if new, in its place
 * (seq) of the cluster's creation order. */
void relay_room_known(struct lproc *p, const char *room, uint64_t seq);
/* The cluster declared this node dead (it was stopped past its TTL). */
void relay_declared_dead(struct lproc *p);

/* status.c: the board, refreshed once a second. */
void status_update(struct lproc *p);

/* xfer.c: FILE across nodes. Bus messages of kind XEV_FILE. */
#define XEV_FILE 200
void xfer_from_worker(struct lproc *p, const struct frame *f);
void xfer_from_bus(struct lproc *p, const char *data, size_t len);
/* Transfers with node fail (node NULL: all of them, Redis was lost). */
void xfer_node_down(struct lproc *p, const char *node);
void xfer_peer_lost(struct lproc *p, int worker);

/* resync.c: after (re)registration, re-assert this node's users, rooms
 * and keys, and bring the mirror in line with the cluster. */
void resync_start(struct lproc *p);
/* Read the cluster back into the mirror (resync_start does it at once on
 * the first registration, a TTL later after others had to re-assert). */
void resync_load(struct lproc *p);

#endif
