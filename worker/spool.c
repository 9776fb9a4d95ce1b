/* The FILE spool: nameless files in one folder and the quota over them. The
 * quota is one counter per worker slot in a shared anonymous mapping made by
 * the master before it forks; a slot's counter is reset by the slot's next
 * worker, since a dead worker's spool files vanish with its descriptors. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <pwd.h>
#include <unistd.h>

#include "../common/config.h"
#include "../common/log.h"

struct spool_slot {
	_Alignas(64) _Atomic uint64_t used;
};

struct spool {
	struct spool_slot *slots; /* shared mapping, nslots entries */
	unsigned nslots;
	uint64_t max;
	char dir[PATH_MAX];
};

static struct spool *the_spool;
static int closer_fd = -1; /* write end of the closer thread's queue */
static pthread_t closer_thread;

int
spool_default_dir(char *out, size_t size, uid_t uid)
{
	int n;

	if (uid == 0) {
		n = snprintf(out, size, "/var/spool/forkchat");
	} else {
		const char *tmp = getenv("TMPDIR");
		if (tmp == NULL || tmp[0] != '/')
			tmp = "/tmp";
		n = snprintf(out, size, "%s/forkchatd-%u", tmp, (unsigned)uid);
	}
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int
dir_check(const char *dir, uid_t uid, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(dir, &st) < 0) {
		snprintf(err, errlen, "spool-dir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "spool-dir %s: not a folder%s", dir,
			 S_ISLNK(st.st_mode) ? " (a symlink)" : "");
		return -1;
	}
	if (st.st_uid != uid || (st.st_mode & 077) != 0) {
		snprintf(err, errlen,
			 "spool-dir %s: must be owned by uid %u with mode 0700 "
			 "(is uid %u, mode %03o)",
			 dir, (unsigned)uid, (unsigned)st.st_uid,
			 (unsigned)(st.st_mode & 0777));
		return -1;
	}
	return 0;
}

int
spool_prepare_dir(const char *dir, uid_t uid, gid_t gid, char *err,
		  size_t errlen)
{
	if (dir[0] != '/') {
		snprintf(err, errlen, "spool-dir %s: not an absolute path",
			 dir);
		return -1;
	}
	if (mkdir(dir, 0700) == 0) {
		if (geteuid() == 0 && uid != 0 && chown(dir, uid, gid) < 0) {
			snprintf(err, errlen, "spool-dir %s: chown: %s", dir,
				 strerror(errno));
			return -1;
		}
	} else if (errno != EEXIST) {
		snprintf(err, errlen, "spool-dir %s: %s", dir, strerror(errno));
		return -1;
	}
	return dir_check(dir, uid, err, errlen);
}

struct spool *
spool_create(const char *dir, uint64_t max, unsigned nslots, char *err,
	     size_t errlen)
{
	struct spool *s = calloc(1, sizeof(*s));

	if (s == NULL || nslots == 0 || strlen(dir) >= sizeof(s->dir)) {
		snprintf(err, errlen, "spool: %s",
			 s ? "bad folder or slot count" : strerror(errno));
		free(s);
		return NULL;
	}
	memcpy(s->dir, dir, strlen(dir) + 1);
	s->max = max;
	s->nslots = nslots;
	int fd = spool_open(s, 0);
	if (fd < 0) {
		snprintf(err, errlen, "spool-dir %s: cannot create a file: %s",
			 dir, strerror(errno));
		free(s);
		return NULL;
	}
	close(fd);
	s->slots =
		mmap(NULL, nslots * sizeof(*s->slots), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s->slots == MAP_FAILED) {
		snprintf(err, errlen, "spool: shared counters: %s",
			 strerror(errno));
		free(s);
		return NULL;
	}
	return s;
}

void
spool_destroy(struct spool *s)
{
	if (s == NULL)
		return;
	if (the_spool == s)
		the_spool = NULL;
	munmap(s->slots, s->nslots * sizeof(*s->slots));
	free(s);
}

void
spool_set_daemon(struct spool *s)
{
	the_spool = s;
}

struct spool *
spool_daemon(void)
{
	return the_spool;
}

void
spool_slot_reset(struct spool *s, unsigned slot)
{
	if (slot < s->nslots)
		atomic_store(&s->slots[slot].used, 0);
}

uint64_t
spool_used(const struct spool *s)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < s->nslots; i++)
		sum += atomic_load(&s->slots[i].used);
	return sum;
}

bool
spool_reserve(struct spool *s, unsigned slot, uint64_t n)
{
	if (slot >= s->nslots || n > s->max)
		return false;
	/* add first, then look: of two racing workers at least one sees the
	 * other's bytes (sequentially consistent atomics) */
	atomic_fetch_add(&s->slots[slot].used, n);
	if (spool_used(s) <= s->max)
		return true;
	atomic_fetch_sub(&s->slots[slot].used, n);
	return false;
}

void
spool_charge(struct spool *s, unsigned slot, uint64_t n)
{
	if (slot < s->nslots)
		atomic_fetch_add(&s->slots[slot].used, n);
}

void
spool_release(struct spool *s, unsigned slot, uint64_t n)
{
	if (slot >= s->nslots)
		return;
	_Atomic uint64_t *u = &s->slots[slot].used;
	uint64_t cur = atomic_load(u);
	while (!atomic_compare_exchange_weak(u, &cur, cur > n ? cur - n : 0))
		;
}

uint64_t
spool_quota(const struct spool *s)
{
	return s->max;
}

const char *
spool_dir(const struct spool *s)
{
	return s->dir;
}

/* The uid/gid the daemon will run as: --user, else who runs it now. */
static int
spool_owner(const struct fc_config *cfg, uid_t *uid, gid_t *gid)
{
	*uid = geteuid();
	*gid = getegid();
	if (cfg->user[0] == '\0')
		return 0;
	struct passwd *pw = getpwnam(cfg->user);
	if (pw == NULL)
		return -1;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

static void
spool_warn_room(const char *dir, uint64_t max)
{
	struct statvfs vfs;

	if (statvfs(dir, &vfs) < 0)
		return;
	uint64_t room = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (room < max)
		log_warnx("spool-dir %s has %llu bytes free, less than "
			  "spool-max %llu: uploads fail when the disk is full",
			  dir, (unsigned long long)room,
			  (unsigned long long)max);
}

int
spool_setup_daemon(struct fc_config *cfg, unsigned nslots, char *err,
		   size_t errlen)
{
	uid_t uid;
	gid_t gid;

	if (spool_owner(cfg, &uid, &gid) < 0) {
		snprintf(err, errlen, "spool: no such user '%s'", cfg->user);
		return -1;
	}
	if (cfg->spool_dir[0] == '\0' &&
	    spool_default_dir(cfg->spool_dir, sizeof(cfg->spool_dir), uid) <
		    0) {
		snprintf(err, errlen, "spool: default folder name too long");
		return -1;
	}
	if (spool_prepare_dir(cfg->spool_dir, uid, gid, err, errlen) < 0)
		return -1;
	struct spool *s = spool_create(cfg->spool_dir, cfg->spool_max, nslots,
				       err, errlen);
	if (s == NULL)
		return -1;
	spool_warn_room(cfg->spool_dir, cfg->spool_max);
	spool_set_daemon(s);
	return 0;
}

/* O_TMPFILE where the file system has it; else a name unlinked at once. */
static int
spool_open_fd(const char *dir)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0 ||
	    (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/.spool-XXXXXX", dir) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

int
spool_open(const struct spool *s, uint64_t size)
{
	int fd = spool_open_fd(s->dir);

	if (fd < 0 || size == 0)
		return fd;
	/* blocks only, the size stays 0: a full disk says so now */
	if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)size) < 0 &&
	    errno != EOPNOTSUPP) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void
spool_readahead(int fd, uint64_t from, uint64_t to)
{
	if (from / SPOOL_READAHEAD != to / SPOOL_READAHEAD || from == 0)
		posix_fadvise(fd, (off_t)to, SPOOL_READAHEAD,
			      POSIX_FADV_WILLNEED);
}

ssize_t
spool_sendfile(int sock, int fd, uint64_t *off, size_t n)
{
	off_t o = (off_t)*off;
	ssize_t k = sendfile(sock, fd, &o, n);

	if (k < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	spool_readahead(fd, *off, (uint64_t)o);
	*off = (uint64_t)o;
	return k;
}

ssize_t
spool_read(int fd, uint64_t *off, void *buf, size_t n)
{
	ssize_t k = pread(fd, buf, n, (off_t)*off);

	if (k <= 0)
		return k;
	spool_readahead(fd, *off, *off + (uint64_t)k);
	*off += (uint64_t)k;
	return k;
}

/* A job for the closer thread: start the writeback of [from, from + len)
 * of fd, or (len 0) close fd. One job is one atomic pipe write. */
struct closer_job {
	int fd;
	uint64_t from, len;
};

static bool
closer_post(int fd, uint64_t from, uint64_t len)
{
	struct closer_job j = {.fd = fd, .from = from, .len = len};

	return closer_fd >= 0 &&
	       write(closer_fd, &j, sizeof(j)) == (ssize_t)sizeof(j);
}

/* The writeback's page walk and bio submission cost the caller's CPU
 * (about a third of an upload's time inline, bench/spoolio): the closer
 * thread does it on a descriptor of its own, or it is done here when the
 * thread is not there or its queue is full. */
static void
spool_writeback(int fd, uint64_t from, uint64_t len)
{
	int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	if (own >= 0 && closer_post(own, from, len))
		return;
	if (own >= 0)
		close(own);
	sync_file_range(fd, (off_t)from, (off_t)len, SYNC_FILE_RANGE_WRITE);
}

/* *off advances by n bytes written: the writeback of every whole
 * SPOOL_FLUSH_STEP passed starts. */
static void
spool_advance(int fd, uint64_t *off, uint64_t n)
{
	uint64_t before = *off / SPOOL_FLUSH_STEP;

	*off += n;
	uint64_t after = *off / SPOOL_FLUSH_STEP;
	if (after > before)
		spool_writeback(fd, before * SPOOL_FLUSH_STEP,
				(after - before) * SPOOL_FLUSH_STEP);
}

ssize_t
spool_append(int fd, uint64_t *off, const void *p, size_t n)
{
	ssize_t w = pwrite(fd, p, n, (off_t)*off);

	if (w <= 0)
		return w < 0 ? -1 : 0;
	spool_advance(fd, off, (uint64_t)w);
	return w;
}

int
spool_splice_in(int pipe_rd, int fd, uint64_t *off, size_t n)
{
	while (n > 0) {
		loff_t o = (loff_t)*off;
		ssize_t w = splice(pipe_rd, NULL, fd, &o, n, SPLICE_F_MOVE);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		spool_advance(fd, off, (uint64_t)w);
		n -= (size_t)w;
	}
	return 0;
}

/* The closer thread: jobs come through a pipe, one struct closer_job each. */
static void *
closer_main(void *arg)
{
	int rd = (int)(intptr_t)arg;
	struct closer_job j;

	while (read(rd, &j, sizeof(j)) == (ssize_t)sizeof(j)) {
		if (j.len > 0)
			sync_file_range(j.fd, (off_t)j.from, (off_t)j.len,
					SYNC_FILE_RANGE_WRITE);
		close(j.fd);
	}
	close(rd);
	return NULL;
}

int
spool_closer_start(void)
{
	int p[2];
	pthread_t t;
	sigset_t all, old;

	if (closer_fd >= 0)
		return 0;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	/* the thread takes no signal: the loop's signalfd gets them all */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&t, NULL, closer_main, (void *)(intptr_t)p[0]);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		close(p[0]);
		close(p[1]);
		errno = rc;
		return -1;
	}
	closer_thread = t;
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	closer_fd = p[1];
	return 0;
}

void
spool_closer_stop(void)
{
	if (closer_fd < 0)
		return;
	close(closer_fd); /* EOF: the thread closes what is queued, then ends */
	closer_fd = -1;
	pthread_join(closer_thread, NULL);
}

void
spool_close(int fd)
{
	if (fd < 0)
		return;
	if (!closer_post(fd, 0, 0))
		close(fd);
}
