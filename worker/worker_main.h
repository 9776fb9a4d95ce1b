/* The one entry point of a worker process, called by the master in the
 * child after fork. */
#ifndef FC_WORKER_MAIN_H
#define FC_WORKER_MAIN_H

#include "../common/config.h"
#include "../common/tlsctx.h"
#include "../ipc/registry.h"
#include "../ipc/userinfo.h"

int worker_main(struct fc_config *cfg, struct registry *reg,
		struct userinfo *uinfo, int idx, int gen, int nworkers,
		int ctl_fd, const int *lfds, int nlfds,
		const struct tls_pem *pem);

#endif
