/* The registry lock. A waiter sleeps on the semaphore with a 50 ms timeout so
 * that a wake-up lost to a killed process costs at most 50 ms, never a wedge.
 * Liveness of a holder that is alive but stuck is the master watchdog's job. */
#include "shmlock.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "../common/log.h"
#include "metrics.h"

static pid_t lock_self;
static pid_t pid_cached; /* 0: not known in this process yet */
static pthread_once_t pid_once = PTHREAD_ONCE_INIT;

static void
shmlock_forget_pid(void)
{
	pid_cached = 0;
}

static void
shmlock_watch_forks(void)
{
	(void)pthread_atfork(NULL, NULL, shmlock_forget_pid);
}

/* glibc does not cache getpid() (a system call per lock): cache it here and
 * forget it in every child of fork() */
static pid_t
shmlock_self(void)
{
	if (pid_cached == 0) {
		pthread_once(&pid_once, shmlock_watch_forks);
		pid_cached = getpid();
	}
	return pid_cached;
}

int
shmlock_init(struct shmlock *l)
{
	atomic_store(&l->owner, 0);
	atomic_store(&l->waiters, 0);
	atomic_store(&l->takeovers, 0);
	return sem_init(&l->wake, 1, 0);
}

static bool
shmlock_try(struct shmlock *l, pid_t self)
{
	int32_t expected = 0;

	return atomic_compare_exchange_strong_explicit(
		&l->owner, &expected, self, memory_order_acquire,
		memory_order_relaxed);
}

static void
shmlock_sleep(struct shmlock *l)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += 50 * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	/* EINTR and ETIMEDOUT both mean: try the CAS again */
	(void)sem_clockwait(&l->wake, CLOCK_MONOTONIC, &ts);
}

static int64_t
shmlock_ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

void
shmlock_lock(struct shmlock *l)
{
	pid_t self = shmlock_self();
	struct timespec t0 = {0,
			      0}; /* the first sleep: most locks never wait */
	bool warned = false;

	lock_self = self;
	metrics_add(M_LOCK_WAITS, atomic_load(&l->owner) != 0);
	for (;;) {
		if (shmlock_try(l, self))
			return;
		for (int i = 0; i < 200; i++) {
			__builtin_ia32_pause();
			if (atomic_load_explicit(&l->owner,
						 memory_order_relaxed) == 0 &&
			    shmlock_try(l, self))
				return;
		}
		atomic_fetch_add(&l->waiters, 1);
		if (shmlock_try(l, self)) {
			atomic_fetch_sub(&l->waiters, 1);
			return;
		}
		if (t0.tv_sec == 0 && t0.tv_nsec == 0)
			clock_gettime(CLOCK_MONOTONIC, &t0);
		shmlock_sleep(l);
		atomic_fetch_sub(&l->waiters, 1);
		if (!warned && shmlock_ms_since(&t0) >= 2000) {
			warned = true;
			log_warnx("registry lock held by pid %d for 2s",
				  (int)atomic_load(&l->owner));
		}
	}
}

void
shmlock_unlock(struct shmlock *l)
{
	int32_t expected = lock_self;

	if (!atomic_compare_exchange_strong_explicit(&l->owner, &expected, 0,
						     memory_order_release,
						     memory_order_relaxed))
		return; /* taken over by the master: it is not ours any more */
	/* one pending wake-up is enough: posts for waiters that got the lock
	 * without sleeping must not pile up and turn sleeps into spins */
	int pending = 0;
	if (atomic_load(&l->waiters) > 0 &&
	    sem_getvalue(&l->wake, &pending) == 0 && pending <= 0)
		sem_post(&l->wake);
}

/* Master only, after reaping dead: CAS dead -> self. */
bool
shmlock_take_over(struct shmlock *l, pid_t dead)
{
	int32_t expected = dead;

	lock_self = getpid();
	if (!atomic_compare_exchange_strong(&l->owner, &expected, lock_self))
		return false;
	atomic_fetch_add(&l->takeovers, 1);
	return true;
}

pid_t
shmlock_owner(struct shmlock *l)
{
	return atomic_load(&l->owner);
}
