/* The cluster's status board: a small shared mapping the master creates
 * before forking, written by the link process once a second and read by
 * the master's status command (a seqlock: no lock, no torn reads). */
#ifndef FC_CLUSTER_BOARD_H
#define FC_CLUSTER_BOARD_H

#include <stdbool.h>
#include <stdint.h>

#include "link.h"

#define CB_MAX_NODES 32

struct cb_node {
	char id[64];
	uint32_t users;
	int64_t ttl_ms; /* what is left of its liveness key */
};

struct cluster_board {
	uint32_t version; /* odd while the link writes */
	uint32_t state;   /* enum clink_state */
	char node[64];
	char epoch[40];
	int64_t rtt_ms;
	uint64_t queued, dropped, lost, published, received;
	uint32_t subscribed, remote_users;
	uint32_t nnodes;
	struct cb_node nodes[CB_MAX_NODES];
	/* outside the seqlock, the link's alone: the delivery numbers it
	 * received, kept across a restart of the link process */
	struct clink_useq useq;
};

/* A zeroed shared mapping, or NULL. */
struct cluster_board *board_create(void);
/* Writer side: begin, write fields, end. */
void board_begin(struct cluster_board *b);
void board_end(struct cluster_board *b);
/* Reader side: a consistent copy; false if the link keeps writing. */
bool board_read(const struct cluster_board *b, struct cluster_board *out);
const char *board_state_name(uint32_t state);

#endif
