/* The registry: users and rooms of the whole chat system in one POSIX
 * shared-memory segment, fixed size, indices instead of pointers. Every
 * mutation takes the shmlock for memcpy-sized work only; the master repairs
 * the tables after a worker died (see docs/ARCHITECTURE.md). */
#ifndef FC_REGISTRY_H
#define FC_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../proto/wire.h"

#define REG_MAX_WORKERS 64
#define REG_NAME_SZ (FC_NAME_MAX + 2)
#define REG_ROOM_SZ (FC_ROOM_MAX + 8)

enum reg_dialect { DIALECT_OKFAIL = 0, DIALECT_NUMERIC = 1, DIALECT_IRC = 2 };

struct reg_limits {
	uint32_t max_users;
	uint32_t max_rooms;
	uint32_t key_max; /* longest stored public key */
};

/* What a lookup copies out of the registry. */
struct reg_user_view {
	uint32_t slot;
	uint16_t worker;
	uint16_t worker_gen;
	uint32_t conn_id;
	uint8_t dialect;
	uint64_t seq;
	char name[REG_NAME_SZ];
};

/* One slot per worker, written only by that worker (no lock needed), each
 * on its own cache lines so that workers do not slow each other down. */
struct reg_worker {
	_Alignas(128) int32_t pid;
	uint32_t gen;
	int64_t heartbeat_ms;
	uint32_t clients;
	uint32_t users;
	uint64_t sendq_bytes;
	uint64_t msgs_in;
	uint64_t msgs_out;
	uint64_t bytes_out;
	uint64_t files_active;
	uint32_t restarts;
	uint32_t bus_up; /* the cluster link's slot: 1 while its bus is up */
};

struct registry;

/* gone callback for the master's sweep: a user that lived on a dead worker */
typedef void (*reg_gone_fn)(void *arg, const char *name, uint8_t dialect,
			    const uint32_t *rooms, size_t nrooms);

struct registry *registry_create(const struct reg_limits *lim);
void registry_destroy(struct registry *r);
const struct reg_limits *registry_limits(const struct registry *r);
struct reg_worker *registry_worker(struct registry *r, unsigned idx);

int registry_claim(struct registry *r, const char *name, uint8_t dialect,
		   uint16_t worker, uint16_t gen, uint32_t conn_id,
		   struct reg_user_view *out);
void registry_release(struct registry *r, uint32_t slot, uint32_t conn_id,
		      uint32_t *rooms_out, size_t *nrooms);
int registry_lookup(struct registry *r, const char *name, size_t len,
		    struct reg_user_view *out);
size_t registry_users(struct registry *r, struct reg_user_view *out,
		      size_t cap);
size_t registry_users_snapshot(struct registry *r, struct reg_user_view *out,
			       size_t cap);
uint32_t registry_user_count(struct registry *r);

int registry_set_key(struct registry *r, uint32_t slot, uint32_t conn_id,
		     const char *key, size_t len);
/* The key lines of registry_keys, a piece at a time: from user slot *cursor
 * on, as many whole lines as fit in cap (which must hold one line: the key
 * size + 32); *cursor moves past them, to max_users at the end. Returns the
 * bytes written. */
size_t registry_keys_from(struct registry *r, uint32_t except_slot,
			  uint32_t *cursor, char *buf, size_t cap);
size_t registry_keys(struct registry *r, uint32_t except_slot, char *buf,
		     size_t cap);

int registry_room_create(struct registry *r, const char *name, size_t len);
/* registry_room_create, counting against `creator`: -EDQUOT when it already
 * has max_per_creator rooms that exist (0: no limit). */
int registry_room_create_by(struct registry *r, const char *name, size_t len,
			    const char *creator, uint32_t max_per_creator);
/* The master's periodic sweep: delete rooms that have had no member for
 * linger_ms (0: at the first sweep that sees them empty). Returns how many
 * it deleted. */
int registry_rooms_sweep(struct registry *r, int64_t now_ms, int64_t linger_ms);
int registry_room_find(struct registry *r, const char *name, size_t len);
int registry_room_join(struct registry *r, uint32_t room, uint32_t slot);
int registry_room_leave(struct registry *r, uint32_t room, uint32_t slot);
bool registry_room_has(struct registry *r, uint32_t room, uint32_t slot);
const char *registry_room_name(struct registry *r, uint32_t room);
size_t registry_room_members(struct registry *r, uint32_t room, char *buf,
			     size_t cap);
size_t registry_rooms(struct registry *r, char *buf, size_t cap);
uint32_t registry_room_count(struct registry *r);

int registry_ip_acquire(struct registry *r, const uint8_t addr[16],
			uint16_t worker, uint32_t limit);
void registry_ip_release(struct registry *r, const uint8_t addr[16],
			 uint16_t worker);

int registry_recover(struct registry *r, pid_t dead, uint16_t worker,
		     reg_gone_fn gone, void *arg);
/* The same for a slot whose live users outlive its process (the cluster
 * link's mirror of other nodes' users, adopted by the next link): only its
 * half-made claims are freed. */
int registry_recover_keep(struct registry *r, pid_t dead, uint16_t worker);
int registry_check(struct registry *r);
void registry_reset_users(struct registry *r);
/* A room's place in the creation order (cluster mode: the cluster's), by
 * name; -ENOENT if there is no such room. */
int registry_room_restore_seq(struct registry *r, const char *name,
			      uint64_t seq);
void registry_restore_seq(struct registry *r, uint32_t slot, uint32_t conn_id,
			  uint64_t seq);
void registry_debug_corrupt(struct registry *r);
uint64_t registry_takeovers(struct registry *r);

#endif
