/* The private layout of the registry segment: shared by ipc/registry.c and
 * ipc/registry_chan.c (channel state) and the unit tests that play a worker
 * dying in the middle of a mutation. Nothing else may include it; everyone
 * else uses ipc/registry.h. */
#ifndef FC_REGISTRY_LAYOUT_H
#define FC_REGISTRY_LAYOUT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "registry.h"
#include "shmlock.h"

#define REG_MAGIC 0x46434b52u /* "FCKR" */
#define REG_VERSION 3

enum { SLOT_FREE = 0, SLOT_CLAIMING = 1, SLOT_LIVE = 2 };

struct reg_user {
	_Atomic uint32_t state;
	uint16_t worker;
	uint16_t worker_gen;
	uint32_t conn_id;
	uint8_t dialect;
	uint8_t pad[3];
	uint32_t key_len;
	uint64_t seq;
	char name[REG_NAME_SZ];
};

/* A room slot: LIVE while its name is set. Slots of deleted rooms are
 * reused; seq keeps LIRO in creation order. */
struct reg_room {
	_Atomic uint32_t state;
	uint32_t pad;
	uint64_t seq;
	_Atomic int64_t
		empty_since; /* ms (CLOCK_MONOTONIC), 0 = not seen empty */
	char name[REG_ROOM_SZ];
	char creator[REG_NAME_SZ]; /* counts against its max-rooms-per-user */
};

/* One entry of a room's ban/exception/invite-exception lists (+b/+e/+I). */
struct reg_mask {
	char type; /* 'b', 'e' or 'I'; 0 = unused */
	char mask[REG_MASK_SZ];
	char by[REG_NAME_SZ];
	int64_t when;
};

/* A room's channel state beside struct reg_room (same index): modes, key,
 * limit, topic and the mask lists. Reset when the room slot is reused. */
struct reg_chan {
	uint32_t modes; /* enum reg_chan_mode */
	uint32_t limit;
	int64_t created; /* time(2) of the room's creation */
	int64_t topic_time;
	char key[REG_KEY_SZ];
	char topic[REG_TOPIC_SZ];
	char topic_by[REG_MASK_SZ];
	struct reg_mask masks[REG_MAX_MASKS];
};

/* Connections per client address, counted per worker so that the repair can
 * subtract a dead worker's share. */
struct reg_ip {
	uint8_t addr[16];
	uint32_t total;
	uint16_t per_worker[REG_MAX_WORKERS];
};

struct reg_hdr {
	uint32_t magic;
	uint32_t version;
	uint64_t epoch;
	struct shmlock lock;
	struct reg_limits lim;
	uint64_t next_seq;
	uint32_t nusers;
	uint32_t nrooms;     /* room slots ever used (a high-water mark) */
	uint32_t live_rooms; /* rooms that exist */
	uint64_t key_bytes;  /* sum of stored key lengths */
	uint32_t free_top;
	uint32_t user_hash_sz; /* power of two */
	uint32_t room_hash_sz;
	uint32_t bit_words; /* 64-bit words per room bitset */
	uint32_t ip_hash_sz;
	size_t off_ips;
	size_t off_users, off_keys, off_free, off_uhash, off_rooms, off_rhash,
		off_bits, off_chans, off_mbits;
	struct reg_worker workers[REG_MAX_WORKERS];
};

struct registry {
	struct reg_hdr *h;
	size_t size;
	struct reg_user *users;
	char *keys;
	uint32_t *free_stack;
	uint32_t *uhash; /* slot + 1, 0 = empty */
	struct reg_room *rooms;
	uint32_t *rhash;
	_Atomic uint64_t *bits;
	struct reg_chan *chans;
	_Atomic uint64_t *mbits; /* per room: RM_MAX bitsets over user slots */
	struct reg_ip *ips;
	struct reg_user_view *scratch; /* this process's own, for listings */
};

#endif
