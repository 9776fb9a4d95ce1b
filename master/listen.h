/* Listening sockets: one SO_REUSEPORT socket per listener and per worker, so
 * the kernel spreads new connections over the workers. */
#ifndef FC_LISTEN_H
#define FC_LISTEN_H

#include "../common/config.h"

#define LISTEN_MAX_WORKERS 64

struct listen_set {
	int nlisten;
	int nworkers;
	int fd[LISTEN_MAX_WORKERS][FC_MAX_LISTEN];
	int port[FC_MAX_LISTEN];
};

int listen_open(struct listen_set *ls, const struct fc_config *cfg, char *err,
		size_t errlen);
void listen_close_all(struct listen_set *ls);
void listen_close_except(struct listen_set *ls, int worker);

#endif
