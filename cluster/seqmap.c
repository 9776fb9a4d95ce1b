/* Linear probing with backward-shift deletion, FNV-1a hashes; the table is
 * at most half full. Sizes here are a node's rooms and peers: small. */
#include "seqmap.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static uint64_t
seqmap_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static size_t
seqmap_slot(const struct seqmap *m, const char *key, bool *found)
{
	size_t i = seqmap_hash(key) & (m->cap - 1);

	while (m->tab[i].key && strcmp(m->tab[i].key, key) != 0)
		i = (i + 1) & (m->cap - 1);
	*found = m->tab[i].key != NULL;
	return i;
}

static int
seqmap_grow(struct seqmap *m)
{
	struct seqmap old = *m;
	size_t cap = m->cap ? m->cap * 2 : 16;
	struct seqmap_ent *t = calloc(cap, sizeof(*t));
	bool found;

	if (t == NULL)
		return -1;
	m->tab = t;
	m->cap = cap;
	for (size_t i = 0; i < old.cap; i++)
		if (old.tab[i].key)
			m->tab[seqmap_slot(m, old.tab[i].key, &found)] =
				old.tab[i];
	free(old.tab);
	return 0;
}

uint64_t *
seqmap_find(const struct seqmap *m, const char *key)
{
	bool found;

	if (m->cap == 0)
		return NULL;
	size_t i = seqmap_slot(m, key, &found);
	return found ? &m->tab[i].val : NULL;
}

uint64_t *
seqmap_get(struct seqmap *m, const char *key)
{
	bool found;
	uint64_t *v = seqmap_find(m, key);

	if (v)
		return v;
	if ((m->tab == NULL || (m->n + 1) * 2 > m->cap) && seqmap_grow(m) < 0)
		return NULL;
	char *k = strdup(key);
	if (k == NULL)
		return NULL;
	size_t i = seqmap_slot(m, key, &found);
	m->tab[i].key = k;
	m->tab[i].val = 0;
	m->n++;
	return &m->tab[i].val;
}

static void
seqmap_remove_at(struct seqmap *m, size_t i)
{
	size_t mask = m->cap - 1;

	free(m->tab[i].key);
	m->tab[i].key = NULL;
	m->n--;
	for (size_t j = (i + 1) & mask; m->tab[j].key; j = (j + 1) & mask) {
		size_t home = seqmap_hash(m->tab[j].key) & mask;
		/* move j back into the hole if its home is not in (i, j] */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->tab[i] = m->tab[j];
			m->tab[j].key = NULL;
			i = j;
		}
	}
}

void
seqmap_del(struct seqmap *m, const char *key)
{
	bool found;

	if (m->cap == 0)
		return;
	size_t i = seqmap_slot(m, key, &found);
	if (found)
		seqmap_remove_at(m, i);
}

void
seqmap_del_suffix(struct seqmap *m, const char *suffix)
{
	size_t sl = strlen(suffix);

	for (size_t i = 0; i < m->cap;) {
		const char *k = m->tab[i].key;
		size_t kl = k ? strlen(k) : 0;
		if (k && kl >= sl && strcmp(k + kl - sl, suffix) == 0) {
			seqmap_remove_at(m, i); /* something may move into i */
			continue;
		}
		i++;
	}
}

void
seqmap_clear(struct seqmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->tab[i].key);
	free(m->tab);
	memset(m, 0, sizeof(*m));
}
