/* The open-files limit: the master raises RLIMIT_NOFILE's soft limit to the
 * hard one before it forks (the workers inherit it) and says clearly when
 * --max-clients cannot fit, instead of letting clients hang past it. */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "../common/log.h"
#include "master.h"

/* Clients one worker must hold when the kernel spreads --max-clients evenly
 * (SO_REUSEPORT does, roughly). */
static uint64_t
fdlimit_share(const struct fc_config *cfg)
{
	uint64_t w = cfg->workers > 0 ? (uint64_t)cfg->workers : 1;

	return (cfg->lim.max_clients + w - 1) / w;
}

int
fdlimit_raise(const struct fc_config *cfg)
{
	struct rlimit rl;
	uint64_t reserve = config_fd_reserve(cfg->nlisten, cfg->workers);

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		log_warn("getrlimit(RLIMIT_NOFILE)");
		return 0;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			log_warn("setrlimit(RLIMIT_NOFILE, %llu)",
				 (unsigned long long)rl.rlim_max);
			rl.rlim_cur = was;
		}
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < reserve + 16) {
		log_warnx("open-files limit %llu is too low to serve anyone: "
			  "%llu descriptors per worker are needed before the "
			  "first client (raise ulimit -n or LimitNOFILE=)",
			  (unsigned long long)rl.rlim_cur,
			  (unsigned long long)reserve);
		return -1;
	}
	uint64_t share = fdlimit_share(cfg);
	if (rl.rlim_cur != RLIM_INFINITY && share + reserve > rl.rlim_cur) {
		uint64_t fit = rl.rlim_cur - reserve;
		uint64_t all = fit * (uint64_t)cfg->workers;
		uint64_t want = share + reserve;
		log_warnx("max-clients %u does not fit the open-files limit "
			  "%llu: each of the %d workers takes at most %llu "
			  "clients (%llu in all) and answers the next one "
			  "with \"Server full\"; raise ulimit -n / "
			  "LimitNOFILE= to %llu or lower --max-clients",
			  cfg->lim.max_clients, (unsigned long long)rl.rlim_cur,
			  cfg->workers, (unsigned long long)fit,
			  (unsigned long long)all, (unsigned long long)want);
	}
	return 0;
}
