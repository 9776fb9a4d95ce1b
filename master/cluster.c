/* The master's side of cluster mode: one more supervised slot after the
 * workers for the link process (cluster/proc.c), the node id's default
 * and this run's incarnation. Without --cluster there is no extra slot. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <unistd.h>

#include "../cluster/nodeid.h"
#include "../cluster/proc.h"
#include "../common/log.h"
#include "master.h"

/* Once, before the first fork: after the listeners are bound (the default
 * node id takes the first one's port) and after detaching (the pid). */
void
master_cluster_setup(struct master *m)
{
	m->nslots = m->nworkers;
	m->link_slot = -1;
	if (m->cfg.cluster[0] == '\0')
		return;
	if (m->nworkers >= REG_MAX_WORKERS) {
		m->nworkers = REG_MAX_WORKERS - 1;
		m->nslots = m->nworkers;
		log_warnx("cluster mode: at most %d workers", m->nworkers);
	}
	m->link_slot = m->nworkers;
	m->nslots = m->nworkers + 1;
	if (m->cfg.node_id[0] == '\0')
		cluster_default_node_id(m->cfg.node_id, sizeof(m->cfg.node_id),
					m->ls.nlisten ? m->ls.port[0] : 0);
	m->cboard = board_create();
	snprintf(m->incarnation, sizeof(m->incarnation), "%d.%lld",
		 (int)getpid(), (long long)m->started_ms);
	log_info("cluster mode: node %s, Redis at %s", m->cfg.node_id,
		 m->cfg.cluster);
}

/* In the forked child of the link's slot: run the link; its exit code. */
int
master_cluster_child(struct master *m, uint16_t gen, int ctl_fd)
{
	struct link_args a = {
		&m->cfg,     m->reg, m->cboard,      m->link_slot,  gen,
		m->nworkers, ctl_fd, m->cfg.node_id, m->incarnation};

	return cluster_link_main(&a);
}
