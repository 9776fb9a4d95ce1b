/* The mesh layer of a worker: one SEQPACKET channel to every other worker
 * (and a loopback to itself), XOFF when a channel backs up, and peer loss.
 * It knows nothing of clients: frames, losses and XOFF go to the hooks. */
#ifndef FC_PEER_H
#define FC_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/loop.h"
#include "../ipc/chan.h"
#include "../ipc/frame.h"
#include "../ipc/registry.h"

#define PEER_HIGH_WATER (4u << 20)
#define PEER_LOW_WATER (1u << 20)

struct mesh;

struct peer {
	struct handler h;
	struct mesh *m;
	uint16_t idx;
	uint16_t gen;
	bool up;
	bool want_out;
	struct chan ch;
	char *batch; /* FR_EVENTS payload being built, FRAME_MAX_PAYLOAD */
	uint32_t batch_len; /* bytes in batch, 0: nothing waits */
};

struct mesh_hooks {
	/* a valid frame from a peer (or from ourselves) */
	void (*frame)(void *arg, const struct frame *f);
	/* the channel to worker idx is gone */
	void (*lost)(void *arg, int idx);
	/* on: some channel is over its high-water mark, stop reading
	 * clients; off: every channel drained */
	void (*xoff)(void *arg, bool on);
};

struct mesh {
	struct loop *loop;
	uint16_t idx, gen;
	int n;
	struct peer peers[REG_MAX_WORKERS];
	struct peer self_rx; /* the reading end of our loopback */
	bool xoff;
	struct reg_worker *board; /* heartbeat stamps during long reads */
	const struct mesh_hooks *hooks;
	void *arg;
};

/* Set up for worker idx of n, with its loopback; 0 or -1. */
int mesh_init(struct mesh *m, struct loop *l, int idx, int gen, int n,
	      struct reg_worker *board, const struct mesh_hooks *h, void *arg);
/* Send a frame to worker `to` (ourselves included). Frames to a peer that
 * is down are dropped (its users are gone): 0, or -1. */
int mesh_send(struct mesh *m, int to, uint16_t type, uint32_t id, const void *a,
	      size_t alen, const void *b, size_t blen);
/* An FR_EVENT payload (a, then b) for worker `to`: it waits with the other
 * events of this loop pass for one FR_EVENTS frame, sent by mesh_flush (or
 * before any other frame to that worker, so the order holds): 0, or -1. */
int mesh_send_event(struct mesh *m, int to, const void *a, size_t alen,
		    const void *b, size_t blen);
/* The same with a descriptor that travels along (SCM_RIGHTS); the caller
 * keeps its own fd. */
int mesh_send_fd(struct mesh *m, int to, uint16_t type, uint32_t id,
		 const void *a, size_t alen, int fd);
/* The channel to worker idx, generation gen, is fd (replaces an old one). */
void mesh_attach(struct mesh *m, int idx, int gen, int fd);
/* Drop the channel to worker idx (the hooks hear of it). */
void mesh_lost(struct mesh *m, int idx);
/* Before sleep: push queued frames, then XOFF or XON as the queues say. */
void mesh_flush(struct mesh *m);

#endif
