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
#define REG_KEY_SZ 24    /* a channel key: 1-23 printable ASCII, no space */
#define REG_TOPIC_SZ 301 /* TOPICLEN 300 */
#define REG_MASK_SZ 96   /* nick!user@host masks */
#define REG_MAX_MASKS 64 /* +b/+e/+I entries of one room together */

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
	uint32_t pad;
};

/* Channel modes of a room (irc MODE letters; docs/PROTOCOL.md irc.mode). */
enum reg_chan_mode {
	CM_NOEXT = 1 << 0,     /* n: only members send */
	CM_TOPIC = 1 << 1,     /* t: only operators set the topic */
	CM_MODERATED = 1 << 2, /* m: only operators and voiced send */
	CM_INVITE = 1 << 3,    /* i: invited users only */
	CM_SECRET = 1 << 4,    /* s: hidden from LIST/WHOIS of outsiders */
	CM_PRIVATE = 1 << 5,   /* p: like s for LIST */
	CM_KEY = 1 << 6,       /* k: JOIN needs the key */
	CM_LIMIT = 1 << 7,     /* l: at most limit members */
};

/* Per member (and invited user) flags of a room. */
enum reg_member_flag { RM_OP = 0, RM_VOICE = 1, RM_INVITED = 2, RM_MAX = 3 };

/* What registry_chan_get copies out (not the mask lists). */
struct reg_chan_view {
	uint32_t modes;
	uint32_t limit;
	int64_t created;
	int64_t topic_time;
	char key[REG_KEY_SZ];
	char topic[REG_TOPIC_SZ];
	char topic_by[REG_MASK_SZ];
};

struct reg_mask_view {
	char mask[REG_MASK_SZ];
	char by[REG_NAME_SZ];
	int64_t when;
};

/* Who enters a room: its nick!user@host (for +b/+e/+I) and the key it
 * gave (NULL: none). */
struct reg_entry {
	const char *nuh;
	const char *key;
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

/* ---- channel state (ipc/registry_chan.c) ---- */

/* Enter a room as a user of any dialect, checking +b/+e/+I, +i (an
 * invitation, used up here), +k and +l under the lock. 0: joined (the
 * first member of an empty room becomes its operator); -EALREADY a
 * member; -ENOENT no such room; -EPERM banned; -EACCES invite only;
 * -EKEYREJECTED wrong key; -EUSERS full. */
int registry_room_enter(struct registry *r, uint32_t room, uint32_t slot,
			const struct reg_entry *e);
/* A copy of a live room's modes, key, limit and topic (-ENOENT: none). */
int registry_chan_get(struct registry *r, uint32_t room,
		      struct reg_chan_view *out);
/* A room's modes, read without the lock (0 for no such room). */
uint32_t registry_chan_modes(struct registry *r, uint32_t room);
/* Set (on) or clear one mode; key is CM_KEY's, limit CM_LIMIT's. Returns
 * 1 when it changed, 0 when it was so already, -ENOENT. */
int registry_chan_mode(struct registry *r, uint32_t room, uint32_t mode,
		       bool on, const char *key, uint32_t limit);
/* Set the topic (len 0 clears it), cut to TOPICLEN. */
int registry_chan_topic(struct registry *r, uint32_t room, const char *text,
			size_t len, const char *by, int64_t when);
/* Add or remove a 'b', 'e' or 'I' mask: 1 changed, 0 already so, -ENOSPC
 * when the lists hold REG_MAX_MASKS, -ENOENT no such room. */
int registry_chan_mask(struct registry *r, uint32_t room, char type,
		       const char *mask, bool add, const char *by,
		       int64_t when);
/* The masks of one list, oldest first; returns how many (at most cap). */
size_t registry_chan_masks(struct registry *r, uint32_t room, char type,
			   struct reg_mask_view *out, size_t cap);
/* Is the nick!user@host banned from the room (+b and no +e)? */
bool registry_chan_banned(struct registry *r, uint32_t room, const char *nuh);
bool registry_member_flag(struct registry *r, uint32_t room, uint32_t slot,
			  enum reg_member_flag f);
/* Set or clear a flag: 1 changed, 0 already so. */
int registry_member_set(struct registry *r, uint32_t room, uint32_t slot,
			enum reg_member_flag f, bool on);
/* Room members: 0; the registry's own: clear op/voice (and the invitation
 * when all is true) of slot in room. Under the lock. */
void registry_member_clear(struct registry *r, uint32_t room, uint32_t slot,
			   bool all);
/* Under the lock: fresh channel state for a new room (+nt, now). */
void registry_chan_reset(struct registry *r, uint32_t room);

int registry_ip_acquire(struct registry *r, const uint8_t addr[16],
			uint16_t worker, uint32_t limit);
void registry_ip_release(struct registry *r, const uint8_t addr[16],
			 uint16_t worker);

int registry_recover(struct registry *r, pid_t dead, uint16_t worker,
		     reg_gone_fn gone, void *arg);
int registry_check(struct registry *r);
void registry_reset_users(struct registry *r);
void registry_restore_seq(struct registry *r, uint32_t slot, uint32_t conn_id,
			  uint64_t seq);
void registry_debug_corrupt(struct registry *r);
uint64_t registry_takeovers(struct registry *r);

#endif
