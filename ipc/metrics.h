/* Metrics that outlive a worker: one MAP_SHARED mapping that the master
 * creates before forking, one cache-line-aligned slot per worker slot,
 * written only by the worker of that slot (so no lock, no atomic RMW) and
 * read by the master for `forkchatd status --prometheus`. A respawned
 * worker adds to its slot's counters, so counters only ever go up. */
#ifndef FC_METRICS_H
#define FC_METRICS_H

#include <stdint.h>

#define METRICS_DIALECTS 3 /* okfail, numeric, irc: enum reg_dialect */
#define METRICS_KINDS 16   /* event kinds, enum ev_kind (ipc/frame.h) */
#define METRICS_REASONS 32 /* enum close_reason (worker/conn.h) */

/* Counters (only go up) and one gauge. A family takes consecutive places,
 * indexed by what it counts: M_LOGINS + dialect, M_MESSAGES + event kind,
 * M_DISCONNECTS + close reason. */
enum metric {
	M_CONNECTIONS, /* gauge: open connections, per dialect */
	M_ACCEPTED = M_CONNECTIONS + METRICS_DIALECTS,
	M_LOGINS = M_ACCEPTED + METRICS_DIALECTS,
	M_MESSAGES = M_LOGINS + METRICS_DIALECTS,  /* events sent, per kind */
	M_DELIVERIES = M_MESSAGES + METRICS_KINDS, /* ... delivered */
	M_DISCONNECTS = M_DELIVERIES + METRICS_KINDS,
	M_BYTES_IN = M_DISCONNECTS + METRICS_REASONS,
	M_BYTES_OUT,
	M_FLOOD_DELAYS,  /* lines held back by flood control */
	M_LOCK_WAITS,    /* registry lock found taken */
	M_FILES_STARTED, /* FILE transfers accepted */
	M_FILES_DONE,    /* ... delivered whole */
	M_FILES_FAILED,  /* ... cut off mid-way */
	M_FILE_BYTES,    /* file payload relayed */
	M_TLS_OK,        /* TLS handshakes completed */
	M_TLS_FAILED,    /* ... failed or abandoned */
	M_N
};

struct ssl_st;

/* Master, before the first fork: map NSLOTS slots. -1 with errno. */
int metrics_create(unsigned nslots);
/* Master: slot IDX's values for reading (NULL without metrics_create). */
const uint64_t *metrics_slot(unsigned idx);
/* Master, after the worker of slot IDX died: its gauges go back to 0. */
void metrics_worker_gone(unsigned idx);
/* Worker, right after fork: all metrics_add calls go to slot IDX. */
void metrics_bind(unsigned idx);
/* Worker: M += N (N < 0 only for the gauge); a no-op in a process
 * without a slot (the master, unit tests, fuzzers). */
void metrics_add(enum metric m, int64_t n);
/* An SSL info callback (SSL_set_info_callback) counting the server-side
 * handshakes that complete into M_TLS_OK. */
void metrics_tls_info(const struct ssl_st *ssl, int where, int ret);

#endif
