/* Metrics that outlive a worker: one MAP_SHARED mapping that the master
 * creates before forking, one cache-line-aligned slot per worker slot,
 * written only by the worker of that slot (so no lock, no atomic RMW) and
 * read by the master for `forkchatd status --prometheus`. A respawned
 * worker adds to its slot's counters, so counters only ever go up. */
#ifndef FC_METRICS_H
#define FC_METRICS_H

#include <stdint.h>

#define METRICS_DIALECTS 3 /* okfail, numeric, irc: enum reg_dialect */

/* Counters (only go up) and, where marked, gauges (go up and down; the
 * master zeroes a dead worker's gauges). Per-dialect entries take
 * METRICS_DIALECTS consecutive places: use M + dialect. */
enum metric {
	M_CONNECTIONS,                                 /* gauge, per dialect */
	M_ACCEPTED = M_CONNECTIONS + METRICS_DIALECTS, /* per dialect */
	M_LOGINS = M_ACCEPTED + METRICS_DIALECTS,      /* per dialect */
	M_MSG_BROADCAST = M_LOGINS + METRICS_DIALECTS,
	M_MSG_PRIVATE,
	M_MSG_ROOM,
	M_MSG_SECURE,
	M_DELIVER_BROADCAST,
	M_DELIVER_PRIVATE,
	M_DELIVER_ROOM,
	M_DELIVER_SECURE,
	M_BYTES_IN,
	M_BYTES_OUT,
	M_DISC_CLIENT,        /* the client closed or sent QUIT */
	M_DISC_ERROR,         /* a read or write error */
	M_DISC_SENDQ,         /* sendq-hard, sendq-soft or the worker budget */
	M_DISC_PONG,          /* pong-timeout */
	M_DISC_LOGIN_TIMEOUT, /* login-timeout */
	M_DISC_LINE_TIMEOUT,  /* line-timeout */
	M_DISC_FLOOD,         /* flood-max-queued */
	M_DISC_SHUTDOWN,      /* the server stopped */
	M_DISC_OTHER,
	M_FLOOD_DELAYS,  /* lines held back by flood control */
	M_LOCK_WAITS,    /* registry lock found taken */
	M_FILES_STARTED, /* FILE transfers accepted */
	M_FILES_DONE,    /* ... delivered whole */
	M_FILES_FAILED,  /* ... cut off or refused mid-way */
	M_FILE_BYTES,    /* file payload relayed */
	M_TLS_OK,        /* TLS handshakes completed */
	M_TLS_FAILED,    /* ... failed or abandoned */
	M_N
};

/* Master, before the first fork: map the slots. -1 with errno. */
int metrics_create(unsigned nslots);
/* Master: the slots for reading (NULL before metrics_create). */
const uint64_t *metrics_slot(unsigned idx);
/* Master, after a worker of slot IDX died: its gauges go back to 0. */
void metrics_worker_gone(unsigned idx);
/* Worker, right after fork: all metrics_add calls go to slot IDX. */
void metrics_bind(unsigned idx);
/* Worker: counter or gauge M += N (N < 0 for a gauge going down); a no-op
 * in a process without a slot (the master, unit tests, fuzzers). */
void metrics_add(enum metric m, int64_t n);

#endif
