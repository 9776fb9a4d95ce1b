/* A lock in shared memory that a process killed while holding it cannot
 * wedge: the lock word holds the owner's pid (taken by compare-and-swap), a
 * POSIX semaphore only queues the waiters, and the master takes the lock back
 * from a dead owner it has reaped (nginx's ngx_shmtx, plus repair). */
#ifndef FC_SHMLOCK_H
#define FC_SHMLOCK_H

#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct shmlock {
	_Atomic int32_t owner;   /* pid of the holder, 0 when free */
	_Atomic int32_t waiters; /* may be too high after a kill: harmless */
	sem_t wake;
	_Atomic uint64_t takeovers;
};

int shmlock_init(struct shmlock *l);
void shmlock_lock(struct shmlock *l);
void shmlock_unlock(struct shmlock *l);
bool shmlock_take_over(struct shmlock *l, pid_t dead);
pid_t shmlock_owner(struct shmlock *l);

#endif
