/* Lingering close of client sockets (transport): FIN first, then the
 * client's last bytes are read and dropped for a while, so that our final
 * line is not destroyed by a reset. */
#ifndef FC_LINGER_H
#define FC_LINGER_H

#include "../common/loop.h"

#define LINGER_SLOTS 65536

struct lingerer;

struct lingers {
	struct loop *loop;
	struct lingerer **by_fd;
};

/* 0, or -1 out of memory. */
int lingers_init(struct lingers *ls, struct loop *l);
/* Take fd over: it is closed when the client closes or after LINGER_MS. */
void linger_close(struct lingers *ls, int fd);

#endif
