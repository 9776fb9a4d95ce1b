/* Seqlock over a shared anonymous mapping: the link is the only writer. */
#include "board.h"

#include <string.h>
#include <sys/mman.h>

#include "link.h"

struct cluster_board *
board_create(void)
{
	void *p =
		mmap(NULL, sizeof(struct cluster_board), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void
board_begin(struct cluster_board *b)
{
	__atomic_add_fetch(&b->version, 1, __ATOMIC_ACQ_REL);
}

void
board_end(struct cluster_board *b)
{
	__atomic_add_fetch(&b->version, 1, __ATOMIC_RELEASE);
}

bool
board_read(const struct cluster_board *b, struct cluster_board *out)
{
	for (int tries = 0; tries < 100; tries++) {
		uint32_t v = __atomic_load_n(&b->version, __ATOMIC_ACQUIRE);
		if (v & 1)
			continue;
		memcpy(out, b, sizeof(*out));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&b->version, __ATOMIC_RELAXED) == v)
			return true;
	}
	return false;
}

const char *
board_state_name(uint32_t state)
{
	static const char *names[] = {"down", "connecting", "up", "conflict"};

	return state < 4 ? names[state] : "unknown";
}
