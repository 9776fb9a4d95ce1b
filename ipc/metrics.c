/* The metrics mapping (see metrics.h): created by the master, inherited by
 * every worker through fork, one slot per worker slot on its own cache
 * lines. A single writer per slot means plain relaxed loads and stores. */
#include "metrics.h"

#include <stddef.h>
#include <sys/mman.h>

#include <openssl/ssl.h>

struct metrics_slot {
	_Alignas(128) uint64_t v[M_N];
};

static struct metrics_slot *map;
static unsigned map_n;
static struct metrics_slot *self;

int
metrics_create(unsigned nslots)
{
	void *p =
		mmap(NULL, nslots * sizeof(struct metrics_slot),
		     PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	map = p;
	map_n = nslots;
	return 0;
}

const uint64_t *
metrics_slot(unsigned idx)
{
	return map && idx < map_n ? map[idx].v : NULL;
}

void
metrics_worker_gone(unsigned idx)
{
	if (map == NULL || idx >= map_n)
		return;
	for (int d = 0; d < METRICS_DIALECTS; d++)
		__atomic_store_n(&map[idx].v[M_CONNECTIONS + d], 0,
				 __ATOMIC_RELAXED);
}

void
metrics_bind(unsigned idx)
{
	self = map && idx < map_n ? &map[idx] : NULL;
}

void
metrics_add(enum metric m, int64_t n)
{
	if (self == NULL || (unsigned)m >= M_N)
		return;
	uint64_t *p = &self->v[m];
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + (uint64_t)n,
			 __ATOMIC_RELAXED);
}

void
metrics_tls_info(const SSL *ssl, int where, int ret)
{
	(void)ssl;
	(void)ret;
	if (where & SSL_CB_HANDSHAKE_DONE)
		metrics_add(M_TLS_OK, 1);
}
