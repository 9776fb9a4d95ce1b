/* Frames between processes: a 16-byte header and at most FRAME_MAX_PAYLOAD
 * bytes, one frame per SOCK_SEQPACKET packet. Every received frame is checked
 * (length, type, per-type size, strings) before anyone looks inside. */
#ifndef FC_FRAME_H
#define FC_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "registry.h"

#define FRAME_MAX_PAYLOAD (64 * 1024)

enum frame_type {
	/* master -> worker */
	FR_PEER_UP = 1, /* carries an fd: socket to peer worker */
	FR_PEER_DOWN,
	FR_START,
	FR_USER_GONE,
	FR_SHUTDOWN,
	FR_RELOAD,
	FR_REBUILD, /* the registry was reset: register your users again */
	/* worker -> master */
	FR_READY,
	/* worker <-> worker */
	FR_EVENT,
	FR_PROBE, /* is this user's connection still alive? */
	FR_PROBE_REPLY,
	FR_FILE_OFFER, /* carries an fd: a stored file for target */
	FR_FILE_DATA,
	FR_FILE_CREDIT,
	FR_FILE_END,    /* sender finished or aborted */
	FR_FILE_RESULT, /* receiver side: delivered, or failed and why */
	/* worker <-> cluster link (docs/CLUSTER.md) */
	FR_CLAIM,       /* claim (or release) a name cluster-wide */
	FR_CLAIM_REPLY, /* the claim's outcome */
	FR_KICK,        /* close every local user: the node was declared dead */
	/* worker -> worker or link */
	FR_EVENTS, /* several FR_EVENT payloads: a loop pass's events to a peer
		    */
	FR_TYPE_MAX
};

struct frame_hdr {
	uint16_t type;
	uint16_t flags;
	uint32_t len; /* payload bytes after the header */
	uint16_t src_worker;
	uint16_t src_gen;
	uint32_t id;
};
_Static_assert(sizeof(struct frame_hdr) == 16, "frame header is 16 bytes");

/* Kinds of chat events; each dialect renders them in its own words. */
enum ev_kind {
	EV_LOGIN = 1, /* JOINED u / 710 u login */
	EV_LOGOUT,    /* LEFT u / 711 u logout */
	EV_BCST,      /* BCST s t / 703 s t */
	EV_PM,        /* NPM s t / 701 s t */
	EV_SECU,      /* 700 s t (numeric only) */
	EV_PUBKEY,    /* PM_PUBKEY s k (okfail only) */
	EV_SESSKEY,   /* PM_SESSIONKEY s k (okfail only) */
	EV_EPM,       /* RECEIVE_PRIVATE_MSG s t (okfail only) */
	EV_ROOM_MSG,  /* 702 r s t */
	EV_ROOM_JOIN, /* 712 r u joined */
	EV_ROOM_LEFT, /* 713 r u left */
	EV_NICK,      /* irc: :old NICK new (text: the new name) */
	EV_KIND_MAX
};

/* ev_body.flags */
enum ev_flag {
	EVF_RAW_ONLY = 1 << 0,   /* only to dialects that take IRC codes */
	EVF_PLAIN_ONLY = 1 << 1, /* only to dialects that refuse them */
	EVF_NOTICE = 1 << 2,     /* an IRC NOTICE rather than a PRIVMSG */
	EVF_QUIT = 1 << 3,       /* a room left as its user logged out */
	EVF_LINE = 1 << 4, /* irc: the text is a MODE/TOPIC/KICK/INVITE line */
	EVF_KICKED = 1 << 5, /* EV_ROOM_LEFT to the user kicked out of room */
	EVF_TO_OPS = 1 << 6, /* irc PRIVMSG @#c: to the room's operators */
	EVF_TO_VOICED = 1 << 7, /* irc PRIVMSG +#c: to operators and voiced */
	/* bits 12-13: what an event of its kind is (EVF_SUB) */
	EVF_KILL = 1 << 12,     /* an EV_PM that is a KILL of its target */
	EVF_WALLOPS = 1 << 12,  /* an EV_BCST that is a WALLOPS to +w users */
	EVF_AWAY = 2 << 12,     /* an EV_NICK that is an AWAY change */
	EVF_SETNAME = 3 << 12,  /* an EV_NICK that is a SETNAME */
	EVF_ROOMLESS = 1 << 12, /* an EV_LOGOUT of a user who was in no room */
	EVF_SUB = 3 << 12,
	EVF_TAGS = 1 << 14,   /* irc: the text is "<tag block> <text>" */
	EVF_TAGMSG = 1 << 15, /* irc: a TAGMSG (only tags, RAW_ONLY) */
};
#define EVF_DIALECT_SHIFT 8 /* bits 8-11: the sender's enum reg_dialect */

/* FR_EVENT payload: this struct, then text_len bytes of text. */
struct ev_body {
	uint16_t kind;
	uint16_t flags;      /* enum ev_flag, and the sender's dialect */
	int32_t target_slot; /* -1: every local user (filtered by kind) */
	uint32_t target_conn;
	uint32_t room;
	uint32_t sender_slot;
	uint32_t sender_conn;
	uint32_t text_len;
	char sender[REG_NAME_SZ];
};

/* FR_EVENTS payload: records, each this header, then len bytes (one FR_EVENT
 * payload), then zeros up to a multiple of EV_REC_ALIGN. */
struct ev_rec {
	uint32_t len;
	uint32_t zero;
};
#define EV_REC_ALIGN 8
#define EV_REC_SIZE(len)                                                       \
	((sizeof(struct ev_rec) + (size_t)(len) + EV_REC_ALIGN - 1) &          \
	 ~(size_t)(EV_REC_ALIGN - 1))

/* FR_USER_GONE payload: a user of a dead worker, and the rooms it was in. */
struct gone_body {
	char name[REG_NAME_SZ];
	uint8_t dialect;
	uint8_t pad[3];
	uint32_t nrooms;
	/* uint32_t rooms[nrooms] follow */
};

/* FR_PEER_UP */
struct peer_body {
	uint16_t worker;
	uint16_t gen;
};

/* FR_PROBE and FR_PROBE_REPLY: id in header is the asker's request id */
struct probe_body {
	uint32_t slot;
	uint32_t conn_id;
	uint32_t alive; /* reply only */
};

/* File frames: header id is the transfer id, unique per sending worker. */
struct file_offer_body {
	uint32_t target_slot;
	uint32_t target_conn;
	uint64_t size;
	char sender[REG_NAME_SZ];
	char filename[256];
};

struct file_credit_body {
	uint32_t chunks;
};

struct file_end_body {
	uint32_t ok; /* 1: every byte was sent; 0: sender aborted */
	char why[64];
};

/* FR_CLAIM and FR_CLAIM_REPLY: header id is the asker's request id. */
enum claim_result {
	CLAIM_TAKEN = -1, /* held on another node */
	CLAIM_DOWN = -3,  /* the cluster cannot be asked now */
};

struct claim_body {
	uint32_t slot;
	uint32_t conn_id;
	uint8_t dialect;
	uint8_t release; /* 1: free the name (its login was abandoned) */
	uint8_t pad[2];
	char name[REG_NAME_SZ];
};

struct claim_reply_body {
	uint32_t slot;
	uint32_t conn_id;
	int64_t result; /* > 0: the cluster-wide login sequence; or enum */
};

struct frame {
	struct frame_hdr hdr;
	const char *payload;
	int fd; /* -1 unless FR_PEER_UP or FR_FILE_OFFER */
};

int frame_validate(const struct frame_hdr *h, const char *payload, size_t got,
		   bool has_fd);
const char *frame_type_name(uint16_t type);
/* The next event of a validated FR_EVENTS frame f, from *off on, as an
 * FR_EVENT frame in *out (its payload points into f's): false at the end. */
bool frame_events_next(const struct frame *f, size_t *off, struct frame *out);

#endif
