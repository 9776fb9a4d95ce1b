/* The spool of store-and-forward FILE transfers: nameless files in the spool
 * folder (O_TMPFILE, so a crash leaves nothing behind: a file lives only as
 * long as a descriptor to it) and the byte quota all workers share. */
#ifndef FC_SPOOL_H
#define FC_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Writeback of a spool file is started every SPOOL_FLUSH_STEP bytes, so the
 * dirty data one upload leaves in the page cache stays below about this. */
#define SPOOL_FLUSH_STEP (8u << 20)
/* Delivery asks the kernel to read ahead this far (asynchronously). */
#define SPOOL_READAHEAD (8u << 20)

struct spool;

/* The spool folder a daemon uses when none is configured, for the user it
 * will run as: /var/spool/forkchat for root, else $TMPDIR (or /tmp)
 * /forkchatd-<uid>. Writes at most `size` bytes; -1 if it does not fit. */
int spool_default_dir(char *out, size_t size, uid_t uid);

/* Makes sure DIR exists as a real folder (not a symlink) owned by uid with
 * no access for group or others, creating it (mode 0700, chowned to
 * uid/gid) when missing. Call while still privileged. 0, or -1 and err. */
int spool_prepare_dir(const char *dir, uid_t uid, gid_t gid, char *err,
		      size_t errlen);

/* The spool in DIR with a quota of `max` bytes over `nslots` worker slots.
 * Proves that a spool file can be made there (as the calling user) and
 * maps the counters shared with the processes forked after this call.
 * NULL, and err, on failure. */
struct spool *spool_create(const char *dir, uint64_t max, unsigned nslots,
			   char *err, size_t errlen);
/* Unmaps the counters (in the process that calls it only). */
void spool_destroy(struct spool *s);

/* The daemon's spool, set by the master before it forks the workers. */
void spool_set_daemon(struct spool *s);
struct spool *spool_daemon(void);

struct fc_config;
/* The master's one call, while still privileged and before forking: the
 * folder (cfg->spool_dir, or the default for the user the daemon runs as,
 * written back into cfg) prepared for that user, the spool created with
 * cfg->spool_max over `nslots` workers and made the daemon's spool. Warns
 * when the file system has less room than the quota. 0, or -1 and err. */
int spool_setup_daemon(struct fc_config *cfg, unsigned nslots, char *err,
		       size_t errlen);

/* The new worker of `slot` starts from zero: its predecessor's spool files
 * died with that process's descriptors. */
void spool_slot_reset(struct spool *s, unsigned slot);
/* Reserves n bytes for `slot` if every slot's total stays within the quota;
 * false (nothing reserved) otherwise. Safe against concurrent workers: two
 * racing reservations can both be refused, never both pass over quota. */
bool spool_reserve(struct spool *s, unsigned slot, uint64_t n);
/* Adds n bytes to `slot` without the check: a spool file another worker
 * reserved and then handed over (it released its own reservation). */
void spool_charge(struct spool *s, unsigned slot, uint64_t n);
/* Gives back n bytes of `slot` (never below zero). */
void spool_release(struct spool *s, unsigned slot, uint64_t n);
uint64_t spool_used(const struct spool *s);
uint64_t spool_quota(const struct spool *s);
const char *spool_dir(const struct spool *s);

/* A new nameless spool file, read-write, close-on-exec, with `size` bytes
 * set aside on disk when the file system can (so a full disk refuses the
 * FILE at once instead of failing mid-upload). -1 and errno on failure. */
int spool_open(const struct spool *s, uint64_t size);

/* Starts this process's closer thread (once; a worker calls it at start):
 * the last close of a spool file frees its blocks and drops its page cache,
 * which takes about 0.2 s for 1 GiB (bench/spoolio), so spool_close hands
 * it to the thread instead of holding the loop up; it also starts the
 * writeback spool_append asks for. 0, or -1 and errno. */
int spool_closer_start(void);
/* Ends the closer thread once the descriptors queued to it are closed. */
void spool_closer_stop(void);
/* Closes a spool descriptor through the closer thread, or at once when
 * there is none or its queue is full. */
void spool_close(int fd);

/* Appends n bytes at offset *off (advanced by what was written) and starts
 * the writeback of every whole SPOOL_FLUSH_STEP passed, without waiting for
 * it (in the closer thread when there is one). Returns bytes written or -1 with
 * errno. */
ssize_t spool_append(int fd, uint64_t *off, const void *p, size_t n);
/* The same for n bytes waiting in the pipe pipe_rd (splice): 0 when all of
 * them are in the file, -1 with errno (the pipe may then hold some). */
int spool_splice_in(int pipe_rd, int fd, uint64_t *off, size_t n);

/* Up to n bytes of the spool file from *off to a plain socket (sendfile),
 * advancing *off; asks for read-ahead of the next SPOOL_READAHEAD bytes
 * when a new window starts. Returns bytes sent, 0 if the socket is full
 * (EAGAIN), -1 on error. */
ssize_t spool_sendfile(int sock, int fd, uint64_t *off, size_t n);

/* Up to n bytes of the spool file from *off into buf (for TLS, which must
 * encrypt in user space), advancing *off. Bytes read, 0 at end, -1. */
ssize_t spool_read(int fd, uint64_t *off, void *buf, size_t n);

#endif
