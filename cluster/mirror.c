/* Remote users in the local registry. Each gets a connection id of its
 * own (counting up), remembered per slot, so that a slot reused by a
 * local user is never taken for a remote one. */
#include "mirror.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
mirror_init(struct mirror *m, struct registry *reg, uint16_t idx, uint16_t gen)
{
	const struct reg_limits *lim = registry_limits(reg);

	memset(m, 0, sizeof(*m));
	m->reg = reg;
	m->idx = idx;
	m->gen = gen;
	m->next_conn = 1;
	m->max_users = lim->max_users;
	m->conn = calloc(lim->max_users, sizeof(*m->conn));
	m->name = calloc(lim->max_users, sizeof(*m->name));
	m->rooms =
		calloc(lim->max_rooms ? lim->max_rooms : 1, sizeof(*m->rooms));
	if (m->conn == NULL || m->name == NULL || m->rooms == NULL) {
		mirror_free(m);
		return -1;
	}
	return 0;
}

void
mirror_free(struct mirror *m)
{
	free(m->conn);
	free(m->name);
	free(m->rooms);
	m->conn = m->rooms = NULL;
	m->name = NULL;
}

bool
mirror_is_remote(const struct mirror *m, uint32_t slot, uint32_t conn_id)
{
	return slot < m->max_users && m->conn[slot] != 0 &&
	       m->conn[slot] == conn_id;
}

const char *
mirror_name(const struct mirror *m, uint32_t slot, uint32_t conn_id)
{
	return mirror_is_remote(m, slot, conn_id) ? m->name[slot] : NULL;
}

bool
mirror_find(struct mirror *m, const char *name, struct reg_user_view *out)
{
	if (registry_lookup(m->reg, name, strlen(name), out) < 0)
		return false;
	return out->worker == m->idx &&
	       mirror_is_remote(m, out->slot, out->conn_id);
}

int
mirror_add(struct mirror *m, const char *name, uint8_t dialect, uint64_t seq,
	   struct reg_user_view *out)
{
	uint32_t conn = m->next_conn++;

	if (m->next_conn == 0)
		m->next_conn = 1;
	int rc = registry_claim(m->reg, name, dialect, m->idx, m->gen, conn,
				out);
	if (rc == -EEXIST)
		return mirror_find(m, name, out) ? (int)out->slot : -1;
	if (rc < 0)
		return -1;
	m->conn[out->slot] = conn;
	memcpy(m->name[out->slot], out->name, REG_NAME_SZ);
	m->count++;
	if (seq)
		registry_restore_seq(m->reg, out->slot, conn, seq);
	return (int)out->slot;
}

size_t
mirror_remove(struct mirror *m, const struct reg_user_view *u)
{
	size_t n = 0;

	if (!mirror_is_remote(m, u->slot, u->conn_id))
		return 0;
	registry_release(m->reg, u->slot, u->conn_id, m->rooms, &n);
	m->conn[u->slot] = 0;
	m->count--;
	return n;
}

uint32_t
mirror_adopt(struct mirror *m)
{
	struct reg_user_view *v = calloc(m->max_users, sizeof(*v));

	if (v == NULL)
		return 0;
	size_t n = registry_users(m->reg, v, m->max_users);
	for (size_t i = 0; i < n; i++) {
		if (v[i].worker != m->idx || v[i].slot >= m->max_users)
			continue;
		m->conn[v[i].slot] = v[i].conn_id;
		memcpy(m->name[v[i].slot], v[i].name, REG_NAME_SZ);
		m->count++;
		if (v[i].conn_id >= m->next_conn)
			m->next_conn = v[i].conn_id + 1;
	}
	free(v);
	if (m->next_conn == 0)
		m->next_conn = 1;
	return m->count;
}

void
mirror_forget(struct mirror *m)
{
	memset(m->conn, 0, m->max_users * sizeof(*m->conn));
	m->count = 0;
}
