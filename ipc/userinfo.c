/* The irc dialect's per-user table (see userinfo.h): a sequence lock per
 * entry, odd while its one writer copies, so that a reader on another
 * worker never returns a torn entry. The WHOWAS ring beside it has many
 * writers: each takes its entry's sequence from even to odd with a CAS. */
#include "userinfo.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

struct uinfo_slot {
	_Atomic uint32_t seq;
	struct uinfo v;
};

struct whowas_rec {
	uint64_t serial; /* which record this is (ww_next when written) */
	struct uinfo v;
};

struct whowas_slot {
	_Atomic uint32_t seq;
	struct whowas_rec r;
};

struct userinfo {
	uint32_t n;
	_Atomic uint32_t peak;
	size_t size;
	_Atomic uint64_t ww_next; /* records ever written */
	struct whowas_slot ww[WHOWAS_MAX];
	struct uinfo_slot slots[];
};

struct userinfo *
userinfo_create(uint32_t max_users)
{
	size_t size = sizeof(struct userinfo) +
		      (size_t)max_users * sizeof(struct uinfo_slot);
	struct userinfo *u = mmap(NULL, size, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (u == MAP_FAILED)
		return NULL;
	u->n = max_users;
	u->size = size;
	return u;
}

void
userinfo_destroy(struct userinfo *u)
{
	if (u)
		munmap(u, u->size);
}

static void
slot_write(struct uinfo_slot *s, const struct uinfo *in)
{
	uint32_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);

	atomic_store_explicit(&s->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	memcpy(&s->v, in, sizeof(s->v));
	atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
}

void
userinfo_put(struct userinfo *u, uint32_t slot, const struct uinfo *in)
{
	if (u == NULL || slot >= u->n)
		return;
	slot_write(&u->slots[slot], in);
}

uint32_t
userinfo_peak(struct userinfo *u, uint32_t now)
{
	if (u == NULL)
		return now;
	uint32_t p = atomic_load(&u->peak);
	while (now > p && !atomic_compare_exchange_weak(&u->peak, &p, now))
		;
	return now > p ? now : p;
}

/* Copy n bytes of src, guarded by the sequence lock seq, into dst: the
 * even sequence the copy was taken at (0: never written), or 1 when no
 * stable copy came in 1000 tries. */
static uint32_t
seq_copy(_Atomic uint32_t *seq, const void *src, void *dst, size_t n)
{
	for (int tries = 0; tries < 1000; tries++) {
		uint32_t a = atomic_load_explicit(seq, memory_order_acquire);
		if (a & 1)
			continue;
		memcpy(dst, src, n);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(seq, memory_order_relaxed) == a)
			return a;
	}
	return 1;
}

/* Every string of a copied record ends inside its field. */
static void
terminate(struct uinfo *v)
{
	v->nick[UINFO_NICK_SZ - 1] = '\0';
	v->user[UINFO_USER_SZ - 1] = '\0';
	v->host[UINFO_HOST_SZ - 1] = '\0';
	v->real[UINFO_REAL_SZ - 1] = '\0';
	v->away[UINFO_AWAY_SZ - 1] = '\0';
	v->prev[UINFO_NICK_SZ - 1] = '\0';
}

int
userinfo_get(struct userinfo *u, uint32_t slot, uint32_t conn_id,
	     const char *nick, struct uinfo *out)
{
	if (u == NULL || slot >= u->n)
		return -1;
	struct uinfo_slot *s = &u->slots[slot];
	uint32_t a = seq_copy(&s->seq, &s->v, out, sizeof(*out));
	if (a & 1 || a == 0)
		return -1;
	terminate(out);
	bool named = strcmp(out->nick, nick) == 0 ||
		     (out->prev[0] && strcmp(out->prev, nick) == 0);
	return out->conn_id == conn_id && named ? 0 : -1;
}

void
userinfo_whowas_add(struct userinfo *u, const struct uinfo *gone)
{
	if (u == NULL)
		return;
	uint64_t serial = atomic_fetch_add(&u->ww_next, 1);
	struct whowas_slot *s = &u->ww[serial % WHOWAS_MAX];
	uint32_t seq = atomic_load(&s->seq) & ~1u;

	/* another writer WHOWAS_MAX records on may hold it: wait for it */
	while (!atomic_compare_exchange_weak(&s->seq, &seq, seq + 1))
		seq &= ~1u;
	atomic_thread_fence(memory_order_release);
	s->r.serial = serial;
	memcpy(&s->r.v, gone, sizeof(s->r.v));
	atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
}

/* Copy record serial if it is still in its slot: 0, else -1. */
static int
whowas_read(struct userinfo *u, uint64_t serial, struct uinfo *out)
{
	struct whowas_slot *s = &u->ww[serial % WHOWAS_MAX];
	struct whowas_rec r;
	uint32_t a = seq_copy(&s->seq, &s->r, &r, sizeof(r));

	if (a & 1 || a == 0 || r.serial != serial)
		return -1;
	*out = r.v;
	terminate(out);
	return 0;
}

/* nick is one of the comma-separated names of list (ASCII case ignored) */
static bool
one_of(const char *list, const char *nick)
{
	size_t n = strlen(nick);

	for (const char *p = list; *p;) {
		size_t l = strcspn(p, ",");
		if (l == n && strncasecmp(p, nick, n) == 0)
			return true;
		p += l + (p[l] == ',');
	}
	return false;
}

size_t
userinfo_whowas_find(struct userinfo *u, const char *nick, struct uinfo *out,
		     size_t max)
{
	size_t n = 0;

	if (u == NULL)
		return 0;
	uint64_t end = atomic_load(&u->ww_next);
	uint64_t first = end > WHOWAS_MAX ? end - WHOWAS_MAX : 0;
	for (uint64_t i = end; i > first && n < max; i--)
		if (whowas_read(u, i - 1, &out[n]) == 0 &&
		    one_of(nick, out[n].nick))
			n++;
	return n;
}
