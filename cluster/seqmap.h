/* A small string -> counter map (open addressing, grows by doubling): the
 * link's per-channel send sequence, the last sequence seen per sender and
 * channel, and subscription reference counts. */
#ifndef FC_SEQMAP_H
#define FC_SEQMAP_H

#include <stddef.h>
#include <stdint.h>

struct seqmap_ent {
	char *key; /* NULL: empty; owned by the map */
	uint64_t val;
};

struct seqmap {
	struct seqmap_ent *tab;
	size_t cap, n;
};

/* The counter for key, created at 0; NULL only when out of memory. The
 * pointer is valid until the next seqmap_get or seqmap_del. */
uint64_t *seqmap_get(struct seqmap *m, const char *key);
/* The counter for key, or NULL if absent. */
uint64_t *seqmap_find(const struct seqmap *m, const char *key);
void seqmap_del(struct seqmap *m, const char *key);
/* Remove every key that ends with suffix. */
void seqmap_del_suffix(struct seqmap *m, const char *suffix);
void seqmap_clear(struct seqmap *m);

#endif
