/* The registry mirror: users of other nodes entered in this node's
 * shared-memory registry as users of the link's worker slot, so that the
 * workers' own lookups, listings, key lists and room bitsets cover the
 * whole cluster without asking anyone. */
#ifndef FC_CLUSTER_MIRROR_H
#define FC_CLUSTER_MIRROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../ipc/registry.h"

struct mirror {
	struct registry *reg;
	uint16_t idx, gen; /* the link's slot in the registry */
	uint32_t next_conn;
	uint32_t max_users;
	uint32_t *conn; /* per registry slot: our conn id, 0 if not ours */
	char (*name)[REG_NAME_SZ]; /* per registry slot: the remote name */
	uint32_t *rooms;           /* scratch: max_rooms entries */
	uint32_t count;
};

int mirror_init(struct mirror *m, struct registry *reg, uint16_t idx,
		uint16_t gen);
void mirror_free(struct mirror *m);
/* Enter a remote user; its slot, or -1 (name taken here, or full). An
 * existing mirror entry of that name is kept and returned. */
int mirror_add(struct mirror *m, const char *name, uint8_t dialect,
	       uint64_t seq, struct reg_user_view *out);
/* The mirror entry of a name, if it is one of ours. */
bool mirror_find(struct mirror *m, const char *name, struct reg_user_view *out);
/* Remove a remote user; its rooms (local indices) go to m->rooms. */
size_t mirror_remove(struct mirror *m, const struct reg_user_view *u);
/* Take over the entries a previous link process of this slot left in the
 * registry (the master keeps them when the link dies, so that other nodes'
 * users do not flicker); how many. */
uint32_t mirror_adopt(struct mirror *m);
/* Forget every entry (the registry was reset underneath). */
void mirror_forget(struct mirror *m);
/* Is this registry slot (with this connection id) a remote user? */
bool mirror_is_remote(const struct mirror *m, uint32_t slot, uint32_t conn_id);
/* The remote user's name in a slot, or NULL. */
const char *mirror_name(const struct mirror *m, uint32_t slot,
			uint32_t conn_id);

#endif
